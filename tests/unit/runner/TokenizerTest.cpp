//===- TokenizerTest.cpp - vocab.txt escapes and the tokenizers -----------===//

#include "txl/runner/Tokenizer.h"
#include "txl/runner/Vocabulary.h"

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

using namespace txl;

namespace {

const std::string kDemoDir = std::string(TXL_SOURCE_DIR) + "/models/demo";

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

Tokenizer tokenizerOf(const std::string &vocabulary,
                      TokenizerKind kind = TokenizerKind::Auto) {
  auto tokenizer = Tokenizer::fromVocabulary(vocabulary, "v.txt", kind);
  EXPECT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  return *tokenizer;
}

std::string errorOf(const std::string &vocabulary,
                    TokenizerKind kind = TokenizerKind::Auto) {
  auto tokenizer = Tokenizer::fromVocabulary(vocabulary, "v.txt", kind);
  EXPECT_FALSE(tokenizer.ok());
  return tokenizer.ok() ? "" : tokenizer.status().message();
}

std::string encodeError(const Tokenizer &tokenizer, const std::string &text) {
  auto ids = tokenizer.encode(text, "in.txt");
  EXPECT_FALSE(ids.ok());
  return ids.ok() ? "" : ids.status().message();
}

// --- escapes (tools/train/kjv_corpus.py escape_symbol / unescape_symbol) ----

TEST(VocabularyEscapes, SingleLetterEscapesBothWays) {
  const std::pair<char32_t, const char *> escapes[] = {{U'\n', "\\n"},
                                                       {U' ', "\\s"},
                                                       {U'\t', "\\t"},
                                                       {U'\r', "\\r"},
                                                       {U'\\', "\\\\"}};
  for (auto [c, spelling] : escapes) {
    EXPECT_EQ(escapeSymbol(c), spelling);
    auto back = unescapeSymbol(spelling);
    ASSERT_TRUE(back.ok()) << spelling;
    EXPECT_EQ(*back, c);
  }
}

TEST(VocabularyEscapes, CodePointEscapes) {
  EXPECT_EQ(escapeSymbol(0x0B), "\\u{B}");      // vertical tab: whitespace
  EXPECT_EQ(escapeSymbol(0x7F), "\\u{7F}");     // DEL: not printable
  EXPECT_EQ(escapeSymbol(0xA0), "\\u{A0}");     // no-break space
  EXPECT_EQ(escapeSymbol(0x2028), "\\u{2028}"); // line separator
  EXPECT_EQ(escapeSymbol(U'a'), "a");
  EXPECT_EQ(escapeSymbol(0xE9), "\xC3\xA9"); // é stands for itself
  EXPECT_EQ(*unescapeSymbol("\\u{B}"), char32_t(0x0B));
  EXPECT_EQ(*unescapeSymbol("\\u{1f600}"), char32_t(0x1F600));
  EXPECT_EQ(*unescapeSymbol("\\u{41}"), U'A');
  EXPECT_EQ(*unescapeSymbol("\xC3\xA9"), char32_t(0xE9));
  for (char32_t c : {char32_t(0x0B), char32_t(0x7F), char32_t(0xA0),
                     char32_t(0x2028), char32_t(U'x'), char32_t(0x1F600)})
    EXPECT_EQ(*unescapeSymbol(escapeSymbol(c)), c);
}

TEST(VocabularyEscapes, BadLinesSayWhatIsWrong) {
  EXPECT_NE(unescapeSymbol("\\u{ZZ}").status().message().find(
                "needs hexadecimal digits"),
            std::string::npos);
  EXPECT_NE(unescapeSymbol("\\u{}").status().message().find("bad escape"),
            std::string::npos);
  EXPECT_NE(unescapeSymbol("\\u{110000}")
                .status()
                .message()
                .find("not a Unicode character"),
            std::string::npos);
  EXPECT_NE(unescapeSymbol("\\q").status().message().find("bad escape '\\q'"),
            std::string::npos);
  EXPECT_NE(unescapeSymbol("\\").status().message().find("lone backslash"),
            std::string::npos);
  EXPECT_NE(unescapeSymbol("").status().message().find("empty line"),
            std::string::npos);
  EXPECT_NE(
      unescapeSymbol("ab").status().message().find("is not one character"),
      std::string::npos);
}

TEST(VocabularyEscapes, DescribeCharacter) {
  EXPECT_EQ(describeCharacter(U'a'), "'a' (U+0061)");
  EXPECT_EQ(describeCharacter(U'\n'), "'\\n' (U+000A)");
  EXPECT_EQ(describeCharacter(0x7F), "'\\u{7F}' (U+007F)");
}

// --- the demo model's vocabulary -------------------------------------------

TEST(CharacterTokenizer, DemoVocabularyIsCharacterLevel) {
  auto tokenizer = Tokenizer::fromFile(kDemoDir + "/vocab.txt");
  ASSERT_TRUE(tokenizer.ok()) << tokenizer.status().message();
  EXPECT_TRUE(tokenizer->isCharacterLevel());
  EXPECT_EQ(tokenizer->size(), 73);
  EXPECT_TRUE(tokenizer->checkSize(73, "demo").isOk());
  EXPECT_EQ(tokenizer->tokenText(0), "\n");
  EXPECT_EQ(tokenizer->tokenText(1), " ");
  EXPECT_EQ(tokenizer->tokenText(72), "z");
  EXPECT_FALSE(tokenizer->unknownId());
}

TEST(CharacterTokenizer, HeldOutTextRoundTrips) {
  auto tokenizer = Tokenizer::fromFile(kDemoDir + "/vocab.txt");
  ASSERT_TRUE(tokenizer.ok());
  std::string text = readFile(kDemoDir + "/heldout.txt");
  ASSERT_EQ(text.size(), 39697u);
  auto ids = tokenizer->encode(text, "heldout.txt");
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  ASSERT_EQ(ids->size(), text.size()); // ASCII: one token per byte
  EXPECT_EQ((*ids)[0], 24);            // 'C' of "Colossians 1"
  EXPECT_EQ(tokenizer->decode(*ids), text);
}

TEST(CharacterTokenizer, Utf8CharactersAreOneToken) {
  // a, é (2 bytes), € (3 bytes), 😀 (4 bytes), and a space by escape.
  Tokenizer tokenizer =
      tokenizerOf("a\n\xC3\xA9\n\xE2\x82\xAC\n\\u{1F600}\n\\s\n");
  ASSERT_TRUE(tokenizer.isCharacterLevel());
  std::string text = "\xF0\x9F\x98\x80 a\xC3\xA9\xE2\x82\xAC";
  auto ids = tokenizer.encode(text, "in.txt");
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids, (std::vector<int64_t>{3, 4, 0, 1, 2}));
  EXPECT_EQ(tokenizer.decode(*ids), text);
}

TEST(CharacterTokenizer, UnknownCharacterIsAnErrorWithoutUnk) {
  auto tokenizer = Tokenizer::fromFile(kDemoDir + "/vocab.txt");
  ASSERT_TRUE(tokenizer.ok());
  std::string message = encodeError(*tokenizer, "And\nsaid X");
  EXPECT_EQ(message, "in.txt:2:6: character 'X' (U+0058) at character "
                     "offset 9 is not in the vocabulary " +
                         kDemoDir + "/vocab.txt (which has no <unk>)");
  // Non-printable characters are shown escaped.
  EXPECT_NE(encodeError(*tokenizer, "a\tb")
                .find("'\\t' (U+0009) at "
                      "character offset 1"),
            std::string::npos);
}

TEST(CharacterTokenizer, UnknownCharacterBecomesUnkWhenPresent) {
  Tokenizer tokenizer = tokenizerOf("<unk>\na\nb\n");
  ASSERT_TRUE(tokenizer.isCharacterLevel()); // <unk> does not count
  int64_t unknowns = -1;
  auto ids = tokenizer.encode("abc\xC3\xA9", "in.txt", &unknowns);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int64_t>{1, 2, 0, 0}));
  EXPECT_EQ(unknowns, 2);
}

TEST(CharacterTokenizer, TextThatIsNotUtf8) {
  Tokenizer tokenizer = tokenizerOf("a\n\\n\n");
  EXPECT_EQ(encodeError(tokenizer, "a\na\xFF"),
            "in.txt:2: not UTF-8 (byte offset 3)");
}

// --- word-level -------------------------------------------------------------

TEST(WordTokenizer, LinesEndWithEosAndUnknownWordsBecomeUnk) {
  Tokenizer tokenizer = tokenizerOf("<unk>\n<eos>\nthe\ncat\nsat\n.\n");
  ASSERT_FALSE(tokenizer.isCharacterLevel());
  EXPECT_EQ(tokenizer.endOfLineId(), 1);
  int64_t unknowns = 0;
  auto ids =
      tokenizer.encode(" the cat\tsat .\n\nthe dog\n", "in.txt", &unknowns);
  ASSERT_TRUE(ids.ok()) << ids.status().message();
  EXPECT_EQ(*ids, (std::vector<int64_t>{2, 3, 4, 5, 1, 1, 2, 0, 1}));
  EXPECT_EQ(unknowns, 1);
  EXPECT_EQ(tokenizer.decode(*ids), "the cat sat .\n\nthe <unk>\n");
  // A last line without "\n" gets no <eos> (a prompt goes on from there).
  EXPECT_EQ(*tokenizer.encode("the cat", "p"), (std::vector<int64_t>{2, 3}));
}

TEST(WordTokenizer, UnknownWordIsAnErrorWithoutUnk) {
  Tokenizer tokenizer = tokenizerOf("<eos>\nthe\ncat\n");
  EXPECT_EQ(encodeError(tokenizer, "the cat\nthe dog\n"),
            "in.txt:2: word 'dog' is not in the vocabulary v.txt (which has "
            "no <unk>)");
}

TEST(WordTokenizer, WithoutEosLinesJustSplit) {
  Tokenizer tokenizer = tokenizerOf("a\nbb\n");
  ASSERT_FALSE(tokenizer.isCharacterLevel());
  EXPECT_EQ(*tokenizer.encode("bb a\na\n", "in"),
            (std::vector<int64_t>{1, 0, 0}));
}

TEST(WordTokenizer, DetokenizerSpacesWordsAfterAPrompt) {
  Tokenizer tokenizer = tokenizerOf("<eos>\nthe\ncat\n");
  Detokenizer afterWord(tokenizer, "the");
  EXPECT_EQ(afterWord.next(2), " cat");
  EXPECT_EQ(afterWord.next(0), "\n");
  EXPECT_EQ(afterWord.next(1), "the");
  Detokenizer afterSpace(tokenizer, "the ");
  EXPECT_EQ(afterSpace.next(2), "cat");
}

// --- which tokenizer, and the flag that overrides it -------------------------

TEST(TokenizerKinds, AutoAndOverrides) {
  EXPECT_TRUE(tokenizerOf("a\nb\n").isCharacterLevel());
  EXPECT_FALSE(tokenizerOf("a\nbc\n").isCharacterLevel());
  EXPECT_FALSE(tokenizerOf("<unk>\n<eos>\n").isCharacterLevel());
  // Forced word-level: entries are literal, also "\n".
  Tokenizer words = tokenizerOf("\\n\nb\n", TokenizerKind::Word);
  EXPECT_FALSE(words.isCharacterLevel());
  EXPECT_EQ(words.tokenText(0), "\\n");
  EXPECT_EQ(*words.encode("\\n b", "in"), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(tokenizerKindFromName("char"), TokenizerKind::Character);
  EXPECT_EQ(tokenizerKindFromName("word"), TokenizerKind::Word);
  EXPECT_EQ(tokenizerKindFromName("auto"), TokenizerKind::Auto);
  EXPECT_FALSE(tokenizerKindFromName("bpe"));
}

// --- every vocabulary error names the file and what is wrong -----------------

TEST(VocabularyErrors, EmptyFile) {
  EXPECT_EQ(errorOf(""), "v.txt: empty vocabulary (expected one token per "
                         "line)");
}

TEST(VocabularyErrors, DuplicateEntries) {
  EXPECT_EQ(errorOf("a\nb\na\n"),
            "v.txt:3: duplicate entry 'a' (U+0061), also on line 1");
  // The same character spelled two ways.
  EXPECT_EQ(errorOf("\\s\nb\n\\u{20}\n"),
            "v.txt:3: duplicate entry '\\s' (U+0020), also on line 1");
  EXPECT_EQ(errorOf("the\ncat\nthe\n"),
            "v.txt:3: duplicate entry 'the', also on line 1");
}

TEST(VocabularyErrors, BadEscapeInACharacterVocabulary) {
  EXPECT_EQ(errorOf("a\n\\u{XY}\n"),
            "v.txt:2: bad escape '\\u{XY}': \\u{...} needs hexadecimal "
            "digits");
  EXPECT_EQ(errorOf("a\n\\x\n"),
            "v.txt:2: bad escape '\\x' (known: \\n \\s \\t \\r \\\\ "
            "\\u{HEX})");
  EXPECT_EQ(errorOf("ab\nc\n", TokenizerKind::Character),
            "v.txt:1: 'ab' is not one character (a character-level "
            "vocabulary has one character per line)");
  EXPECT_EQ(errorOf("a\n\nb\n", TokenizerKind::Character),
            "v.txt:2: empty line (a space is written \\s)");
}

TEST(VocabularyErrors, BadWordEntries) {
  EXPECT_EQ(errorOf("the\n\ncat\n"),
            "v.txt:2: empty line (a word-level vocabulary has one word per "
            "line)");
  EXPECT_EQ(errorOf("the\na cat\n"),
            "v.txt:2: 'a cat' contains whitespace (a word-level entry is one "
            "word)");
}

TEST(VocabularyErrors, CrlfAndNotUtf8) {
  EXPECT_EQ(errorOf("a\r\nb\r\n"),
            "v.txt:1: line ends with a carriage return (CRLF line ends); a "
            "vocabulary file ends its lines with \\n only");
  EXPECT_EQ(errorOf("a\nb\xC3\n"), "v.txt:2: not UTF-8 (byte offset 3)");
}

TEST(VocabularyErrors, SizeDiffersFromTheModel) {
  Tokenizer tokenizer = tokenizerOf("a\nb\n");
  Status status = tokenizer.checkSize(3, "models/x");
  ASSERT_FALSE(status.isOk());
  EXPECT_EQ(status.message(), "v.txt: 2 entries, but models/x has vocab_size "
                              "3 (one line per token id)");
}

TEST(VocabularyErrors, MissingFile) {
  auto tokenizer = Tokenizer::fromFile("/nonexistent/vocab.txt");
  ASSERT_FALSE(tokenizer.ok());
  EXPECT_EQ(tokenizer.status().message(),
            "/nonexistent/vocab.txt: cannot open the vocabulary file");
}

} // namespace
