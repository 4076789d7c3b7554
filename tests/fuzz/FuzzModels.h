//===- FuzzModels.h - the small configs the loader fuzzers bind to -*- C++
//-*-===//
//
// Two tiny models (a handful of weights each) so that the seed corpora hold
// whole, valid weight files of a few hundred bytes: a plain softmax with tied
// embeddings, and an adaptive one (one cutoff, div_val 2, tied projections).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_FUZZ_FUZZMODELS_H
#define TXL_TESTS_FUZZ_FUZZMODELS_H

#include "txl/models/ModelConfig.h"

#include <cstdio>
#include <cstdlib>

namespace txl::fuzz {

inline constexpr const char *kPlainConfig = R"({
  "vocab_size": 8, "n_layer": 1, "d_model": 4, "d_embed": 4, "n_head": 1,
  "d_head": 4, "d_inner": 4, "mem_len": 2, "tgt_len": 2, "clamp_len": -1,
  "same_length": false, "pre_lnorm": false, "untie_r": true, "cutoffs": [],
  "div_val": 1, "tie_projs": [false], "tie_word_embeddings": true,
  "layer_norm_epsilon": 1e-05, "attn_type": 0, "ext_len": 0,
  "sample_softmax": -1, "adaptive": true})";

inline constexpr const char *kAdaptiveConfig = R"({
  "vocab_size": 8, "n_layer": 1, "d_model": 4, "d_embed": 4, "n_head": 1,
  "d_head": 2, "d_inner": 4, "mem_len": 2, "tgt_len": 2, "clamp_len": -1,
  "same_length": false, "pre_lnorm": true, "untie_r": false, "cutoffs": [4],
  "div_val": 2, "tie_projs": [false, true], "tie_word_embeddings": true,
  "layer_norm_epsilon": 1e-05, "attn_type": 0, "ext_len": 0,
  "sample_softmax": -1, "adaptive": true})";

/// The config of `text`; aborts when it does not parse (a bug of the
/// fuzzer, not a finding).
inline ModelConfig fixedConfig(const char *text) {
  auto config = ModelConfig::fromJsonString(text, "fuzz-config.json");
  if (!config.ok()) {
    std::fprintf(stderr, "fuzz config: %s\n",
                 config.status().message().c_str());
    std::abort();
  }
  return *config;
}

} // namespace txl::fuzz

#endif // TXL_TESTS_FUZZ_FUZZMODELS_H
