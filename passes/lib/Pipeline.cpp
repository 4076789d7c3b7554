//===- Pipeline.cpp - txl-lower: txlc's lowering as a named pipeline ------===//
//
// One builder for txlc and txl-opt (`--txl-lower`): the IR txlc prints with
// --emit=linalg is what `txl-opt --txl-lower` prints for txlc's --emit=mlir.
//
//===----------------------------------------------------------------------===//

#include "txl/Passes/Pipeline.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Pass/PassRegistry.h"

namespace txl {
namespace {

/// Whether @step already has the compiled form's (tokens, n, M, ...)
/// arguments: a .mlir input may have been windowed before.
bool stepIsWindowed(mlir::ModuleOp module) {
  auto step = module.lookupSymbol<mlir::func::FuncOp>("step");
  return step && step.getNumArguments() >= 3 &&
         step.getArgumentTypes()[1].isIndex();
}

/// txl-window-memory where @step is not windowed yet. Decided when the
/// pipeline runs, not when it is built, because txl-opt builds it before
/// it has parsed the input.
struct WindowMemoryUnlessWindowed
    : public mlir::PassWrapper<WindowMemoryUnlessWindowed,
                               mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(WindowMemoryUnlessWindowed)

  llvm::StringRef getArgument() const override {
    return "txl-window-memory-unless-windowed";
  }
  llvm::StringRef getDescription() const override {
    return "txl-window-memory, skipped when @step is already windowed";
  }
  void getDependentDialects(mlir::DialectRegistry &registry) const override {
    registry.insert<TxlDialect>();
  }
  void runOnOperation() override {
    if (stepIsWindowed(getOperation()))
      return;
    mlir::OpPassManager windowMemory(mlir::ModuleOp::getOperationName());
    windowMemory.addPass(createTxlWindowMemory());
    if (mlir::failed(runPipeline(windowMemory, getOperation())))
      signalPassFailure();
  }
};

} // namespace

void buildTxlLowerPipeline(mlir::OpPassManager &pm,
                           const TxlLowerOptions &options) {
  pm.addPass(std::make_unique<WindowMemoryUnlessWindowed>());
  if (options.kvCache) {
    TxlKvCacheOptions kvCache;
    kvCache.keepMemories = options.keepMemories;
    pm.addPass(createTxlKvCache(kvCache));
  }
  pm.addPass(createTxlDecompose());
  if (options.packPanel > 0) {
    TxlPackWeightsOptions pack;
    pack.panel = options.packPanel;
    pm.addPass(createTxlPackWeights(pack));
  }
  TxlFuseOptions fuse;
  fuse.mode = options.fuse == FuseMode::None ? "none" : "default";
  pm.addPass(createTxlFuse(fuse));
  if (options.hoist)
    pm.addPass(createTxlHoistInvariants());
  if (options.tile == TileMode::Heuristic) {
    TxlTileOptions tile;
    tile.target = options.target;
    pm.addPass(createTxlTile(tile));
  }
}

void registerTxlLowerPipeline() {
  mlir::PassPipelineRegistration<TxlLowerOptions>(
      "txl-lower",
      "txlc's lowering, from the txl dialect to txl.kernel regions of linalg "
      "(txlc --emit=linalg): txl-window-memory (unless @step is windowed), "
      "txl-kv-cache, txl-decompose, txl-pack-weights, txl-fuse, "
      "txl-hoist-invariants, txl-tile; the options are txlc's flags",
      buildTxlLowerPipeline);
}

} // namespace txl
