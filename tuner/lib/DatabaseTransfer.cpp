//===- DatabaseTransfer.cpp - JSON lines in and out, merge, verify, stats
//--===//

#include "txl/tuner/DatabaseTransfer.h"

#include "txl/schedule/ScheduleAttr.h"
#include "txl/tuner/Search.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/Diagnostics.h"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace txl::tuner {

using json = nlohmann::json;

namespace {

json recordJson(const RecordRow &r) {
  return {
      {"table", "record"},           {"id", r.id},
      {"workload", r.workload},      {"target", r.target},
      {"threads", r.threads},        {"session", r.session},
      {"origin", r.origin},          {"knobs", r.knobs},
      {"schedule", r.schedule},      {"schedule_hash", r.scheduleHash},
      {"status", r.status},          {"message", r.message},
      {"min_s", r.minSeconds},       {"median_s", r.medianSeconds},
      {"spread", r.spread},          {"ratio", r.ratio},
      {"max_error", r.maxError},     {"session_elapsed_s", r.sessionElapsed},
      {"created", r.created},        {"halide_version", r.halideVersion},
      {"txl_version", r.txlVersion}, {"schema_version", r.schemaVersion}};
}

RecordRow recordFromJson(const json &j) {
  RecordRow r;
  r.id = j.at("id");
  r.workload = j.at("workload");
  r.target = j.at("target");
  r.threads = j.at("threads");
  r.session = j.at("session");
  r.origin = j.at("origin");
  r.knobs = j.at("knobs");
  r.schedule = j.at("schedule");
  r.scheduleHash = j.at("schedule_hash");
  r.status = j.at("status");
  r.message = j.value("message", "");
  r.minSeconds = j.at("min_s");
  r.medianSeconds = j.at("median_s");
  r.spread = j.at("spread");
  r.ratio = j.at("ratio");
  r.maxError = j.at("max_error");
  r.sessionElapsed = j.value("session_elapsed_s", 0.0);
  r.created = j.at("created");
  r.halideVersion = j.at("halide_version");
  r.txlVersion = j.at("txl_version");
  r.schemaVersion = j.at("schema_version");
  return r;
}

json sessionJson(const SessionRow &s) {
  return {{"table", "session"},
          {"id", s.id},
          {"started", s.started},
          {"argv", s.argv},
          {"command_hash", s.commandHash},
          {"budget_s", s.budgetSeconds},
          {"seed", s.seed},
          {"machine", s.machine},
          {"halide_version", s.halideVersion},
          {"txl_version", s.txlVersion},
          {"schema_version", s.schemaVersion}};
}

SessionRow sessionFromJson(const json &j) {
  SessionRow s;
  s.id = j.at("id");
  s.started = j.at("started");
  s.argv = j.at("argv");
  s.commandHash = j.at("command_hash");
  s.budgetSeconds = j.at("budget_s");
  s.seed = j.at("seed");
  s.machine = j.at("machine");
  s.halideVersion = j.at("halide_version");
  s.txlVersion = j.at("txl_version");
  s.schemaVersion = j.at("schema_version");
  return s;
}

/// Counts rows before and after, to report what was added.
StatusOr<int64_t> rowCount(TuningDatabase &db) {
  auto rows = db.sql().query(
      "SELECT (SELECT count(*) FROM record) + (SELECT count(*) FROM session) "
      "+ (SELECT count(*) FROM workload) + (SELECT count(*) FROM machine)");
  if (!rows.ok())
    return rows.status();
  return int64_t(
      std::strtoll((*rows)[0][0].value_or("0").c_str(), nullptr, 10));
}

/// Adds one exported row; record rows go straight in (the caller holds the
/// transaction).
Status addRow(TuningDatabase &db, const json &j) {
  std::string table = j.at("table");
  if (table == "workload")
    return db.addWorkload(
        {j.at("hash"), j.at("label"), j.at("signature"), j.at("canonical_ir")});
  if (table == "machine")
    return db.addMachine(
        {j.at("id"), j.at("cpu"), j.at("caches"), j.at("cores")});
  if (table == "session")
    return db.addSession(sessionFromJson(j));
  if (table == "record") {
    RecordRow r = recordFromJson(j);
    if (!parseOutcome(r.status))
      return Status::error("unknown status '" + r.status + "'");
    return db.insertRecord(r);
  }
  return Status::error("unknown table '" + table + "'");
}

std::string beginStatement(TuningDatabase &db) {
  return db.sql().engine() == "sqlite" ? "BEGIN IMMEDIATE" : "BEGIN";
}

/// Rows (JSON objects) into `db` in one transaction.
StatusOr<ImportCounts> addRows(TuningDatabase &db,
                               const std::vector<json> &rows,
                               const std::vector<std::string> &where) {
  auto before = rowCount(db);
  if (!before.ok())
    return before.status();
  if (Status s = db.sql().exec(beginStatement(db)); !s.isOk())
    return s;
  // Workloads, machines and sessions before the records that name them.
  for (const char *table : {"workload", "machine", "session", "record"})
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].value("table", "") != table)
        continue;
      Status status = Status::ok();
      try {
        status = addRow(db, rows[i]);
      } catch (const std::exception &e) {
        status = Status::error(std::string("bad row: ") + e.what());
      }
      if (!status.isOk()) {
        (void)db.sql().exec("ROLLBACK");
        return Status::error(where[i] + ": " + status.message() +
                             " (nothing imported)");
      }
    }
  if (Status s = db.sql().exec("COMMIT"); !s.isOk())
    return s;
  auto after = rowCount(db);
  if (!after.ok())
    return after.status();
  return ImportCounts{int64_t(rows.size()), *after - *before};
}

StatusOr<std::vector<json>> allRows(TuningDatabase &db, bool bestOnly) {
  std::vector<json> out;
  auto workloads = db.workloads();
  auto sessions = db.sessions();
  auto machines = db.machines();
  auto records = db.allRecords();
  for (const Status *s : {&workloads.status(), &sessions.status(),
                          &machines.status(), &records.status()})
    if (!s->isOk())
      return *s;
  std::vector<RecordRow> chosen;
  if (!bestOnly) {
    chosen = *records;
  } else {
    std::set<std::tuple<std::string, std::string, int64_t>> keys;
    for (const RecordRow &r : *records)
      keys.insert({r.workload, r.target, r.threads});
    for (const auto &[workload, target, threads] : keys) {
      auto best = db.best(workload, target, threads);
      if (!best.ok())
        return best.status();
      if (*best)
        chosen.push_back((*best)->record);
    }
  }
  std::set<std::string> usedWorkloads, usedSessions;
  for (const RecordRow &r : chosen) {
    usedWorkloads.insert(r.workload);
    usedSessions.insert(r.session);
  }
  std::set<std::string> usedMachines;
  for (const SessionRow &s : *sessions)
    if (!bestOnly || usedSessions.count(s.id))
      usedMachines.insert(s.machine);
  for (const WorkloadRow &w : *workloads)
    if (!bestOnly || usedWorkloads.count(w.hash))
      out.push_back({{"table", "workload"},
                     {"hash", w.hash},
                     {"label", w.label},
                     {"signature", w.signature},
                     {"canonical_ir", w.canonical}});
  for (const MachineRow &m : *machines)
    if (usedMachines.count(m.id))
      out.push_back({{"table", "machine"},
                     {"id", m.id},
                     {"cpu", m.cpu},
                     {"caches", m.caches},
                     {"cores", m.cores}});
  for (const SessionRow &s : *sessions)
    if (!bestOnly || usedSessions.count(s.id))
      out.push_back(sessionJson(s));
  for (const RecordRow &r : chosen)
    out.push_back(recordJson(r));
  return out;
}

} // namespace

Status exportJsonLines(TuningDatabase &db, std::ostream &out, bool bestOnly) {
  auto rows = allRows(db, bestOnly);
  if (!rows.ok())
    return rows.status();
  for (const json &row : *rows)
    out << row.dump() << "\n";
  return out ? Status::ok() : Status::error("write failed");
}

StatusOr<ImportCounts> importJsonLines(TuningDatabase &db,
                                       const std::string &path) {
  std::ifstream in(path);
  if (!in)
    return Status::error(path + ": cannot read");
  std::vector<json> rows;
  std::vector<std::string> where;
  int line = 0;
  for (std::string text; std::getline(in, text);) {
    ++line;
    if (text.find_first_not_of(" \t\r") == std::string::npos)
      continue;
    json j = json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || !j.contains("table"))
      return Status::error(path + ":" + std::to_string(line) +
                           ": not a JSON object with a \"table\" field "
                           "(nothing imported)");
    rows.push_back(std::move(j));
    where.push_back(path + ":" + std::to_string(line));
  }
  return addRows(db, rows, where);
}

StatusOr<ImportCounts> mergeDatabases(TuningDatabase &target,
                                      TuningDatabase &source) {
  auto rows = allRows(source, false);
  if (!rows.ok())
    return rows.status();
  std::vector<std::string> where(rows->size(), source.location());
  return addRows(target, *rows, where);
}

Status verifyDatabase(TuningDatabase &db, mlir::MLIRContext &context,
                      std::vector<std::string> &problems, int64_t &checked) {
  checked = 0;
  if (db.sql().engine() == "sqlite") {
    auto rows = db.sql().query("PRAGMA integrity_check");
    if (!rows.ok())
      return rows.status();
    for (const SqlRow &row : *rows)
      if (row[0].value_or("") != "ok")
        problems.push_back("integrity_check: " + row[0].value_or(""));
  }
  auto records = db.allRecords();
  if (!records.ok())
    return records.status();
  auto workloads = db.workloads();
  if (!workloads.ok())
    return workloads.status();
  std::set<std::string> known;
  for (const WorkloadRow &w : *workloads)
    known.insert(w.hash);
  mlir::ScopedDiagnosticHandler quiet(
      &context, [](mlir::Diagnostic &) { return mlir::success(); });
  for (const RecordRow &r : *records) {
    ++checked;
    std::string where =
        "record " + r.id + " (" + r.origin + ", " + r.status + ")";
    if (!known.count(r.workload))
      problems.push_back(where + ": unknown workload " + r.workload);
    if (!parseOutcome(r.status))
      problems.push_back(where + ": unknown status");
    mlir::Attribute attr = mlir::parseAttribute(r.schedule, &context);
    auto dict = llvm::dyn_cast_or_null<mlir::DictionaryAttr>(attr);
    if (!dict) {
      problems.push_back(where + ": schedule is not an attribute dictionary");
      continue;
    }
    auto parsed = schedule::parseSchedule(dict);
    if (!parsed.ok())
      problems.push_back(where + ": schedule: " + parsed.status().message());
  }
  return Status::ok();
}

StatusOr<std::string> databaseStats(TuningDatabase &db) {
  std::ostringstream out;
  auto count = [&](const std::string &sql) -> std::string {
    auto rows = db.sql().query(sql);
    return rows.ok() && !rows->empty() ? (*rows)[0][0].value_or("0") : "?";
  };
  out << db.location() << " (" << db.sql().engine() << ", schema "
      << kSchemaVersion << ")\n";
  out << "  workloads " << count("SELECT count(*) FROM workload")
      << ", sessions " << count("SELECT count(*) FROM session") << ", machines "
      << count("SELECT count(*) FROM machine") << ", records "
      << count("SELECT count(*) FROM record") << "\n";
  auto statuses = db.sql().query(
      "SELECT status, count(*) FROM record GROUP BY status ORDER BY status");
  if (!statuses.ok())
    return statuses.status();
  out << "  records by status:";
  for (const SqlRow &r : *statuses)
    out << " " << r[0].value_or("") << " " << r[1].value_or("");
  out << "\n";
  auto targets = db.sql().query(
      "SELECT target, threads, count(*), count(DISTINCT workload) FROM record "
      "GROUP BY target, threads ORDER BY target, threads");
  if (!targets.ok())
    return targets.status();
  for (const SqlRow &r : *targets)
    out << "  target " << r[0].value_or("") << " at " << r[1].value_or("")
        << " thread(s): " << r[2].value_or("") << " records, "
        << r[3].value_or("") << " workloads\n";
  return out.str();
}

} // namespace txl::tuner
