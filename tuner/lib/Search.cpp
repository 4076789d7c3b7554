//===- Search.cpp - random and local moves over knobs, budget by gain -----===//

#include "txl/tuner/Search.h"

#include "txl/tuner/ContentHash.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <set>

namespace txl::tuner {

std::string knobText(const std::vector<tiling::KnobRange> &ranges,
                     const KnobPoint &point) {
  std::string text;
  for (size_t i = 0; i < ranges.size() && i < point.size(); ++i)
    text += (i ? "," : "") + ranges[i].name + "=" + std::to_string(point[i]);
  return text;
}

const char *outcomeName(Outcome outcome) {
  switch (outcome) {
  case Outcome::Ok:
    return "ok";
  case Outcome::CompileError:
    return "compile_error";
  case Outcome::Timeout:
    return "timeout";
  case Outcome::Crash:
    return "crash";
  case Outcome::WrongResult:
    return "wrong_result";
  case Outcome::Noisy:
    return "noisy";
  }
  return "?";
}

std::optional<Outcome> parseOutcome(const std::string &name) {
  for (Outcome o : {Outcome::Ok, Outcome::CompileError, Outcome::Timeout,
                    Outcome::Crash, Outcome::WrongResult, Outcome::Noisy})
    if (name == outcomeName(o))
      return o;
  return std::nullopt;
}

namespace {

/// A point from knob text written by knobText; knobs it does not name keep
/// `base`'s values.
KnobPoint parseKnobText(const std::vector<tiling::KnobRange> &ranges,
                        const std::string &text, KnobPoint base) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    std::string item = text.substr(start, end - start);
    size_t eq = item.find('=');
    if (eq != std::string::npos)
      for (size_t i = 0; i < ranges.size(); ++i)
        if (ranges[i].name == item.substr(0, eq))
          base[i] = std::strtoll(item.c_str() + eq + 1, nullptr, 10);
    start = end + 1;
  }
  return base;
}

int64_t clampToRange(const tiling::KnobRange &r, int64_t v) {
  int64_t step = std::max<int64_t>(1, r.step);
  v = std::clamp(v, r.minimum, r.maximum);
  // Legal values are multiples of the step.
  int64_t rounded = (v / step) * step;
  if (rounded < r.minimum)
    rounded += step;
  return std::min(rounded, r.maximum);
}

} // namespace

struct Search::State {
  std::mt19937_64 rng;
  Candidate heuristic;
  bool valid = false;
  bool heuristicRecorded = false;
  double heuristicSeconds = 0;
  /// Schedules measured (any outcome) or proposed in this session.
  std::set<std::string> seen;
  /// Ok ratios per schedule hash (earlier sessions and this one), and the
  /// point and knobs of each.
  std::map<std::string, std::vector<double>> ratios;
  std::map<std::string, std::pair<KnobPoint, std::string>> points;
  std::string bestHash;
  double bestRatio = 1;
  int measured = 0, sinceImprove = 0, batches = 0, failedBatches = 0;
  bool frozen = false;
  std::vector<double> gains;
  double secondsPerCandidate = 0;

  double meanRatio(const std::string &hash) const {
    const std::vector<double> &r = ratios.at(hash);
    return std::accumulate(r.begin(), r.end(), 0.0) / double(r.size());
  }
  /// Hashes of the best Ok schedules by mean ratio (the heuristic included).
  std::vector<std::string> top(size_t count) const {
    std::vector<std::pair<double, std::string>> all;
    for (const auto &[hash, r] : ratios)
      all.emplace_back(meanRatio(hash), hash);
    std::sort(all.begin(), all.end());
    std::vector<std::string> out;
    for (size_t i = 0; i < all.size() && i < count; ++i)
      out.push_back(all[i].second);
    return out;
  }
};

Search::Search(std::vector<SearchTask> tasks, Measurer &measurer,
               SearchStore &store, Clock &clock, SearchOptions options)
    : tasks(std::move(tasks)), measurer(measurer), store(store), clock(clock),
      options(options) {}

std::vector<TaskResult>
Search::run(const std::function<void(const SearchProgress &)> &progress) {
  const double start = clock.now();
  const double deadline = options.budgetSeconds - options.spentBefore;
  auto elapsed = [&] { return clock.now() - start; };
  auto stopped = [&] { return options.stop && options.stop->load(); };
  std::vector<State> states(tasks.size());
  uint64_t taskSeed = options.seed;

  // The heuristic of every task, and what earlier sessions measured.
  for (size_t t = 0; t < tasks.size(); ++t) {
    State &s = states[t];
    CandidatePlanner &planner = *tasks[t].planner;
    taskSeed = taskSeed * 6364136223846793005ULL + 1442695040888963407ULL;
    s.rng.seed(taskSeed ^ std::hash<std::string>()(tasks[t].key));
    s.heuristic.point = planner.heuristic();
    std::optional<std::string> schedule = planner.schedule(s.heuristic.point);
    if (!schedule)
      continue; // Cannot be planned: left to the heuristic, never measured.
    s.valid = true;
    s.heuristic.schedule = *schedule;
    s.heuristic.scheduleHash = contentHash(*schedule);
    s.heuristic.knobs = knobText(planner.ranges(), s.heuristic.point);
    s.heuristic.origin = "heuristic";
    s.seen.insert(s.heuristic.scheduleHash);
    s.bestHash = s.heuristic.scheduleHash;
    s.ratios[s.bestHash].push_back(1.0);
    s.points[s.bestHash] = {s.heuristic.point, s.heuristic.knobs};
    for (const PriorRecord &prior : store.previous(tasks[t])) {
      s.seen.insert(prior.scheduleHash);
      if (prior.origin == "heuristic" && prior.outcome == Outcome::Ok) {
        s.heuristicRecorded = true;
        s.heuristicSeconds = prior.medianSeconds;
        continue;
      }
      if (prior.outcome != Outcome::Ok ||
          prior.scheduleHash == s.heuristic.scheduleHash)
        continue;
      s.ratios[prior.scheduleHash].push_back(prior.ratio);
      s.points[prior.scheduleHash] = {
          parseKnobText(planner.ranges(), prior.knobs, s.heuristic.point),
          prior.knobs};
      ++s.measured;
    }
    std::string best = s.top(1).front();
    if (s.meanRatio(best) < 1 - options.minWin) {
      s.bestHash = best;
      s.bestRatio = s.meanRatio(best);
    }
  }

  auto randomValue = [](std::mt19937_64 &rng, const tiling::KnobRange &r) {
    int64_t step = std::max<int64_t>(1, r.step);
    int64_t count = (r.maximum - r.minimum) / step + 1;
    if (count > 64) { // Wide ranges (bytes): log-uniform.
      double lo = std::log(double(std::max<int64_t>(1, r.minimum)));
      double hi = std::log(double(r.maximum));
      double v = std::exp(std::uniform_real_distribution<double>(lo, hi)(rng));
      return clampToRange(r, int64_t(std::llround(v)));
    }
    return r.minimum +
           step * std::uniform_int_distribution<int64_t>(0, count - 1)(rng);
  };
  // A neighbour: a step or two on narrow ranges, a factor on wide ones
  // (bytes, element counts), sometimes anywhere.
  auto moveValue = [&](std::mt19937_64 &rng, const tiling::KnobRange &r,
                       int64_t v) {
    int64_t step = std::max<int64_t>(1, r.step);
    bool wide = (r.maximum - r.minimum) / step + 1 > 64;
    int choice = std::uniform_int_distribution<int>(0, 4)(rng);
    if (choice == 4)
      return randomValue(rng, r);
    if (wide) {
      static const double factors[] = {0.5, 0.8, 1.25, 2.0};
      return clampToRange(r,
                          int64_t(std::llround(double(std::max<int64_t>(v, 1)) *
                                               factors[choice])));
    }
    static const int64_t steps[] = {-2, -1, 1, 2};
    return clampToRange(r, v + steps[choice] * step);
  };

  auto propose = [&](size_t t, int count) {
    State &s = states[t];
    CandidatePlanner &planner = *tasks[t].planner;
    const auto &ranges = planner.ranges();
    std::vector<Candidate> out;
    std::uniform_real_distribution<double> unit(0, 1);
    for (int attempt = 0;
         int(out.size()) < count && attempt < 80 * count && !ranges.empty();
         ++attempt) {
      KnobPoint p;
      bool first = s.ratios.size() <= 1 && s.measured == 0;
      if (first || unit(s.rng) < 0.1) {
        // Random: everywhere, or the heuristic with a few knobs redrawn.
        p = s.heuristic.point;
        bool everywhere = unit(s.rng) < 0.5;
        for (size_t k = 0; k < ranges.size(); ++k)
          if (everywhere || unit(s.rng) < 3.0 / double(ranges.size()))
            p[k] = randomValue(s.rng, ranges[k]);
      } else {
        std::vector<std::string> best = s.top(3);
        const std::string &base = best[std::uniform_int_distribution<size_t>(
            0, best.size() - 1)(s.rng)];
        p = s.points.at(base).first;
        int moves = unit(s.rng) < 0.7 ? 1 : 2;
        for (int m = 0; m < moves; ++m) {
          size_t k = std::uniform_int_distribution<size_t>(0, ranges.size() -
                                                                  1)(s.rng);
          p[k] = moveValue(s.rng, ranges[k], p[k]);
        }
      }
      std::optional<std::string> schedule = planner.schedule(p);
      if (!schedule)
        continue;
      std::string hash = contentHash(*schedule);
      if (!s.seen.insert(hash).second)
        continue;
      // Knobs that do not change this kernel's schedule go back to the
      // heuristic's values: reports then name only the knobs that matter,
      // and later moves start from them.
      for (size_t k = 0; k < ranges.size(); ++k) {
        if (p[k] == s.heuristic.point[k])
          continue;
        KnobPoint reverted = p;
        reverted[k] = s.heuristic.point[k];
        std::optional<std::string> same = planner.schedule(reverted);
        if (same && *same == *schedule)
          p = reverted;
      }
      Candidate c;
      c.point = p;
      c.knobs = knobText(ranges, p);
      c.schedule = *schedule;
      c.scheduleHash = hash;
      out.push_back(std::move(c));
    }
    return out;
  };

  auto shareOf = [&](size_t t) {
    double total = 0;
    for (size_t u = 0; u < tasks.size(); ++u)
      total += tasks[u].weight * states[u].heuristicSeconds;
    return total > 0 ? tasks[t].weight * states[t].heuristicSeconds / total
                     : 0.0;
  };
  double globalSecondsPerCandidate = 0;
  auto estimate = [&](size_t t, int count) {
    double per = states[t].secondsPerCandidate > 0
                     ? states[t].secondsPerCandidate
                     : globalSecondsPerCandidate;
    return per * std::max(1, count);
  };
  // Time kept for measuring the best few again at the end.
  auto confirmReserve = [&] {
    double reserve = 0;
    for (size_t t = 0; t < tasks.size(); ++t)
      if (states[t].valid &&
          states[t].bestHash != states[t].heuristic.scheduleHash)
        reserve += estimate(t, options.confirmTop);
    return reserve;
  };
  // Frozen for now: too long without gain. Searched again only when every
  // task is, while budget is left.
  auto stale = [&](const State &s) {
    return s.sinceImprove >= options.freezeAfter;
  };
  int totalCandidates = 0;
  auto report = [&](size_t current) {
    if (!progress)
      return;
    SearchProgress p;
    p.elapsed = elapsed() + options.spentBefore;
    p.budget = options.budgetSeconds;
    p.task = current;
    p.tasks = tasks.size();
    p.candidates = totalCandidates;
    for (size_t t = 0; t < tasks.size(); ++t)
      p.perTask.push_back({tasks[t].label, states[t].measured,
                           states[t].bestRatio,
                           states[t].frozen || stale(states[t]), shareOf(t)});
    progress(p);
  };

  // Measures `candidates` of task t and records everything.
  auto runBatch = [&](size_t t, const std::vector<Candidate> &candidates,
                      bool confirming) {
    State &s = states[t];
    double before = clock.now();
    Measurement baseline;
    std::vector<Measurement> results =
        measurer.measure(t, s.heuristic, candidates, baseline);
    double spent = clock.now() - before;
    if (stopped())
      return; // Interrupted (the worker may have died of it): not kept.
    {
      // A batch of the heuristic alone costs about one candidate.
      double per = spent / double(std::max<size_t>(1, candidates.size()));
      s.secondsPerCandidate =
          s.secondsPerCandidate > 0 ? 0.5 * (s.secondsPerCandidate + per) : per;
      globalSecondsPerCandidate = globalSecondsPerCandidate > 0
                                      ? 0.5 * (globalSecondsPerCandidate + per)
                                      : per;
    }
    if (baseline.outcome != Outcome::Ok) {
      // Nothing of this batch can be compared. The heuristic failing
      // (compile, crash) ends the task; a noisy machine ends it only after
      // three batches in a row.
      // Failures are records too.
      store.record(tasks[t], s.heuristic, baseline, elapsed());
      for (size_t i = 0; i < results.size() && i < candidates.size(); ++i)
        store.record(tasks[t], candidates[i], results[i], elapsed());
      ++s.failedBatches;
      if (baseline.outcome != Outcome::Noisy || s.failedBatches >= 3)
        s.frozen = true;
      return;
    }
    s.failedBatches = 0;
    if (!s.heuristicRecorded) {
      store.record(tasks[t], s.heuristic, baseline, elapsed());
      s.heuristicRecorded = true;
      s.heuristicSeconds = baseline.medianSeconds;
    }
    ++s.batches;
    for (size_t i = 0; i < results.size() && i < candidates.size(); ++i) {
      const Candidate &c = candidates[i];
      Measurement m = results[i];
      if (confirming && m.message.empty())
        m.message = kConfirmMessage;
      store.record(tasks[t], c, m, elapsed());
      ++totalCandidates;
      if (confirming) {
        if (m.outcome == Outcome::Ok)
          s.ratios[c.scheduleHash].push_back(m.ratio);
        continue;
      }
      ++s.measured;
      if (m.outcome != Outcome::Ok) {
        ++s.sinceImprove;
        continue;
      }
      s.ratios[c.scheduleHash].push_back(m.ratio);
      s.points[c.scheduleHash] = {c.point, c.knobs};
      double threshold =
          s.bestRatio * (1 - std::max(options.minWin, 2 * m.uncertainty));
      if (m.ratio < threshold) {
        s.gains.push_back(s.bestRatio / m.ratio - 1);
        s.bestRatio = m.ratio;
        s.bestHash = c.scheduleHash;
        s.sinceImprove = 0;
      } else {
        ++s.sinceImprove;
      }
    }
  };

  auto fits = [&](size_t t, int count) {
    return elapsed() + estimate(t, count) + confirmReserve() <= deadline;
  };

  // The search proper.
  while (!stopped()) {
    // 1. Tasks that only need a heuristic record (never searched:
    //    @prepare's, run once at load).
    std::optional<size_t> chosen;
    int count = options.batchSize;
    for (size_t t = 0; t < tasks.size() && !chosen; ++t)
      if (states[t].valid && !states[t].frozen && tasks[t].weight <= 0 &&
          !states[t].heuristicRecorded)
        chosen = t, count = 0;
    // 2. The heuristic of every task measured alone, heaviest first: every
    //    kernel gets a record (a compile with --tuning-db-require finds it)
    //    and its cost is known before its candidates are.
    bool heuristicOnly = false;
    if (!chosen) {
      double heaviest = -1;
      for (size_t t = 0; t < tasks.size(); ++t)
        if (states[t].valid && !states[t].frozen && tasks[t].weight > 0 &&
            !states[t].heuristicRecorded && tasks[t].weight > heaviest)
          heaviest = tasks[t].weight, chosen = t, heuristicOnly = true;
    }
    // 3. A first batch of candidates for every task, heaviest first.
    if (!chosen) {
      double heaviest = -1;
      for (size_t t = 0; t < tasks.size(); ++t)
        if (states[t].valid && !states[t].frozen && tasks[t].weight > 0 &&
            states[t].measured == 0 && tasks[t].weight > heaviest)
          heaviest = tasks[t].weight, chosen = t;
    }
    // 4. The largest expected gain, among the tasks not frozen for want of
    //    gain (among all, when every one is).
    bool allStale = true;
    for (size_t t = 0; t < tasks.size(); ++t)
      if (states[t].valid && !states[t].frozen && tasks[t].weight > 0 &&
          !stale(states[t]))
        allStale = false;
    if (!chosen) {
      double bestGain = -1;
      for (size_t t = 0; t < tasks.size(); ++t) {
        const State &s = states[t];
        if (!s.valid || s.frozen || tasks[t].weight <= 0 ||
            (stale(s) && !allStale))
          continue;
        double recent =
            s.gains.empty()
                ? 0.05
                : (s.gains.back() +
                   s.gains[s.gains.size() > 1 ? s.gains.size() - 2 : 0]) /
                      2;
        double gain = shareOf(t) * std::max(0.002, recent) *
                      std::pow(0.7, double(s.sinceImprove) /
                                        double(std::max(1, options.batchSize)));
        if (gain > bestGain)
          bestGain = gain, chosen = t;
      }
    }
    if (!chosen)
      break;
    size_t t = *chosen;
    if (count == 0) {
      // Run once at load: its time does not matter, only that a compile
      // with --tuning-db-require finds a record. Recorded, not timed.
      Measurement untimed;
      untimed.message = "not timed: runs once at load (@prepare)";
      store.record(tasks[t], states[t].heuristic, untimed, elapsed());
      states[t].heuristicRecorded = true;
      states[t].frozen = true;
      continue;
    }
    if (heuristicOnly) {
      if (!fits(t, 1))
        break;
      runBatch(t, {}, false);
      report(t);
      continue;
    }
    while (count > 1 && !fits(t, count))
      --count;
    if (!fits(t, count))
      break;
    std::vector<Candidate> candidates;
    if (count > 0) {
      candidates = propose(t, count);
      if (candidates.empty()) {
        states[t].frozen = true; // Nothing new to try.
        continue;
      }
    }
    runBatch(t, candidates, false);
    report(t);
  }

  // The best few of each task measured again: the best of noisy
  // measurements is biased low, the mean of two is less so.
  for (size_t t = 0; t < tasks.size() && !stopped(); ++t) {
    State &s = states[t];
    if (!s.valid || s.bestHash == s.heuristic.scheduleHash)
      continue;
    std::vector<Candidate> again;
    for (const std::string &hash : s.top(size_t(options.confirmTop) + 1)) {
      if (hash == s.heuristic.scheduleHash ||
          int(again.size()) >= options.confirmTop)
        continue;
      Candidate c;
      c.point = s.points.at(hash).first;
      c.knobs = s.points.at(hash).second;
      std::optional<std::string> schedule = tasks[t].planner->schedule(c.point);
      if (!schedule || contentHash(*schedule) != hash)
        continue; // Planned differently now (another txl): not re-measured.
      c.schedule = *schedule;
      c.scheduleHash = hash;
      again.push_back(std::move(c));
    }
    if (again.empty() || elapsed() + estimate(t, int(again.size())) > deadline)
      continue;
    runBatch(t, again, true);
    report(t);
  }

  std::vector<TaskResult> results;
  for (size_t t = 0; t < tasks.size(); ++t) {
    State &s = states[t];
    TaskResult r;
    r.label = tasks[t].label;
    r.heuristicSeconds = s.heuristicSeconds;
    r.measured = s.measured;
    if (!s.valid) {
      results.push_back(r);
      continue;
    }
    r.bestHash = s.heuristic.scheduleHash;
    r.bestKnobs = s.heuristic.knobs;
    std::string best = s.top(1).front();
    if (s.meanRatio(best) < 1 - options.minWin) {
      r.bestHash = best;
      r.bestRatio = s.meanRatio(best);
      r.bestKnobs = s.points.at(best).second;
    }
    results.push_back(r);
  }
  return results;
}

} // namespace txl::tuner
