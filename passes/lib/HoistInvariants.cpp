//===- HoistInvariants.cpp - move weight-only work out of the step --------===//
//
// txl-hoist-invariants (Passes.td): every computation of the step that reads
// nothing but weights and constants gives the same result in every segment;
// it moves into a @prepare function, run once when the model is loaded, and
// the step receives its results as arguments.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OperationSupport.h"
#include "mlir/Transforms/RegionUtils.h"

namespace txl {
#define GEN_PASS_DEF_TXLHOISTINVARIANTS
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// Work worth doing once: a kernel or a linalg computation. Views, inits and
/// constants are not moved on their own; they are cloned where needed.
bool isComputation(Operation *op) {
  return isa<KernelOp, linalg::GenericOp>(op);
}

/// True when `op` is pure and every value it reads, in its operands or from
/// inside its regions, is invariant.
bool readsOnlyInvariants(Operation *op,
                         const llvm::DenseSet<Operation *> &invariant) {
  if (!isPure(op) && !isa<KernelOp, WeightOp>(op))
    return false;
  auto isInvariant = [&](Value value) {
    Operation *definition = value.getDefiningOp();
    return definition && invariant.contains(definition);
  };
  if (!llvm::all_of(op->getOperands(), isInvariant))
    return false;
  llvm::SetVector<Value> captured;
  for (Region &region : op->getRegions())
    getUsedValuesDefinedAbove(region, captured);
  return llvm::all_of(captured, isInvariant);
}

/// What one function gives to @prepare: its invariant ops in order, and the
/// computations among them that move.
struct Invariants {
  llvm::DenseSet<Operation *> ops;
  SmallVector<Operation *> moved;
};

Invariants findInvariants(func::FuncOp function) {
  Invariants found;
  for (Operation &op : function.getBody().front().without_terminator()) {
    if (!readsOnlyInvariants(&op, found.ops))
      continue;
    found.ops.insert(&op);
    if (isComputation(&op))
      found.moved.push_back(&op);
  }
  return found;
}

/// True when `a` and `b` compute the same thing from the same values: equal
/// ops whose regions (a kernel's body) match op by op, values defined inside
/// them corresponding.
bool sameComputation(Operation *a, Operation *b) {
  llvm::DenseMap<Value, Value> inside;
  return OperationEquivalence::isEquivalentTo(
      a, b,
      [&](Value x, Value y) {
        return success(x == y || inside.lookup(x) == y);
      },
      [&](Value x, Value y) { inside[x] = y; },
      OperationEquivalence::IgnoreLocations);
}

struct HoistInvariantsPass
    : public txl::impl::TxlHoistInvariantsBase<HoistInvariantsPass> {
  using TxlHoistInvariantsBase::TxlHoistInvariantsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    auto step = module.lookupSymbol<func::FuncOp>(stepName);
    if (!step) {
      module.emitError("txl-hoist-invariants: no function named '")
          << stepName << "'";
      return signalPassFailure();
    }
    if (module.lookupSymbol(prepareName)) {
      module.emitError("txl-hoist-invariants: the module already has a '")
          << prepareName << "'";
      return signalPassFailure();
    }
    SmallVector<func::FuncOp> functions = {step};
    if (auto scored = module.lookupSymbol<func::FuncOp>(scoredName))
      if (!scored.isExternal())
        functions.push_back(scored);
    SmallVector<Invariants> invariants;
    for (func::FuncOp function : functions)
      invariants.push_back(findInvariants(function));
    if (llvm::all_of(invariants,
                     [](const Invariants &i) { return i.moved.empty(); }))
      return; // nothing to hoist: no @prepare

    OpBuilder builder(module.getContext());
    builder.setInsertionPoint(step);
    auto prepare = builder.create<func::FuncOp>(
        step.getLoc(), prepareName, builder.getFunctionType({}, {}));
    Block *prepareBody = prepare.addEntryBlock();
    builder.setInsertionPointToEnd(prepareBody);
    SmallVector<Value> returned;
    for (auto [function, found] : llvm::zip(functions, invariants))
      hoist(function, found, builder, returned);
    builder.create<func::ReturnOp>(step.getLoc(), returned);
    prepare.setFunctionType(
        builder.getFunctionType({}, ValueRange(returned).getTypes()));
  }

  /// Moves `function`'s invariant computations into @prepare (at the
  /// builder), each result it still reads becoming an argument marked with
  /// its @prepare result. An op equal to one already in @prepare (the same
  /// weight packed for @step and @nll) is not cloned again: the functions
  /// share its result.
  void hoist(func::FuncOp function, const Invariants &found,
             OpBuilder &builder, SmallVector<Value> &returned) {
    if (found.moved.empty())
      return;
    Block &body = function.getBody().front();
    Block *prepareBody = builder.getInsertionBlock();
    IRMapping mapping;
    llvm::DenseSet<Operation *> movedSet(found.moved.begin(),
                                         found.moved.end());
    // Clone in order so every operand is mapped before its use.
    for (Operation &op : body.without_terminator()) {
      if (!found.ops.contains(&op))
        continue;
      bool needed = movedSet.contains(&op) ||
                    llvm::any_of(op.getUsers(), [&](Operation *user) {
                      return found.ops.contains(user);
                    });
      if (!needed)
        continue;
      Operation *clone = builder.clone(op, mapping);
      for (Operation &earlier : *prepareBody) {
        if (&earlier == clone)
          break;
        if (sameComputation(clone, &earlier)) {
          for (auto [original, existing] :
               llvm::zip(op.getResults(), earlier.getResults()))
            mapping.map(original, existing);
          clone->erase();
          break;
        }
      }
    }

    // Results read by what stays cross over as arguments; a @prepare value
    // is returned once.
    SmallVector<Value> crossing;
    for (Operation *op : found.moved)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !movedSet.contains(user);
            }))
          crossing.push_back(result);
    for (Value value : crossing) {
      Value prepared = mapping.lookup(value);
      auto *at = llvm::find(returned, prepared);
      int64_t index = at - returned.begin();
      if (at == returned.end())
        returned.push_back(prepared);
      unsigned position = function.getNumArguments();
      function.insertArgument(
          position, value.getType(),
          builder.getDictionaryAttr(builder.getNamedAttr(
              txl::attr::kPrepared, builder.getI64IntegerAttr(index))),
          value.getLoc());
      value.replaceAllUsesWith(body.getArgument(position));
    }
    // Erase what moved, then whatever invariant op is now unused.
    for (Operation *op : llvm::reverse(found.moved))
      op->erase();
    SmallVector<Operation *> leftovers;
    for (Operation &op : body.without_terminator())
      if (found.ops.contains(&op))
        leftovers.push_back(&op);
    for (Operation *op : llvm::reverse(leftovers))
      if (op->use_empty())
        op->erase();
  }
};

} // namespace
