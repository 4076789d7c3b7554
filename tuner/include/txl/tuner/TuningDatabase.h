//===- TuningDatabase.h - measurements of schedules, kept forever -*- C++
//-*-===//
//
// Tables (docs/TUNING.md has the columns): workload (structural hash, label,
// signature, canonical IR), target (concrete target string, threads),
// machine (CPU, caches, cores), session (argv, budget, seed, versions) and
// record: one immutable row per measurement, failures included, with its
// origin (heuristic, tuned, imported), knobs, the schedule itself (so a
// compile never needs the code that tuned), status, times, spread, ratio to
// the heuristic of the same session and the largest output error. "Best" is
// a query. Each record is written in its own transaction.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_TUNINGDATABASE_H
#define TXL_TUNER_TUNINGDATABASE_H

#include "txl/support/Status.h"
#include "txl/tuner/SqlConnection.h"
#include "txl/tuner/WorkloadKey.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace txl::tuner {

/// The schema this code writes and reads.
inline constexpr int kSchemaVersion = 1;
/// A record whose mean ratio is not at least this much below the
/// heuristic's is not served instead of it (near-ties must not flip).
inline constexpr double kServeEpsilon = 0.01;

/// The versions every session and record carries.
std::string halideVersion();
std::string txlVersion();

struct SessionRow {
  std::string id;
  std::string started;
  std::string argv;
  /// Hash of the command minus --db (a resumed command has the same).
  std::string commandHash;
  double budgetSeconds = 0;
  int64_t seed = 0;
  std::string machine;
  std::string halideVersion, txlVersion;
  int64_t schemaVersion = kSchemaVersion;
};

struct MachineRow {
  std::string id, cpu, caches;
  int64_t cores = 0;
};

struct RecordRow {
  std::string id;
  std::string workload;
  std::string target;
  int64_t threads = 1;
  std::string session;
  /// heuristic | tuned | manual | imported
  std::string origin;
  std::string knobs;
  std::string schedule;
  std::string scheduleHash;
  /// ok | compile_error | timeout | crash | wrong_result | noisy
  std::string status;
  std::string message;
  double minSeconds = 0, medianSeconds = 0, spread = 0;
  /// Median per-round time ratio to the heuristic (lower is faster).
  double ratio = 1;
  double maxError = 0;
  /// The session's seconds when this was recorded.
  double sessionElapsed = 0;
  std::string created;
  std::string halideVersion, txlVersion;
  int64_t schemaVersion = kSchemaVersion;
};

struct WorkloadRow {
  std::string hash, label, signature, canonical;
};

/// What a compile serves for one kernel.
struct BestRecord {
  RecordRow record;
  /// Mean ratio over the schedule's Ok records; records averaged.
  double meanRatio = 1;
  int64_t measurements = 0;
};

class TuningDatabase {
public:
  /// A file path (SQLite) or a postgresql:// URL. `create`: make the file
  /// and the tables if missing; else an error naming the file.
  static StatusOr<std::unique_ptr<TuningDatabase>>
  open(const std::string &location, bool create);

  const std::string &location() const { return where; }
  SqlConnection &sql() { return *connection; }

  Status addWorkload(const WorkloadRow &workload);
  Status addMachine(const MachineRow &machine);
  Status addSession(const SessionRow &session);
  /// One transaction: the target row if new, and the record.
  Status addRecord(const RecordRow &record);
  /// The same two inserts in the caller's transaction (an import); a record
  /// already there (same id) is left as it is.
  Status insertRecord(const RecordRow &record);

  /// Every record of a workload on a target, oldest first.
  StatusOr<std::vector<RecordRow>> records(const std::string &workload,
                                           const std::string &target,
                                           int64_t threads);
  /// Every record, or (bestOnly) the served one per workload and target.
  StatusOr<std::vector<RecordRow>> allRecords();
  StatusOr<std::vector<WorkloadRow>> workloads();
  StatusOr<std::vector<SessionRow>> sessions();
  StatusOr<std::vector<MachineRow>> machines();

  /// The schedule a compile should use: the Ok schedule with the lowest
  /// mean ratio, if kServeEpsilon faster than the heuristic; else the
  /// heuristic's own record. None without an Ok record.
  StatusOr<std::optional<BestRecord>>
  best(const std::string &workload, const std::string &target, int64_t threads);

  /// The largest session_elapsed of the sessions with `commandHash`.
  StatusOr<double> spentBy(const std::string &commandHash);

private:
  std::string where;
  std::unique_ptr<SqlConnection> connection;
};

/// A fresh identifier (128 random bits, hex).
std::string newId();
/// The current UTC time, ISO 8601.
std::string utcNow();

} // namespace txl::tuner

#endif // TXL_TUNER_TUNINGDATABASE_H
