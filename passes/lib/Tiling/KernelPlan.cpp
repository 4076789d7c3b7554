//===- KernelPlan.cpp - the plan's lookups and the entries' spelling ------===//

#include "KernelPlan.h"

using namespace mlir;

namespace txl::tiling {

std::string loopName(unsigned i) { return "d" + std::to_string(i); }

std::optional<SmallVector<unsigned>> outputLoops(AffineMap map) {
  SmallVector<unsigned> loops;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    loops.push_back(dim.getPosition());
  }
  return loops;
}

LoopSplit split(const std::string &loop, int64_t factor,
                const std::string &inner, TailKind tail) {
  return LoopSplit{loop, factor, inner, tail};
}

LoopAnnotation vectorized(const std::string &loop, int64_t width,
                          std::optional<TailKind> tail) {
  return LoopAnnotation{loop, width, tail};
}

LoopAnnotation unrolled(const std::string &loop) {
  return LoopAnnotation{loop, 0, std::nullopt};
}

ComputeLocation computedAt(const std::string &func, const std::string &loop) {
  ComputeLocation at;
  at.kind = ComputeLocation::Kind::At;
  at.func = func;
  at.loop = loop;
  return at;
}

FuncSchedule entryNamed(const std::string &name, ComputeLocation::Kind kind) {
  FuncSchedule entry;
  entry.name = name;
  entry.compute.kind = kind;
  return entry;
}

std::optional<unsigned> KernelPlan::singleResult() const {
  KernelOp op = kernel; // a handle: its accessors are not const
  auto yield = cast<YieldOp>(op.getBody().front().getTerminator());
  if (yield.getNumOperands() != 1)
    return std::nullopt;
  return indexOf(yield.getOperand(0).getDefiningOp<linalg::GenericOp>());
}

std::optional<unsigned> KernelPlan::indexOf(Operation *generic) const {
  auto op = dyn_cast_or_null<linalg::GenericOp>(generic);
  if (!op || op.getNumResults() != 1)
    return std::nullopt;
  auto it = llvm::find(generics, op);
  if (it == generics.end())
    return std::nullopt;
  return it - generics.begin();
}

} // namespace txl::tiling
