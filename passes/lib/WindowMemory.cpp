//===- WindowMemory.cpp - fixed-capacity memory windows for the step ------===//
//
// Rewrites the segment step from growing memories (tensor<B x ? x D>) to the
// compiled form: right-aligned windows of mem_len rows plus the counts `n`
// (segment rows) and `M` (memory rows). See Passes.td for the rationale.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace txl {
#define GEN_PASS_DEF_TXLWINDOWMEMORY
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// The memory capacity the step's ops agree on, or failure (with a
/// diagnostic) when they disagree or there is none.
FailureOr<int64_t> memoryCapacity(func::FuncOp step) {
  std::optional<int64_t> capacity;
  bool consistent = true;
  auto note = [&](int64_t memLen) {
    if (capacity && *capacity != memLen)
      consistent = false;
    capacity = memLen;
  };
  step.walk([&](Operation *op) {
    if (auto attn = dyn_cast<RelAttentionOp>(op))
      note(attn.getMemLenAttr().getInt());
    if (auto update = dyn_cast<MemUpdateOp>(op))
      note(update.getMemLenAttr().getInt());
  });
  if (!capacity)
    return step.emitError("txl-window-memory: step '")
           << step.getName() << "' has no attention or memory update";
  if (!consistent)
    return step.emitError("txl-window-memory: ops of step '")
           << step.getName() << "' disagree on mem_len";
  return *capacity;
}

struct WindowMemoryPass
    : public txl::impl::TxlWindowMemoryBase<WindowMemoryPass> {
  using TxlWindowMemoryBase::TxlWindowMemoryBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(stepName);
    if (!step) {
      module.emitError("txl-window-memory: no function named '")
          << stepName << "'";
      return signalPassFailure();
    }
    if (failed(rewriteStep(step)))
      return signalPassFailure();
    // The runtime drives the recurrence of a compiled step.
    SmallVector<Operation *> scans;
    module.walk([&](SegmentScanOp scan) {
      if (scan.getStep() == stepName)
        scans.push_back(scan->getParentOfType<func::FuncOp>());
    });
    for (Operation *scanner : scans)
      scanner->erase();
  }

  LogicalResult rewriteStep(func::FuncOp step) {
    FailureOr<int64_t> capacity = memoryCapacity(step);
    if (failed(capacity))
      return failure();
    Block &body = step.getBody().front();
    FunctionType type = step.getFunctionType();
    auto tokens = dyn_cast<RankedTensorType>(type.getInput(0));
    if (!tokens || tokens.getRank() != 2 || tokens.isDynamicDim(1))
      return step.emitError("txl-window-memory: the step's tokens must be a "
                            "[batch, T] tensor with a static T, found ")
             << type.getInput(0);

    OpBuilder builder(step.getContext());
    Location loc = step.getLoc();
    Type index = builder.getIndexType();
    Value segmentRows = body.insertArgument(1u, index, loc);
    Value memoryRows = body.insertArgument(2u, index, loc);

    // Every remaining argument is a memory: give it the window type.
    for (BlockArgument memory : body.getArguments().drop_front(3)) {
      auto memoryType = dyn_cast<RankedTensorType>(memory.getType());
      if (!memoryType || memoryType.getRank() != 3)
        return step.emitError("txl-window-memory: memory argument #")
               << memory.getArgNumber() << " must be a [B, rows, D] tensor";
      memory.setType(RankedTensorType::get(
          {memoryType.getDimSize(0), *capacity, memoryType.getDimSize(2)},
          memoryType.getElementType()));
      if (failed(rewriteUsers(memory, memoryRows, segmentRows)))
        return failure();
    }

    auto ret = cast<func::ReturnOp>(body.getTerminator());
    step.setFunctionType(builder.getFunctionType(body.getArgumentTypes(),
                                                 ret.getOperandTypes()));
    // Their role, for later passes and the host code (state of the ABI).
    for (unsigned i = 3; i < step.getNumArguments(); ++i)
      step.setArgAttr(i, txl::attr::kState, builder.getStringAttr("memory"));
    return success();
  }

  /// Rewrites the users of one memory window (and of values that merely
  /// normalise it, for pre-LN models).
  LogicalResult rewriteUsers(Value window, Value memoryRows,
                             Value segmentRows) {
    for (Operation *user : llvm::make_early_inc_range(window.getUsers())) {
      if (auto attn = dyn_cast<RelAttentionOp>(user)) {
        if (attn.getMemory() != window)
          return attn.emitError("txl-window-memory: a memory is used as "
                                "attention input, not as its memory");
        attn.getMemoryRowsMutable().assign(memoryRows);
        continue;
      }
      if (auto norm = dyn_cast<LayerNormOp>(user)) {
        // LayerNorm is row-wise: normalising the ignored rows is harmless.
        norm.getResult().setType(cast<RankedTensorType>(window.getType()));
        if (failed(rewriteUsers(norm.getResult(), memoryRows, segmentRows)))
          return failure();
        continue;
      }
      if (auto update = dyn_cast<MemUpdateOp>(user)) {
        OpBuilder builder(update);
        Value next = builder.create<WindowUpdateOp>(
            update.getLoc(), window.getType(), window, memoryRows,
            update.getHidden(), segmentRows, update.getMemLenAttr());
        update.getResult().replaceAllUsesWith(next);
        update.erase();
        continue;
      }
      return user->emitError("txl-window-memory: cannot give a memory window "
                             "to this op");
    }
    return success();
  }
};

} // namespace
