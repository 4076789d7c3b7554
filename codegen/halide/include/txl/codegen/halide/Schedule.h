//===- Schedule.h - a schedule applied to Halide Funcs ---------*- C++ -*-===//
#ifndef TXL_CODEGEN_HALIDE_SCHEDULE_H
#define TXL_CODEGEN_HALIDE_SCHEDULE_H

#include "txl/schedule/KernelSchedule.h"
#include "txl/schedule/ScheduleAttr.h"
#include "txl/support/Status.h"

namespace txl::codegen::halide {

// The typed schedule is the schedule library's (txl/schedule/); codegen
// only applies it.
using schedule::ComputeLocation;
using schedule::FuncSchedule;
using schedule::GpuTile;
using schedule::KernelSchedule;
using schedule::LoopAnnotation;
using schedule::LoopFuse;
using schedule::LoopSplit;
using schedule::parseSchedule;
using schedule::readKernelSchedule;
using schedule::ReductionFactor;
using schedule::StageSchedule;
using schedule::TailKind;
using schedule::tailKindName;

struct TranslatedKernel;

/// Applies `schedule` (or the default one for everything it does not name) to
/// a translated kernel's Funcs, for a CPU target or, with `gpu`, a GPU one.
/// `naturalVectorWidth` is the target's f32 vector width. The schema:
/// docs/SCHEDULES.md; the typed form: txl/schedule/KernelSchedule.h.
Status applySchedule(const KernelSchedule &schedule, TranslatedKernel &kernel,
                     bool gpu, int naturalVectorWidth);

} // namespace txl::codegen::halide

#endif // TXL_CODEGEN_HALIDE_SCHEDULE_H
