//===- PositionalEncoding.h - the inverse frequencies, exactly --*- C++ -*-===//
//
// Part of txl.pos_emb's definition, shared by every implementation of it (the
// reference kernels, the decomposition) so they agree to the bit. Header-only
// and free of MLIR, so plain C++ libraries can use it.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_DIALECT_POSITIONALENCODING_H
#define TXL_DIALECT_POSITIONALENCODING_H

#include <cmath>
#include <cstdint>
#include <vector>

namespace txl {

/// inv_freq[k] = 1 / 10000^(2k / D) for k < D/2, in float32 exactly as the
/// original computes `1 / (10000 ** (torch.arange(0.0, D, 2.0) / D))`.
inline std::vector<float> inverseFrequencies(int64_t dModel) {
  std::vector<float> invFreq(dModel / 2);
  for (int64_t k = 0; k < dModel / 2; ++k) {
    float exponent = static_cast<float>(2 * k) / static_cast<float>(dModel);
    invFreq[k] = 1.0f / std::pow(10000.0f, exponent);
  }
  return invFreq;
}

} // namespace txl

#endif // TXL_DIALECT_POSITIONALENCODING_H
