//===- Tokenizer.h - text <-> token ids through a vocab.txt -----*- C++ -*-===//
//
// Two tokenizers share one vocabulary format (Vocabulary.h):
//
// * character-level: one token per character (a Unicode code point); the
//   text is read as UTF-8. A character outside the vocabulary becomes <unk>
//   when the vocabulary has that entry, else it is an error.
// * word-level (WikiText-103 style): each line is split on whitespace and
//   every line end ("\n") becomes <eos> when the vocabulary has it. An
//   unknown word becomes <unk> when present, else it is an error. Decoding
//   joins words with spaces; <eos> becomes a line end.
//
// Which one a vocabulary is: character-level when every entry is one
// character or an escape (a line starting with a backslash); entries like
// <unk> (a name in angle brackets) are special tokens and do not count.
// Otherwise word-level, whose entries are taken literally (no escapes).
// --tokenizer=char|word overrides the guess.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_TOKENIZER_H
#define TXL_RUNNER_TOKENIZER_H

#include "txl/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace txl {

enum class TokenizerKind { Auto, Character, Word };

/// "auto", "char" or "word"; nullopt for anything else.
std::optional<TokenizerKind> tokenizerKindFromName(std::string_view name);

class Tokenizer {
public:
  /// From the text of a vocabulary file; `source` names it in messages (a
  /// path, or "<model>:embedded-vocabulary").
  static StatusOr<Tokenizer>
  fromVocabulary(std::string_view text, const std::string &source,
                 TokenizerKind kind = TokenizerKind::Auto);
  /// Reads the vocabulary file `path`.
  static StatusOr<Tokenizer> fromFile(const std::string &path,
                                      TokenizerKind kind = TokenizerKind::Auto);

  bool isCharacterLevel() const { return characterLevel; }
  int64_t size() const { return static_cast<int64_t>(texts.size()); }
  /// The vocabulary's name in messages.
  const std::string &source() const { return vocabularySource; }
  std::optional<int64_t> unknownId() const { return unknown; }
  /// <eos>: the line end of a word-level vocabulary.
  std::optional<int64_t> endOfLineId() const { return endOfLine; }

  /// Fails unless the vocabulary has exactly `vocabSize` entries, the
  /// vocab_size of `modelName`.
  Status checkSize(int64_t vocabSize, const std::string &modelName) const;

  /// The tokens of `text`; `textName` names it in messages (a file, or
  /// "--prompt"). Errors name the line, the column or character offset and
  /// the vocabulary. `unknowns`, if given, receives how many characters or
  /// words became <unk>.
  StatusOr<std::vector<int64_t>> encode(std::string_view text,
                                        const std::string &textName,
                                        int64_t *unknowns = nullptr) const;

  /// The text of one token: a character's UTF-8, a word as written, and
  /// "\n" for the <eos> of a word-level vocabulary. `id` must be in range.
  const std::string &tokenText(int64_t id) const { return texts.at(id); }

  /// The text of `ids` (words joined by spaces, lines ended by <eos>).
  std::string decode(const std::vector<int64_t> &ids) const;

private:
  Tokenizer() = default;
  Status addEntry(std::string text, size_t line,
                  std::unordered_map<std::string, size_t> &lineOfEntry);

  std::string vocabularySource;
  bool characterLevel = false;
  std::vector<std::string> texts;                // by id
  std::unordered_map<std::string, int64_t> idOf; // text (UTF-8) -> id
  std::optional<int64_t> unknown, endOfLine;
};

/// Turns tokens into text one at a time, as generation produces them: a word
/// gets a space before it unless it starts a line (or the text so far ends in
/// whitespace); characters are their own text.
class Detokenizer {
public:
  /// `textSoFar`: what was printed before (the prompt).
  Detokenizer(const Tokenizer &tokenizer, std::string_view textSoFar = "");
  std::string next(int64_t id);

private:
  const Tokenizer *tokenizer;
  bool atBoundary;
};

} // namespace txl

#endif // TXL_RUNNER_TOKENIZER_H
