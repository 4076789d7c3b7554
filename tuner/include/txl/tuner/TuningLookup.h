//===- TuningLookup.h - compiles that use the tuning database ---*- C++ -*-===//
//
// txl-tuning-lookup runs right before txl-tile (txlc --tuning-db A
// [--tuning-db B]): every kernel is looked up by its WorkloadKey, the
// concrete target and the thread count, in each database in order (the
// first that has an Ok record wins); a hit writes the stored schedule as the
// kernel's `txl.schedule`, so txl-tile leaves it alone; a miss is left to
// the heuristic. A stored schedule that no longer parses is a miss, with a
// warning. With `require`, any miss fails the compile, naming the kernels.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_TUNINGLOOKUP_H
#define TXL_TUNER_TUNINGLOOKUP_H

#include "mlir/Pass/Pass.h"

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace txl::tuner {

struct TuningLookupOptions {
  /// Database files or postgresql:// URLs, first hit wins.
  std::vector<std::string> databases;
  std::string target = "host", targetCache;
  int64_t threads = 1;
  bool require = false;
};

/// What the lookup found (filled when the pass runs).
struct TuningLookupResult {
  int kernels = 0, hits = 0;
  /// Per hit: kernel label, record id and the database it came from.
  struct Hit {
    std::string label, workload, record, database;
    double meanRatio = 1;
  };
  std::vector<Hit> hitList;
  std::vector<std::string> misses;
  std::map<std::string, int> kernelsPerDatabase;
  /// The lookup itself failed (a database, or a miss with `require`).
  bool failed = false;
  /// "9/11 kernels hit (tuned.db: 9)".
  std::string summary() const;
  /// The hits as a JSON object for the model's metadata:
  /// {"databases":[...],"threads":N,"target":"...","hits":{...}}.
  std::string json(const TuningLookupOptions &options) const;
};

std::unique_ptr<mlir::Pass> createTuningLookupPass(TuningLookupOptions options,
                                                   TuningLookupResult *result);

} // namespace txl::tuner

#endif // TXL_TUNER_TUNINGLOOKUP_H
