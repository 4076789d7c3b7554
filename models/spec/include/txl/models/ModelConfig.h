//===- ModelConfig.h - a Transformer-XL config.json -------------*- C++ -*-===//
//
// The fields of a Hugging Face TransfoXLConfig that change the computation,
// with HF's defaults for absent fields. Loading refuses configurations txl
// does not implement (attn_type != 0, ext_len, sampled softmax) and
// combinations that cannot work (same_length with mem_len 0), so later
// stages can trust every field.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_MODELS_MODELCONFIG_H
#define TXL_MODELS_MODELCONFIG_H

#include "txl/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txl {

/// Field names are HF's (see docs: transformer-xl-semantics §0). Defaults are
/// HF TransfoXLConfig's, i.e. the wt103-large model.
struct ModelConfig {
  int64_t vocab_size = 267735;
  int64_t n_layer = 18;
  int64_t d_model = 1024;
  /// HF's literal default is 1024, not d_model.
  int64_t d_embed = 1024;
  int64_t n_head = 16;
  int64_t d_head = 64;
  int64_t d_inner = 4096;
  int64_t mem_len = 1600;
  /// <= 0: no clamping of relative distances.
  int64_t clamp_len = 1000;
  bool same_length = true;
  bool pre_lnorm = false;
  /// true: one r_w_bias / r_r_bias pair per layer; false: one shared pair.
  bool untie_r = true;
  /// c_1 < ... < c_n of the adaptive embedding and softmax.
  std::vector<int64_t> cutoffs = {20000, 40000, 200000};
  int64_t div_val = 4;
  /// numClusters() + 1 entries: tie_projs[i] ties crit.out_projs.i to the
  /// embedding projection. From JSON, else from proj_share_all_but_first.
  std::vector<bool> tie_projs = {false, true, true, true};
  /// Authors' name: tie_weight.
  bool tie_word_embeddings = true;
  double layer_norm_epsilon = 1e-5;
  /// Segment length the model was trained or evaluated with, if the file
  /// says; it does not change the computation (a default for tools).
  std::optional<int64_t> tgt_len;

  /// HF's n_clusters: the number of tail clusters, i.e. cutoffs.size(). The
  /// adaptive layers have numClusters() + 1 parts, the head (cluster 0, the
  /// shortlist) and the tails 1..n.
  int64_t numClusters() const { return static_cast<int64_t>(cutoffs.size()); }
  /// [0, c_1, ..., c_n, vocab_size]: cluster i holds ids [ends[i], ends[i+1]).
  std::vector<int64_t> clusterEnds() const;
  /// Embedding width of cluster i (0..numClusters()): d_embed / div_val^i.
  int64_t clusterWidth(int64_t cluster) const;

  /// Parses and validates a config.json. Errors read
  /// `<file>: field '<name>': <what>, expected <x>, found <y>`.
  static StatusOr<ModelConfig> fromJsonFile(const std::string &path);
  /// As fromJsonFile; `sourceName` stands for the file in messages.
  static StatusOr<ModelConfig> fromJsonString(const std::string &text,
                                              const std::string &sourceName);
};

} // namespace txl

#endif // TXL_MODELS_MODELCONFIG_H
