//===- ElementwisePlanner.cpp - the entry every generic starts from -------===//
//
// Per generic, before any family planner:
//  * an element-wise generic read by one other generic of the kernel is
//    inlined into it (ReLU, scale, mask: no buffer of their own);
//  * everything else is computed at root inside the kernel: element-wise
//    results vectorized along their innermost loop and shared among threads
//    in tasks of at least ElementwiseKnobs::taskElements when big enough;
//  * a reduction's update runs its reduction loops outside the innermost
//    parallel loop, which is vectorized by the target's f32 width (guarded
//    tail: the model's widths, 41, 410, 2100, are not multiples of 16), and
//    the outermost parallel loop with work is parallel.
//
//===----------------------------------------------------------------------===//

#include "KernelPlan.h"

using namespace mlir;

namespace txl::tiling {

FuncSchedule planGeneric(linalg::GenericOp generic, const std::string &name,
                         const PlanContext &context) {
  int64_t width = context.width;
  const ElementwiseKnobs &knobs = context.knobs.elementwise;
  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  bool isReduction = llvm::any_of(iterators, [](utils::IteratorType t) {
    return t == utils::IteratorType::reduction;
  });
  Value result = generic.getResult(0);
  unsigned usesInKernel = std::distance(result.use_begin(), result.use_end());
  bool feedsOneGeneric =
      usesInKernel == 1 && isa<linalg::GenericOp>(*result.user_begin());
  if (!isReduction && feedsOneGeneric)
    return entryNamed(name, ComputeLocation::Kind::Inline);

  FuncSchedule entry = entryNamed(name, ComputeLocation::Kind::Root);
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  if (!isReduction && width > 1) {
    // Element-wise at root (a memory window's update, a copy): vectors
    // along the innermost loop, threads over the first loop with more than
    // one iteration when the result is big enough to share.
    StageSchedule pure;
    if (!ranges.empty() && ranges.back() >= width)
      pure.vectorize.push_back(vectorized(loopName(ranges.size() - 1), width));
    int64_t elements = 1;
    for (int64_t r : ranges)
      elements *= r;
    if (elements >= knobs.parallelElements)
      for (unsigned l = 0; l + 1 < ranges.size(); ++l)
        if (ranges[l] > 1) {
          // Each task at least taskElements: one task per row of a memory
          // window (410 floats) spent more in the thread pool's lock than
          // in the copy.
          int64_t perIteration = elements;
          for (unsigned o = 0; o <= l; ++o)
            perIteration /= ranges[o];
          int64_t factor =
              std::min(ranges[l],
                       (knobs.taskElements + perIteration - 1) / perIteration);
          if (factor > 1)
            pure.splits.push_back(
                split(loopName(l), factor, loopName(l) + "i", TailKind::Guard));
          pure.parallel.push_back(loopName(l));
          break;
        }
    if (!(pure == StageSchedule()))
      entry.pure = pure;
    return entry;
  }
  if (!isReduction || width <= 1)
    return entry;

  // The update: parallel loops in order, the reductions, then the innermost
  // parallel loop (vectorized).
  SmallVector<unsigned> parallel, reductions;
  for (auto [i, t] : llvm::enumerate(iterators))
    (t == utils::IteratorType::reduction ? reductions : parallel).push_back(i);
  if (parallel.empty())
    return entry;
  unsigned inner = parallel.back();
  StageSchedule update;
  for (unsigned i : ArrayRef<unsigned>(parallel).drop_back())
    update.order.push_back(loopName(i));
  for (unsigned r : reductions)
    update.order.push_back(loopName(r));
  update.order.push_back(loopName(inner));
  if (ranges[inner] >= width)
    update.vectorize.push_back(vectorized(loopName(inner), width));
  for (unsigned p : ArrayRef<unsigned>(parallel).drop_back())
    if (ranges[p] > 1) {
      update.parallel.push_back(loopName(p));
      break;
    }
  entry.update = update;
  return entry;
}

} // namespace txl::tiling
