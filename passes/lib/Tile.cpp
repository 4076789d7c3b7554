//===- Tile.cpp - txl-tile: a schedule attribute on every kernel ----------===//
//
// The "decide" half of scheduling (codegen only applies what is written
// here; a tuner may write it instead). Schema: docs/SCHEDULES.md.
//
// The target's TargetInfo gives the knobs' defaults (TileKnobs.h); each
// kernel is planned by its family's planner (passes/lib/Tiling/): every
// generic first gets the element-wise planner's entry, then the fused
// attention's planner or, for kernels with packed GEMMs, the GEMM planner
// replaces the entries of what it plans. The typed schedule is printed as
// the kernel's `txl.schedule`, with the target as `txl.target`.
//
//===----------------------------------------------------------------------===//

#include "Tiling/KernelPlan.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Passes/Passes.h"
#include "txl/schedule/ScheduleAttr.h"
#include "txl/target/TargetInfo.h"

#include "mlir/IR/Builders.h"

namespace txl {
#define GEN_PASS_DEF_TXLTILE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;
using namespace txl::tiling;

namespace {

/// The schedule of one kernel: per-generic entries, with the attention or
/// the packed GEMMs and their epilogues planned by their family's planner.
schedule::KernelSchedule planKernel(KernelOp kernel,
                                    const PlanContext &context) {
  KernelPlan plan;
  plan.kernel = kernel;
  llvm::StringMap<unsigned> nameCount;
  kernel.getBody().walk([&](linalg::GenericOp generic) {
    plan.generics.push_back(generic);
    if (auto name = generic->getAttrOfType<StringAttr>(attr::kGenericName))
      ++nameCount[name.getValue()];
  });
  for (auto [position, generic] : llvm::enumerate(plan.generics)) {
    auto name = generic->getAttrOfType<StringAttr>(attr::kGenericName);
    plan.keys.push_back(name && nameCount[name.getValue()] == 1
                            ? name.getValue().str()
                            : "#" + std::to_string(position));
    plan.entries.push_back(planGeneric(generic, plan.keys.back(), context));
    plan.gemms.push_back(context.width > 1 ? matchPackedGemm(generic)
                                           : std::nullopt);
  }
  if (context.gpu) {
    planGpu(plan, *context.gpu);
    schedule::KernelSchedule result;
    result.funcs.assign(plan.entries.begin(), plan.entries.end());
    return result;
  }
  if (!planAttention(plan, context) &&
      llvm::any_of(plan.gemms, [](const auto &g) { return g.has_value(); }))
    planGemms(plan, context);

  schedule::KernelSchedule result;
  result.funcs.assign(plan.entries.begin(), plan.entries.end());
  if (context.width > 1)
    result.vectorWidth = context.width;
  return result;
}

struct TilePass : public txl::impl::TxlTileBase<TilePass> {
  using TxlTileBase::TxlTileBase;

  void runOnOperation() override {
    StatusOr<target::TargetInfo> info =
        target::parseTarget(target, targetCache);
    if (!info.ok()) {
      getOperation().emitError() << "txl-tile: " << info.status().message();
      return signalPassFailure();
    }
    TileKnobs tileKnobs = defaultKnobs(*info);
    Status status = setKnobs(tileKnobs, knobs);
    if (status.isOk())
      status = checkKnobs(tileKnobs, *info);
    if (!status.isOk()) {
      getOperation().emitError() << "txl-tile: " << status.message();
      return signalPassFailure();
    }
    // GPU targets: thread blocks (GpuPlanner), no CPU plan.
    PlanContext context{tileKnobs, info->isGpu() ? 1 : info->vectorWidthF32,
                        info->isGpu() ? &info->gpuLimits : nullptr};
    getOperation().walk([&](KernelOp kernel) {
      // A schedule already there (from a tuner or a person) wins.
      if (kernel->hasAttr(attr::kSchedule) && !overwrite)
        return;
      kernel->setAttr(
          attr::kSchedule,
          schedule::printSchedule(planKernel(kernel, context), &getContext()));
      kernel->setAttr(attr::kTarget, StringAttr::get(&getContext(), target));
    });
  }
};

} // namespace
