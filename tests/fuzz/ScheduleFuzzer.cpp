//===- ScheduleFuzzer.cpp - txl.schedule attributes -----------------------===//
//
// Input: the text of a `txl.schedule` dictionary attribute. MLIR's attribute
// parser reads it; parseSchedule must refuse it or accept it, and an accepted
// schedule printed back (printSchedule) must parse to the same schedule.
//
//===----------------------------------------------------------------------===//

#include "txl/schedule/ScheduleAttr.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>

using namespace txl;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context keeps every attribute it ever uniqued: a fresh one every
  // 1,000 inputs keeps the memory bounded (libFuzzer's -rss_limit_mb).
  static std::unique_ptr<mlir::MLIRContext> owned;
  static int uses = 0;
  if (!owned || ++uses % 1000 == 0) {
    owned = std::make_unique<mlir::MLIRContext>();
    // Parse errors are expected; keep them off stderr.
    owned->getDiagEngine().registerHandler(
        [](mlir::Diagnostic &) { return mlir::success(); });
  }
  mlir::MLIRContext *context = owned.get();
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  // MLIR's parser reads a NUL as the end of the buffer.
  if (text.contains('\0'))
    return 0;
  mlir::Attribute attr = mlir::parseAttribute(text, context);
  auto dict = llvm::dyn_cast_or_null<mlir::DictionaryAttr>(attr);
  if (!dict)
    return 0;
  auto schedule = schedule::parseSchedule(dict);
  if (!schedule.ok())
    return 0;
  mlir::DictionaryAttr printed = schedule::printSchedule(*schedule, context);
  auto again = schedule::parseSchedule(printed);
  if (!again.ok()) {
    std::fprintf(stderr, "a printed schedule does not parse: %s\n",
                 again.status().message().c_str());
    std::abort();
  }
  if (schedule::printSchedule(*again, context) != printed) {
    std::fprintf(stderr, "printSchedule(parseSchedule(printed)) differs\n");
    std::abort();
  }
  return 0;
}
