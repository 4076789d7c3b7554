//===- Vocabulary.cpp - the vocab.txt format: lines and escapes -----------===//

#include "txl/runner/Vocabulary.h"
#include "txl/runner/Utf8.h"

#include <cstdio>

namespace txl {

namespace {

/// The single-letter escapes, both ways (kjv_corpus.py _ESCAPES).
struct Escape {
  char32_t character;
  const char *spelling;
};
constexpr Escape kEscapes[] = {{U'\n', "\\n"},
                               {U'\t', "\\t"},
                               {U'\r', "\\r"},
                               {U' ', "\\s"},
                               {U'\\', "\\\\"}};

/// Python's `ch.isspace() or not ch.isprintable()` for the characters that
/// occur in practice: controls, separators and format characters.
bool needsCodePointEscape(char32_t c) {
  if (c < 0x20 || c == 0x7F || (c >= 0x80 && c <= 0xA0))
    return true;
  if (c == 0xAD || c == 0x1680 || (c >= 0x2000 && c <= 0x200F) ||
      (c >= 0x2028 && c <= 0x202F) || (c >= 0x205F && c <= 0x206F) ||
      c == 0x3000 || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
      c == 0x061C || c == 0x180E)
    return true;
  // Private use and non-characters.
  return (c >= 0xE000 && c <= 0xF8FF) || c >= 0xF0000 || (c & 0xFFFE) == 0xFFFE;
}

std::string hex(char32_t c, int minDigits) {
  char buffer[16];
  std::snprintf(buffer, sizeof buffer, "%0*X", minDigits, unsigned(c));
  return buffer;
}

} // namespace

std::string escapeSymbol(char32_t c) {
  for (const Escape &escape : kEscapes)
    if (escape.character == c)
      return escape.spelling;
  if (needsCodePointEscape(c))
    return "\\u{" + hex(c, 1) + "}";
  return utf8::encode(c);
}

StatusOr<char32_t> unescapeSymbol(std::string_view line) {
  for (const Escape &escape : kEscapes)
    if (line == escape.spelling)
      return escape.character;
  if (line.size() >= 4 && line.substr(0, 3) == "\\u{" && line.back() == '}') {
    std::string_view digits = line.substr(3, line.size() - 4);
    char32_t value = 0;
    bool valid = !digits.empty() && digits.size() <= 8;
    for (char d : digits) {
      int digit = d >= '0' && d <= '9'   ? d - '0'
                  : d >= 'a' && d <= 'f' ? d - 'a' + 10
                  : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                         : -1;
      if (digit < 0) {
        valid = false;
        break;
      }
      value = value * 16 + digit;
    }
    if (!valid)
      return Status::error("bad escape '" + std::string(line) +
                           "': \\u{...} needs hexadecimal digits");
    if (value > 0x10FFFF || (value >= 0xD800 && value <= 0xDFFF))
      return Status::error("bad escape '" + std::string(line) + "': U+" +
                           hex(value, 4) + " is not a Unicode character");
    return value;
  }
  if (line.empty())
    return Status::error("empty line (a space is written \\s)");
  if (line == "\\")
    return Status::error("a lone backslash (a backslash is written \\\\)");
  if (line[0] == '\\')
    return Status::error("bad escape '" + std::string(line) +
                         "' (known: \\n \\s \\t \\r \\\\ \\u{HEX})");
  size_t offset = 0;
  std::optional<char32_t> c = utf8::decodeNext(line, offset);
  if (!c || offset != line.size())
    return Status::error("'" + std::string(line) +
                         "' is not one character (a character-level "
                         "vocabulary has one character per line)");
  return *c;
}

std::string describeCharacter(char32_t c) {
  return "'" + escapeSymbol(c) + "' (U+" + hex(c, 4) + ")";
}

StatusOr<std::vector<std::string>>
splitVocabularyLines(std::string_view text, const std::string &source) {
  if (std::optional<size_t> bad = utf8::firstInvalidByte(text)) {
    size_t line = 1;
    for (size_t i = 0; i < *bad; ++i)
      line += text[i] == '\n';
    return Status::error(source + ":" + std::to_string(line) +
                         ": not UTF-8 (byte offset " + std::to_string(*bad) +
                         ")");
  }
  std::vector<std::string> lines;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string_view::npos)
      end = text.size();
    lines.emplace_back(text.substr(begin, end - begin));
    // A lone "\r" is a carriage return character, as in kjv_corpus.py.
    if (lines.back().size() > 1 && lines.back().back() == '\r')
      return Status::error(
          source + ":" + std::to_string(lines.size()) +
          ": line ends with a carriage return (CRLF line ends); a "
          "vocabulary file ends its lines with \\n only");
    begin = end + 1;
  }
  if (lines.empty())
    return Status::error(source + ": empty vocabulary (expected one token "
                                  "per line)");
  return lines;
}

} // namespace txl
