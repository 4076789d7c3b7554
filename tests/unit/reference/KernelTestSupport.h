//===- KernelTestSupport.h - helpers shared by the kernel tests -*- C++ -*-===//
//
// Seeded random tensors and element-wise comparison for the reference-kernel
// tests.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_UNIT_REFERENCE_KERNELTESTSUPPORT_H
#define TXL_TESTS_UNIT_REFERENCE_KERNELTESTSUPPORT_H

#include "txl/reference/Tensor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace txl::reference::testing {

/// Uniform values in [-scale, scale], reproducible per seed.
inline Tensor randomTensor(std::vector<int64_t> shape, unsigned seed,
                           float scale = 1.0f) {
  std::mt19937 engine(seed);
  std::uniform_real_distribution<float> uniform(-scale, scale);
  Tensor tensor(std::move(shape));
  for (float &value : tensor.data)
    value = uniform(engine);
  return tensor;
}

/// Same shape, and every element within `tolerance`; reports the first
/// mismatch only.
inline ::testing::AssertionResult
allNear(const Tensor &actual, const Tensor &expected, double tolerance) {
  if (actual.shape != expected.shape)
    return ::testing::AssertionFailure()
           << "shape " << shapeString(actual.shape)
           << " != " << shapeString(expected.shape);
  for (size_t i = 0; i < actual.data.size(); ++i)
    if (!(std::fabs(double(actual.data[i]) - double(expected.data[i])) <=
          tolerance))
      return ::testing::AssertionFailure()
             << "element " << i << ": " << actual.data[i] << " vs "
             << expected.data[i] << " (tolerance " << tolerance << ")";
  return ::testing::AssertionSuccess();
}

/// Largest absolute element-wise difference of two same-shaped tensors.
inline double maxAbsDifference(const Tensor &a, const Tensor &b) {
  double largest = 0.0;
  for (size_t i = 0; i < a.data.size(); ++i)
    largest = std::max(largest, std::fabs(double(a.data[i]) - b.data[i]));
  return largest;
}

} // namespace txl::reference::testing

#endif // TXL_TESTS_UNIT_REFERENCE_KERNELTESTSUPPORT_H
