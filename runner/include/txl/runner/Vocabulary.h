//===- Vocabulary.h - the vocab.txt format: lines and escapes ---*- C++ -*-===//
//
// A vocabulary file has one token per line, line k (0-based) = token id k,
// UTF-8, lines ending in "\n". In a character-level vocabulary a line is one
// character written as itself, or an escape for characters a line cannot
// show (models/demo/README.md):
//
//   \n  line feed     \s  space     \t  tab     \r  carriage return
//   \\  backslash     \u{HEX}  any character by code point
//
// These functions mirror escape_symbol / unescape_symbol / read_vocab of
// tools/train/kjv_corpus.py, which wrote the demo model's vocab.txt.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_VOCABULARY_H
#define TXL_RUNNER_VOCABULARY_H

#include "txl/support/Status.h"

#include <string>
#include <string_view>
#include <vector>

namespace txl {

/// The vocab.txt spelling of `c`: the escapes above for line feed, space,
/// tab, carriage return and backslash, \u{HEX} (upper-case hex) for other
/// whitespace and non-printable characters, else the character itself.
/// (Outside ASCII, "printable" follows Python's str.isprintable for the
/// separators, controls and format characters in use; unassigned code
/// points count as printable.)
std::string escapeSymbol(char32_t c);

/// The character a vocab.txt line stands for. The error says what is wrong
/// with the line; the caller adds the file and line number.
StatusOr<char32_t> unescapeSymbol(std::string_view line);

/// `c` for a message: 'a', '\n' or '\u{A0}' as escapeSymbol writes it,
/// followed by the code point: "'a' (U+0061)".
std::string describeCharacter(char32_t c);

/// The lines of a vocabulary file's text (the final "\n" ends the last line,
/// it does not start an empty one). Refuses, naming `source` and the line:
/// text that is not UTF-8, a carriage return at a line end (CRLF files), and
/// a file without lines.
StatusOr<std::vector<std::string>>
splitVocabularyLines(std::string_view text, const std::string &source);

} // namespace txl

#endif // TXL_RUNNER_VOCABULARY_H
