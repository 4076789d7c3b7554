//===- KernelSchedule.cpp - the typed schedule: names and equality --------===//

#include "txl/schedule/KernelSchedule.h"

#include <tuple>

namespace txl::schedule {

const char *tailKindName(TailKind kind) {
  switch (kind) {
  case TailKind::Auto:
    return "auto";
  case TailKind::Guard:
    return "guard";
  case TailKind::ShiftInwards:
    return "shift_inwards";
  case TailKind::RoundUp:
    return "round_up";
  case TailKind::Predicate:
    return "predicate";
  }
  return "guard";
}

const FuncSchedule *KernelSchedule::find(const std::string &name,
                                         unsigned position) const {
  std::string byPosition = "#" + std::to_string(position);
  for (const FuncSchedule &func : funcs)
    if (func.name == name || func.name == byPosition)
      return &func;
  return nullptr;
}

bool operator==(const LoopSplit &a, const LoopSplit &b) {
  return std::tie(a.loop, a.factor, a.inner, a.tail) ==
         std::tie(b.loop, b.factor, b.inner, b.tail);
}
bool operator==(const LoopFuse &a, const LoopFuse &b) {
  return std::tie(a.outer, a.inner, a.fused) ==
         std::tie(b.outer, b.inner, b.fused);
}
bool operator==(const LoopAnnotation &a, const LoopAnnotation &b) {
  return std::tie(a.loop, a.factor, a.tail) ==
         std::tie(b.loop, b.factor, b.tail);
}
bool operator==(const GpuTile &a, const GpuTile &b) {
  return std::tie(a.loops, a.sizes, a.tail) ==
         std::tie(b.loops, b.sizes, b.tail);
}
bool operator==(const ReductionFactor &a, const ReductionFactor &b) {
  return std::tie(a.loop, a.width) == std::tie(b.loop, b.width);
}
bool operator==(const StageSchedule &a, const StageSchedule &b) {
  return std::tie(a.tile, a.splits, a.fuses, a.order, a.rfactor, a.gpuTile,
                  a.vectorize, a.unroll, a.parallel, a.atomic) ==
         std::tie(b.tile, b.splits, b.fuses, b.order, b.rfactor, b.gpuTile,
                  b.vectorize, b.unroll, b.parallel, b.atomic);
}
bool operator==(const ComputeLocation &a, const ComputeLocation &b) {
  return std::tie(a.kind, a.func, a.loop, a.stage) ==
         std::tie(b.kind, b.func, b.loop, b.stage);
}
bool operator==(const FuncSchedule &a, const FuncSchedule &b) {
  bool sameAccumulator = a.accumulator && b.accumulator
                             ? *a.accumulator == *b.accumulator
                             : !a.accumulator && !b.accumulator;
  return sameAccumulator &&
         std::tie(a.name, a.compute, a.pure, a.update, a.storage, a.align) ==
             std::tie(b.name, b.compute, b.pure, b.update, b.storage, b.align);
}
bool operator==(const KernelSchedule &a, const KernelSchedule &b) {
  return std::tie(a.funcs, a.vectorWidth, a.defaultTail, a.fastExp) ==
         std::tie(b.funcs, b.vectorWidth, b.defaultTail, b.fastExp);
}

} // namespace txl::schedule
