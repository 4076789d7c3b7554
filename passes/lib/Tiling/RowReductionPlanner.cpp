//===- RowReductionPlanner.cpp - row sums and maxima in vector lanes ------===//
//
// A reduction along the contiguous dimension of everything it reads (a row
// sum or max: LayerNorm, softmax) keeps partial results in the lanes of a
// vector (rfactor), added up at the end of the row, instead of a serial
// chain of scalar adds.
//
//===----------------------------------------------------------------------===//

#include "KernelPlan.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;

namespace txl::tiling {

std::optional<StageSchedule> planRowReduction(linalg::GenericOp generic,
                                              const std::string &parallelRow,
                                              const PlanContext &context) {
  int64_t width = context.width;
  SmallVector<unsigned> reductions;
  for (auto [l, t] : llvm::enumerate(generic.getIteratorTypesArray()))
    if (t == utils::IteratorType::reduction)
      reductions.push_back(l);
  if (reductions.size() != 1)
    return std::nullopt;
  unsigned r = reductions[0];
  AffineExpr loop = getAffineDimExpr(r, generic.getContext());
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    for (unsigned k = 0; k < map.getNumResults(); ++k)
      if (map.getResult(k).isFunctionOfDim(r) &&
          (k + 1 != map.getNumResults() || map.getResult(k) != loop))
        return std::nullopt;
  }
  // The combiner must be one that Halide recognizes as associative.
  Block &body = generic.getRegion().front();
  Operation *combiner =
      cast<linalg::YieldOp>(body.getTerminator()).getOperand(0).getDefiningOp();
  if (!combiner || !isa<arith::AddFOp, arith::MaximumFOp>(combiner))
    return std::nullopt;
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (ranges[r] < 2 * width)
    return std::nullopt;
  StageSchedule update;
  update.rfactor = schedule::ReductionFactor{loopName(r), width};
  int64_t rowsPerTask = context.knobs.rows.rowsPerTask;
  if (!parallelRow.empty()) {
    unsigned row = 0;
    llvm::StringRef(parallelRow).drop_front().getAsInteger(10, row);
    if (ranges[row] >= 2 * rowsPerTask) {
      // Threads take blocks of rows: each writes its own cache line of the
      // result (rows next to each other would share one).
      update.splits.push_back(
          split(parallelRow, rowsPerTask, parallelRow + "r", TailKind::Guard));
      update.parallel.push_back(parallelRow);
    }
  }
  return update;
}

} // namespace txl::tiling
