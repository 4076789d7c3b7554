//===- Pipeline.h - txl-lower, txlc's lowering as one pipeline -*- C++ -*-===//
//
// The passes that take a model from the txl dialect to txl.kernel regions of
// linalg (txlc --emit=linalg), built in one place so that txlc and
// `txl-opt --txl-lower="..."` run the same pipeline.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_PIPELINE_H
#define TXL_PASSES_PIPELINE_H

#include "txl/Passes/Tiling/TileKnobs.h"
#include "txl/support/Status.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassOptions.h"

#include <functional>
#include <string>

namespace txl {

/// How txl-fuse groups linalg ops into kernels.
enum class FuseMode { Default, None };
/// Who writes the kernels' schedules.
enum class TileMode { Heuristic, None };

/// The choices that change the lowering, with txlc's defaults. They are
/// pipeline options (`--txl-lower="target=... tile=none"`) and the fields
/// txlc fills from its flags: a new choice is one more member here and its
/// use in buildTxlLowerPipeline.
struct TxlLowerOptions : public mlir::PassPipelineOptions<TxlLowerOptions> {
  Option<std::string> target{
      *this, "target",
      llvm::cl::desc("Halide target string the schedules are planned for "
                     "(txl-tile)"),
      llvm::cl::init("host")};
  Option<bool> kvCache{*this, "kv-cache",
                       llvm::cl::desc("Keep projected keys and values "
                                      "instead of hidden memories "
                                      "(txl-kv-cache)"),
                       llvm::cl::init(true)};
  Option<bool> keepMemories{
      *this, "keep-mems",
      llvm::cl::desc("With the key/value cache, also keep the hidden "
                     "memories"),
      llvm::cl::init(false)};
  Option<bool> hoist{*this, "hoist",
                     llvm::cl::desc("Move weight-only work into @prepare "
                                    "(txl-hoist-invariants)"),
                     llvm::cl::init(true)};
  Option<std::string> targetCache{
      *this, "target-cache",
      llvm::cl::desc("Cache sizes and cores of the target, overriding the "
                     "machine's (host) or the defaults: "
                     "l1d=32K,l2=1M,l3=32M,cores=2 (docs/TARGETS.md)"),
      llvm::cl::init("")};
  Option<std::string> knobs{
      *this, "knobs",
      llvm::cl::desc("Tiling knobs replacing the target's defaults, "
                     "name=value,... (TileKnobs.h): the layouts chosen "
                     "before txl-tile (layout.*) and txl-tile's own"),
      llvm::cl::init("")};
  Option<int> packPanel{
      *this, "pack-weights",
      llvm::cl::desc("Panel width of txl-pack-weights (0: no packing; -1: "
                     "the knobs' layout.panel_width, 16 by default)"),
      llvm::cl::init(-1)};
  Option<FuseMode> fuse{
      *this, "fuse", llvm::cl::desc("Kernel fusion (txl-fuse)"),
      llvm::cl::init(FuseMode::Default),
      llvm::cl::values(
          clEnumValN(FuseMode::Default, "default", "fused kernels"),
          clEnumValN(FuseMode::None, "none", "one kernel per linalg op"))};
  Option<TileMode> tile{
      *this, "tile", llvm::cl::desc("Schedules (txl-tile)"),
      llvm::cl::init(TileMode::Heuristic),
      llvm::cl::values(clEnumValN(TileMode::Heuristic, "heuristic",
                                  "txl-tile writes one per kernel"),
                       clEnumValN(TileMode::None, "none",
                                  "none: codegen's default schedule"))};
};

/// Adds the lowering to `pm` (anchored on the module): txl-window-memory
/// when @step is not windowed yet, txl-kv-cache, txl-decompose,
/// txl-pack-weights, txl-fuse, txl-hoist-invariants, txl-tile, each as the
/// options say.
void buildTxlLowerPipeline(mlir::OpPassManager &pm,
                           const TxlLowerOptions &options);

/// The same, with `beforeTile` adding passes right before txl-tile (txlc's
/// tuning-database lookup, which writes schedules txl-tile then keeps).
void buildTxlLowerPipeline(
    mlir::OpPassManager &pm, const TxlLowerOptions &options,
    const std::function<void(mlir::OpPassManager &)> &beforeTile);

/// The knobs the pipeline uses for `options`: the target's defaults, then
/// `knobs`, then an explicit `pack-weights` as layout.panel_width (an error
/// when `knobs` names another), checked for legality. The one place the
/// layouts chosen before txl-tile (panel width, position block, clamp run)
/// and txl-tile's own knobs come from.
StatusOr<tiling::TileKnobs> resolveKnobs(const TxlLowerOptions &options);

/// Registers `txl-lower` (for txl-opt).
void registerTxlLowerPipeline();

} // namespace txl

#endif // TXL_PASSES_PIPELINE_H
