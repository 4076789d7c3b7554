//===- GraphBuilder.h - config.json -> a txl module -------------*- C++ -*-===//
//
// Builds the IR of a Transformer-XL model in the txl dialect from its
// configuration: a segment step with explicit memory state and a scan that
// runs the step over a token stream.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_MODELS_GRAPHBUILDER_H
#define TXL_MODELS_GRAPHBUILDER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"
#include "txl/models/ModelConfig.h"

#include <cstdint>
#include <limits>

namespace txl {

/// Shapes fixed when a model is built. A dynamic size (kDynamicSize) leaves the
/// dimension open in the IR (the reference executor accepts any size; compiled
/// code needs static ones).
struct StepShape {
  static constexpr int64_t kDynamicSize = std::numeric_limits<int64_t>::min();
  /// Batch rows (streams) processed together.
  int64_t batch = 1;
  /// Tokens per segment: static, or kDynamicSize for steps of any length up to
  /// `maxSegmentLength` (a stream may then end in a partial segment).
  int64_t segmentLength = kDynamicSize;
  /// The longest segment a dynamic step accepts; sizes the position table.
  int64_t maxSegmentLength = 1;
  /// Segments @nll scores per call (its batch is batch * scoreSegments).
  int64_t scoreSegments = 1;
};

/// Builds a module with
///   func.func @step(%tokens: [B, T] i64, %mem_0..%mem_{L-1}: [B, ?, D] f32)
///       -> (hidden [B, T, D], log_probs [B, T, V], new memories [B, ?, D]...)
///   func.func @score(%tokens: [B, ?] i64)
///       -> (hidden [B, ?, D], log_probs [B, ?, V], final memories...)
///   func.func @nll(%hidden: [S*B, T, D] f32, %targets: [S*B, T] i64)
///       -> nll [S*B, T] f32
/// where @score starts from empty memories and runs @step with
/// txl.segment_scan, and @nll scores the hidden states of S =
/// shape.scoreSegments steps at their targets (txl.adaptive_nll; -1: no
/// target; entry k * B + b is segment k of stream b). Weights are txl.weight ops with the
/// canonical Hugging Face names of ParameterSpec.h.
mlir::OwningOpRef<mlir::ModuleOp> buildModelModule(mlir::MLIRContext &context,
                                                   const ModelConfig &config,
                                                   const StepShape &shape);

} // namespace txl

#endif // TXL_MODELS_GRAPHBUILDER_H
