//===- TuningDatabase.cpp - the tables, the records and the best query ----===//

#include "txl/tuner/TuningDatabase.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>

#ifndef TXL_HALIDE_VERSION
#define TXL_HALIDE_VERSION "14"
#endif
#ifndef TXL_GIT_VERSION
#define TXL_GIT_VERSION "unknown"
#endif

namespace txl::tuner {

std::string halideVersion() { return TXL_HALIDE_VERSION; }
std::string txlVersion() { return TXL_GIT_VERSION; }

std::string newId() {
  std::random_device device;
  std::mt19937_64 rng(
      (uint64_t(device()) << 32) ^ device() ^
      uint64_t(std::chrono::steady_clock::now().time_since_epoch().count()));
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx",
                static_cast<unsigned long long>(rng()),
                static_cast<unsigned long long>(rng()));
  return text;
}

std::string utcNow() {
  std::time_t now = std::time(nullptr);
  std::tm tm;
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

namespace {

// The same text for SQLite and PostgreSQL.
const char *kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS workload (
  hash TEXT PRIMARY KEY, label TEXT NOT NULL, signature TEXT NOT NULL,
  canonical_ir TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS target (
  name TEXT NOT NULL, threads BIGINT NOT NULL, PRIMARY KEY (name, threads));
CREATE TABLE IF NOT EXISTS machine (
  id TEXT PRIMARY KEY, cpu TEXT NOT NULL, caches TEXT NOT NULL,
  cores BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS session (
  id TEXT PRIMARY KEY, started TEXT NOT NULL, argv TEXT NOT NULL,
  command_hash TEXT NOT NULL, budget_s DOUBLE PRECISION NOT NULL,
  seed BIGINT NOT NULL, machine TEXT NOT NULL, halide_version TEXT NOT NULL,
  txl_version TEXT NOT NULL, schema_version BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS record (
  id TEXT PRIMARY KEY, workload TEXT NOT NULL REFERENCES workload(hash),
  target TEXT NOT NULL, threads BIGINT NOT NULL, session TEXT NOT NULL,
  origin TEXT NOT NULL, knobs TEXT NOT NULL, schedule TEXT NOT NULL,
  schedule_hash TEXT NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL,
  min_s DOUBLE PRECISION NOT NULL, median_s DOUBLE PRECISION NOT NULL,
  spread DOUBLE PRECISION NOT NULL, ratio DOUBLE PRECISION NOT NULL,
  max_error DOUBLE PRECISION NOT NULL,
  session_elapsed_s DOUBLE PRECISION NOT NULL, created TEXT NOT NULL,
  halide_version TEXT NOT NULL, txl_version TEXT NOT NULL,
  schema_version BIGINT NOT NULL);
CREATE INDEX IF NOT EXISTS record_by_key
  ON record (workload, target, threads, status);
)sql";

const char *kRecordColumns =
    "id, workload, target, threads, session, origin, knobs, schedule, "
    "schedule_hash, status, message, min_s, median_s, spread, ratio, "
    "max_error, session_elapsed_s, created, halide_version, txl_version, "
    "schema_version";

double toDouble(const std::optional<std::string> &v) {
  return v ? std::strtod(v->c_str(), nullptr) : 0;
}
int64_t toInt(const std::optional<std::string> &v) {
  return v ? std::strtoll(v->c_str(), nullptr, 10) : 0;
}
std::string toText(const std::optional<std::string> &v) {
  return v.value_or("");
}

RecordRow recordFromRow(const SqlRow &r) {
  RecordRow x;
  x.id = toText(r[0]);
  x.workload = toText(r[1]);
  x.target = toText(r[2]);
  x.threads = toInt(r[3]);
  x.session = toText(r[4]);
  x.origin = toText(r[5]);
  x.knobs = toText(r[6]);
  x.schedule = toText(r[7]);
  x.scheduleHash = toText(r[8]);
  x.status = toText(r[9]);
  x.message = toText(r[10]);
  x.minSeconds = toDouble(r[11]);
  x.medianSeconds = toDouble(r[12]);
  x.spread = toDouble(r[13]);
  x.ratio = toDouble(r[14]);
  x.maxError = toDouble(r[15]);
  x.sessionElapsed = toDouble(r[16]);
  x.created = toText(r[17]);
  x.halideVersion = toText(r[18]);
  x.txlVersion = toText(r[19]);
  x.schemaVersion = toInt(r[20]);
  return x;
}

StatusOr<std::vector<RecordRow>>
recordsOf(SqlConnection &sql, const std::string &where,
          const std::vector<SqlValue> &params) {
  auto rows = sql.query(std::string("SELECT ") + kRecordColumns +
                            " FROM record " + where,
                        params);
  if (!rows.ok())
    return rows.status();
  std::vector<RecordRow> out;
  for (const SqlRow &row : *rows)
    out.push_back(recordFromRow(row));
  return out;
}

} // namespace

StatusOr<std::unique_ptr<TuningDatabase>>
TuningDatabase::open(const std::string &location, bool create) {
  StatusOr<std::unique_ptr<SqlConnection>> connection =
      isPostgresUrl(location) ? openPostgres(location)
                              : openSqlite(location, create);
  if (!connection.ok())
    return connection.status();
  auto db = std::unique_ptr<TuningDatabase>(new TuningDatabase());
  db->where = location;
  db->connection = std::move(*connection);
  SqlConnection &sql = *db->connection;
  auto version = sql.query("SELECT value FROM meta WHERE name = 'schema'");
  if (!version.ok()) {
    // No meta table: a new database (or not ours).
    auto tables = sql.engine() == "sqlite"
                      ? sql.query("SELECT count(*) FROM sqlite_master")
                      : sql.query("SELECT count(*) FROM information_schema."
                                  "tables WHERE table_schema = 'public'");
    if (tables.ok() && !tables->empty() && toInt((*tables)[0][0]) > 0)
      return Status::error(location + ": not a txl tuning database (it has "
                                      "tables, but no `meta` table)");
    if (!create)
      return Status::error(location + ": not a txl tuning database");
    if (Status s = sql.script(kSchema); !s.isOk())
      return s;
    if (Status s = sql.exec("INSERT INTO meta (name, value) VALUES "
                            "('schema', ?) ON CONFLICT DO NOTHING",
                            {std::to_string(kSchemaVersion)});
        !s.isOk())
      return s;
    return db;
  }
  if (version->empty() || !(*version)[0][0])
    return Status::error(location + ": meta table without a schema version");
  int64_t schema = toInt((*version)[0][0]);
  if (schema != kSchemaVersion)
    return Status::error(location + ": schema version " +
                         std::to_string(schema) + ", this txl-tune reads " +
                         std::to_string(kSchemaVersion));
  return db;
}

Status TuningDatabase::addWorkload(const WorkloadRow &w) {
  return connection->exec(
      "INSERT INTO workload (hash, label, signature, canonical_ir) VALUES "
      "(?, ?, ?, ?) ON CONFLICT DO NOTHING",
      {w.hash, w.label, w.signature, w.canonical});
}

Status TuningDatabase::addMachine(const MachineRow &m) {
  return connection->exec("INSERT INTO machine (id, cpu, caches, cores) "
                          "VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                          {m.id, m.cpu, m.caches, m.cores});
}

Status TuningDatabase::addSession(const SessionRow &s) {
  return connection->exec(
      "INSERT INTO session (id, started, argv, command_hash, budget_s, seed, "
      "machine, halide_version, txl_version, schema_version) VALUES (?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      {s.id, s.started, s.argv, s.commandHash, s.budgetSeconds, s.seed,
       s.machine, s.halideVersion, s.txlVersion, s.schemaVersion});
}

Status TuningDatabase::insertRecord(const RecordRow &r) {
  Status status =
      connection->exec("INSERT INTO target (name, threads) VALUES (?, ?) "
                       "ON CONFLICT DO NOTHING",
                       {r.target, r.threads});
  if (status.isOk())
    status = connection->exec(
        std::string("INSERT INTO record (") + kRecordColumns +
            ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?) ON CONFLICT DO NOTHING",
        {r.id,
         r.workload,
         r.target,
         r.threads,
         r.session,
         r.origin,
         r.knobs,
         r.schedule,
         r.scheduleHash,
         r.status,
         r.message,
         r.minSeconds,
         r.medianSeconds,
         r.spread,
         r.ratio,
         r.maxError,
         r.sessionElapsed,
         r.created,
         r.halideVersion,
         r.txlVersion,
         r.schemaVersion});
  return status;
}

Status TuningDatabase::addRecord(const RecordRow &r) {
  SqlConnection &sql = *connection;
  if (Status s =
          sql.exec(sql.engine() == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN");
      !s.isOk())
    return s;
  if (Status status = insertRecord(r); !status.isOk()) {
    (void)sql.exec("ROLLBACK");
    return status;
  }
  return sql.exec("COMMIT");
}

StatusOr<std::vector<RecordRow>>
TuningDatabase::records(const std::string &workload, const std::string &target,
                        int64_t threads) {
  return recordsOf(*connection,
                   "WHERE workload = ? AND target = ? AND threads = ? "
                   "ORDER BY created, id",
                   {workload, target, threads});
}

StatusOr<std::vector<RecordRow>> TuningDatabase::allRecords() {
  return recordsOf(*connection, "ORDER BY created, id", {});
}

StatusOr<std::vector<WorkloadRow>> TuningDatabase::workloads() {
  auto rows = connection->query("SELECT hash, label, signature, canonical_ir "
                                "FROM workload ORDER BY hash");
  if (!rows.ok())
    return rows.status();
  std::vector<WorkloadRow> out;
  for (const SqlRow &r : *rows)
    out.push_back({toText(r[0]), toText(r[1]), toText(r[2]), toText(r[3])});
  return out;
}

StatusOr<std::vector<SessionRow>> TuningDatabase::sessions() {
  auto rows = connection->query(
      "SELECT id, started, argv, command_hash, budget_s, seed, machine, "
      "halide_version, txl_version, schema_version FROM session ORDER BY "
      "started, id");
  if (!rows.ok())
    return rows.status();
  std::vector<SessionRow> out;
  for (const SqlRow &r : *rows) {
    SessionRow s;
    s.id = toText(r[0]);
    s.started = toText(r[1]);
    s.argv = toText(r[2]);
    s.commandHash = toText(r[3]);
    s.budgetSeconds = toDouble(r[4]);
    s.seed = toInt(r[5]);
    s.machine = toText(r[6]);
    s.halideVersion = toText(r[7]);
    s.txlVersion = toText(r[8]);
    s.schemaVersion = toInt(r[9]);
    out.push_back(s);
  }
  return out;
}

StatusOr<std::vector<MachineRow>> TuningDatabase::machines() {
  auto rows = connection->query(
      "SELECT id, cpu, caches, cores FROM machine ORDER BY id");
  if (!rows.ok())
    return rows.status();
  std::vector<MachineRow> out;
  for (const SqlRow &r : *rows)
    out.push_back({toText(r[0]), toText(r[1]), toText(r[2]), toInt(r[3])});
  return out;
}

StatusOr<std::optional<BestRecord>>
TuningDatabase::best(const std::string &workload, const std::string &target,
                     int64_t threads) {
  // Mean ratio per schedule over its Ok records: a lucky measurement
  // measured again regresses toward its true value.
  auto rows = connection->query(
      "SELECT schedule_hash, AVG(ratio), COUNT(*), "
      "MAX(CASE WHEN origin = 'heuristic' THEN 1 ELSE 0 END) FROM record "
      "WHERE workload = ? AND target = ? AND threads = ? AND status = 'ok' "
      "GROUP BY schedule_hash ORDER BY AVG(ratio), schedule_hash",
      {workload, target, threads});
  if (!rows.ok())
    return rows.status();
  if (rows->empty())
    return std::optional<BestRecord>();
  const SqlRow *chosen = &(*rows)[0];
  if (toDouble((*chosen)[1]) > 1 - kServeEpsilon)
    for (const SqlRow &row : *rows)
      if (toInt(row[3]) == 1) {
        chosen = &row; // A near-tie: the heuristic stays.
        break;
      }
  auto latest = recordsOf(*connection,
                          "WHERE workload = ? AND target = ? AND threads = ? "
                          "AND status = 'ok' AND schedule_hash = ? ORDER BY "
                          "created DESC, id DESC LIMIT 1",
                          {workload, target, threads, toText((*chosen)[0])});
  if (!latest.ok())
    return latest.status();
  if (latest->empty())
    return std::optional<BestRecord>();
  BestRecord best;
  best.record = latest->front();
  best.meanRatio = toDouble((*chosen)[1]);
  best.measurements = toInt((*chosen)[2]);
  return std::optional<BestRecord>(best);
}

StatusOr<double> TuningDatabase::spentBy(const std::string &commandHash) {
  auto rows = connection->query(
      "SELECT MAX(r.session_elapsed_s) FROM record r JOIN session s ON "
      "r.session = s.id WHERE s.command_hash = ? GROUP BY s.id",
      {commandHash});
  if (!rows.ok())
    return rows.status();
  double total = 0;
  for (const SqlRow &r : *rows)
    total += toDouble(r[0]);
  return total;
}

} // namespace txl::tuner
