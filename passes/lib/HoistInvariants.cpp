//===- HoistInvariants.cpp - move weight-only work out of the step --------===//
//
// txl-hoist-invariants (Passes.td): every computation of the step that reads
// nothing but weights and constants gives the same result in every segment;
// it moves into a @prepare function, run once when the model is loaded, and
// the step receives its results as arguments.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"

namespace txl {
#define GEN_PASS_DEF_TXLHOISTINVARIANTS
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// The attribute that marks a step argument computed by @prepare: the index
/// of the @prepare result it receives.
constexpr llvm::StringLiteral kPreparedAttr = "txl.prepared";

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
    Block &body = step.getBody().front();

    // Invariant ops, in order; the computations among them move.
    llvm::DenseSet<Operation *> invariant;
    SmallVector<Operation *> moved;
    for (Operation &op : body.without_terminator()) {
      if (!readsOnlyInvariants(&op, invariant))
        continue;
      invariant.insert(&op);
      if (isComputation(&op))
        moved.push_back(&op);
    }
    if (moved.empty())
      return; // nothing to hoist: no @prepare

    // @prepare: the moved computations and clones of what they read.
    OpBuilder builder(module.getContext());
    builder.setInsertionPoint(step);
    auto prepare = builder.create<func::FuncOp>(
        step.getLoc(), prepareName, builder.getFunctionType({}, {}));
    Block *prepareBody = prepare.addEntryBlock();
    builder.setInsertionPointToEnd(prepareBody);
    IRMapping mapping;
    llvm::DenseSet<Operation *> movedSet(moved.begin(), moved.end());
    // Clone in step order so every operand is mapped before its use.
    for (Operation &op : body.without_terminator()) {
      if (!invariant.contains(&op))
        continue;
      bool needed = movedSet.contains(&op) ||
                    llvm::any_of(op.getUsers(), [&](Operation *user) {
                      return invariant.contains(user);
                    });
      if (needed)
        builder.clone(op, mapping);
    }

    // Results read by what stays in the step cross over as arguments.
    SmallVector<Value> crossing;
    for (Operation *op : moved)
      for (Value result : op->getResults())
        if (llvm::any_of(result.getUsers(), [&](Operation *user) {
              return !movedSet.contains(user);
            }))
          crossing.push_back(result);
    SmallVector<Value> returned;
    for (Value value : crossing)
      returned.push_back(mapping.lookup(value));
    builder.create<func::ReturnOp>(step.getLoc(), returned);
    prepare.setFunctionType(
        builder.getFunctionType({}, ValueRange(returned).getTypes()));

    for (auto [index, value] : llvm::enumerate(crossing)) {
      unsigned position = step.getNumArguments();
      step.insertArgument(
          position, value.getType(),
          builder.getDictionaryAttr(builder.getNamedAttr(
              kPreparedAttr, builder.getI64IntegerAttr(index))),
          value.getLoc());
      value.replaceAllUsesWith(body.getArgument(position));
    }
    // Erase what moved, then whatever invariant op is now unused.
    for (Operation *op : llvm::reverse(moved))
      op->erase();
    SmallVector<Operation *> leftovers;
    for (Operation &op : body.without_terminator())
      if (invariant.contains(&op))
        leftovers.push_back(&op);
    for (Operation *op : llvm::reverse(leftovers))
      if (op->use_empty())
        op->erase();
  }
};

} // namespace
