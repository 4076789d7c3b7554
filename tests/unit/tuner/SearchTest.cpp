//===- SearchTest.cpp - the search against a fake measurer and clock ------===//
//
// A planner over four knobs (one illegal value, one knob that does not
// change the schedule) and a measurer whose times have a planted optimum,
// a region of wrong results faster than anything legal and a region that
// crashes; every compile and run advances a virtual clock.
//
//===----------------------------------------------------------------------===//

#include "txl/tuner/Search.h"
#include "txl/tuner/ContentHash.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>

using namespace txl::tuner;
using txl::tiling::KnobRange;

namespace {

class VirtualClock : public Clock {
public:
  double now() override { return t; }
  double t = 1000;
};

/// a, b in [0, 15]; c in [1, 2^20] (log-scale); d in [0, 3]: d == 3 is
/// illegal, d == 1 plans the same schedule as d == 0.
class FakePlanner : public CandidatePlanner {
public:
  FakePlanner() {
    knobs = {{"fake.a", 0, 15},
             {"fake.b", 0, 15},
             {"fake.c", 1, 1 << 20},
             {"fake.d", 0, 3}};
  }
  const std::vector<KnobRange> &ranges() const override { return knobs; }
  KnobPoint heuristic() const override { return {8, 8, 1024, 0}; }
  std::optional<std::string> schedule(const KnobPoint &p) override {
    if (p[3] == 3)
      return std::nullopt;
    return "a=" + std::to_string(p[0]) + ",b=" + std::to_string(p[1]) +
           ",c=" + std::to_string(p[2]) + ",d=" + std::to_string(p[3] == 2);
  }
  std::vector<KnobRange> knobs;
};

/// The true time of a point: optimum at a=3, b=12, c=2^16.
double trueTime(const KnobPoint &p) {
  return 1.0 + 0.05 * (std::abs(p[0] - 3) + std::abs(p[1] - 12)) +
         0.1 * std::fabs(std::log2(double(p[2])) - 16) + 0.02 * (p[3] == 2);
}

class FakeMeasurer : public Measurer {
public:
  explicit FakeMeasurer(VirtualClock &clock) : clock(clock) {}
  std::vector<Measurement> measure(size_t, const Candidate &heuristic,
                                   const std::vector<Candidate> &candidates,
                                   Measurement &baseline) override {
    ++batches;
    // Compiles (the heuristic's once per task) and runs.
    bool first = heuristicCompiled.insert(heuristic.scheduleHash).second;
    clock.t += 1 + 5.0 * double(candidates.size() + first);
    if (stopAfterBatches && batches >= stopAfterBatches) {
      stop->store(true);
      return {}; // Killed with the batch in flight.
    }
    double base = trueTime(heuristic.point);
    baseline.medianSeconds = base * 1e-3;
    std::vector<Measurement> out;
    for (const Candidate &c : candidates) {
      Measurement m;
      measuredHashes.push_back(c.scheduleHash);
      if (c.point[0] <= 1) {
        // Wrong answers, and "fast": a search that looked only at time
        // would pick them.
        m.outcome = Outcome::WrongResult;
        m.ratio = 0.01;
        m.maxError = 0.5;
      } else if (c.point[1] >= 14) {
        m.outcome = Outcome::Crash;
      } else {
        m.ratio = trueTime(c.point) / base;
        m.medianSeconds = trueTime(c.point) * 1e-3;
        m.spread = 0.002;
        m.uncertainty = 0.001;
      }
      out.push_back(m);
    }
    return out;
  }
  VirtualClock &clock;
  std::set<std::string> heuristicCompiled;
  int batches = 0;
  int stopAfterBatches = 0;
  std::atomic<bool> *stop = nullptr;
  std::vector<std::string> measuredHashes;
};

struct StoredRecord {
  std::string task, hash, knobs, origin, message;
  Outcome outcome;
  double ratio;
};

class MemoryStore : public SearchStore {
public:
  std::vector<PriorRecord> previous(const SearchTask &task) override {
    std::vector<PriorRecord> out;
    for (const StoredRecord &r : records)
      if (r.task == task.key)
        out.push_back({r.hash, r.knobs, r.origin, r.outcome, r.ratio, 0.001});
    return out;
  }
  void record(const SearchTask &task, const Candidate &c, const Measurement &m,
              double) override {
    records.push_back({task.key, c.scheduleHash, c.knobs, c.origin, m.message,
                       m.outcome, m.ratio});
  }
  std::vector<StoredRecord> records;
};

struct Fixture {
  VirtualClock clock;
  FakePlanner planner;
  FakeMeasurer measurer{clock};
  MemoryStore store;
  std::vector<SearchTask> tasks() {
    SearchTask t;
    t.key = "task0";
    t.label = "fake";
    t.weight = 16;
    t.planner = &planner;
    return {t};
  }
};

std::string knob(const std::string &knobs, const std::string &name) {
  size_t at = knobs.find(name + "=");
  if (at == std::string::npos)
    return "";
  size_t end = knobs.find(',', at);
  return knobs.substr(at + name.size() + 1, end == std::string::npos
                                                ? std::string::npos
                                                : end - at - name.size() - 1);
}

} // namespace

TEST(Search, FindsThePlantedOptimum) {
  Fixture f;
  SearchOptions options;
  options.budgetSeconds = 4000;
  options.seed = 7;
  options.freezeAfter = 40;
  Search search(f.tasks(), f.measurer, f.store, f.clock, options);
  std::vector<TaskResult> results = search.run();
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(knob(results[0].bestKnobs, "fake.a"), "3");
  EXPECT_EQ(knob(results[0].bestKnobs, "fake.b"), "12");
  int64_t c = std::stoll(knob(results[0].bestKnobs, "fake.c"));
  EXPECT_GE(c, 1 << 14);
  EXPECT_LE(c, 1 << 18);
  double optimum = trueTime({3, 12, 1 << 16, 0}) / trueTime({8, 8, 1024, 0});
  EXPECT_LT(results[0].bestRatio, optimum * 1.1);
}

TEST(Search, KeepsTheBudget) {
  for (double budget : {30.0, 200.0, 777.0}) {
    Fixture f;
    FakePlanner second;
    std::vector<SearchTask> tasks = f.tasks();
    SearchTask other = tasks[0];
    other.key = "task1";
    other.weight = 1;
    other.planner = &second;
    tasks.push_back(other);
    SearchOptions options;
    options.budgetSeconds = budget;
    options.freezeAfter = 1000; // Only the budget stops it.
    double start = f.clock.t;
    Search search(tasks, f.measurer, f.store, f.clock, options);
    search.run();
    EXPECT_LE(f.clock.t - start, budget) << "budget " << budget;
    // It used most of it.
    EXPECT_GT(f.clock.t - start, budget * 0.5) << "budget " << budget;
  }
}

TEST(Search, CountsWhatEarlierSessionsSpent) {
  Fixture f;
  SearchOptions options;
  options.budgetSeconds = 300;
  options.spentBefore = 250;
  double start = f.clock.t;
  Search search(f.tasks(), f.measurer, f.store, f.clock, options);
  search.run();
  EXPECT_LE(f.clock.t - start, 50);
}

TEST(Search, NeverAcceptsAWrongResultOrACrash) {
  Fixture f;
  SearchOptions options;
  options.budgetSeconds = 3000;
  options.freezeAfter = 1000;
  Search search(f.tasks(), f.measurer, f.store, f.clock, options);
  std::vector<TaskResult> results = search.run();
  int wrong = 0, crashed = 0;
  std::set<std::string> bad;
  for (const StoredRecord &r : f.store.records) {
    wrong += r.outcome == Outcome::WrongResult;
    crashed += r.outcome == Outcome::Crash;
    if (r.outcome != Outcome::Ok)
      bad.insert(r.hash);
  }
  // The search did meet them (so the check is not vacuous)...
  EXPECT_GT(wrong + crashed, 0);
  // ...and none became the answer.
  EXPECT_EQ(bad.count(results[0].bestHash), 0u);
  EXPECT_NE(knob(results[0].bestKnobs, "fake.a"), "0");
  EXPECT_NE(knob(results[0].bestKnobs, "fake.a"), "1");
  EXPECT_GT(results[0].bestRatio, 0.4);
}

TEST(Search, TheHeuristicStaysWhenNothingBeatsIt) {
  // Every candidate slower: the heuristic is the answer.
  class SlowMeasurer : public Measurer {
  public:
    std::vector<Measurement> measure(size_t, const Candidate &,
                                     const std::vector<Candidate> &c,
                                     Measurement &) override {
      clock->t += 10;
      std::vector<Measurement> out(c.size());
      for (Measurement &m : out)
        m.ratio = 1.2;
      return out;
    }
    VirtualClock *clock;
  } slow;
  Fixture f;
  slow.clock = &f.clock;
  SearchOptions options;
  options.budgetSeconds = 500;
  Search search(f.tasks(), slow, f.store, f.clock, options);
  std::vector<TaskResult> results = search.run();
  EXPECT_EQ(results[0].bestHash,
            contentHash(*f.planner.schedule({8, 8, 1024, 0})));
  EXPECT_EQ(results[0].bestRatio, 1);
  // The heuristic was recorded, as record 0 of the task.
  ASSERT_FALSE(f.store.records.empty());
  EXPECT_EQ(f.store.records[0].origin, "heuristic");
}

TEST(Search, SameSeedSameAnswer) {
  auto run = [](uint64_t seed) {
    Fixture f;
    SearchOptions options;
    options.budgetSeconds = 800;
    options.seed = seed;
    Search search(f.tasks(), f.measurer, f.store, f.clock, options);
    std::vector<TaskResult> results = search.run();
    std::vector<std::string> sequence;
    for (const StoredRecord &r : f.store.records)
      sequence.push_back(r.knobs);
    return std::make_pair(results[0].bestKnobs, sequence);
  };
  auto first = run(3), second = run(3), other = run(4);
  EXPECT_EQ(first.first, second.first);
  EXPECT_EQ(first.second, second.second);
  EXPECT_NE(first.second, other.second);
}

TEST(Search, DeduplicatesSchedulesAndSkipsIllegalPoints) {
  Fixture f;
  SearchOptions options;
  options.budgetSeconds = 2000;
  Search search(f.tasks(), f.measurer, f.store, f.clock, options);
  search.run();
  std::set<std::string> seen;
  for (const std::string &hash : f.measurer.measuredHashes) {
    if (seen.count(hash))
      continue; // Only the confirmation measures a schedule again.
    seen.insert(hash);
  }
  int again = 0;
  for (const StoredRecord &r : f.store.records) {
    EXPECT_EQ(knob(r.knobs, "fake.d") == "3", false) << r.knobs;
    // d=1 plans what d=0 plans: it is never kept in a point.
    EXPECT_NE(knob(r.knobs, "fake.d"), "1") << r.knobs;
    again += r.message == kConfirmMessage;
  }
  EXPECT_EQ(f.measurer.measuredHashes.size(), seen.size() + again);
}

TEST(Search, ResumesAfterAKill) {
  Fixture f;
  std::atomic<bool> stop{false};
  f.measurer.stop = &stop;
  f.measurer.stopAfterBatches = 4;
  SearchOptions options;
  options.budgetSeconds = 4000;
  options.seed = 7;
  options.freezeAfter = 40;
  options.stop = &stop;
  double start = f.clock.t;
  Search(f.tasks(), f.measurer, f.store, f.clock, options).run();
  size_t before = f.store.records.size();
  ASSERT_GT(before, 1u);
  std::set<std::string> firstRun;
  for (const StoredRecord &r : f.store.records)
    firstRun.insert(r.hash);

  // The same command again: what is stored is not measured again, and the
  // budget counts what the first session spent.
  stop.store(false);
  f.measurer.stopAfterBatches = 0;
  f.measurer.measuredHashes.clear();
  options.spentBefore = f.clock.t - start;
  double restart = f.clock.t;
  std::vector<TaskResult> results =
      Search(f.tasks(), f.measurer, f.store, f.clock, options).run();
  EXPECT_LE(f.clock.t - restart, options.budgetSeconds - options.spentBefore);
  for (size_t i = before; i < f.store.records.size(); ++i) {
    const StoredRecord &r = f.store.records[i];
    if (r.message == kConfirmMessage)
      continue;
    EXPECT_EQ(firstRun.count(r.hash), 0u) << "measured twice: " << r.knobs;
  }
  // The heuristic is recorded once, by the first session.
  int heuristics = 0;
  for (const StoredRecord &r : f.store.records)
    heuristics += r.origin == "heuristic";
  EXPECT_EQ(heuristics, 1);
  EXPECT_EQ(knob(results[0].bestKnobs, "fake.a"), "3");
  EXPECT_EQ(knob(results[0].bestKnobs, "fake.b"), "12");
}
