//===- DatabaseStore.cpp - SearchStore on a TuningDatabase ----------------===//

#include "txl/tuner/DatabaseStore.h"

namespace txl::tuner {

std::vector<PriorRecord> DatabaseStore::previous(const SearchTask &task) {
  std::vector<PriorRecord> out;
  auto rows = db.records(task.key, target, threads);
  if (!rows.ok()) {
    failure = rows.status();
    if (stop)
      stop->store(true);
    return out;
  }
  for (const RecordRow &r : *rows) {
    PriorRecord p;
    p.scheduleHash = r.scheduleHash;
    p.knobs = r.knobs;
    p.origin = r.origin;
    p.outcome = parseOutcome(r.status).value_or(Outcome::Crash);
    p.ratio = r.ratio;
    p.medianSeconds = r.medianSeconds;
    out.push_back(p);
  }
  return out;
}

void DatabaseStore::record(const SearchTask &task, const Candidate &candidate,
                           const Measurement &m, double elapsed) {
  RecordRow r;
  r.id = newId();
  r.workload = task.key;
  r.target = target;
  r.threads = threads;
  r.session = session;
  r.origin = candidate.origin;
  r.knobs = candidate.knobs;
  r.schedule = candidate.schedule;
  r.scheduleHash = candidate.scheduleHash;
  r.status = outcomeName(m.outcome);
  r.message = m.message;
  r.minSeconds = m.minSeconds;
  r.medianSeconds = m.medianSeconds;
  r.spread = m.spread;
  r.ratio = m.ratio;
  r.maxError = m.maxError;
  r.sessionElapsed = elapsed;
  r.created = utcNow();
  r.halideVersion = halideVersion();
  r.txlVersion = txlVersion();
  Status status = db.addRecord(r);
  if (!status.isOk()) {
    failure = status;
    if (stop)
      stop->store(true);
  }
}

} // namespace txl::tuner
