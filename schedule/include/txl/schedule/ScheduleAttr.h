//===- ScheduleAttr.h - txl.schedule <-> KernelSchedule ---------*- C++ -*-===//
//
// The attribute form of a KernelSchedule. parseSchedule checks every field
// for its type and every dictionary for unknown keys, so a typo in a
// hand-written or tuned schedule fails with the path of the field
// (`txl.schedule.funcs[1].pure.vectorize[0].width`); printSchedule writes
// the canonical form (fields left at their defaults are omitted, lists that
// are empty too), which parses back to the same KernelSchedule.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SCHEDULE_SCHEDULEATTR_H
#define TXL_SCHEDULE_SCHEDULEATTR_H

#include "txl/schedule/KernelSchedule.h"
#include "txl/support/Status.h"

#include "mlir/IR/BuiltinAttributes.h"

namespace mlir {
class Operation;
} // namespace mlir

namespace txl::schedule {

/// Parses and checks a `txl.schedule` attribute. Errors name the field.
StatusOr<KernelSchedule> parseSchedule(mlir::DictionaryAttr attr);

/// The canonical attribute of `schedule`.
mlir::DictionaryAttr printSchedule(const KernelSchedule &schedule,
                                   mlir::MLIRContext *context);

/// The `txl.schedule` of a kernel (a txl.kernel or a kernel func) parsed, or
/// nullopt when it has none. Errors name the field, and a kernel func by its
/// symbol.
StatusOr<std::optional<KernelSchedule>>
readKernelSchedule(mlir::Operation *kernel);

} // namespace txl::schedule

#endif // TXL_SCHEDULE_SCHEDULEATTR_H
