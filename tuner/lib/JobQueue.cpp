//===- JobQueue.cpp - the job table: enqueue, claim, lease, finish --------===//

#include "txl/tuner/JobQueue.h"

namespace txl::tuner {

Status createJobTable(TuningDatabase &db) {
  if (db.sql().engine() != "postgresql")
    return Status::error(db.location() + ": jobs need a PostgreSQL database "
                                         "(--db postgresql://...)");
  return db.sql().script(R"sql(
CREATE TABLE IF NOT EXISTS job (
  id BIGSERIAL PRIMARY KEY, campaign TEXT NOT NULL, argv TEXT NOT NULL,
  workload TEXT NOT NULL, label TEXT NOT NULL,
  budget_s DOUBLE PRECISION NOT NULL, priority DOUBLE PRECISION NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', worker TEXT,
  lease_until TIMESTAMPTZ, attempts BIGINT NOT NULL DEFAULT 0,
  completions BIGINT NOT NULL DEFAULT 0, message TEXT NOT NULL DEFAULT '',
  UNIQUE (campaign, workload));
)sql");
}

StatusOr<bool> enqueueJob(TuningDatabase &db, const Job &job, double priority) {
  auto rows = db.sql().query(
      "INSERT INTO job (campaign, argv, workload, label, budget_s, priority) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id",
      {job.campaign, job.argv, job.workload, job.label, job.budgetSeconds,
       priority});
  if (!rows.ok())
    return rows.status();
  return !rows->empty();
}

StatusOr<std::optional<Job>>
claimJob(TuningDatabase &db, const std::string &worker, double leaseSeconds) {
  // One statement, one transaction: the row lock of FOR UPDATE SKIP LOCKED
  // lasts only while it runs, so workers never wait on each other.
  auto rows = db.sql().query(
      "UPDATE job SET state = 'running', worker = ?, attempts = attempts + 1, "
      "lease_until = now() + make_interval(secs => ?) WHERE id = (SELECT id "
      "FROM job WHERE state = 'pending' OR (state = 'running' AND "
      "lease_until < now()) ORDER BY priority DESC, id LIMIT 1 FOR UPDATE "
      "SKIP LOCKED) RETURNING id, campaign, argv, workload, label, budget_s, "
      "attempts",
      {worker, leaseSeconds});
  if (!rows.ok())
    return rows.status();
  if (rows->empty())
    return std::optional<Job>();
  const SqlRow &r = rows->front();
  Job job;
  job.id = std::strtoll(r[0].value_or("0").c_str(), nullptr, 10);
  job.campaign = r[1].value_or("");
  job.argv = r[2].value_or("[]");
  job.workload = r[3].value_or("");
  job.label = r[4].value_or("");
  job.budgetSeconds = std::strtod(r[5].value_or("0").c_str(), nullptr);
  job.attempts = std::strtoll(r[6].value_or("0").c_str(), nullptr, 10);
  return std::optional<Job>(job);
}

StatusOr<bool> renewLease(TuningDatabase &db, int64_t job,
                          const std::string &worker, double leaseSeconds) {
  auto rows = db.sql().query(
      "UPDATE job SET lease_until = now() + make_interval(secs => ?) WHERE "
      "id = ? AND worker = ? AND state = 'running' RETURNING id",
      {leaseSeconds, job, worker});
  if (!rows.ok())
    return rows.status();
  return !rows->empty();
}

StatusOr<bool> finishJob(TuningDatabase &db, int64_t job,
                         const std::string &worker, bool ok,
                         const std::string &message) {
  auto rows = db.sql().query(
      "UPDATE job SET state = ?, completions = completions + 1, message = ?, "
      "lease_until = NULL WHERE id = ? AND worker = ? AND state = 'running' "
      "RETURNING id",
      {std::string(ok ? "done" : "failed"), message, job, worker});
  if (!rows.ok())
    return rows.status();
  return !rows->empty();
}

} // namespace txl::tuner
