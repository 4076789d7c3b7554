//===- JsonNesting.cpp - refuse JSON nested deeper than a reader needs ----===//

#include "txl/support/JsonNesting.h"

#include <algorithm>

namespace txl {

std::string JsonNestingError::message(int maxDepth) const {
  return "nested too deeply, expected at most " + std::to_string(maxDepth) +
         " levels of arrays and objects, found more at byte " +
         std::to_string(offset);
}

std::optional<JsonNestingError> findExcessiveJsonNesting(std::string_view text,
                                                         int maxDepth) {
  constexpr size_t kMaxQuotedKey = 60;
  int depth = 0;
  bool topIsObject = false;
  std::string_view lastTopLevelString;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '"') {
      size_t start = ++i;
      while (i < text.size() && text[i] != '"')
        i += text[i] == '\\' ? 2 : 1;
      if (depth == 1)
        lastTopLevelString =
            text.substr(start, std::min(i, text.size()) - start);
      continue;
    }
    if (c == '[' || c == '{') {
      if (depth == 0)
        topIsObject = c == '{';
      if (++depth > maxDepth) {
        JsonNestingError error;
        error.offset = i;
        if (topIsObject)
          error.topLevelKey =
              std::string(lastTopLevelString.substr(0, kMaxQuotedKey));
        return error;
      }
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return std::nullopt;
}

} // namespace txl
