//===- KernelPlan.h - one kernel's schedule while planners build it -------===//
//
// Shared by the planners of txl-tile: the kernel's generics, the name each
// is scheduled by, its entry so far, and the packed GEMMs among them. The
// element-wise planner gives every generic its entry first; a family
// planner (attention, GEMMs and their epilogues) then replaces the entries
// of the generics it plans.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_LIB_TILING_KERNELPLAN_H
#define TXL_PASSES_LIB_TILING_KERNELPLAN_H

#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Tiling/GemmTiling.h"
#include "txl/Passes/Tiling/TileKnobs.h"
#include "txl/schedule/KernelSchedule.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <optional>
#include <string>

namespace txl::tiling {

using schedule::ComputeLocation;
using schedule::FuncSchedule;
using schedule::LoopAnnotation;
using schedule::LoopFuse;
using schedule::LoopSplit;
using schedule::StageSchedule;
using schedule::TailKind;

/// What every planner is given: the knobs (derived from the target) and the
/// f32 vector width the schedules use (1 on GPU targets: no CPU plan).
struct PlanContext {
  const TileKnobs &knobs;
  int64_t width;
  /// Set on GPU targets: the device's limits (GpuPlanner); no CPU plan then.
  const target::GpuLimits *gpu = nullptr;
};

/// The name of loop i of a generic (docs/SCHEDULES.md).
std::string loopName(unsigned i);

/// The loops an output map indexes, row-major; none unless every result is
/// a plain loop.
std::optional<llvm::SmallVector<unsigned>> outputLoops(mlir::AffineMap map);

/// Spelling helpers for schedule entries.
LoopSplit split(const std::string &loop, int64_t factor,
                const std::string &inner, TailKind tail);
LoopAnnotation vectorized(const std::string &loop, int64_t width,
                          std::optional<TailKind> tail = std::nullopt);
LoopAnnotation unrolled(const std::string &loop);
ComputeLocation computedAt(const std::string &func, const std::string &loop);
FuncSchedule entryNamed(const std::string &name, ComputeLocation::Kind kind);

/// A generic computing out[.., m, n] += a[.., m, k..] * wp[n floordiv P,
/// k.., n mod P]: the weight [N, K] packed into P-wide panels [ceil(N/P), K,
/// P] (txl-pack-weights).
struct PackedGemm {
  mlir::linalg::GenericOp op;
  /// The output's loops, row-major: batch loops, then m, then n.
  llvm::SmallVector<unsigned> outLoops;
  llvm::SmallVector<unsigned> reductions;
  /// Extent of every loop.
  llvm::SmallVector<int64_t> ranges;
  GemmShape shape;

  unsigned m() const { return outLoops[outLoops.size() - 2]; }
  unsigned n() const { return outLoops.back(); }
};

std::optional<PackedGemm> matchPackedGemm(mlir::linalg::GenericOp op);

struct KernelPlan {
  KernelOp kernel;
  llvm::SmallVector<mlir::linalg::GenericOp> generics;
  /// The name each generic is scheduled by: its txl.name, or `#i` where the
  /// name is not unique in the kernel.
  llvm::SmallVector<std::string> keys;
  std::vector<FuncSchedule> entries;
  llvm::SmallVector<std::optional<PackedGemm>> gemms;

  bool isInline(unsigned i) const {
    return entries[i].compute.kind == ComputeLocation::Kind::Inline;
  }
  /// The generic defining the kernel's result, if it has exactly one.
  std::optional<unsigned> singleResult() const;
  /// The index of `generic` among the kernel's generics.
  std::optional<unsigned> indexOf(mlir::Operation *generic) const;
};

/// ElementwisePlanner: the per-generic entry every generic starts from.
FuncSchedule planGeneric(mlir::linalg::GenericOp generic,
                         const std::string &name, const PlanContext &context);

/// RowReductionPlanner: the update of a reduction along the contiguous
/// dimension of everything it reads, in vector lanes; threads take blocks of
/// rows of `parallelRow` (none if empty). None where it does not apply.
std::optional<StageSchedule> planRowReduction(mlir::linalg::GenericOp generic,
                                              const std::string &parallelRow,
                                              const PlanContext &context);

/// AttentionPlanner: the fused attention kernel; false if `plan` is not one.
bool planAttention(KernelPlan &plan, const PlanContext &context);

/// GemmPlanner: packed GEMMs, and the epilogues they feed.
void planGemms(KernelPlan &plan, const PlanContext &context);

/// GpuPlanner: thread blocks within `limits` for every generic at root (on
/// GPU targets, after the element-wise planner).
void planGpu(KernelPlan &plan, const target::GpuLimits &limits);

} // namespace txl::tiling

#endif // TXL_PASSES_LIB_TILING_KERNELPLAN_H
