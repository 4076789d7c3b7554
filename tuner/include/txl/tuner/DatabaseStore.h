//===- DatabaseStore.h - the search's measurements into the database -*- C++
//-*-===//
#ifndef TXL_TUNER_DATABASESTORE_H
#define TXL_TUNER_DATABASESTORE_H

#include "txl/tuner/Search.h"
#include "txl/tuner/TuningDatabase.h"

namespace txl::tuner {

/// Stores each measurement as a record of `session`, on `target` at
/// `threads`; reads back what earlier sessions measured. A failed write
/// sets `error` and the stop flag (a search must not go on unrecorded).
class DatabaseStore : public SearchStore {
public:
  DatabaseStore(TuningDatabase &db, std::string session, std::string target,
                int64_t threads, std::atomic<bool> *stop)
      : db(db), session(std::move(session)), target(std::move(target)),
        threads(threads), stop(stop) {}
  std::vector<PriorRecord> previous(const SearchTask &task) override;
  void record(const SearchTask &task, const Candidate &candidate,
              const Measurement &measurement, double elapsed) override;
  const Status &error() const { return failure; }

private:
  TuningDatabase &db;
  std::string session, target;
  int64_t threads;
  std::atomic<bool> *stop;
  Status failure = Status::ok();
};

} // namespace txl::tuner

#endif // TXL_TUNER_DATABASESTORE_H
