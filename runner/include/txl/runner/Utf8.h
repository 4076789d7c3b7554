//===- Utf8.h - strict UTF-8 decoding and encoding --------------*- C++ -*-===//
//
// Character-level vocabularies and texts are UTF-8; a token is one code point.
// Decoding is strict (no overlong forms, no surrogates, nothing above
// U+10FFFF) so that a text either tokenizes the same everywhere or is refused.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_UTF8_H
#define TXL_RUNNER_UTF8_H

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace txl::utf8 {

/// Decodes the code point that starts at `text[offset]` and moves `offset`
/// past it; nullopt (offset unchanged) when the bytes there are not UTF-8.
std::optional<char32_t> decodeNext(std::string_view text, size_t &offset);

/// The UTF-8 bytes of `codePoint` (which must be a valid scalar value).
std::string encode(char32_t codePoint);

/// The byte offset of the first malformed sequence, or nullopt if `text` is
/// valid UTF-8.
std::optional<size_t> firstInvalidByte(std::string_view text);

/// The number of code points of valid UTF-8 `text`.
size_t countCodePoints(std::string_view text);

} // namespace txl::utf8

#endif // TXL_RUNNER_UTF8_H
