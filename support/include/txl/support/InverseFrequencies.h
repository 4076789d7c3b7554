//===- InverseFrequencies.h - check a stored pos_emb.inv_freq ---*- C++ -*-===//
//
// Checkpoints of the original code store the positional embedding's buffer
// `transformer.pos_emb.inv_freq`. txl never reads it: it computes the
// frequencies from d_model. A stored buffer that differs would silently mean
// another model, so every weight binder (the model directory's and the
// runtime's for compiled models) compares it with the computed one.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_INVERSEFREQUENCIES_H
#define TXL_SUPPORT_INVERSEFREQUENCIES_H

#include "txl/support/SafeTensors.h"

#include <cstdint>
#include <optional>
#include <string>

namespace txl {

/// The name the original code stores the buffer under.
inline constexpr const char *kInverseFrequenciesName =
    "transformer.pos_emb.inv_freq";

/// What is wrong with `stored` as the inverse frequencies
/// 1 / 10000^(2i / dModel), i < dModel / 2 (shape, dtype, or the first value
/// that differs by more than float32 rounding); nullopt when it matches.
std::optional<std::string> checkInverseFrequencies(const TensorInfo &stored,
                                                   int64_t dModel);

} // namespace txl

#endif // TXL_SUPPORT_INVERSEFREQUENCIES_H
