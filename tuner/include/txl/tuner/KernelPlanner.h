//===- KernelPlanner.h - knob points to schedules with txl-tile -*- C++ -*-===//
//
// The real CandidatePlanner: a knob point is handed to txl-tile itself (the
// heuristic's planners, passes/lib/Tiling/) on a copy of the kernel, so every
// candidate is a schedule the heuristic could have written, legal by
// construction. The layout knobs (layout.*) are not searched: they change
// the IR before txl-tile (the packed panels, the position blocks), hence the
// kernel's key; they stay at the target's defaults.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_KERNELPLANNER_H
#define TXL_TUNER_KERNELPLANNER_H

#include "txl/Dialect/TxlOps.h"
#include "txl/tuner/Search.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>

namespace txl::tuner {

class KernelPlanner : public CandidatePlanner {
public:
  /// `target` and `targetCache` as txlc's flags (the knobs' defaults and
  /// ranges come from them).
  static StatusOr<std::unique_ptr<KernelPlanner>>
  create(KernelOp kernel, const std::string &target,
         const std::string &targetCache);

  const std::vector<tiling::KnobRange> &ranges() const override {
    return searched;
  }
  KnobPoint heuristic() const override { return defaults; }
  std::optional<std::string> schedule(const KnobPoint &point) override;

private:
  KernelPlanner() = default;
  std::string target, targetCache;
  target::TargetInfo info;
  std::vector<tiling::KnobRange> searched;
  KnobPoint defaults;
  /// A module holding only a copy of the kernel, planned again per point.
  mlir::OwningOpRef<mlir::ModuleOp> module;
  KernelOp copy;
};

} // namespace txl::tuner

#endif // TXL_TUNER_KERNELPLANNER_H
