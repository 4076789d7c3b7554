//===- InverseFrequencies.cpp - check a stored pos_emb.inv_freq ----------===//

#include "txl/support/InverseFrequencies.h"

#include "txl/support/Text.h"

#include <cmath>

namespace txl {

std::optional<std::string> checkInverseFrequencies(const TensorInfo &stored,
                                                   int64_t dModel) {
  std::vector<int64_t> shape = {dModel / 2};
  if (!isFloatingPoint(stored.dtype) || stored.shape != shape)
    return "wrong shape or dtype, expected F32 " + shapeString(shape) +
           ", found " + dtypeName(stored.dtype) + " " +
           shapeString(stored.shape);
  std::vector<float> values = toFloat32(stored);
  for (int64_t i = 0; i < shape[0]; ++i) {
    double expected = 1.0 / std::pow(10000.0, 2.0 * i / dModel);
    // float32 rounding of HF's own computation, with room to spare.
    if (!(std::fabs(values[i] - expected) <= 1e-5 * expected))
      return "differs from the inverse frequencies of d_model " +
             std::to_string(dModel) + " at index " + std::to_string(i) +
             ", expected " + std::to_string(expected) + ", found " +
             std::to_string(values[i]);
  }
  return std::nullopt;
}

} // namespace txl
