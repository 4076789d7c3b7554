//===- Sampler.h - picks the next token from log-probabilities --*- C++ -*-===//
//
// Temperature and top-k sampling over one row of V log-probabilities, driven
// by a seeded std::mt19937_64 so that a seed always gives the same tokens (the
// uniform draw is computed here, not by std::uniform_real_distribution,
// whose algorithm differs between standard libraries).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_SAMPLER_H
#define TXL_RUNNER_SAMPLER_H

#include "txl/support/Status.h"

#include <cstdint>
#include <random>
#include <vector>

namespace txl {

struct SamplingOptions {
  /// Divides the log-probabilities before renormalising: < 1 sharpens, > 1
  /// flattens; 0 always takes the most likely token (greedy).
  double temperature = 1.0;
  /// Draw only among the k most likely tokens; 0 = all.
  int64_t topK = 0;
  uint64_t seed = 0;
};

class Sampler {
public:
  /// Fails on a negative or non-finite temperature or a negative top-k.
  static Status check(const SamplingOptions &options);

  explicit Sampler(const SamplingOptions &options);

  /// A token id in [0, vocabSize) drawn from `logProbs` (NaN counts as
  /// impossible). Greedy ties go to the lowest id.
  int64_t sample(const float *logProbs, int64_t vocabSize);

private:
  /// A uniform double in [0, 1) from the top 53 bits of one draw.
  double uniform();

  SamplingOptions options;
  std::mt19937_64 engine;
  std::vector<int64_t> candidates; // reused between calls
  std::vector<double> weights;
};

} // namespace txl

#endif // TXL_RUNNER_SAMPLER_H
