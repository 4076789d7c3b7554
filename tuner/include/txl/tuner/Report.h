//===- Report.h - what tuning gained, per kernel ----------------*- C++ -*-===//
#ifndef TXL_TUNER_REPORT_H
#define TXL_TUNER_REPORT_H

#include "txl/tuner/ModelKernels.h"
#include "txl/tuner/TuningDatabase.h"

#include <string>
#include <vector>

namespace txl::tuner {

struct KernelReport {
  std::string label, workload;
  double weight = 0;
  /// Share of the step's kernel time at the heuristic's times.
  double share = 0;
  double heuristicSeconds = 0, heuristicSpread = 0;
  /// The served record (the heuristic's if nothing beat it).
  double bestSeconds = 0, bestRatio = 1, bestSpread = 0;
  int64_t bestMeasurements = 0;
  std::string bestRecord, bestOrigin;
  int64_t measured = 0, failed = 0;
  /// Knobs that differ from the heuristic's: "name a->b, ...".
  std::string changedKnobs;
};

/// One row per task with an Ok heuristic record on `target` at `threads`.
StatusOr<std::vector<KernelReport>>
buildReport(TuningDatabase &db, const std::vector<KernelTask> &tasks,
            const std::string &target, int64_t threads);

/// A table, then the step's estimated speedup from the kernels' shares.
std::string formatReport(const std::vector<KernelReport> &rows);

/// A horizontal bar chart (speedup per kernel, bar height by share).
std::string reportSvg(const std::vector<KernelReport> &rows,
                      const std::string &title);

} // namespace txl::tuner

#endif // TXL_TUNER_REPORT_H
