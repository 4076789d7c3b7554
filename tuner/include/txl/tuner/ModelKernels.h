//===- ModelKernels.h - a model's kernels, as txlc compiles them -*- C++
//-*-===//
//
// The tuner extracts kernels exactly as txlc does: the model is built (from a
// model directory or config.json, or parsed from a .mlir file), lowered with
// txl-lower and the same options as txlc's flags, and outlined. Identical
// kernels (same WorkloadKey) become one task, whose weight is how often it
// runs per step: each call in @step counts 1, a call in @nll 1/S (scoring
// runs once per S segments), a call in @prepare 0 (once at load).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_MODELKERNELS_H
#define TXL_TUNER_MODELKERNELS_H

#include "txl/Passes/Pipeline.h"
#include "txl/support/Status.h"
#include "txl/tuner/WorkloadKey.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <string>
#include <vector>

namespace txl::tuner {

/// What to build and how to lower it (txlc's flags of the same names).
struct ModelSource {
  /// A model directory, a config.json or a .mlir file with a @step.
  std::string path;
  int64_t batch = 1;
  /// 0: the config's tgt_len.
  int64_t tgtLen = 0;
  int64_t scoreSegments = 8;
  TxlLowerOptions lowering;
};

/// Builds the model's txl module (txlc's stage 1).
StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildModel(mlir::MLIRContext &context, const ModelSource &source);

/// Registers what building, lowering and outlining a model needs.
void registerModelDialects(mlir::DialectRegistry &registry);

/// One distinct kernel of a model.
struct KernelTask {
  WorkloadKey key;
  /// Calls per step (see the file comment) and calls in each function.
  double weight = 0;
  int stepCalls = 0, nllCalls = 0, prepareCalls = 0;
  /// The first occurrence, in the lowered module (before outlining: what
  /// txl-tile plans) and its outlined function (what codegen compiles).
  KernelOp kernel;
  mlir::func::FuncOp outlined;
  /// txl-tile's schedule of it, as attribute text.
  std::string heuristicSchedule;
};

struct ModelKernels {
  /// After txl-lower (the heuristic's schedules on every kernel).
  mlir::OwningOpRef<mlir::ModuleOp> lowered;
  /// The same, outlined (txl-outline-kernels).
  mlir::OwningOpRef<mlir::ModuleOp> outlined;
  /// In the order of their first call: @prepare's, @step's, @nll's.
  std::vector<KernelTask> tasks;
  /// Kernels in all (calls counted once each).
  int kernelCount = 0;
};

/// Lowers `module` (consumed) and groups its kernels.
StatusOr<ModelKernels> extractKernels(mlir::OwningOpRef<mlir::ModuleOp> module,
                                      const ModelSource &source);

/// The kernels of the step, prepare and scoring functions, in call order,
/// with the function each is in ("prepare", "step", "nll").
std::vector<std::pair<std::string, KernelOp>>
kernelsInCallOrder(mlir::ModuleOp module);

} // namespace txl::tuner

#endif // TXL_TUNER_MODELKERNELS_H
