//===- ParameterSpecTest.cpp - the parameter list a config implies --------===//

#include "txl/models/ParameterSpec.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

using namespace txl;

namespace {

using Shape = std::vector<int64_t>;

ModelConfig config(const std::string &json) {
  auto parsed = ModelConfig::fromJsonString(json, "cfg.json");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : ModelConfig();
}

std::map<std::string, ParameterSpec> byName(const ModelConfig &c) {
  std::map<std::string, ParameterSpec> specs;
  for (const ParameterSpec &spec : expectedParameters(c))
    EXPECT_TRUE(specs.emplace(spec.name, spec).second)
        << "listed twice: " << spec.name;
  return specs;
}

/// Every canonical and alternate name occurs once in the whole list.
void expectNamesUnique(const ModelConfig &c) {
  std::set<std::string> seen;
  for (const ParameterSpec &spec : expectedParameters(c)) {
    EXPECT_TRUE(seen.insert(spec.name).second) << spec.name;
    for (const std::string &alternate : spec.alternateNames)
      EXPECT_TRUE(seen.insert(alternate).second) << alternate;
  }
}

std::string layer(int l, const std::string &suffix) {
  return "transformer.layers." + std::to_string(l) + "." + suffix;
}

// div_val 4, three tail clusters, wt103-style tying.
const char *kDivVal4 =
    R"({"vocab_size": 1000, "cutoffs": [100, 200, 500], "d_model": 32,)"
    R"( "d_embed": 64, "div_val": 4, "n_layer": 2, "n_head": 2, "d_head": 8,)"
    R"( "d_inner": 48, "mem_len": 16, "tie_projs": [false, true, true, true]})";

TEST(ParameterSpec, DivVal4ThreeClusters) {
  ModelConfig c = config(kDivVal4);
  auto specs = byName(c);
  // 4 tables + 4 projections, 13 per layer, cluster weight + bias,
  // 4 output biases, out_projs.0 (the others are tied).
  EXPECT_EQ(specs.size(), 8u + 2 * 13 + 2 + 4 + 1);
  expectNamesUnique(c);

  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.0.weight").shape,
            (Shape{100, 64}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.1.weight").shape,
            (Shape{100, 16}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.2.weight").shape,
            (Shape{300, 4}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.3.weight").shape,
            (Shape{500, 1}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.0").shape,
            (Shape{32, 64}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.3").shape, (Shape{32, 1}));
  EXPECT_EQ(specs.at("crit.cluster_weight").shape, (Shape{3, 64}));
  EXPECT_EQ(specs.at("crit.cluster_bias").shape, (Shape{3}));
  EXPECT_EQ(specs.at("crit.out_layers.2.bias").shape, (Shape{300}));
  EXPECT_EQ(specs.at("crit.out_projs.0").shape, (Shape{32, 64}));
  EXPECT_EQ(specs.count("crit.out_projs.1"), 0u);
  EXPECT_EQ(specs.count("crit.out_layers.0.weight"), 0u);

  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.3.weight").alternateNames,
            std::vector<std::string>{"crit.out_layers.3.weight"});
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.2").alternateNames,
            std::vector<std::string>{"crit.out_projs.2"});
  EXPECT_TRUE(
      specs.at("transformer.word_emb.emb_projs.0").alternateNames.empty());

  EXPECT_EQ(specs.at(layer(1, "dec_attn.qkv_net.weight")).shape,
            (Shape{48, 32}));
  EXPECT_EQ(specs.at(layer(1, "dec_attn.r_net.weight")).shape, (Shape{16, 32}));
  EXPECT_EQ(specs.at(layer(1, "dec_attn.o_net.weight")).shape, (Shape{32, 16}));
  EXPECT_EQ(specs.at(layer(0, "dec_attn.r_w_bias")).shape, (Shape{2, 8}));
  EXPECT_EQ(specs.at(layer(0, "dec_attn.r_r_bias")).shape, (Shape{2, 8}));
  EXPECT_EQ(specs.at(layer(0, "dec_attn.layer_norm.bias")).shape, (Shape{32}));
  EXPECT_EQ(specs.at(layer(1, "pos_ff.CoreNet.0.weight")).shape,
            (Shape{48, 32}));
  EXPECT_EQ(specs.at(layer(1, "pos_ff.CoreNet.0.bias")).shape, (Shape{48}));
  EXPECT_EQ(specs.at(layer(1, "pos_ff.CoreNet.3.weight")).shape,
            (Shape{32, 48}));
  EXPECT_EQ(specs.at(layer(1, "pos_ff.CoreNet.3.bias")).shape, (Shape{32}));
  EXPECT_EQ(specs.at(layer(1, "pos_ff.layer_norm.weight")).shape, (Shape{32}));
  EXPECT_EQ(specs.count("transformer.r_w_bias"), 0u);

  // Role names follow the tying.
  EXPECT_EQ(outputLayerWeightName(c, 2), embeddingTableName(2));
  EXPECT_EQ(outputLayerBiasName(c, 2), "crit.out_layers.2.bias");
  EXPECT_EQ(outputProjectionName(c, 0), "crit.out_projs.0");
  EXPECT_EQ(outputProjectionName(c, 1), "transformer.word_emb.emb_projs.1");
  EXPECT_EQ(embeddingProjectionName(c, 3), "transformer.word_emb.emb_projs.3");
  EXPECT_EQ(rwBiasName(c, 1), layer(1, "dec_attn.r_w_bias"));
  EXPECT_EQ(rrBiasName(c, 0), layer(0, "dec_attn.r_r_bias"));
  EXPECT_EQ(clusterWeightName(c), "crit.cluster_weight");
  EXPECT_EQ(layerParamName(3, "pos_ff.CoreNet.0.bias"),
            "transformer.layers.3.pos_ff.CoreNet.0.bias");
  EXPECT_EQ(ignoredBufferNames(c),
            std::vector<std::string>{"transformer.pos_emb.inv_freq"});
}

TEST(ParameterSpec, DivValAboveOneProjectsEvenWhenWidthsMatch) {
  ModelConfig c = config(
      R"({"vocab_size": 40, "cutoffs": [10], "d_model": 8, "d_embed": 8,)"
      R"( "div_val": 2, "n_layer": 1, "n_head": 1, "d_head": 8,)"
      R"( "d_inner": 8, "mem_len": 4})");
  auto specs = byName(c);
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.0").shape, (Shape{8, 8}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.1").shape, (Shape{8, 4}));
  EXPECT_EQ(embeddingProjectionName(c, 0), "transformer.word_emb.emb_projs.0");
}

TEST(ParameterSpec, DivValOneWithNarrowEmbedding) {
  ModelConfig c = config(
      R"({"vocab_size": 50, "cutoffs": [10, 20], "d_model": 16, "d_embed": 8,)"
      R"( "div_val": 1, "n_layer": 1, "n_head": 2, "d_head": 4,)"
      R"( "d_inner": 32, "mem_len": 4})");
  auto specs = byName(c);
  // Table + projection, 13 per layer, cluster weight + bias, one output bias,
  // out_projs.0 (1 and 2 are tied to emb_projs.0).
  EXPECT_EQ(specs.size(), 2u + 13 + 2 + 1 + 1);
  expectNamesUnique(c);
  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.0.weight").shape,
            (Shape{50, 8}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_layers.0.weight").alternateNames,
            std::vector<std::string>{"crit.out_layers.0.weight"});
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.0").shape, (Shape{16, 8}));
  EXPECT_EQ(specs.at("transformer.word_emb.emb_projs.0").alternateNames,
            (std::vector<std::string>{"crit.out_projs.1", "crit.out_projs.2"}));
  EXPECT_EQ(specs.at("crit.out_projs.0").shape, (Shape{16, 8}));
  EXPECT_EQ(specs.at("crit.out_layers.0.bias").shape, (Shape{50}));
  EXPECT_EQ(specs.at("crit.cluster_weight").shape, (Shape{2, 8}));
  EXPECT_EQ(specs.count("transformer.word_emb.emb_layers.1.weight"), 0u);
  EXPECT_EQ(specs.count("crit.out_layers.1.bias"), 0u);

  EXPECT_EQ(embeddingProjectionName(c, 1), "");
  EXPECT_EQ(outputLayerWeightName(c, 2), embeddingTableName(0));
  EXPECT_EQ(outputLayerBiasName(c, 2), "crit.out_layers.0.bias");
  EXPECT_EQ(outputProjectionName(c, 2), "transformer.word_emb.emb_projs.0");
}

TEST(ParameterSpec, DivValOneSameWidthHasNoProjections) {
  ModelConfig c =
      config(R"({"vocab_size": 30, "cutoffs": [], "d_model": 8, "d_embed": 8,)"
             R"( "div_val": 1, "n_layer": 1, "n_head": 2, "d_head": 4,)"
             R"( "d_inner": 16, "mem_len": 4})");
  auto specs = byName(c);
  EXPECT_EQ(specs.size(), 1u + 13 + 1);
  for (const auto &[name, spec] : specs)
    EXPECT_EQ(name.find("proj"), std::string::npos) << name;
  EXPECT_EQ(specs.count("crit.cluster_weight"), 0u);
  EXPECT_EQ(embeddingProjectionName(c, 0), "");
  EXPECT_EQ(outputProjectionName(c, 0), "");
  EXPECT_EQ(clusterWeightName(c), "");
  EXPECT_EQ(clusterBiasName(c), "");
}

TEST(ParameterSpec, SharedRelativeBiases) {
  ModelConfig c =
      config(R"({"vocab_size": 30, "cutoffs": [], "d_model": 8, "d_embed": 8,)"
             R"( "div_val": 1, "n_layer": 3, "n_head": 2, "d_head": 5,)"
             R"( "d_inner": 16, "mem_len": 4, "untie_r": false})");
  auto specs = byName(c);
  EXPECT_EQ(specs.size(), 1u + 2 + 3 * 11 + 1);
  expectNamesUnique(c);
  for (const char *which : {"r_w_bias", "r_r_bias"}) {
    const ParameterSpec &shared = specs.at(std::string("transformer.") + which);
    EXPECT_EQ(shared.shape, (Shape{2, 5}));
    EXPECT_EQ(
        shared.alternateNames,
        (std::vector<std::string>{layer(0, std::string("dec_attn.") + which),
                                  layer(1, std::string("dec_attn.") + which),
                                  layer(2, std::string("dec_attn.") + which)}));
    EXPECT_EQ(specs.count(layer(1, std::string("dec_attn.") + which)), 0u);
  }
  EXPECT_EQ(rwBiasName(c, 2), "transformer.r_w_bias");
  EXPECT_EQ(rrBiasName(c, 0), "transformer.r_r_bias");
}

TEST(ParameterSpec, NothingTied) {
  std::string json = kDivVal4;
  json.replace(json.find("\"tie_projs\""), std::string::npos,
               R"("proj_share_all_but_first": false, "tie_weight": false})");
  ModelConfig c = config(json);
  auto specs = byName(c);
  EXPECT_EQ(specs.size(), 8u + 2 * 13 + 2 + 4 + 4 + 4);
  expectNamesUnique(c);
  for (const auto &[name, spec] : specs)
    EXPECT_TRUE(spec.alternateNames.empty()) << name;
  EXPECT_EQ(specs.at("crit.out_layers.1.weight").shape, (Shape{100, 16}));
  EXPECT_EQ(specs.at("crit.out_projs.3").shape, (Shape{32, 1}));
  EXPECT_EQ(outputLayerWeightName(c, 1), "crit.out_layers.1.weight");
  EXPECT_EQ(outputProjectionName(c, 3), "crit.out_projs.3");
}

} // namespace
