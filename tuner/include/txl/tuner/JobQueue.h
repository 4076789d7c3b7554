//===- JobQueue.h - a tuning campaign shared by workers (PostgreSQL) -*- C++
//-*-===//
//
// Tuning scales out on the database, not on a tracker of our own: `txl-tune
// enqueue` writes one job per kernel of a model into a `job` table of a
// PostgreSQL tuning database; `txl-tune worker` processes on any number of
// machines claim jobs with FOR UPDATE SKIP LOCKED and a lease, run the
// tuner on that one kernel, renew the lease while it runs (never holding a
// transaction open meanwhile), and mark the job done. A killed worker's job
// is claimed again once its lease has expired; the tuner it starts resumes
// from the records the killed one stored.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_JOBQUEUE_H
#define TXL_TUNER_JOBQUEUE_H

#include "txl/tuner/TuningDatabase.h"

#include <optional>
#include <string>
#include <vector>

namespace txl::tuner {

struct Job {
  int64_t id = 0;
  std::string campaign;
  /// The tuner's arguments (model and its flags) as a JSON array.
  std::string argv;
  std::string workload, label;
  double budgetSeconds = 0;
  int64_t attempts = 0;
};

/// Creates the job table if missing (PostgreSQL only: an error otherwise).
Status createJobTable(TuningDatabase &db);

/// Adds a job unless (campaign, workload) has one; true if added.
StatusOr<bool> enqueueJob(TuningDatabase &db, const Job &job, double priority);

/// Claims the most important pending job, or a running one whose lease has
/// expired, for `worker`, with a lease of `leaseSeconds`.
StatusOr<std::optional<Job>>
claimJob(TuningDatabase &db, const std::string &worker, double leaseSeconds);

/// Extends the lease; false if the job is no longer this worker's.
StatusOr<bool> renewLease(TuningDatabase &db, int64_t job,
                          const std::string &worker, double leaseSeconds);

/// Marks the job done (or failed, with `message`) if it is still this
/// worker's; false otherwise.
StatusOr<bool> finishJob(TuningDatabase &db, int64_t job,
                         const std::string &worker, bool ok,
                         const std::string &message);

} // namespace txl::tuner

#endif // TXL_TUNER_JOBQUEUE_H
