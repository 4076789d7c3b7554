//===- Sampler.cpp - picks the next token from log-probabilities ----------===//

#include "txl/runner/Sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>

namespace txl {

namespace {

/// NaN sorts as impossible.
double score(float logProb) {
  return std::isnan(logProb) ? -std::numeric_limits<double>::infinity()
                             : double(logProb);
}

} // namespace

Status Sampler::check(const SamplingOptions &options) {
  if (!std::isfinite(options.temperature) || options.temperature < 0) {
    std::ostringstream found;
    found << options.temperature;
    return Status::error("--temperature must be >= 0 (0 = greedy), found " +
                         found.str());
  }
  if (options.topK < 0)
    return Status::error("--top-k must be >= 0 (0 = all tokens), found " +
                         std::to_string(options.topK));
  return Status::ok();
}

Sampler::Sampler(const SamplingOptions &options)
    : options(options), engine(options.seed) {}

double Sampler::uniform() { return double(engine() >> 11) * 0x1.0p-53; }

int64_t Sampler::sample(const float *logProbs, int64_t vocabSize) {
  if (options.temperature == 0) {
    int64_t best = 0;
    for (int64_t v = 1; v < vocabSize; ++v)
      if (score(logProbs[v]) > score(logProbs[best]))
        best = v;
    return best;
  }

  candidates.resize(vocabSize);
  std::iota(candidates.begin(), candidates.end(), int64_t(0));
  if (options.topK > 0 && options.topK < vocabSize) {
    // The k most likely, ties to the lower id, so the set is deterministic.
    auto moreLikely = [&](int64_t a, int64_t b) {
      double sa = score(logProbs[a]), sb = score(logProbs[b]);
      return sa > sb || (sa == sb && a < b);
    };
    std::nth_element(candidates.begin(), candidates.begin() + options.topK,
                     candidates.end(), moreLikely);
    candidates.resize(options.topK);
    std::sort(candidates.begin(), candidates.end());
  }

  double top = -std::numeric_limits<double>::infinity();
  for (int64_t v : candidates)
    top = std::max(top, score(logProbs[v]));
  if (!std::isfinite(top))
    return candidates.front(); // nothing is possible: any answer is as good

  // exp((log p - max) / T): the softmax of the tempered row, unnormalised.
  weights.resize(candidates.size());
  double total = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    weights[i] =
        std::exp((score(logProbs[candidates[i]]) - top) / options.temperature);
    total += weights[i];
  }
  double target = uniform() * total, cumulative = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    cumulative += weights[i];
    if (target < cumulative && weights[i] > 0)
      return candidates[i];
  }
  // Rounding left the target at the very end: the last possible token.
  for (size_t i = candidates.size(); i-- > 0;)
    if (weights[i] > 0)
      return candidates[i];
  return candidates.front();
}

} // namespace txl
