//===- KvCache.cpp - keep projected keys and values instead of memories ---===//
//
// The recurrence-aware rewrite of Passes.td's txl-kv-cache: each layer's
// memory window becomes a key cache and a value cache, filled once per row
// when the row is in the segment. See Passes.td for the rationale and the
// equivalence argument.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

namespace txl {
#define GEN_PASS_DEF_TXLKVCACHE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// The name a weight operand reads, or "" if it is not a txl.weight.
StringRef weightName(Value value) {
  if (auto weight = value.getDefiningOp<WeightOp>())
    return weight.getName();
  return "";
}

/// True when `a` and `b` are LayerNorms with the same parameters (the same
/// weights by name, the same epsilon): then they normalise rows alike.
bool sameLayerNorm(LayerNormOp a, LayerNormOp b) {
  auto sameWeight = [](Value x, Value y) {
    return x == y || (!weightName(x).empty() && weightName(x) == weightName(y));
  };
  return a.getEpsilon() == b.getEpsilon() &&
         sameWeight(a.getWeight(), b.getWeight()) &&
         sameWeight(a.getBias(), b.getBias());
}

/// One layer's memory as the pass finds it: the window argument, the
/// attention that reads it (directly, or through a row-wise LayerNorm for
/// pre-LN models) and the update that carries it to the next segment.
struct LayerMemory {
  BlockArgument window;
  RelAttentionOp attention;
  LayerNormOp normalisation; // null unless pre-LN
  WindowUpdateOp update;
  unsigned resultIndex = 0; // where the step returns the updated window
};

/// Finds the pieces of one memory, and checks the condition that makes the
/// rewrite exact: the attention's input rows are what the update appends to
/// the window, under the same row-wise map (identity or the same LayerNorm).
/// So the keys the attention would project from a memory row are the keys
/// it projected from that row when the row was in the segment.
FailureOr<LayerMemory> analyseMemory(BlockArgument window,
                                     func::ReturnOp ret) {
  LayerMemory memory;
  memory.window = window;
  auto fail = [&](const Twine &why) {
    return emitError(window.getLoc(), "txl-kv-cache: memory argument #")
           << window.getArgNumber() << ": " << why;
  };
  for (Operation *user : window.getUsers()) {
    if (auto attn = dyn_cast<RelAttentionOp>(user)) {
      if (memory.attention || attn.getMemory() != window)
        return fail("expected one attention reading it as its memory");
      memory.attention = attn;
    } else if (auto norm = dyn_cast<LayerNormOp>(user)) {
      if (memory.normalisation || !norm.getResult().hasOneUse())
        return fail("expected one LayerNorm feeding one attention");
      auto attn = dyn_cast<RelAttentionOp>(*norm.getResult().user_begin());
      if (!attn || memory.attention || attn.getMemory() != norm.getResult())
        return fail("expected its LayerNorm to feed an attention's memory");
      memory.normalisation = norm;
      memory.attention = attn;
    } else if (auto update = dyn_cast<WindowUpdateOp>(user)) {
      if (memory.update || update.getWindow() != window)
        return fail("expected one window update of it");
      memory.update = update;
    } else {
      return fail("used by an op the pass does not know");
    }
  }
  if (!memory.attention || !memory.update)
    return fail("expected an attention and a window update (run "
                "txl-window-memory first)");
  if (!memory.attention.getMemoryRows() ||
      memory.attention.getMemoryRows() != memory.update.getMemoryRows())
    return fail("the attention and the update disagree on the rows held");
  Value segment = memory.update.getHidden();
  Value queries = memory.attention.getInput();
  if (memory.normalisation) {
    auto queryNorm = queries.getDefiningOp<LayerNormOp>();
    if (!queryNorm || queryNorm.getInput() != segment ||
        !sameLayerNorm(queryNorm, memory.normalisation))
      return fail("the attention's input is not the appended rows under the "
                  "memory's LayerNorm");
  } else if (queries != segment) {
    return fail("the attention's input is not the rows appended to it");
  }
  Value updated = memory.update.getResult();
  if (!updated.hasOneUse() || *updated.user_begin() != ret)
    return fail("its update must only be returned");
  memory.resultIndex = updated.use_begin()->getOperandNumber();
  return memory;
}

struct KvCachePass : public txl::impl::TxlKvCacheBase<KvCachePass> {
  using TxlKvCacheBase::TxlKvCacheBase;

  void runOnOperation() override {
    auto step = getOperation().lookupSymbol<func::FuncOp>(stepName);
    if (!step) {
      getOperation().emitError("txl-kv-cache: no function named '")
          << stepName << "'";
      return signalPassFailure();
    }
    if (failed(rewriteStep(step)))
      return signalPassFailure();
  }

  LogicalResult rewriteStep(func::FuncOp step) {
    Block &body = step.getBody().front();
    auto ret = cast<func::ReturnOp>(body.getTerminator());
    if (step.getNumArguments() < 3 ||
        !step.getArgumentTypes()[1].isIndex() ||
        !step.getArgumentTypes()[2].isIndex())
      return step.emitError("txl-kv-cache: the step is not in window form "
                            "(run txl-window-memory first)");
    Value segmentRows = body.getArgument(1);
    SmallVector<LayerMemory> memories;
    for (BlockArgument window : body.getArguments().drop_front(3)) {
      auto role = step.getArgAttrOfType<StringAttr>(window.getArgNumber(),
                                                    txl::attr::kState);
      if (role && role.getValue() != "memory")
        continue; // already a cache
      FailureOr<LayerMemory> memory = analyseMemory(window, ret);
      if (failed(memory))
        return failure();
      memories.push_back(*memory);
    }

    OpBuilder builder(step.getContext());
    SmallVector<unsigned> droppedArguments, droppedResults;
    for (LayerMemory &memory : memories) {
      RelAttentionOp attn = memory.attention;
      int64_t heads = attn.getNHeadAttr().getInt();
      int64_t inner = heads * attn.getDHeadAttr().getInt();
      auto windowType = cast<RankedTensorType>(memory.window.getType());
      auto inputType = cast<RankedTensorType>(attn.getInput().getType());
      auto cacheType = RankedTensorType::get(
          {windowType.getDimSize(0), windowType.getDimSize(1), inner},
          windowType.getElementType());
      auto rowsType = RankedTensorType::get(
          {inputType.getDimSize(0), inputType.getDimSize(1), inner},
          inputType.getElementType());

      // The caches are new state: arguments and results at the end.
      Location loc = memory.window.getLoc();
      unsigned argument = step.getNumArguments();
      step.insertArgument(
          argument, cacheType,
          builder.getDictionaryAttr(builder.getNamedAttr(
              txl::attr::kState, builder.getStringAttr("keys"))),
          loc);
      step.insertArgument(
          argument + 1, cacheType,
          builder.getDictionaryAttr(builder.getNamedAttr(
              txl::attr::kState, builder.getStringAttr("values"))),
          loc);
      Value keyCache = body.getArgument(argument);
      Value valueCache = body.getArgument(argument + 1);

      builder.setInsertionPoint(attn);
      auto projection = builder.create<KvProjectionOp>(
          attn.getLoc(), rowsType, rowsType, attn.getInput(),
          attn.getQkvWeight(), attn.getNHeadAttr(), attn.getDHeadAttr());
      Value memoryRows = attn.getMemoryRows();
      Value cached = builder.create<CachedRelAttentionOp>(
          attn.getLoc(), attn.getType(), attn.getInput(), keyCache, valueCache,
          memoryRows, projection.getKeys(), projection.getValues(),
          attn.getPositions(), attn.getQkvWeight(), attn.getRWeight(),
          attn.getOWeight(), attn.getRWBias(), attn.getRRBias(),
          attn.getNHeadAttr(), attn.getDHeadAttr(), attn.getMemLenAttr(),
          attn.getSameLengthAttr());
      attn.getResult().replaceAllUsesWith(cached);

      // Each new row's key and value enter the caches as the row enters the
      // memory: the same window update, on projected rows.
      builder.setInsertionPoint(ret);
      auto memLen = memory.update.getMemLenAttr();
      Value nextKeys = builder.create<WindowUpdateOp>(
          loc, cacheType, keyCache, memoryRows, projection.getKeys(),
          segmentRows, memLen);
      Value nextValues = builder.create<WindowUpdateOp>(
          loc, cacheType, valueCache, memoryRows, projection.getValues(),
          segmentRows, memLen);
      ret.getOperandsMutable().append({nextKeys, nextValues});
      attn.erase();
      if (memory.normalisation) {
        SmallVector<Value> parameters = {memory.normalisation.getWeight(),
                                         memory.normalisation.getBias()};
        memory.normalisation.erase();
        for (Value parameter : parameters)
          if (parameter.use_empty())
            if (Operation *definition = parameter.getDefiningOp())
              definition->erase();
      }
      if (!keepMemories) {
        droppedArguments.push_back(memory.window.getArgNumber());
        droppedResults.push_back(memory.resultIndex);
      }
    }
    // The hidden memories are no longer read: drop them unless asked for.
    std::sort(droppedResults.rbegin(), droppedResults.rend());
    for (unsigned index : droppedResults)
      ret.getOperandsMutable().erase(index);
    for (LayerMemory &memory : memories)
      if (!keepMemories)
        memory.update.erase();
    std::sort(droppedArguments.rbegin(), droppedArguments.rend());
    for (unsigned index : droppedArguments)
      step.eraseArgument(index);
    step.setFunctionType(builder.getFunctionType(body.getArgumentTypes(),
                                                 ret.getOperandTypes()));
    // Results carry no attributes here; keep the function's list in step.
    step.removeResAttrsAttr();
    return success();
  }
};

} // namespace
