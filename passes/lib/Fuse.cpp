//===- Fuse.cpp - txl-fuse: group linalg ops into txl.kernel regions ------===//
//
// Decide, then apply. Deciding gives every linalg.generic a kernel label from
// its role (the txl.name that txl-decompose wrote) and from data dependence;
// consecutive generics with one label form one kernel. Applying moves each
// group into an isolated txl.kernel region: what it reads becomes operands,
// what is used after it becomes results, and the small ops that only feed it
// (tensor.empty, linalg.fill, constants) are copied in.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/KernelRoles.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace txl {
#define GEN_PASS_DEF_TXLFUSE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

struct Group {
  std::string label;
  SmallVector<Operation *> ops;
};

/// Ops that only materialise an init or a constant: copied into each kernel
/// that uses them rather than passed in.
bool isSupportOp(Operation *op) {
  return isa<tensor::EmptyOp, linalg::FillOp, arith::ConstantOp>(op);
}

StringRef roleOf(Operation *op) {
  if (auto name = op->getAttrOfType<StringAttr>(txl::attr::kGenericName))
    return name.getValue();
  return "";
}

/// The roles, and kernel labels, of a scoring tail cluster: nll.tail.<i>.
const llvm::StringRef kScoringTail = roles::nll::kTailPrefix;

/// The kernel a role starts, for roles that are not epilogues.
std::string anchorLabel(StringRef role) {
  if (role.starts_with(roles::kEmbedFamily))
    return "embed";
  if (role == roles::attention::kKeysInput || role == roles::attention::kKeys ||
      role == roles::attention::kValuesProjection)
    return "attention.kv";
  if (role == roles::attention::kQueries)
    return "attention.kv"; // reads the same rows: one kernel when adjacent
  if (role == roles::attention::kPositions || role == roles::attention::kOutput)
    return role.str();
  // Laid out by distance with the positions: weight-only, so hoisted with
  // them.
  if (role == roles::attention::kPositionsByDistance)
    return roles::attention::kPositions;
  if (role.starts_with(roles::kAttentionFamily))
    return "attention.core"; // scores, mask, softmax, values: one kernel
  if (role.starts_with(roles::ffn::kUp) || role == roles::ffn::kRelu)
    return roles::ffn::kUp;
  if (role.starts_with(roles::ffn::kDown))
    return roles::ffn::kDown;
  if (role.starts_with(roles::kLogSoftmaxFamily))
    return "logsoftmax";
  // Scoring: the head and the cluster tables, then each tail cluster
  // (nll.tail.<i>), which takes its count as a scalar (so the host reads it
  // in between), then the assembly.
  if (role.starts_with(kScoringTail))
    return role.take_front(role.find('.', kScoringTail.size())).str();
  if (role == roles::nll::kAssemble)
    return role.str();
  if (role.starts_with(roles::kNllFamily))
    return roles::nll::kHead;
  return role.str(); // pos_emb, window_update, ...
}

/// Residuals and LayerNorms are epilogues: they join the kernel before them
/// when they consume its result (output projection + residual + LayerNorm,
/// FFN down + residual + LayerNorm), else they form their own.
bool isEpilogue(StringRef role) {
  return role == roles::kResidual || role.starts_with(roles::kLayerNormFamily);
}

bool consumesGroup(Operation *op, const Group &group) {
  for (Value operand : op->getOperands())
    if (Operation *def = operand.getDefiningOp())
      if (llvm::is_contained(group.ops, def))
        return true;
  return false;
}

SmallVector<Group> decideGroups(func::FuncOp function, bool fuse) {
  SmallVector<Group> groups;
  function.walk([&](linalg::GenericOp generic) {
    Operation *op = generic;
    StringRef role = roleOf(op);
    std::string label = isEpilogue(role)
                            ? (role == "residual" ? "residual" : "layer_norm")
                            : anchorLabel(role);
    if (fuse && !groups.empty()) {
      Group &current = groups.back();
      bool continues = current.label == label;
      if (isEpilogue(role) && consumesGroup(op, current))
        continues = true;
      else if (isEpilogue(role))
        continues = false; // an unrelated LayerNorm (e.g. of a memory)
      if (continues) {
        current.ops.push_back(op);
        return;
      }
    }
    groups.push_back({label, {op}});
  });
  return groups;
}

/// Moves one group into a txl.kernel placed where its last op was.
void applyGroup(const Group &group) {
  llvm::SetVector<Operation *> members(group.ops.begin(), group.ops.end());
  // Support ops feeding the group are copied in (with their own support ops).
  llvm::SetVector<Operation *> support;
  std::function<void(Operation *)> addSupport = [&](Operation *op) {
    for (Value operand : op->getOperands())
      if (Operation *def = operand.getDefiningOp();
          def && isSupportOp(def) && !members.contains(def)) {
        addSupport(def);
        support.insert(def);
      }
  };
  for (Operation *op : group.ops)
    addSupport(op);

  // Inputs: every value the group reads (in bodies too) defined elsewhere.
  llvm::SetVector<Value> inputs;
  auto noteInput = [&](Value value) {
    Operation *def = value.getDefiningOp();
    if (def && (members.contains(def) || support.contains(def)))
      return;
    inputs.insert(value);
  };
  for (Operation *op : llvm::concat<Operation *const>(support.getArrayRef(),
                                                      members.getArrayRef())) {
    for (Value operand : op->getOperands())
      noteInput(operand);
    for (Region &region : op->getRegions()) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(region, captured);
      for (Value value : captured)
        noteInput(value);
    }
  }
  // Results: member results used outside the group.
  SmallVector<Value> results;
  for (Operation *op : group.ops)
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            Operation *owner = user;
            while (owner && !members.contains(owner))
              owner = owner->getParentOp();
            return !owner;
          }))
        results.push_back(result);

  Operation *last = group.ops.back();
  OpBuilder builder(last);
  SmallVector<Type> resultTypes;
  for (Value result : results)
    resultTypes.push_back(result.getType());
  auto kernel = builder.create<KernelOp>(last->getLoc(), resultTypes,
                                         builder.getStringAttr(group.label),
                                         inputs.getArrayRef(),
                                         /*skip_when_zero=*/nullptr);
  Block *body = new Block();
  kernel.getBody().push_back(body);
  IRMapping mapping;
  for (Value input : inputs)
    mapping.map(input, body->addArgument(input.getType(), input.getLoc()));
  OpBuilder inside = OpBuilder::atBlockEnd(body);
  for (Operation *op : support)
    inside.clone(*op, mapping);
  for (Operation *op : group.ops)
    inside.clone(*op, mapping);
  SmallVector<Value> yielded;
  for (Value result : results)
    yielded.push_back(mapping.lookup(result));
  inside.create<YieldOp>(last->getLoc(), yielded);

  // A scoring tail's results are read only for the rows of its cluster:
  // with none (its count, the one index input, is 0) the host skips it.
  if (StringRef(group.label).starts_with(kScoringTail)) {
    SmallVector<unsigned> indexInputs;
    for (auto [i, input] : llvm::enumerate(inputs))
      if (input.getType().isIndex())
        indexInputs.push_back(i);
    if (indexInputs.size() == 1)
      kernel.setSkipWhenZero(indexInputs.front());
  }
  for (auto [result, replacement] : llvm::zip(results, kernel.getResults()))
    result.replaceAllUsesWith(replacement);
  for (Operation *op : llvm::reverse(group.ops))
    op->erase();
}

struct FusePass : public txl::impl::TxlFuseBase<FusePass> {
  using TxlFuseBase::TxlFuseBase;

  void runOnOperation() override {
    if (mode != "default" && mode != "none") {
      getOperation().emitError("txl-fuse: mode must be 'default' or 'none', "
                               "found '")
          << mode << "'";
      return signalPassFailure();
    }
    for (auto function : getOperation().getOps<func::FuncOp>()) {
      for (const Group &group : decideGroups(function, mode == "default"))
        applyGroup(group);
      // Support ops are now copied into every kernel that needed them; drop
      // the originals (fills first, then the empties they filled).
      bool erased = true;
      while (erased) {
        SmallVector<Operation *> dead;
        function.walk([&](Operation *op) {
          if (isSupportOp(op) && op->use_empty() &&
              !op->getParentOfType<KernelOp>())
            dead.push_back(op);
        });
        for (Operation *op : dead)
          op->erase();
        erased = !dead.empty();
      }
      // A state's window update (the host's append, not a kernel) reads
      // rows a kernel may now compute after it; it only feeds the return.
      SmallVector<WindowUpdateOp> updates(function.getOps<WindowUpdateOp>());
      for (WindowUpdateOp update : updates)
        update->moveBefore(function.getBody().front().getTerminator());
    }
  }
};

} // namespace
