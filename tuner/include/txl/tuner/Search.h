//===- Search.h - schedule search under a time budget -----------*- C++ -*-===//
//
// The search over the knob space of every task (docs/TUNING.md), written
// against three interfaces so that it can be tested with a virtual clock and
// a fake measurer: a CandidatePlanner turns a knob point into a schedule
// (none if illegal), a Measurer times candidates against the heuristic in
// one batch, a SearchStore keeps every measurement (the database).
//
// Per task: the heuristic is the baseline of every batch and always a valid
// answer; the first batch is random points, later batches are one- and
// two-knob moves from the best few with ~10% random points. Candidates are
// deduplicated by their schedule's hash (different knobs often give the same
// schedule), across sessions too, so the same command resumes where it
// stopped. A candidate becomes the incumbent only if it beats it by
// max(1%, 2x the relative standard error of its median ratio); a wrong result,
// a crash or a timeout is recorded and never becomes one. The budget (wall
// clock, compiles included) first measures every task's heuristic alone (so
// that every kernel has a record, and its cost is known), then gives every task
// a first batch of candidates, then goes batch by batch to the task with the
// largest expected gain (its share of the step x its recent improvement); a
// task freezes after `freezeAfter` candidates without improvement (when every
// task is frozen and budget is left, the frozen ones are searched again, by
// expected gain). The best few of each task are measured again at the end (the
// best of noisy measurements is biased low).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_SEARCH_H
#define TXL_TUNER_SEARCH_H

#include "txl/Passes/Tiling/TileKnobs.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace txl::tuner {

/// One value per knob of the planner's ranges.
using KnobPoint = std::vector<int64_t>;

/// Turns knob points of one task into schedules.
class CandidatePlanner {
public:
  virtual ~CandidatePlanner() = default;
  /// The knobs searched, with their legal ranges.
  virtual const std::vector<tiling::KnobRange> &ranges() const = 0;
  /// The heuristic's point (the target's defaults).
  virtual KnobPoint heuristic() const = 0;
  /// The schedule (attribute text) for `point`; none if illegal.
  virtual std::optional<std::string> schedule(const KnobPoint &point) = 0;
};

/// "name=value,..." for a point of `ranges`.
std::string knobText(const std::vector<tiling::KnobRange> &ranges,
                     const KnobPoint &point);

struct Candidate {
  KnobPoint point;
  std::string knobs;
  std::string schedule;
  std::string scheduleHash;
  /// "heuristic" or "tuned".
  std::string origin = "tuned";
};

/// The message of the measurements made again at the end of a search.
inline constexpr const char *kConfirmMessage = "measured again (confirmation)";

/// What became of a candidate. Only Ok measurements may win.
enum class Outcome { Ok, CompileError, Timeout, Crash, WrongResult, Noisy };
const char *outcomeName(Outcome outcome);
std::optional<Outcome> parseOutcome(const std::string &name);

struct Measurement {
  Outcome outcome = Outcome::Ok;
  std::string message;
  /// Seconds per call.
  double minSeconds = 0, medianSeconds = 0;
  /// Median of per-round ratios of its time to the heuristic's in the same
  /// round (lower is faster; the heuristic is 1).
  double ratio = 1;
  /// Relative spread of those ratios (interquartile range / median).
  double spread = 0;
  /// Relative standard error of that median (spread / sqrt(rounds), up to
  /// a constant): what a new incumbent must win by twice.
  double uncertainty = 0;
  /// Largest difference from the heuristic's outputs.
  double maxError = 0;
};

/// Measures candidates of one task against its heuristic in one batch.
class Measurer {
public:
  virtual ~Measurer() = default;
  /// One measurement per candidate; `baseline` receives the heuristic's.
  /// An empty `candidates` measures the heuristic alone.
  virtual std::vector<Measurement>
  measure(size_t task, const Candidate &heuristic,
          const std::vector<Candidate> &candidates, Measurement &baseline) = 0;
};

/// Seconds since some fixed point.
class Clock {
public:
  virtual ~Clock() = default;
  virtual double now() = 0;
};

/// A task as the search sees it.
struct SearchTask {
  std::string key;
  std::string label;
  /// Calls per step (ModelKernels.h).
  double weight = 0;
  CandidatePlanner *planner = nullptr;
};

/// A measurement stored before (this session or an earlier one).
struct PriorRecord {
  std::string scheduleHash;
  std::string knobs;
  std::string origin;
  Outcome outcome = Outcome::Ok;
  double ratio = 1;
  double medianSeconds = 0;
};

/// Where measurements go (the database).
class SearchStore {
public:
  virtual ~SearchStore() = default;
  virtual std::vector<PriorRecord> previous(const SearchTask &task) = 0;
  /// Stores one measurement (its own transaction); `elapsed` is the
  /// session's seconds so far.
  virtual void record(const SearchTask &task, const Candidate &candidate,
                      const Measurement &measurement, double elapsed) = 0;
};

struct SearchOptions {
  /// Wall-clock seconds for the whole search, compiles included.
  double budgetSeconds = 600;
  /// Seconds spent by earlier sessions of the same command.
  double spentBefore = 0;
  uint64_t seed = 1;
  /// Candidates per batch.
  int batchSize = 6;
  /// Freeze a task after this many candidates without improvement.
  int freezeAfter = 12;
  /// A new incumbent must be this much faster (and beat 2x its spread).
  double minWin = 0.01;
  /// Candidates of each task measured again at the end.
  int confirmTop = 3;
  /// Set (e.g. by SIGINT) to stop after the batch in flight.
  const std::atomic<bool> *stop = nullptr;
};

/// Progress after each batch.
struct TaskProgress {
  std::string label;
  int measured = 0;
  double bestRatio = 1;
  bool frozen = false;
  double share = 0;
};
struct SearchProgress {
  double elapsed = 0, budget = 0;
  size_t task = 0, tasks = 0;
  int candidates = 0;
  std::vector<TaskProgress> perTask;
};

/// The result per task.
struct TaskResult {
  std::string label;
  /// The best Ok candidate's schedule hash (the heuristic's if none beat it)
  /// and its ratio to the heuristic (confirmed at the end when possible).
  std::string bestHash;
  std::string bestKnobs;
  double bestRatio = 1;
  double heuristicSeconds = 0;
  int measured = 0;
};

class Search {
public:
  Search(std::vector<SearchTask> tasks, Measurer &measurer, SearchStore &store,
         Clock &clock, SearchOptions options);
  /// Runs until the budget is spent, every task is frozen, or stop is set.
  std::vector<TaskResult>
  run(const std::function<void(const SearchProgress &)> &progress = {});

private:
  struct State;
  std::vector<SearchTask> tasks;
  Measurer &measurer;
  SearchStore &store;
  Clock &clock;
  SearchOptions options;
};

} // namespace txl::tuner

#endif // TXL_TUNER_SEARCH_H
