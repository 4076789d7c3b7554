//===- DatabaseTransfer.h - export, import, merge, verify, stats -*- C++
//-*-===//
//
// `txl-tune db ...`. Export writes JSON lines, one object per row with a
// "table" field (workload, machine, session, record); import reads them
// back. Rows keep their ids, so importing or merging the same rows twice
// adds nothing (every insert is ON CONFLICT DO NOTHING): merge is
// idempotent, and records never change.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_DATABASETRANSFER_H
#define TXL_TUNER_DATABASETRANSFER_H

#include "txl/tuner/TuningDatabase.h"

#include <ostream>

namespace mlir {
class MLIRContext;
} // namespace mlir

namespace txl::tuner {

/// Every row, or with `bestOnly` the records a compile would serve (and the
/// workloads and sessions they name).
Status exportJsonLines(TuningDatabase &db, std::ostream &out, bool bestOnly);

struct ImportCounts {
  int64_t rows = 0, added = 0;
};
/// Rows from JSON lines; an error names the file and line, and nothing of
/// that file is kept (one transaction).
StatusOr<ImportCounts> importJsonLines(TuningDatabase &db,
                                       const std::string &path);

/// Every row of `source` into `target`.
StatusOr<ImportCounts> mergeDatabases(TuningDatabase &target,
                                      TuningDatabase &source);

/// Re-parses every stored schedule (and, for SQLite, PRAGMA
/// integrity_check); a line per problem in `problems`.
Status verifyDatabase(TuningDatabase &db, mlir::MLIRContext &context,
                      std::vector<std::string> &problems, int64_t &checked);

/// Counts per table and per status, targets, sessions.
StatusOr<std::string> databaseStats(TuningDatabase &db);

} // namespace txl::tuner

#endif // TXL_TUNER_DATABASETRANSFER_H
