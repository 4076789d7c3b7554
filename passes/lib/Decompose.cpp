//===- Decompose.cpp - txl-decompose: model-level ops -> linalg -----------===//
//
// Walks each function and replaces every computational txl op (and every
// tensor arith.addf) by linalg.generic ops from Decompositions.h. txl.weight
// stays: parameters are bound later, by name.
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/TypeSwitch.h"

#include <algorithm>

namespace txl {
#define GEN_PASS_DEF_TXLDECOMPOSE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// Compiled code has static shapes; the window form makes memories static.
LogicalResult checkStatic(Operation *op) {
  SmallVector<Type> types(op->getOperandTypes());
  llvm::append_range(types, op->getResultTypes());
  for (Type type : types)
    if (auto tensor = dyn_cast<RankedTensorType>(type);
        tensor && !tensor.hasStaticShape())
      return op->emitOpError("txl-decompose needs static shapes, found ")
             << tensor
             << " (run txl-window-memory first, with a static "
                "segment length)";
  return success();
}

struct DecomposePass : public txl::impl::TxlDecomposeBase<DecomposePass> {
  using TxlDecomposeBase::TxlDecomposeBase;

  void runOnOperation() override {
    AttentionLayout layout{positionBlock, clampRun};
    if (layout.positionBlock < 1 || layout.clampRun < 1 ||
        layout.positionBlock % layout.clampRun != 0) {
      getOperation().emitError()
          << "txl-decompose: clamp-run (" << layout.clampRun
          << ") must be positive and divide position-block ("
          << layout.positionBlock << ")";
      return signalPassFailure();
    }
    SmallVector<Operation *> work;
    getOperation().walk([&](Operation *op) {
      bool tensorAdd = isa<arith::AddFOp>(op) &&
                       isa<RankedTensorType>(op->getResult(0).getType());
      if (tensorAdd || isa<EmbedOp, PosEmbOp, RelAttentionOp,
                           CachedRelAttentionOp, KvProjectionOp, LayerNormOp,
                           FfnOp, AdaptiveLogSoftmaxOp, AdaptiveNllOp>(op))
        work.push_back(op);
      if (isa<MemUpdateOp, SegmentScanOp>(op)) {
        op->emitOpError("has no decomposition: run txl-window-memory first");
        signalPassFailure();
      }
    });
    // Positional embeddings last: an attention reads its positions'
    // clamp_len from the txl.pos_emb that makes them.
    std::stable_partition(work.begin(), work.end(),
                          [](Operation *op) { return !isa<PosEmbOp>(op); });
    for (Operation *op : work) {
      if (failed(checkStatic(op)))
        return signalPassFailure();
      OpBuilder builder(op);
      LinalgBuilder lb(builder, op->getLoc());
      if (auto projection = dyn_cast<KvProjectionOp>(op)) {
        auto [keys, values] = decomposeKvProjection(lb, projection);
        projection.getKeys().replaceAllUsesWith(keys);
        projection.getValues().replaceAllUsesWith(values);
        op->erase();
        continue;
      }
      Value replacement =
          llvm::TypeSwitch<Operation *, Value>(op)
              .Case([&](EmbedOp o) { return decomposeEmbed(lb, o); })
              .Case([&](PosEmbOp o) { return decomposePosEmb(lb, o); })
              .Case([&](RelAttentionOp o) {
                return decomposeRelAttention(lb, o, layout);
              })
              .Case([&](CachedRelAttentionOp o) {
                return decomposeCachedRelAttention(lb, o, layout);
              })
              .Case([&](LayerNormOp o) { return decomposeLayerNorm(lb, o); })
              .Case([&](FfnOp o) { return decomposeFfn(lb, o); })
              .Case([&](AdaptiveLogSoftmaxOp o) {
                return decomposeAdaptiveLogSoftmax(lb, o);
              })
              .Case(
                  [&](AdaptiveNllOp o) { return decomposeAdaptiveNll(lb, o); })
              .Case([&](arith::AddFOp o) {
                return lb.map(
                    {o.getLhs(), o.getRhs()},
                    [](OpBuilder &b, Location loc, ValueRange args) {
                      return b.create<arith::AddFOp>(loc, args[0], args[1])
                          .getResult();
                    },
                    "residual");
              });
      op->getResult(0).replaceAllUsesWith(replacement);
      op->erase();
    }
  }
};

} // namespace
