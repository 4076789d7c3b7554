//===- ParameterSpec.h - the tensors a config implies -----------*- C++ -*-===//
//
// Every tensor the computation reads, under its Hugging Face state_dict name
// (transformer-xl-semantics §7), with the shape the config implies (§1, §3,
// §5). A tied pair is one tensor: its canonical name is the embedding side
// (the name HF keeps when it saves tied weights once), the tied copy's name
// is an alternate. The graph builder names txl.weight ops with the canonical
// names below and the weight binder binds exactly those, so the two agree.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_MODELS_PARAMETERSPEC_H
#define TXL_MODELS_PARAMETERSPEC_H

#include "txl/models/ModelConfig.h"

#include <cstdint>
#include <string>
#include <vector>

namespace txl {

struct ParameterSpec {
  /// The canonical name.
  std::string name;
  std::vector<int64_t> shape;
  /// Names under which a file may hold the same tensor (tied copies, the
  /// per-layer aliases of a shared r_w_bias / r_r_bias).
  std::vector<std::string> alternateNames;
};

/// The canonical parameter list, in model order: embedding tables and
/// projections, the shared r biases (untie_r false), layers 0..L-1, then the
/// adaptive softmax (cluster_weight / cluster_bias, out_layers, out_projs;
/// tied ones appear only as alternates of the embedding's entry).
std::vector<ParameterSpec> expectedParameters(const ModelConfig &config);

/// Buffers a file may carry that are recomputed, never read
/// (transformer.pos_emb.inv_freq).
std::vector<std::string> ignoredBufferNames(const ModelConfig &config);

// Canonical names by role. Functions that take the config return the name
// after tying, and an empty string where the model has no such tensor.

/// transformer.word_emb.emb_layers.<cluster>.weight.
std::string embeddingTableName(int64_t cluster);
/// transformer.word_emb.emb_projs.<cluster>; empty when div_val == 1 and
/// d_embed == d_model, or for cluster > 0 when div_val == 1.
std::string embeddingProjectionName(const ModelConfig &config, int64_t cluster);
/// transformer.layers.<layer>.<suffix>, e.g. suffix "dec_attn.qkv_net.weight".
std::string layerParamName(int64_t layer, const std::string &suffix);
/// transformer.layers.<layer>.dec_attn.r_w_bias, or transformer.r_w_bias when
/// untie_r is false (one pair shared by all layers).
std::string rwBiasName(const ModelConfig &config, int64_t layer);
/// As rwBiasName, for r_r_bias.
std::string rrBiasName(const ModelConfig &config, int64_t layer);
/// crit.out_layers.<cluster>.weight, or the embedding table it is tied to.
/// div_val == 1 has the single out_layers.0 for all clusters.
std::string outputLayerWeightName(const ModelConfig &config, int64_t cluster);
/// crit.out_layers.<cluster>.bias (biases are never tied).
std::string outputLayerBiasName(const ModelConfig &config, int64_t cluster);
/// crit.out_projs.<cluster>, or the embedding projection it is tied to;
/// empty when div_val == 1 and d_embed == d_model.
std::string outputProjectionName(const ModelConfig &config, int64_t cluster);
/// crit.cluster_weight [n, d_embed] / crit.cluster_bias [n]; empty when the
/// config has no cutoffs.
std::string clusterWeightName(const ModelConfig &config);
std::string clusterBiasName(const ModelConfig &config);

} // namespace txl

#endif // TXL_MODELS_PARAMETERSPEC_H
