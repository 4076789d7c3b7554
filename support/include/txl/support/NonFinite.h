//===- NonFinite.h - find NaN and infinity in a tensor ----------*- C++ -*-===//
//
// A NaN or infinity in a weight turns every output into NaN, which a run
// would otherwise print as `loss nan` and exit 0; binders and runners refuse
// it, naming the tensor and the first bad element.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_NONFINITE_H
#define TXL_SUPPORT_NONFINITE_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txl {

/// The first NaN or infinity of the row-major tensor `values` of `shape`,
/// described as "nan at [1, 3]"; nullopt when every element is finite.
std::optional<std::string> findNonFinite(const float *values,
                                         const std::vector<int64_t> &shape);

} // namespace txl

#endif // TXL_SUPPORT_NONFINITE_H
