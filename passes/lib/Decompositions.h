//===- Decompositions.h - txl ops to linalg, per op family ------*- C++ -*-===//
//
// Internal to txl-decompose. Each function builds the linalg.generic ops that
// compute one txl op at the builder's insertion point and returns the value
// that replaces the op's result.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_DECOMPOSITIONS_H
#define TXL_PASSES_DECOMPOSITIONS_H

#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/LinalgBuilder.h"

namespace txl {

// Attention: the rel-shift is the distance index, the mask an index predicate.
/// The positions' layout the attention's kernels read (txl-decompose's
/// position-block and clamp-run options).
struct AttentionLayout {
  /// Distances per block of the positions ([H, N/B, Dh, B]): a multiple of
  /// the vector width.
  int64_t positionBlock = 48;
  /// Columns read together where clamped distances repeat: a divisor of
  /// positionBlock, a multiple of the vector width.
  int64_t clampRun = 16;
};
mlir::Value decomposeRelAttention(LinalgBuilder &lb, RelAttentionOp op,
                                  const AttentionLayout &layout);
/// The cached form: keys and values read from the caches and the segment's
/// rows by index (txl-kv-cache).
mlir::Value decomposeCachedRelAttention(LinalgBuilder &lb,
                                        CachedRelAttentionOp op,
                                        const AttentionLayout &layout);
/// The k and v blocks of qkv_net on the segment's rows: (keys, values).
std::pair<mlir::Value, mlir::Value> decomposeKvProjection(LinalgBuilder &lb,
                                                          KvProjectionOp op);

// Adaptive input embedding and projected adaptive log-softmax.
mlir::Value decomposeEmbed(LinalgBuilder &lb, EmbedOp op);
mlir::Value decomposeAdaptiveLogSoftmax(LinalgBuilder &lb,
                                        AdaptiveLogSoftmaxOp op);
/// The scored form: the head for all rows, a tail's logits only for the
/// rows whose target is in it.
mlir::Value decomposeAdaptiveNll(LinalgBuilder &lb, AdaptiveNllOp op);

// Row-wise and element-wise pieces.
mlir::Value decomposePosEmb(LinalgBuilder &lb, PosEmbOp op);
mlir::Value decomposeLayerNorm(LinalgBuilder &lb, LayerNormOp op);
mlir::Value decomposeFfn(LinalgBuilder &lb, FfnOp op);

/// Reductions over the last dimension of `x` ([..., N] -> [...]).
mlir::Value reduceLastDim(LinalgBuilder &lb, mlir::Value x, float init,
                          bool takeMax, llvm::StringRef name);
/// log(sum(exp(x))) over the last dimension, with max subtraction.
mlir::Value logSumExpLastDim(LinalgBuilder &lb, mlir::Value x,
                             llvm::StringRef name);
/// y[..., n] = f(x[..., n], v[...]): combines x with a value per row.
mlir::Value mapWithRowValue(
    LinalgBuilder &lb, mlir::Value x, mlir::Value rowValue,
    const std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                    mlir::Value, mlir::Value)> &combine,
    llvm::StringRef name);

/// Element [batch, row, column] of the concatenation [first; second] along
/// dimension 1 (first has `firstRows` rows, second `secondRows`), read from
/// whichever holds it: the concatenation is never materialised.
mlir::Value rowOfConcatenation(LinalgBuilder &lb, mlir::OpBuilder &b,
                               mlir::Location loc, mlir::Value first,
                               int64_t firstRows, mlir::Value second,
                               int64_t secondRows, mlir::Value batch,
                               mlir::Value row, mlir::Value column);

/// min(max(value, low), high) on index values.
mlir::Value clampIndex(mlir::OpBuilder &b, mlir::Location loc,
                       mlir::Value value, int64_t low, int64_t high);

} // namespace txl

#endif // TXL_PASSES_DECOMPOSITIONS_H
