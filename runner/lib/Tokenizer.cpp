//===- Tokenizer.cpp - text <-> token ids through a vocab.txt -------------===//

#include "txl/runner/Tokenizer.h"
#include "txl/runner/Utf8.h"
#include "txl/runner/Vocabulary.h"

#include <fstream>
#include <iterator>

namespace txl {

namespace {

constexpr const char *kUnknown = "<unk>";
constexpr const char *kEndOfLine = "<eos>";

/// A name in angle brackets, like <unk> or <eos>: not text, in any vocabulary.
bool isSpecialEntry(std::string_view line) {
  return line.size() >= 3 && line.front() == '<' && line.back() == '>';
}

/// Could be a line of a character-level vocabulary: one character, or an
/// escape (checked later, so that a bad escape is reported as such).
bool looksLikeCharacterEntry(std::string_view line) {
  if (!line.empty() && line[0] == '\\')
    return true;
  size_t offset = 0;
  return utf8::decodeNext(line, offset) && offset == line.size();
}

bool isAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f' ||
         c == '\n';
}

std::string lineColumn(const std::string &name, size_t line, size_t column) {
  return name + ":" + std::to_string(line) + ":" + std::to_string(column);
}

/// Where a byte offset of `text` is, for a message: "NAME:LINE".
std::string lineOfByte(std::string_view text, size_t byte,
                       const std::string &name) {
  size_t line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i)
    line += text[i] == '\n';
  return name + ":" + std::to_string(line);
}

} // namespace

std::optional<TokenizerKind> tokenizerKindFromName(std::string_view name) {
  if (name == "auto")
    return TokenizerKind::Auto;
  if (name == "char")
    return TokenizerKind::Character;
  if (name == "word")
    return TokenizerKind::Word;
  return std::nullopt;
}

Status
Tokenizer::addEntry(std::string text, size_t line,
                    std::unordered_map<std::string, size_t> &lineOfEntry) {
  auto [it, inserted] = lineOfEntry.emplace(text, line);
  if (!inserted) {
    std::string shown = "'" + text + "'";
    size_t offset = 0;
    if (characterLevel && !isSpecialEntry(text)) {
      char32_t c = *utf8::decodeNext(text, offset);
      shown = describeCharacter(c);
    }
    return Status::error(vocabularySource + ":" + std::to_string(line) +
                         ": duplicate entry " + shown + ", also on line " +
                         std::to_string(it->second));
  }
  int64_t id = static_cast<int64_t>(texts.size());
  idOf.emplace(text, id);
  if (text == kUnknown)
    unknown = id;
  if (text == kEndOfLine && !characterLevel) {
    endOfLine = id;
    text = "\n";
  }
  texts.push_back(std::move(text));
  return Status::ok();
}

StatusOr<Tokenizer> Tokenizer::fromVocabulary(std::string_view text,
                                              const std::string &source,
                                              TokenizerKind kind) {
  auto lines = splitVocabularyLines(text, source);
  if (!lines.ok())
    return lines.status();

  Tokenizer tokenizer;
  tokenizer.vocabularySource = source;
  if (kind == TokenizerKind::Auto) {
    bool allCharacters = true, anyCharacter = false;
    for (const std::string &line : *lines) {
      if (isSpecialEntry(line))
        continue;
      anyCharacter = true;
      allCharacters &= looksLikeCharacterEntry(line);
    }
    kind = allCharacters && anyCharacter ? TokenizerKind::Character
                                         : TokenizerKind::Word;
  }
  tokenizer.characterLevel = kind == TokenizerKind::Character;

  std::unordered_map<std::string, size_t> lineOfEntry;
  for (size_t i = 0; i < lines->size(); ++i) {
    const std::string &line = (*lines)[i];
    std::string where = source + ":" + std::to_string(i + 1) + ": ";
    std::string entry = line;
    if (tokenizer.characterLevel && !isSpecialEntry(line)) {
      StatusOr<char32_t> c = unescapeSymbol(line);
      if (!c.ok())
        return Status::error(where + c.status().message());
      entry = utf8::encode(*c);
    } else if (!tokenizer.characterLevel) {
      if (line.empty())
        return Status::error(where + "empty line (a word-level vocabulary "
                                     "has one word per line)");
      for (char c : line)
        if (isAsciiSpace(c))
          return Status::error(where + "'" + line +
                               "' contains whitespace (a word-level entry "
                               "is one word)");
    }
    Status added = tokenizer.addEntry(std::move(entry), i + 1, lineOfEntry);
    if (!added.isOk())
      return added;
  }
  return tokenizer;
}

StatusOr<Tokenizer> Tokenizer::fromFile(const std::string &path,
                                        TokenizerKind kind) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open the vocabulary file");
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad())
    return Status::error(path + ": cannot read the vocabulary file");
  return fromVocabulary(text, path, kind);
}

Status Tokenizer::checkSize(int64_t vocabSize,
                            const std::string &modelName) const {
  if (size() == vocabSize)
    return Status::ok();
  return Status::error(vocabularySource + ": " + std::to_string(size()) +
                       (size() == 1 ? " entry" : " entries") + ", but " +
                       modelName + " has vocab_size " +
                       std::to_string(vocabSize) + " (one line per token id)");
}

StatusOr<std::vector<int64_t>> Tokenizer::encode(std::string_view text,
                                                 const std::string &textName,
                                                 int64_t *unknowns) const {
  if (std::optional<size_t> bad = utf8::firstInvalidByte(text))
    return Status::error(lineOfByte(text, *bad, textName) +
                         ": not UTF-8 (byte offset " + std::to_string(*bad) +
                         ")");
  std::string noUnknown = " is not in the vocabulary " + vocabularySource +
                          " (which has no " + kUnknown + ")";
  std::vector<int64_t> ids;
  int64_t unknownCount = 0;
  if (unknowns)
    *unknowns = 0;

  if (characterLevel) {
    size_t offset = 0, index = 0, line = 1, column = 1;
    while (offset < text.size()) {
      size_t begin = offset;
      char32_t c = *utf8::decodeNext(text, offset);
      auto found = idOf.find(std::string(text.substr(begin, offset - begin)));
      if (found != idOf.end()) {
        ids.push_back(found->second);
      } else if (unknown) {
        ids.push_back(*unknown);
        ++unknownCount;
      } else {
        return Status::error(lineColumn(textName, line, column) +
                             ": character " + describeCharacter(c) +
                             " at character offset " + std::to_string(index) +
                             noUnknown);
      }
      ++index;
      ++column;
      if (c == U'\n')
        ++line, column = 1;
    }
    if (unknowns)
      *unknowns = unknownCount;
    return ids;
  }

  size_t line = 1, begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    bool terminated = end != std::string_view::npos;
    if (!terminated)
      end = text.size();
    size_t position = begin;
    while (position < end) {
      while (position < end && isAsciiSpace(text[position]))
        ++position;
      size_t wordBegin = position;
      while (position < end && !isAsciiSpace(text[position]))
        ++position;
      if (wordBegin == position)
        continue;
      std::string word(text.substr(wordBegin, position - wordBegin));
      auto found = idOf.find(word);
      if (found != idOf.end())
        ids.push_back(found->second);
      else if (unknown)
        ids.push_back(*unknown), ++unknownCount;
      else
        return Status::error(textName + ":" + std::to_string(line) +
                             ": word '" + word + "'" + noUnknown);
    }
    if (terminated && endOfLine)
      ids.push_back(*endOfLine);
    begin = end + 1;
    ++line;
  }
  if (unknowns)
    *unknowns = unknownCount;
  return ids;
}

std::string Tokenizer::decode(const std::vector<int64_t> &ids) const {
  Detokenizer detokenizer(*this);
  std::string text;
  for (int64_t id : ids)
    text += detokenizer.next(id);
  return text;
}

Detokenizer::Detokenizer(const Tokenizer &tokenizer, std::string_view textSoFar)
    : tokenizer(&tokenizer),
      atBoundary(textSoFar.empty() || isAsciiSpace(textSoFar.back())) {}

std::string Detokenizer::next(int64_t id) {
  const std::string &text = tokenizer->tokenText(id);
  if (tokenizer->isCharacterLevel())
    return text;
  bool endOfLine = id == tokenizer->endOfLineId();
  std::string out = atBoundary || endOfLine ? text : " " + text;
  atBoundary = endOfLine;
  return out;
}

} // namespace txl
