//===- JsonNesting.h - refuse too deeply nested JSON ------------*- C++ -*-===//
//
// nlohmann-json parses without recursion but dumps (to quote a value in an
// error) and compares recursively, so a 100,000-deep `[[[...]]]` overflows
// the stack. Every reader of untrusted JSON scans the text first and refuses
// nesting no schema of txl needs.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_JSONNESTING_H
#define TXL_SUPPORT_JSONNESTING_H

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace txl {

/// Deepest nesting of arrays and objects any txl reader accepts (the schemas
/// need at most 3: header, tensor entry, shape).
constexpr int kMaxJsonNesting = 32;

/// Where JSON text first nests too deeply.
struct JsonNestingError {
  /// Byte offset of the bracket that opens level maxDepth + 1.
  size_t offset = 0;
  /// The top-level object key whose value nests too deeply, as written
  /// (escapes kept, shortened); empty when the top level is not an object.
  std::string topLevelKey;

  /// "nested too deeply, expected at most N levels of arrays and objects,
  /// found more at byte K".
  std::string message(int maxDepth = kMaxJsonNesting) const;
};

/// Scans `text` (valid JSON or not) and reports the first array or object
/// nested deeper than `maxDepth`; nullopt if there is none.
std::optional<JsonNestingError>
findExcessiveJsonNesting(std::string_view text, int maxDepth = kMaxJsonNesting);

} // namespace txl

#endif // TXL_SUPPORT_JSONNESTING_H
