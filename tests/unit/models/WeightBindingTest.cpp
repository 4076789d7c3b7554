//===- WeightBindingTest.cpp - binding a safetensors file to a config -----===//

#include "txl/models/WeightBinding.h"

#include "txl/models/ParameterSpec.h"

#include <gtest/gtest.h>

#include <cmath>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

using namespace txl;
namespace fs = std::filesystem;

namespace {

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

std::string testDir() {
  static std::set<std::string> prepared;
  const auto *test = testing::UnitTest::GetInstance()->current_test_info();
  fs::path dir = fs::path(testing::TempDir()) / "txl-binding" /
                 (std::string(test->test_suite_name()) + "." + test->name());
  if (prepared.insert(dir.string()).second) {
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  return dir.string();
}

// div_val 2 with one tail cluster, tied embeddings and tail projection.
const char *kTiedConfig =
    R"({"model_type": "transfo-xl", "vocab_size": 40, "cutoffs": [10],)"
    R"( "d_model": 8, "d_embed": 8, "div_val": 2, "n_layer": 2,)"
    R"( "n_head": 2, "d_head": 4, "d_inner": 16, "mem_len": 4})";

ModelConfig config(const std::string &json = kTiedConfig) {
  auto parsed = ModelConfig::fromJsonString(json, "config.json");
  EXPECT_TRUE(parsed.ok()) << parsed.status().message();
  return parsed.ok() ? *parsed : ModelConfig();
}

/// Exactly representable in F16 and BF16, and different per tensor.
float valueAt(size_t tensor, size_t element) {
  return static_cast<float>((tensor * 7 + element) % 64) * 0.25f - 8.0f;
}

uint16_t toHalf(float value) { // Exact for valueAt's values.
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if ((bits & 0x7fffffffu) == 0)
    return static_cast<uint16_t>(bits >> 16);
  uint32_t exponent = ((bits >> 23) & 0xff) - 127 + 15;
  return static_cast<uint16_t>(((bits >> 16) & 0x8000u) | (exponent << 10) |
                               ((bits >> 13) & 0x3ffu));
}

/// Tensors to write, with their storage.
struct Checkpoint {
  std::vector<TensorToWrite> tensors;
  std::vector<std::vector<uint8_t>> storage;

  void add(const std::string &name, const std::vector<int64_t> &shape,
           size_t seed, DType dtype = DType::F32) {
    size_t count = 1;
    for (int64_t d : shape)
      count *= d;
    std::vector<uint8_t> bytes(count * dtypeSize(dtype));
    for (size_t i = 0; i < count; ++i) {
      float v = valueAt(seed, i);
      if (dtype == DType::F32) {
        std::memcpy(bytes.data() + 4 * i, &v, 4);
      } else if (dtype == DType::F16) {
        uint16_t h = toHalf(v);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
      } else if (dtype == DType::BF16) {
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        uint16_t b = static_cast<uint16_t>(bits >> 16);
        std::memcpy(bytes.data() + 2 * i, &b, 2);
      } else if (dtype == DType::F64) {
        double d = v;
        std::memcpy(bytes.data() + 8 * i, &d, 8);
      } else if (dtype == DType::I64) {
        int64_t n = static_cast<int64_t>(v);
        std::memcpy(bytes.data() + 8 * i, &n, 8);
      }
    }
    storage.push_back(std::move(bytes));
    tensors.push_back({name, dtype, shape, storage.back().data()});
  }

  /// A float32 tensor holding exactly `values`.
  void addValues(const std::string &name, const std::vector<int64_t> &shape,
                 const std::vector<float> &values) {
    std::vector<uint8_t> bytes(values.size() * sizeof(float));
    std::memcpy(bytes.data(), values.data(), bytes.size());
    storage.push_back(std::move(bytes));
    tensors.push_back({name, DType::F32, shape, storage.back().data()});
  }

  /// Sets element `index` of the F32 tensor `name`.
  void set(const std::string &name, size_t index, float value) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) {
        std::memcpy(storage[i].data() + 4 * index, &value, 4);
        return;
      }
    ADD_FAILURE() << "no tensor " << name;
  }

  void remove(const std::string &name) {
    for (size_t i = 0; i < tensors.size(); ++i)
      if (tensors[i].name == name) {
        tensors.erase(tensors.begin() + i);
        return;
      }
    ADD_FAILURE() << "no tensor " << name;
  }

  std::string write(const std::string &file = "model.safetensors") {
    std::string path = testDir() + "/" + file;
    Status status = writeSafeTensors(path, tensors);
    EXPECT_TRUE(status.isOk()) << status.message();
    return path;
  }
};

/// Every canonical parameter, seeded by its position in the list.
Checkpoint canonicalCheckpoint(const ModelConfig &c, DType dtype = DType::F32) {
  Checkpoint checkpoint;
  std::vector<ParameterSpec> specs = expectedParameters(c);
  for (size_t i = 0; i < specs.size(); ++i)
    checkpoint.add(specs[i].name, specs[i].shape, i, dtype);
  return checkpoint;
}

size_t seedOf(const ModelConfig &c, const std::string &name) {
  std::vector<ParameterSpec> specs = expectedParameters(c);
  for (size_t i = 0; i < specs.size(); ++i)
    if (specs[i].name == name)
      return i;
  ADD_FAILURE() << "no parameter " << name;
  return 0;
}

void expectValues(const BoundWeights &weights, const ModelConfig &c,
                  const std::string &name) {
  const BoundTensor *bound = weights.find(name);
  ASSERT_NE(bound, nullptr) << name;
  size_t count = 1;
  for (int64_t d : bound->shape)
    count *= d;
  size_t seed = seedOf(c, name);
  for (size_t i = 0; i < count; ++i)
    ASSERT_EQ(bound->data[i], valueAt(seed, i)) << name << "[" << i << "]";
}

std::string bindError(const ModelConfig &c, const std::string &path) {
  auto weights = BoundWeights::bind(c, path);
  EXPECT_FALSE(weights.ok());
  return weights.ok() ? "" : weights.status().message();
}

TEST(WeightBinding, CanonicalOnlyBindsInPlace) {
  ModelConfig c = config();
  std::string path = canonicalCheckpoint(c).write();
  auto weights = BoundWeights::bind(c, path);
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  EXPECT_EQ(weights->tensors().size(), expectedParameters(c).size());
  for (const ParameterSpec &spec : expectedParameters(c)) {
    expectValues(*weights, c, spec.name);
    EXPECT_TRUE(weights->isBorrowed(spec.name)) << spec.name;
    EXPECT_EQ(weights->find(spec.name)->shape, spec.shape);
    const TensorInfo *info = weights->file().find(spec.name);
    EXPECT_EQ(weights->find(spec.name)->data,
              reinterpret_cast<const float *>(info->data));
  }
  // Tied copies resolve to the embedding's tensor.
  EXPECT_EQ(weights->find("crit.out_layers.1.weight"),
            weights->find("transformer.word_emb.emb_layers.1.weight"));
  EXPECT_EQ(weights->find("crit.out_projs.1"),
            weights->find("transformer.word_emb.emb_projs.1"));
  EXPECT_EQ(weights->find("crit.out_projs.0")->shape,
            (std::vector<int64_t>{8, 8}));
  EXPECT_EQ(weights->find("no.such.tensor"), nullptr);
}

TEST(WeightBinding, SurvivesMoves) {
  ModelConfig c = config();
  std::string path = canonicalCheckpoint(c, DType::F16).write();
  auto weights = BoundWeights::bind(c, path);
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  BoundWeights moved = std::move(*weights);
  BoundWeights again = std::move(moved);
  expectValues(again, c, "crit.cluster_weight");
}

TEST(WeightBinding, TiedCopiesPresentUseTheCanonicalName) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  // Copies as HF's torch state_dict holds them (same values).
  checkpoint.add("crit.out_layers.0.weight", {10, 8},
                 seedOf(c, "transformer.word_emb.emb_layers.0.weight"));
  auto weights = BoundWeights::bind(c, checkpoint.write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  expectValues(*weights, c, "transformer.word_emb.emb_layers.0.weight");
  EXPECT_EQ(weights->sourceName("transformer.word_emb.emb_layers.0.weight"),
            "transformer.word_emb.emb_layers.0.weight");
}

// A tied copy that differs was ignored (HF reads the other copy).
TEST(WeightBinding, TiedCopiesThatDifferAreRefused) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.add("crit.out_layers.1.weight", {30, 4}, 999);
  std::string path = checkpoint.write();
  EXPECT_CONTAINS(bindError(c, path),
                  path + ": tensors 'transformer.word_emb.emb_layers.1.weight' "
                         "and 'crit.out_layers.1.weight' are the same "
                         "parameter 'transformer.word_emb.emb_layers.1.weight' "
                         "but hold different values");
}

TEST(WeightBinding, NonFiniteWeightsAreRefused) {
  ModelConfig c = config();
  for (float bad : {NAN, INFINITY, -INFINITY}) {
    Checkpoint checkpoint = canonicalCheckpoint(c);
    checkpoint.set("crit.out_layers.0.bias", 7, bad);
    std::string path = checkpoint.write();
    std::string found = std::isnan(bad) ? "nan" : bad > 0 ? "inf" : "-inf";
    EXPECT_CONTAINS(bindError(c, path),
                    path +
                        ": tensor 'crit.out_layers.0.bias': non-finite "
                        "value " +
                        found + " at [7], expected finite weights");
  }
}

TEST(WeightBinding, OnlyTiedCopyPresent) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  std::string table = "transformer.word_emb.emb_layers.1.weight";
  checkpoint.remove(table);
  checkpoint.add("crit.out_layers.1.weight", {30, 4}, seedOf(c, table));
  auto weights = BoundWeights::bind(c, checkpoint.write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  expectValues(*weights, c, table);
  EXPECT_EQ(weights->sourceName(table), "crit.out_layers.1.weight");
}

TEST(WeightBinding, UntiedConfigNeedsItsOwnOutputLayers) {
  std::string json = kTiedConfig;
  ModelConfig c =
      config(json.substr(0, json.size() - 1) + R"(, "tie_weight": false})");
  std::string path = canonicalCheckpoint(config()).write();
  std::string message = bindError(c, path);
  EXPECT_CONTAINS(message, path + ": tensor 'crit.out_layers.0.weight': "
                                  "missing, expected shape [10, 8]");
}

const char *kSharedBiasConfig =
    R"({"vocab_size": 30, "cutoffs": [], "d_model": 8, "d_embed": 8,)"
    R"( "div_val": 1, "n_layer": 3, "n_head": 2, "d_head": 4,)"
    R"( "d_inner": 16, "mem_len": 4, "untie_r": false})";
const char *kPerLayerBiasConfig =
    R"({"vocab_size": 30, "cutoffs": [], "d_model": 8, "d_embed": 8,)"
    R"( "div_val": 1, "n_layer": 3, "n_head": 2, "d_head": 4,)"
    R"( "d_inner": 16, "mem_len": 4, "untie_r": true})";

TEST(WeightBinding, SharedBiasFromPerLayerCopies) {
  ModelConfig c = config(kSharedBiasConfig);
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.remove("transformer.r_w_bias");
  size_t seed = seedOf(c, "transformer.r_w_bias");
  for (int l = 0; l < 3; ++l)
    checkpoint.add(layerParamName(l, "dec_attn.r_w_bias"), {2, 4}, seed);
  // r_r_bias: the shared name and every per-layer name, as torch saves it.
  size_t rrSeed = seedOf(c, "transformer.r_r_bias");
  for (int l = 0; l < 3; ++l)
    checkpoint.add(layerParamName(l, "dec_attn.r_r_bias"), {2, 4}, rrSeed);
  auto weights = BoundWeights::bind(c, checkpoint.write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  expectValues(*weights, c, "transformer.r_w_bias");
  expectValues(*weights, c, "transformer.r_r_bias");
  EXPECT_EQ(weights->find(layerParamName(2, "dec_attn.r_w_bias")),
            weights->find("transformer.r_w_bias"));
}

TEST(WeightBinding, SharedBiasCopiesMustAgree) {
  ModelConfig c = config(kSharedBiasConfig);
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.remove("transformer.r_w_bias");
  checkpoint.add(layerParamName(0, "dec_attn.r_w_bias"), {2, 4}, 5);
  checkpoint.add(layerParamName(1, "dec_attn.r_w_bias"), {2, 4}, 5);
  checkpoint.add(layerParamName(2, "dec_attn.r_w_bias"), {2, 4}, 6);
  std::string path = checkpoint.write();
  std::string message = bindError(c, path);
  EXPECT_CONTAINS(
      message, path + ": tensors '" + layerParamName(0, "dec_attn.r_w_bias") +
                   "' and '" + layerParamName(2, "dec_attn.r_w_bias") +
                   "' are the same parameter "
                   "'transformer.r_w_bias' but hold different "
                   "values");
}

TEST(WeightBinding, MissingTensor) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.remove(layerParamName(1, "pos_ff.CoreNet.3.weight"));
  checkpoint.remove("transformer.word_emb.emb_layers.0.weight");
  std::string path = checkpoint.write();
  std::string message = bindError(c, path);
  EXPECT_CONTAINS(message, path + ": tensor '" +
                               layerParamName(1, "pos_ff.CoreNet.3.weight") +
                               "': missing, expected shape [8, 16]");
  // Every problem is reported, with the names a tied tensor may have.
  EXPECT_CONTAINS(message,
                  path + ": tensor 'transformer.word_emb.emb_layers.0.weight'"
                         ": missing, expected shape [10, 8] (also accepted "
                         "under 'crit.out_layers.0.weight')");
}

TEST(WeightBinding, UnexpectedTensor) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.add("transformer.layers.2.dec_attn.o_net.weight", {8, 8}, 1);
  std::string path = checkpoint.write();
  std::string message = bindError(c, path);
  EXPECT_CONTAINS(message, path +
                               ": tensor 'transformer.layers.2.dec_attn.o_net."
                               "weight': unexpected tensor");
}

TEST(WeightBinding, UntieRMismatchIsExplained) {
  ModelConfig shared = config(kSharedBiasConfig);
  ModelConfig perLayer = config(kPerLayerBiasConfig);
  // Per-layer biases (different per layer) for a config with one shared pair.
  std::string path =
      canonicalCheckpoint(perLayer).write("per-layer.safetensors");
  std::string message = bindError(shared, path);
  EXPECT_CONTAINS(
      message, path + ": tensors '" + layerParamName(0, "dec_attn.r_w_bias") +
                   "' and '" + layerParamName(1, "dec_attn.r_w_bias") +
                   "' are the same parameter");
  EXPECT_CONTAINS(message, "untie_r");
  // A shared pair for a config with per-layer biases.
  path = canonicalCheckpoint(shared).write("shared.safetensors");
  message = bindError(perLayer, path);
  EXPECT_CONTAINS(message,
                  path + ": tensor 'transformer.r_w_bias': unexpected tensor");
  EXPECT_CONTAINS(message, "untie_r");
  EXPECT_CONTAINS(message, path + ": tensor '" +
                               layerParamName(0, "dec_attn.r_w_bias") +
                               "': missing, expected shape [2, 4]");
}

TEST(WeightBinding, InvFreqBufferIsCheckedNotRead) {
  ModelConfig c = config();
  // 1 / 10000^(2i / d_model) for d_model 8, as float32.
  std::vector<float> invFreq = {1.0f, 0.1f, 0.01f, 0.001f};
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.addValues("transformer.pos_emb.inv_freq", {4}, invFreq);
  auto weights = BoundWeights::bind(c, checkpoint.write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  EXPECT_EQ(weights->find("transformer.pos_emb.inv_freq"), nullptr);

  // One that differs was silently ignored.
  checkpoint.set("transformer.pos_emb.inv_freq", 2, 0.02f);
  std::string path = checkpoint.write("other.safetensors");
  EXPECT_CONTAINS(bindError(c, path),
                  path + ": tensor 'transformer.pos_emb.inv_freq': differs "
                         "from the inverse frequencies of d_model 8 at index "
                         "2, expected 0.010000, found 0.020000");
}

TEST(WeightBinding, WrongShape) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  std::string name = layerParamName(0, "dec_attn.qkv_net.weight");
  checkpoint.remove(name);
  checkpoint.add(name, {8, 24}, 0);
  std::string path = checkpoint.write();
  EXPECT_CONTAINS(bindError(c, path),
                  path + ": tensor '" + name +
                      "': wrong shape, expected [24, 8], found [8, 24]");
}

TEST(WeightBinding, WrongShapeOfATiedCopy) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.add("crit.out_projs.1", {4, 8}, 0);
  std::string path = checkpoint.write();
  EXPECT_CONTAINS(bindError(c, path),
                  path + ": tensor 'crit.out_projs.1' (same parameter as "
                         "'transformer.word_emb.emb_projs.1'): wrong shape, "
                         "expected [8, 4], found [4, 8]");
}

TEST(WeightBinding, WrongDType) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  checkpoint.remove("crit.cluster_bias");
  checkpoint.add("crit.cluster_bias", {1}, 0, DType::I64);
  std::string path = checkpoint.write();
  EXPECT_CONTAINS(bindError(c, path),
                  path + ": tensor 'crit.cluster_bias': unsupported dtype, "
                         "expected F32, F16, BF16 or F64, found I64");
}

class ConvertedWeights : public testing::TestWithParam<DType> {};

TEST_P(ConvertedWeights, AreConvertedExactly) {
  ModelConfig c = config();
  auto weights =
      BoundWeights::bind(c, canonicalCheckpoint(c, GetParam()).write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  for (const ParameterSpec &spec : expectedParameters(c)) {
    expectValues(*weights, c, spec.name);
    EXPECT_FALSE(weights->isBorrowed(spec.name)) << spec.name;
  }
}

INSTANTIATE_TEST_SUITE_P(WeightBinding, ConvertedWeights,
                         testing::Values(DType::F16, DType::BF16, DType::F64),
                         [](const testing::TestParamInfo<DType> &info) {
                           return dtypeName(info.param);
                         });

TEST(WeightBinding, MixedDTypes) {
  ModelConfig c = config();
  Checkpoint checkpoint = canonicalCheckpoint(c);
  std::string name = "crit.cluster_weight";
  checkpoint.remove(name);
  checkpoint.add(name, {1, 8}, seedOf(c, name), DType::BF16);
  auto weights = BoundWeights::bind(c, checkpoint.write());
  ASSERT_TRUE(weights.ok()) << weights.status().message();
  expectValues(*weights, c, name);
  EXPECT_FALSE(weights->isBorrowed(name));
  EXPECT_TRUE(weights->isBorrowed("crit.cluster_bias"));
}

TEST(LoadModelDirectory, ReadsConfigAndWeights) {
  std::string dir = testDir();
  {
    std::ofstream out(dir + "/config.json");
    out << kTiedConfig;
  }
  ModelConfig c = config();
  canonicalCheckpoint(c).write("model.safetensors");
  auto model = loadModelDirectory(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ(model->config.n_layer, 2);
  EXPECT_EQ(model->config.tie_projs, (std::vector<bool>{false, true}));
  expectValues(model->weights, c, "crit.out_layers.1.bias");
}

TEST(LoadModelDirectory, ReportsWhatIsMissing) {
  std::string dir = testDir();
  EXPECT_CONTAINS(loadModelDirectory(dir + "/absent").status().message(),
                  "not a model directory");
  EXPECT_CONTAINS(loadModelDirectory(dir).status().message(),
                  dir + "/config.json: cannot read");
  {
    std::ofstream out(dir + "/config.json");
    out << kTiedConfig;
  }
  EXPECT_CONTAINS(loadModelDirectory(dir).status().message(),
                  dir + "/model.safetensors: missing");
  std::ofstream(dir + "/pytorch_model.bin") << "x";
  EXPECT_CONTAINS(loadModelDirectory(dir).status().message(),
                  "pytorch_model.bin is not read");
}

TEST(LoadModelDirectory, ConfigErrorsComeFirst) {
  std::string dir = testDir();
  std::ofstream(dir + "/config.json") << R"({"n_head": "8"})";
  EXPECT_CONTAINS(loadModelDirectory(dir).status().message(),
                  dir + "/config.json: field 'n_head'");
}

} // namespace
