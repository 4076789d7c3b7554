//===- GpuPlanner.cpp - thread blocks for every kernel on a GPU target ----===//
//
// On a GPU target (TargetInfo::gpu) every generic the element-wise planner
// computes at root gets explicit thread blocks, on its pure stage and its
// update alike:
//  * its innermost output loop becomes the block's x threads (32: a warp of
//    consecutive elements, coalesced loads and stores along the contiguous
//    dimension; fewer when the loop is shorter), the next one the y threads,
//    as many as the device's threads per block allow (GpuLimits);
//  * a packed GEMM (out[.., m, n] += a[.., m, k] * wp[..]) is such a block
//    too: rows of m by columns of n, each thread one output element;
//  * outer output loops are fused into one grid dimension of one-thread
//    blocks, so that no loop runs on the host;
//  * reduction loops run inside each thread, in the update's order;
//  * tails are guarded (GuardWithIf): a block larger than what is left, a
//    one-row segment included, computes only what exists.
// Sizes are powers of two no larger than the loop (rounded up), so a short
// loop does not idle most of a block. Not yet: shared-memory staging of GEMM
// operands and row reductions split across threads (docs/GPU.md).
//
//===----------------------------------------------------------------------===//

#include "KernelPlan.h"

using namespace mlir;

namespace txl::tiling {
namespace {

int64_t powerOfTwoAtLeast(int64_t n) {
  int64_t p = 1;
  while (p < n)
    p *= 2;
  return p;
}

/// gpu_tile over `loops` (output loops, outermost first, with their
/// extents) within `limits`; the fuses that make the loops outside the tile
/// one grid dimension.
StageSchedule gpuStage(ArrayRef<unsigned> loops, ArrayRef<int64_t> ranges,
                       const target::GpuLimits &limits) {
  StageSchedule stage;
  if (loops.empty())
    return stage;
  int64_t threads = std::max<int64_t>(1, limits.maxThreadsPerBlock);
  schedule::GpuTile tile;
  tile.tail = TailKind::Guard;
  unsigned x = loops.back();
  int64_t sizeX = std::min<int64_t>(
      std::min<int64_t>(32, threads), powerOfTwoAtLeast(ranges[x]));
  if (loops.size() >= 2) {
    unsigned y = loops[loops.size() - 2];
    int64_t sizeY = std::min<int64_t>(std::max<int64_t>(1, threads / sizeX),
                                      powerOfTwoAtLeast(ranges[y]));
    // The rest of the loops: one grid dimension of one-thread blocks.
    if (loops.size() >= 3) {
      std::string outer = loopName(loops[0]);
      for (unsigned l : loops.drop_front().drop_back(2)) {
        std::string fused = outer + "_" + loopName(l);
        stage.fuses.push_back({outer, loopName(l), fused});
        outer = fused;
      }
      tile.loops.push_back(outer);
      tile.sizes.push_back(1);
    }
    tile.loops.push_back(loopName(y));
    tile.sizes.push_back(sizeY);
  }
  tile.loops.push_back(loopName(x));
  tile.sizes.push_back(sizeX);
  stage.gpuTile = tile;
  return stage;
}

} // namespace

void planGpu(KernelPlan &plan, const target::GpuLimits &limits) {
  for (auto [i, generic] : llvm::enumerate(plan.generics)) {
    FuncSchedule &entry = plan.entries[i];
    if (entry.compute.kind != ComputeLocation::Kind::Root)
      continue;
    // The output loops, as the translator names the pure stage's loops.
    std::optional<SmallVector<unsigned>> loops =
        outputLoops(generic.getIndexingMapsArray().back());
    if (!loops || loops->empty())
      continue; // rank 0: codegen runs it on one thread
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    entry.pure = gpuStage(*loops, ranges, limits);
    bool isReduction =
        llvm::any_of(generic.getIteratorTypesArray(), [](utils::IteratorType t) {
          return t == utils::IteratorType::reduction;
        });
    if (isReduction)
      entry.update = gpuStage(*loops, ranges, limits);
  }
}

} // namespace txl::tiling
