//===- ModelConfigTest.cpp - config.json defaults, tying, refusals --------===//

#include "txl/models/ModelConfig.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace txl;

namespace {

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

ModelConfig parse(const std::string &text) {
  auto config = ModelConfig::fromJsonString(text, "cfg.json");
  EXPECT_TRUE(config.ok()) << config.status().message();
  return config.ok() ? *config : ModelConfig();
}

std::string refusal(const std::string &text) {
  auto config = ModelConfig::fromJsonString(text, "cfg.json");
  EXPECT_FALSE(config.ok()) << "accepted: " << text;
  return config.ok() ? "" : config.status().message();
}

/// A small valid config with one field set (JSON text of the value): the
/// field replaced if the config has it, else added.
std::string smallWith(const std::string &field, const std::string &value) {
  const std::pair<const char *, const char *> fields[] = {
      {"vocab_size", "100"}, {"n_layer", "2"}, {"d_model", "8"},
      {"d_embed", "8"},      {"n_head", "2"},  {"d_head", "4"},
      {"d_inner", "16"},     {"mem_len", "4"}, {"cutoffs", "[10, 50]"},
      {"div_val", "2"}};
  std::string text;
  bool replaced = false;
  for (auto [name, base] : fields) {
    bool isField = field == name;
    replaced |= isField;
    text += (text.empty() ? "{" : ", ") + std::string("\"") + name +
            "\": " + (isField ? value : base);
  }
  if (!field.empty() && !replaced)
    text += ", \"" + field + "\": " + value;
  return text + "}";
}

TEST(ModelConfig, HuggingFaceDefaults) {
  ModelConfig config = parse("{}");
  EXPECT_EQ(config.vocab_size, 267735);
  EXPECT_EQ(config.cutoffs, (std::vector<int64_t>{20000, 40000, 200000}));
  EXPECT_EQ(config.d_model, 1024);
  EXPECT_EQ(config.d_embed, 1024);
  EXPECT_EQ(config.n_head, 16);
  EXPECT_EQ(config.d_head, 64);
  EXPECT_EQ(config.d_inner, 4096);
  EXPECT_EQ(config.div_val, 4);
  EXPECT_FALSE(config.pre_lnorm);
  EXPECT_EQ(config.n_layer, 18);
  EXPECT_EQ(config.mem_len, 1600);
  EXPECT_EQ(config.clamp_len, 1000);
  EXPECT_TRUE(config.same_length);
  EXPECT_TRUE(config.untie_r);
  EXPECT_TRUE(config.tie_word_embeddings);
  EXPECT_DOUBLE_EQ(config.layer_norm_epsilon, 1e-5);
  EXPECT_EQ(config.tie_projs, (std::vector<bool>{false, true, true, true}));
  EXPECT_FALSE(config.tgt_len.has_value());
  EXPECT_EQ(config.numClusters(), 3);
  EXPECT_EQ(config.clusterEnds(),
            (std::vector<int64_t>{0, 20000, 40000, 200000, 267735}));
  EXPECT_EQ(config.clusterWidth(0), 1024);
  EXPECT_EQ(config.clusterWidth(1), 256);
  EXPECT_EQ(config.clusterWidth(3), 16);
}

TEST(ModelConfig, DEmbedDefaultIsNotDModel) {
  EXPECT_EQ(parse(R"({"d_model": 512})").d_embed, 1024);
}

TEST(ModelConfig, ReadsHuggingFaceWt103Config) {
  ModelConfig config = parse(R"({
    "adaptive": true, "architectures": ["TransfoXLLMHeadModel"],
    "attn_type": 0, "clamp_len": 1000, "cutoffs": [20000, 40000, 200000],
    "d_embed": 1024, "d_head": 64, "d_inner": 4096, "d_model": 1024,
    "div_val": 4, "dropatt": 0.0, "dropout": 0.1, "eos_token_id": 0,
    "ext_len": 0, "init": "normal", "init_range": 0.01, "init_std": 0.02,
    "layer_norm_epsilon": 1e-05, "mem_len": 1600, "model_type": "transfo-xl",
    "n_head": 16, "n_layer": 18, "pre_lnorm": false,
    "proj_init_std": 0.01, "same_length": true, "sample_softmax": -1,
    "tgt_len": 128, "tie_projs": [false, true, true, true],
    "tie_weight": true, "untie_r": true, "vocab_size": 267735,
    "task_specific_params": {"text-generation": {"do_sample": true}}})");
  EXPECT_EQ(config.n_layer, 18);
  EXPECT_EQ(config.tgt_len, 128);
  EXPECT_TRUE(config.tie_word_embeddings);
}

TEST(ModelConfig, TieProjsDerivedFromProjShareAllButFirst) {
  EXPECT_EQ(parse(smallWith("", "")).tie_projs,
            (std::vector<bool>{false, true, true}));
  EXPECT_EQ(parse(smallWith("proj_share_all_but_first", "false")).tie_projs,
            (std::vector<bool>{false, false, false}));
  EXPECT_EQ(
      parse(R"({"cutoffs": [], "proj_share_all_but_first": true})").tie_projs,
      std::vector<bool>{false});
}

TEST(ModelConfig, TieProjsFromJsonWins) {
  ModelConfig config = parse(smallWith("tie_projs", "[true, false, true]"));
  EXPECT_EQ(config.tie_projs, (std::vector<bool>{true, false, true}));
}

TEST(ModelConfig, TieProjsLengthMustMatchClusters) {
  std::string message = refusal(smallWith("tie_projs", "[false, true]"));
  EXPECT_CONTAINS(message, "cfg.json: field 'tie_projs': ");
  EXPECT_CONTAINS(message, "expected 3 entries, found 2");
}

TEST(ModelConfig, TieWeightIsASynonym) {
  EXPECT_FALSE(parse(R"({"tie_weight": false})").tie_word_embeddings);
  EXPECT_FALSE(parse(R"({"tie_word_embeddings": false})").tie_word_embeddings);
  EXPECT_TRUE(parse(R"({"tie_weight": true, "tie_word_embeddings": true})")
                  .tie_word_embeddings);
  std::string message =
      refusal(R"({"tie_weight": true, "tie_word_embeddings": false})");
  EXPECT_CONTAINS(message, "cfg.json: field 'tie_weight'");
  EXPECT_CONTAINS(message, "expected false, found true");
}

TEST(ModelConfig, AttributeMapNames) {
  ModelConfig config = parse(R"({"n_token": 500, "hidden_size": 64,
      "num_attention_heads": 4, "num_hidden_layers": 3, "cutoffs": []})");
  EXPECT_EQ(config.vocab_size, 500);
  EXPECT_EQ(config.d_model, 64);
  EXPECT_EQ(config.n_head, 4);
  EXPECT_EQ(config.n_layer, 3);
  EXPECT_CONTAINS(refusal(R"({"n_layer": 2, "num_hidden_layers": 3})"),
                  "field 'num_hidden_layers'");
}

TEST(ModelConfig, UnknownFieldsAndAdaptiveFalseAreAccepted) {
  ModelConfig config =
      parse(R"({"adaptive": false, "whatever": {"x": [1]}, "dropout": 0.3})");
  EXPECT_EQ(config.cutoffs.size(), 3u);
}

TEST(ModelConfig, FileErrorsNameTheFile) {
  std::string dir = testing::TempDir() + "/txl-config-test";
  std::filesystem::create_directories(dir);
  std::string path = dir + "/config.json";
  {
    std::ofstream out(path);
    out << R"({"n_head": "8"})";
  }
  auto config = ModelConfig::fromJsonFile(path);
  ASSERT_FALSE(config.ok());
  EXPECT_CONTAINS(config.status().message(), path + ": field 'n_head': ");
  auto missing = ModelConfig::fromJsonFile(dir + "/absent.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_CONTAINS(missing.status().message(),
                  dir + "/absent.json: cannot read");
}

TEST(ModelConfig, RefusesMalformedJson) {
  EXPECT_CONTAINS(refusal("{\"n_head\": "), "cfg.json: not valid JSON");
  EXPECT_CONTAINS(refusal("[1, 2]"),
                  "cfg.json: wrong type, expected a JSON object, found array");
}

struct Refusal {
  const char *field;
  const char *value;
  const char *message;
};

class ConfigRefusal : public testing::TestWithParam<Refusal> {};

TEST_P(ConfigRefusal, NamesFileFieldAndProblem) {
  const Refusal &r = GetParam();
  std::string message = refusal(smallWith(r.field, r.value));
  EXPECT_CONTAINS(message, std::string("cfg.json: field '") + r.field + "': ");
  EXPECT_CONTAINS(message, r.message);
}

INSTANTIATE_TEST_SUITE_P(
    ModelConfig, ConfigRefusal,
    testing::Values(
        // Wrong JSON types.
        Refusal{"n_head", "\"8\"", "expected an integer, found string \"8\""},
        Refusal{"n_head", "8.0", "expected an integer, found number 8.0"},
        Refusal{"d_model", "true", "expected an integer, found boolean true"},
        Refusal{"cutoffs", "5", "expected an array of integers, found number"},
        Refusal{"cutoffs", "[10, \"50\"]", "expected an array of integers"},
        Refusal{"cutoffs", "[10, 50.5]", "expected an array of integers"},
        Refusal{"same_length", "1", "expected a boolean, found number 1"},
        Refusal{"untie_r", "null", "expected a boolean, found null"},
        Refusal{"tie_projs", "[0, 1, 1]", "expected an array of booleans"},
        Refusal{"layer_norm_epsilon", "\"1e-5\"", "expected a number"},
        Refusal{"model_type", "\"gpt2\"", "expected \"transfo-xl\""},
        Refusal{"vocab_size", "18446744073709551615", "out of range"},
        // Unsupported variants.
        Refusal{"attn_type", "2", "expected 0, found 2"},
        Refusal{"ext_len", "16", "expected 0, found 16"},
        Refusal{"sample_softmax", "1000", "expected <= 0, found 1000"},
        // Sizes.
        Refusal{"vocab_size", "0", "must be positive, expected >= 1, found 0"},
        Refusal{"n_layer", "-1", "must be positive"},
        Refusal{"d_model", "0", "must be positive"},
        Refusal{"d_embed", "-8", "must be positive"},
        Refusal{"n_head", "0", "must be positive"},
        Refusal{"d_head", "0", "must be positive"},
        Refusal{"d_inner", "0", "must be positive"},
        Refusal{"d_model", "9", "must be even"},
        Refusal{"d_model", "9", "expected an even number, found 9"},
        Refusal{"d_model", "4294967296", "too large"},
        // Limits (docs/RUN.md): every size computed from them fits int64.
        Refusal{"n_layer", "2147483647", "too large, expected <= 1024"},
        Refusal{"d_model", "131072", "too large, expected <= 65536"},
        Refusal{"d_embed", "131072", "too large, expected <= 65536"},
        Refusal{"n_head", "2147483647", "too large, expected <= 65536"},
        Refusal{"d_head", "2147483647", "too large, expected <= 65536"},
        Refusal{"d_inner", "2147483647", "too large, expected <= 262144"},
        Refusal{"vocab_size", "2147483647", "too large, expected <= 16777216"},
        Refusal{"tgt_len", "2147483647", "too large, expected <= 16384"},
        Refusal{"mem_len", "2147483647", "too large, expected <= 16384"},
        Refusal{"div_val", "0", "expected >= 1, found 0"},
        Refusal{"div_val", "16", "expected d_embed / div_val^2 >= 1, found 0"},
        Refusal{"mem_len", "-1", "expected >= 0, found -1"},
        Refusal{"tgt_len", "0", "must be positive"},
        Refusal{"layer_norm_epsilon", "0", "expected a positive finite number"},
        Refusal{"layer_norm_epsilon", "-1e-5", "expected a positive finite"},
        // Cutoffs.
        Refusal{"cutoffs", "[50, 10]",
                "not strictly increasing, expected > 50 at index 1, found 10"},
        Refusal{"cutoffs", "[10, 10]", "not strictly increasing"},
        Refusal{"cutoffs", "[0, 10]", "expected > 0 at index 0, found 0"},
        Refusal{"cutoffs", "[10, 100]",
                "expected < 100 at index 1, found 100"}),
    [](const testing::TestParamInfo<Refusal> &info) {
      return std::string(info.param.field) + "_" + std::to_string(info.index);
    });

TEST(ModelConfig, SameLengthNeedsMemory) {
  std::string message = refusal(R"({"mem_len": 0})");
  EXPECT_CONTAINS(message, "cfg.json: field 'same_length': masks every key "
                           "when mem_len is 0, expected false, found true");
  ModelConfig config = parse(R"({"mem_len": 0, "same_length": false})");
  EXPECT_EQ(config.mem_len, 0);
}

TEST(ModelConfig, NonPositiveClampLenMeansNoClamping) {
  EXPECT_EQ(parse(R"({"clamp_len": -1})").clamp_len, -1);
  EXPECT_EQ(parse(R"({"clamp_len": 0})").clamp_len, 0);
}

TEST(ModelConfig, ClusterWidthsWithDivVal) {
  ModelConfig config = parse(smallWith("", ""));
  EXPECT_EQ(config.numClusters(), 2);
  EXPECT_EQ(config.clusterEnds(), (std::vector<int64_t>{0, 10, 50, 100}));
  EXPECT_EQ(config.clusterWidth(0), 8);
  EXPECT_EQ(config.clusterWidth(1), 4);
  EXPECT_EQ(config.clusterWidth(2), 2);
}

TEST(ModelConfig, AttentionWidthIsLimited) {
  // 2^31-1 squared overflowed the parameter spec's 3 * n_head * d_head.
  std::string message = refusal(R"({"n_head": 256, "d_head": 512})");
  EXPECT_CONTAINS(message, "cfg.json: field 'd_head': n_head * d_head too "
                           "large, expected <= 65536, found 256 * 512");
}

TEST(ModelConfig, CutoffCountIsLimited) {
  std::string cutoffs;
  for (int i = 1; i <= 65; ++i)
    cutoffs += (i > 1 ? ", " : "") + std::to_string(i);
  std::string message =
      refusal(R"({"vocab_size": 1000, "cutoffs": [)" + cutoffs + "]}");
  EXPECT_CONTAINS(message, "cfg.json: field 'cutoffs': too many, expected at "
                           "most 64 entries, found 65");
}

// Quoting a 100,000-deep value in a message recursed until the stack ran out.
TEST(ModelConfig, DeepNestingIsRefusedNotACrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  EXPECT_CONTAINS(refusal(deep), "cfg.json: nested too deeply, expected at "
                                 "most 32 levels of arrays and objects");
  EXPECT_CONTAINS(refusal(smallWith("n_layer", deep)),
                  "cfg.json: field 'n_layer': nested too deeply");
  // Nesting the schema does not use is still fine at a sane depth.
  parse(smallWith("task_specific_params", R"({"a": {"b": [[1]]}})"));
}

TEST(ModelConfig, DuplicateKeysAreRefused) {
  std::string message =
      refusal(R"({"n_layer": 2, "d_model": 8, "n_layer": 4})");
  EXPECT_CONTAINS(message, "cfg.json: field 'n_layer': duplicate key "
                           "'n_layer', expected each key once");
}

TEST(ModelConfig, HugeFileIsRefused) {
  std::string text = "{\"pad\": \"" + std::string(2 << 20, 'x') + "\"}";
  EXPECT_CONTAINS(refusal(text), "cfg.json: file too large for a config, "
                                 "expected at most 1048576 bytes");
}

} // namespace
