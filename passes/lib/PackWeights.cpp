//===- PackWeights.cpp - GEMM weights in the panel layout kernels want ----===//
//
// txl-pack-weights (Passes.td): a contraction that reads a weight W [N, K] as
// its right-hand matrix (W[n, k(...)] with n a parallel loop and k an
// expression of reduction loops) reads it instead from panels
// Wp [ceil(N/P), K, P], Wp[p, k, j] = W[P*p + j, k] (0 past N), through the
// map (n floordiv P, k, n mod P): P consecutive outputs then read P
// consecutive floats. The packing is a linalg.generic of its own ("pack.*")
// placed at the start of the function; it reads only a weight, so
// txl-hoist-invariants moves it to @prepare and it runs once, at load.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/KernelRoles.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/LinalgBuilder.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace txl {
#define GEN_PASS_DEF_TXLPACKWEIGHTS
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// The ops that define `value` from weights alone (txl.weight, then
/// tensor.extract_slice of it), outermost first; empty if it is anything
/// else.
SmallVector<Operation *> weightChain(Value value) {
  SmallVector<Operation *> chain;
  while (Operation *def = value.getDefiningOp()) {
    chain.push_back(def);
    if (isa<WeightOp>(def)) {
      std::reverse(chain.begin(), chain.end());
      return chain;
    }
    auto slice = dyn_cast<tensor::ExtractSliceOp>(def);
    if (!slice)
      break;
    value = slice.getSource();
  }
  return {};
}

/// Names a weight chain: the same weight slice in two functions (the
/// log-softmax of @step and the scoring of @nll) gets the same key, so its
/// packing is the same op and txl-hoist-invariants computes it once.
std::string chainKey(ArrayRef<Operation *> chain) {
  std::string key;
  llvm::raw_string_ostream os(key);
  for (Operation *op : chain)
    os << op->getName() << op->getAttrDictionary() << op->getResultTypes()
       << ";";
  return key;
}

/// True when `expr` uses only loops of the given kind.
bool onlyLoopsOf(AffineExpr expr, ArrayRef<utils::IteratorType> iterators,
                 utils::IteratorType kind) {
  bool only = true, any = false;
  expr.walk([&](AffineExpr e) {
    if (auto dim = dyn_cast<AffineDimExpr>(e)) {
      any = true;
      only &= iterators[dim.getPosition()] == kind;
    }
  });
  return any && only;
}

struct PackWeightsPass : public txl::impl::TxlPackWeightsBase<PackWeightsPass> {
  using TxlPackWeightsBase::TxlPackWeightsBase;

  void runOnOperation() override {
    if (panel < 1) {
      getOperation().emitError("txl-pack-weights: panel must be positive");
      return signalPassFailure();
    }
    for (auto function : getOperation().getOps<func::FuncOp>())
      packFunction(function);
  }

  /// Pack numbers by weight chain, across the module's functions.
  llvm::StringMap<unsigned> packNumbers;
  unsigned packNumber(ArrayRef<Operation *> chain) {
    return packNumbers.try_emplace(chainKey(chain), packNumbers.size())
        .first->second;
  }

  void packFunction(func::FuncOp function) {
    if (function.isExternal())
      return;
    Block &entry = function.getBody().front();
    OpBuilder top = OpBuilder::atBlockBegin(&entry);
    llvm::DenseMap<Value, Value> packed; // weight value -> its panels
    SmallVector<std::string> prefixes(roles.begin(), roles.end());
    if (prefixes.empty())
      prefixes = {roles::kAttentionFamily, roles::kFfnFamily,
                  std::string(roles::kLogSoftmaxFamily) + ".",
                  roles::kNllFamily};
    function.walk([&](linalg::GenericOp generic) {
      if (generic.getNumReductionLoops() == 0)
        return;
      auto role = generic->getAttrOfType<StringAttr>(attr::kGenericName);
      if (!role || llvm::none_of(prefixes, [&](const std::string &prefix) {
            return role.getValue().starts_with(prefix);
          }))
        return;
      auto iterators = generic.getIteratorTypesArray();
      for (OpOperand *input : generic.getDpsInputOperands()) {
        auto type = dyn_cast<RankedTensorType>(input->get().getType());
        if (!type || type.getRank() != 2 || !type.hasStaticShape() ||
            type.getDimSize(0) < panel || !type.getElementType().isF32())
          continue;
        AffineMap map = generic.getMatchingIndexingMap(input);
        auto row = dyn_cast<AffineDimExpr>(map.getResult(0));
        if (!row ||
            iterators[row.getPosition()] != utils::IteratorType::parallel ||
            !onlyLoopsOf(map.getResult(1), iterators,
                         utils::IteratorType::reduction))
          continue;
        SmallVector<Operation *> chain = weightChain(input->get());
        if (chain.empty())
          continue;
        Value &panels = packed[input->get()];
        if (!panels)
          panels = buildPanels(top, chain, type, packNumber(chain));
        // Read the panels: (n floordiv P, k, n mod P).
        MLIRContext *context = generic.getContext();
        SmallVector<AffineExpr> results = {
            row.floorDiv(panel), map.getResult(1), row % int64_t(panel)};
        auto maps = generic.getIndexingMapsArray();
        maps[input->getOperandNumber()] =
            AffineMap::get(map.getNumDims(), 0, results, context);
        generic.setIndexingMapsAttr(ArrayAttr::get(
            context,
            llvm::to_vector(llvm::map_range(maps, [](AffineMap m) -> Attribute {
              return AffineMapAttr::get(m);
            }))));
        input->set(panels);
      }
    });
  }

  /// Clones the weight chain at the top of the function and packs it.
  Value buildPanels(OpBuilder &top, ArrayRef<Operation *> chain,
                    RankedTensorType type, unsigned index) {
    IRMapping mapping;
    Operation *last = nullptr;
    for (Operation *op : chain)
      last = top.clone(*op, mapping);
    Value weight = last->getResult(0);
    int64_t rows = type.getDimSize(0), columns = type.getDimSize(1);
    int64_t panels = (rows + panel - 1) / panel;
    LinalgBuilder lb(top, weight.getLoc());
    Value init = top.create<tensor::EmptyOp>(
        weight.getLoc(), ArrayRef<int64_t>{panels, columns, int64_t(panel)},
        top.getF32Type());
    return lb.generic(
        {}, init, {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
        [&](OpBuilder &b, Location loc, ValueRange) {
          // Row P*p + j of W, or 0 past its last row.
          Value p = lb.loopIndex(b, 0), k = lb.loopIndex(b, 1),
                j = lb.loopIndex(b, 2);
          Value r = b.create<arith::AddIOp>(
              loc, b.create<arith::MulIOp>(loc, p, lb.index(b, panel)), j);
          Value inside = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt,
                                                 r, lb.index(b, rows));
          Value clamped =
              b.create<arith::MinSIOp>(loc, r, lb.index(b, rows - 1));
          Value v =
              b.create<tensor::ExtractOp>(loc, weight, ValueRange{clamped, k});
          return b.create<arith::SelectOp>(loc, inside, v, lb.f32(b, 0.0f))
              .getResult();
        },
        "pack." + std::to_string(index));
  }
};

} // namespace
