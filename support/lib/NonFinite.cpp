//===- NonFinite.cpp - find NaN and infinity in a tensor ------------------===//

#include "txl/support/NonFinite.h"

#include <cmath>

namespace txl {

std::optional<std::string> findNonFinite(const float *values,
                                         const std::vector<int64_t> &shape) {
  int64_t count = 1;
  for (int64_t dim : shape)
    count *= dim;
  for (int64_t i = 0; i < count; ++i) {
    float value = values[i];
    if (std::isfinite(value))
      continue;
    std::vector<int64_t> index(shape.size());
    int64_t rest = i;
    for (size_t d = shape.size(); d-- > 0; rest /= shape[d])
      index[d] = rest % shape[d];
    std::string text = std::isnan(value) ? "nan" : value > 0 ? "inf" : "-inf";
    text += " at [";
    for (size_t d = 0; d < index.size(); ++d)
      text += (d ? ", " : "") + std::to_string(index[d]);
    return text + "]";
  }
  return std::nullopt;
}

} // namespace txl
