//===- Pipeline.cpp - txl-lower: txlc's lowering as a named pipeline ------===//
//
// One builder for txlc and txl-opt (`--txl-lower`): the IR txlc prints with
// --emit=linalg is what `txl-opt --txl-lower` prints for txlc's --emit=mlir.
//
//===----------------------------------------------------------------------===//

#include "txl/Passes/Pipeline.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"
#include "txl/target/TargetInfo.h"

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
  llvm::StringRef getName() const override {
    return "TxlWindowMemoryUnlessWindowed";
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

/// Runs `lowering` unless the module holds txl.kernel ops already: a .mlir
/// file written by --emit=linalg (its schedules perhaps edited by hand or by
/// a tuner) is compiled as it is; txl-tile then fills in only the schedules
/// that are missing. Lowered twice, its kernels would be fused again.
struct LowerUnlessLowered
    : public mlir::PassWrapper<LowerUnlessLowered,
                               mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerUnlessLowered)
  explicit LowerUnlessLowered(mlir::OpPassManager lowering)
      : lowering(std::move(lowering)) {}
  llvm::StringRef getArgument() const override {
    return "txl-lower-unless-lowered";
  }
  llvm::StringRef getName() const override { return "TxlLowerUnlessLowered"; }
  llvm::StringRef getDescription() const override {
    return "txl-lower's passes before txl-tile, skipped for a module that "
           "holds txl.kernel ops already";
  }
  void getDependentDialects(mlir::DialectRegistry &registry) const override {
    lowering.getDependentDialects(registry);
  }
  void runOnOperation() override {
    bool lowered =
        getOperation()
            .walk([](KernelOp) { return mlir::WalkResult::interrupt(); })
            .wasInterrupted();
    if (!lowered && mlir::failed(runPipeline(lowering, getOperation())))
      signalPassFailure();
  }
  mlir::OpPassManager lowering;
};

/// Fails the pipeline with `message`: options that cannot be built into a
/// pipeline are reported when it runs, as pass errors are.
struct ReportOptionError
    : public mlir::PassWrapper<ReportOptionError,
                               mlir::OperationPass<mlir::ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ReportOptionError)
  explicit ReportOptionError(std::string message)
      : message(std::move(message)) {}
  llvm::StringRef getArgument() const override {
    return "txl-lower-option-error";
  }
  void runOnOperation() override {
    getOperation().emitError() << "txl-lower: " << message;
    signalPassFailure();
  }
  std::string message;
};

} // namespace

StatusOr<tiling::TileKnobs> resolveKnobs(const TxlLowerOptions &options) {
  StatusOr<target::TargetInfo> info =
      target::parseTarget(options.target, options.targetCache);
  if (!info.ok())
    return info.status();
  tiling::TileKnobs knobs = tiling::defaultKnobs(*info);
  if (Status status = tiling::setKnobs(knobs, options.knobs); !status.isOk())
    return status;
  if (options.packPanel > 0) {
    tiling::TileKnobs named;
    named.layout.panelWidth = 0;
    if (Status s = tiling::setKnobs(named, options.knobs); !s.isOk())
      return s;
    if (named.layout.panelWidth > 0 &&
        named.layout.panelWidth != options.packPanel)
      return Status::error("pack-weights=" + std::to_string(options.packPanel) +
                           " and knobs layout.panel_width=" +
                           std::to_string(named.layout.panelWidth) +
                           " disagree: give one");
    knobs.layout.panelWidth = options.packPanel;
  } else if (options.packPanel < -1) {
    return Status::error("pack-weights must be -1 (the knobs'), 0 (off) or "
                         "a panel width, not " +
                         std::to_string(options.packPanel));
  }
  if (Status status = tiling::checkKnobs(knobs, *info); !status.isOk())
    return status;
  return knobs;
}

void buildTxlLowerPipeline(mlir::OpPassManager &pm,
                           const TxlLowerOptions &options) {
  buildTxlLowerPipeline(pm, options, {});
}

void buildTxlLowerPipeline(
    mlir::OpPassManager &pm, const TxlLowerOptions &options,
    const std::function<void(mlir::OpPassManager &)> &beforeTile) {
  StatusOr<tiling::TileKnobs> knobs = resolveKnobs(options);
  if (!knobs.ok()) {
    pm.addPass(std::make_unique<ReportOptionError>(knobs.status().message()));
    return;
  }
  // Everything before txl-tile, unless the module is lowered already.
  mlir::OpPassManager lowering(mlir::ModuleOp::getOperationName());
  lowering.addPass(std::make_unique<WindowMemoryUnlessWindowed>());
  if (options.kvCache) {
    TxlKvCacheOptions kvCache;
    kvCache.keepMemories = options.keepMemories;
    lowering.addPass(createTxlKvCache(kvCache));
  }
  TxlDecomposeOptions decompose;
  decompose.positionBlock = knobs->layout.positionBlock;
  decompose.clampRun = knobs->layout.clampRun;
  lowering.addPass(createTxlDecompose(decompose));
  if (options.packPanel != 0) {
    TxlPackWeightsOptions pack;
    pack.panel = knobs->layout.panelWidth;
    lowering.addPass(createTxlPackWeights(pack));
  }
  TxlFuseOptions fuse;
  fuse.mode = options.fuse == FuseMode::None ? "none" : "default";
  lowering.addPass(createTxlFuse(fuse));
  if (options.hoist)
    lowering.addPass(createTxlHoistInvariants());
  pm.addPass(std::make_unique<LowerUnlessLowered>(std::move(lowering)));
  if (beforeTile)
    beforeTile(pm);
  if (options.tile == TileMode::Heuristic) {
    TxlTileOptions tile;
    tile.target = options.target;
    tile.targetCache = options.targetCache;
    // txl-tile reads the layouts from the IR; it gets the user's knobs.
    tile.knobs = options.knobs;
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
      [](mlir::OpPassManager &pm, const TxlLowerOptions &options) {
        buildTxlLowerPipeline(pm, options);
      });
}

} // namespace txl
