//===- Progress.h - a progress bar on a terminal's stderr -------*- C++ -*-===//
//
// Long scoring runs draw one line on stderr, redrawn in place with \r, and
// erase it at the end, so that only the results stay. Nothing is drawn when
// stderr is not a terminal (logs, pipes, tests) or the run is short.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_PROGRESS_H
#define TXL_RUNNER_PROGRESS_H

#include <chrono>
#include <cstdint>
#include <string>

namespace txl {

class ProgressBar {
public:
  /// `total` units named `unit` ("characters", "tokens"). Draws only when
  /// stderr is a terminal and there are more than `minimumSteps` steps.
  ProgressBar(int64_t total, std::string unit, int64_t steps,
              int64_t minimumSteps = 4);
  ~ProgressBar();

  /// `done` of `total` units are finished; redraws at most ten times a
  /// second.
  void update(int64_t done);
  /// Erases the bar (also done by the destructor).
  void finish();

private:
  using Clock = std::chrono::steady_clock;
  int64_t total;
  std::string unit;
  bool active;
  Clock::time_point begin, lastDrawn;
  size_t drawnWidth = 0;
};

} // namespace txl

#endif // TXL_RUNNER_PROGRESS_H
