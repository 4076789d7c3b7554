//===- ParameterSpec.cpp - the tensors a Transformer-XL config implies ----===//
//
// Mirrors the parameter creation of HF TransfoXLLMHeadModel (AdaptiveEmbedding,
// RelPartialLearnableDecoderLayer, ProjectedAdaptiveLogSoftmax) and its
// tie_weights(), see transformer-xl-semantics §1, §3, §5, §7.
//
//===----------------------------------------------------------------------===//

#include "txl/models/ParameterSpec.h"

#include <map>

namespace txl {
namespace {

std::string index(int64_t i) { return std::to_string(i); }

bool tiesProjection(const ModelConfig &config, int64_t cluster) {
  return cluster >= 0 &&
         cluster < static_cast<int64_t>(config.tie_projs.size()) &&
         config.tie_projs[cluster];
}

std::string sharedBiasName(const std::string &which) {
  return "transformer." + which;
}

} // namespace

std::string embeddingTableName(int64_t cluster) {
  return "transformer.word_emb.emb_layers." + index(cluster) + ".weight";
}

std::string embeddingProjectionName(const ModelConfig &config,
                                    int64_t cluster) {
  if (config.div_val == 1 && (cluster != 0 || config.d_embed == config.d_model))
    return "";
  return "transformer.word_emb.emb_projs." + index(cluster);
}

std::string layerParamName(int64_t layer, const std::string &suffix) {
  return "transformer.layers." + index(layer) + "." + suffix;
}

std::string rwBiasName(const ModelConfig &config, int64_t layer) {
  return config.untie_r ? layerParamName(layer, "dec_attn.r_w_bias")
                        : sharedBiasName("r_w_bias");
}

std::string rrBiasName(const ModelConfig &config, int64_t layer) {
  return config.untie_r ? layerParamName(layer, "dec_attn.r_r_bias")
                        : sharedBiasName("r_r_bias");
}

std::string outputLayerWeightName(const ModelConfig &config, int64_t cluster) {
  int64_t layer = config.div_val == 1 ? 0 : cluster;
  if (config.tie_word_embeddings)
    return embeddingTableName(layer);
  return "crit.out_layers." + index(layer) + ".weight";
}

std::string outputLayerBiasName(const ModelConfig &config, int64_t cluster) {
  int64_t layer = config.div_val == 1 ? 0 : cluster;
  return "crit.out_layers." + index(layer) + ".bias";
}

std::string outputProjectionName(const ModelConfig &config, int64_t cluster) {
  if (config.div_val == 1 && config.d_embed == config.d_model)
    return "";
  if (tiesProjection(config, cluster))
    return embeddingProjectionName(config, config.div_val == 1 ? 0 : cluster);
  return "crit.out_projs." + index(cluster);
}

std::string clusterWeightName(const ModelConfig &config) {
  return config.numClusters() > 0 ? "crit.cluster_weight" : "";
}

std::string clusterBiasName(const ModelConfig &config) {
  return config.numClusters() > 0 ? "crit.cluster_bias" : "";
}

std::vector<std::string> ignoredBufferNames(const ModelConfig &config) {
  return {"transformer.pos_emb.inv_freq"};
}

std::vector<ParameterSpec> expectedParameters(const ModelConfig &config) {
  std::vector<ParameterSpec> specs;
  std::map<std::string, size_t> position;
  auto add = [&](const std::string &name, std::vector<int64_t> shape) {
    position[name] = specs.size();
    specs.push_back({name, std::move(shape), {}});
  };
  // A tied tensor: `name` if it is its own tensor, else an alternate name of
  // the canonical tensor `canonical` (already listed, same shape).
  auto addOrAlias = [&](const std::string &canonical, const std::string &name,
                        std::vector<int64_t> shape) {
    if (canonical == name)
      add(name, std::move(shape));
    else
      specs[position.at(canonical)].alternateNames.push_back(name);
  };

  const int64_t model = config.d_model, embed = config.d_embed;
  const int64_t inner = config.n_head * config.d_head;
  const int64_t clusters = config.numClusters();
  const std::vector<int64_t> ends = config.clusterEnds();

  // Adaptive embedding (§1).
  if (config.div_val == 1) {
    add(embeddingTableName(0), {config.vocab_size, embed});
    if (!embeddingProjectionName(config, 0).empty())
      add(embeddingProjectionName(config, 0), {model, embed});
  } else {
    for (int64_t i = 0; i <= clusters; ++i) {
      add(embeddingTableName(i),
          {ends[i + 1] - ends[i], config.clusterWidth(i)});
      add(embeddingProjectionName(config, i), {model, config.clusterWidth(i)});
    }
  }

  // One r_w_bias / r_r_bias pair for all layers; HF's state_dict also lists
  // it under every layer's name.
  if (!config.untie_r) {
    for (const char *which : {"r_w_bias", "r_r_bias"}) {
      add(sharedBiasName(which), {config.n_head, config.d_head});
      for (int64_t l = 0; l < config.n_layer; ++l)
        specs.back().alternateNames.push_back(
            layerParamName(l, std::string("dec_attn.") + which));
    }
  }

  // Decoder layers (§3).
  for (int64_t l = 0; l < config.n_layer; ++l) {
    auto param = [&](const std::string &suffix, std::vector<int64_t> shape) {
      add(layerParamName(l, suffix), std::move(shape));
    };
    param("dec_attn.qkv_net.weight", {3 * inner, model});
    param("dec_attn.r_net.weight", {inner, model});
    param("dec_attn.o_net.weight", {model, inner});
    param("dec_attn.layer_norm.weight", {model});
    param("dec_attn.layer_norm.bias", {model});
    if (config.untie_r) {
      param("dec_attn.r_w_bias", {config.n_head, config.d_head});
      param("dec_attn.r_r_bias", {config.n_head, config.d_head});
    }
    param("pos_ff.CoreNet.0.weight", {config.d_inner, model});
    param("pos_ff.CoreNet.0.bias", {config.d_inner});
    param("pos_ff.CoreNet.3.weight", {model, config.d_inner});
    param("pos_ff.CoreNet.3.bias", {model});
    param("pos_ff.layer_norm.weight", {model});
    param("pos_ff.layer_norm.bias", {model});
  }

  // Projected adaptive log-softmax (§5).
  if (clusters > 0) {
    add(clusterWeightName(config), {clusters, embed});
    add(clusterBiasName(config), {clusters});
  }
  int64_t outputLayers = config.div_val == 1 ? 1 : clusters + 1;
  for (int64_t i = 0; i < outputLayers; ++i) {
    int64_t rows =
        config.div_val == 1 ? config.vocab_size : ends[i + 1] - ends[i];
    int64_t width = config.clusterWidth(config.div_val == 1 ? 0 : i);
    std::string own = "crit.out_layers." + index(i) + ".weight";
    addOrAlias(outputLayerWeightName(config, i), own, {rows, width});
    add(outputLayerBiasName(config, i), {rows});
  }
  if (config.div_val != 1 || embed != model) {
    for (int64_t i = 0; i <= clusters; ++i) {
      int64_t width = config.clusterWidth(config.div_val == 1 ? 0 : i);
      addOrAlias(outputProjectionName(config, i), "crit.out_projs." + index(i),
                 {model, width});
    }
  }
  return specs;
}

} // namespace txl
