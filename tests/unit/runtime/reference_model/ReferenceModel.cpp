//===- ReferenceModel.cpp - ModelABI.h on the reference kernels -----------===//
//
// A stand-in for a compiled model.so: it exports txl_model_describe,
// txl_model_prepare and txl_model_step (ModelABI.h) and computes them with the reference kernels
// (double accumulation). The runtime is tested against it, and compiled
// models are checked against it as a second implementation of the ABI.
//
// Configuration, read once, on the first txl_model_describe:
//   TXL_REFERENCE_MODEL_DIR      folder with config.json (required)
//   TXL_REFERENCE_MODEL_BATCH    B (default 1)
//   TXL_REFERENCE_MODEL_TGT_LEN  T (default: the config's tgt_len, else 128)
//   TXL_REFERENCE_MODEL_FAILING_TOKEN  a token id that makes a step fail the
//                                way a failing kernel does (for testing
//                                the error path; default: none)
// Weights: the canonical parameters of ParameterSpec.h, in that order; it
// reads them through the pointers it is given, never from a file. It also
// exports the optional txl_model_vocabulary (the folder's vocab.txt, if
// any) and txl_model_set_error_handler.
//
// It follows the ABI to the letter and is strict where the ABI leaves things
// undefined, so that a caller relying on them fails its tests: outputs rows
// >= n, memory rows before the held ones and the scratch arena are filled
// with NaN on every step. It checks its arguments and returns non-zero on
// anything the ABI forbids, with a message for the error handler (stderr
// when none is installed).
//
// Kernel errors behave as in a txlc model (whose kernels call Halide's
// error handler): the message goes to the installed handler on the thread
// that stepped and the step returns non-zero; without a handler the message
// is printed and the process aborts, as Halide's default handler does.
//
// A process sees one configuration per loaded copy of the library: to use
// several, load copies of the file under different paths.
//
//===----------------------------------------------------------------------===//

#include "txl/models/ModelConfig.h"
#include "txl/models/ParameterSpec.h"
#include "txl/reference/Kernels.h"

#pragma GCC visibility push(default)
#include "txl/runtime/ModelABI.h"
#pragma GCC visibility pop

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

using namespace txl;
using reference::ConstTensorRef;
using reference::Tensor;

namespace {

constexpr float kUndefined = std::numeric_limits<float>::quiet_NaN();

int64_t positiveFromEnvironment(const char *variable, int64_t fallback) {
  const char *text = std::getenv(variable);
  if (!text || !*text)
    return fallback;
  char *end = nullptr;
  long long value = std::strtoll(text, &end, 10);
  if (*end || value < 1)
    throw std::runtime_error(std::string(variable) +
                             ": expected a positive integer, found '" + text +
                             "'");
  return value;
}

/// Set by txl_model_set_error_handler; nullptr: Halide's default behaviour.
std::atomic<txl_model_error_handler> errorHandler{nullptr};

/// A step's failure that a kernel would report (TXL_REFERENCE_MODEL_FAILING_
/// TOKEN), as opposed to a refused argument (std::invalid_argument).
struct KernelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Everything txl_model_describe hands out, built once and never changed.
struct ReferenceModel {
  ModelConfig config;
  std::string configJson;
  std::string vocabulary;
  bool hasVocabulary = false;
  int64_t failingToken = -1;
  std::vector<ParameterSpec> parameters;
  std::vector<txl_weight_desc> weightDescs;
  /// Per parameter, its alternate names as C strings (into `parameters`).
  std::vector<std::vector<const char *>> alternateNames;
  /// One hidden memory per layer: windows [B, mem_len, D] of buffers
  /// [B, state_capacity, D].
  std::vector<txl_state_desc> stateDescs;
  std::vector<int64_t> stateShape;
  std::map<std::string, size_t> indexByName;
  txl_model_desc desc{};

  static std::unique_ptr<ReferenceModel> fromEnvironment() {
    const char *dir = std::getenv("TXL_REFERENCE_MODEL_DIR");
    if (!dir || !*dir)
      throw std::runtime_error("TXL_REFERENCE_MODEL_DIR is not set (the "
                               "folder with the model's config.json)");
    std::string path = std::string(dir) + "/config.json";
    std::ifstream in(path);
    if (!in)
      throw std::runtime_error(path + ": cannot read");
    auto model = std::make_unique<ReferenceModel>();
    model->configJson.assign(std::istreambuf_iterator<char>(in), {});
    auto config = ModelConfig::fromJsonString(model->configJson, path);
    if (!config.ok())
      throw std::runtime_error(config.status().message());
    model->config = *config;
    std::ifstream vocab(std::string(dir) + "/vocab.txt", std::ios::binary);
    if (vocab) {
      model->vocabulary.assign(std::istreambuf_iterator<char>(vocab), {});
      model->hasVocabulary = true;
    }
    if (const char *failing = std::getenv("TXL_REFERENCE_MODEL_FAILING_TOKEN"))
      if (*failing)
        model->failingToken = std::stoll(failing);
    model->parameters = expectedParameters(model->config);
    for (const ParameterSpec &parameter : model->parameters) {
      std::vector<const char *> &alternates =
          model->alternateNames.emplace_back();
      for (const std::string &name : parameter.alternateNames)
        alternates.push_back(name.c_str());
    }
    for (size_t i = 0; i < model->parameters.size(); ++i) {
      const ParameterSpec &parameter = model->parameters[i];
      model->indexByName[parameter.name] = model->weightDescs.size();
      model->weightDescs.push_back(
          {parameter.name.c_str(), static_cast<int32_t>(parameter.shape.size()),
           parameter.shape.data(),
           static_cast<int32_t>(model->alternateNames[i].size()),
           model->alternateNames[i].data()});
    }

    const ModelConfig &c = model->config;
    txl_model_desc &desc = model->desc;
    desc.abi_version = TXL_MODEL_ABI_VERSION;
    desc.target = "host";
    desc.config_json = model->configJson.c_str();
    desc.batch = positiveFromEnvironment("TXL_REFERENCE_MODEL_BATCH", 1);
    desc.tgt_len = positiveFromEnvironment("TXL_REFERENCE_MODEL_TGT_LEN",
                                           c.tgt_len.value_or(128));
    desc.mem_len = c.mem_len;
    desc.n_layer = c.n_layer;
    desc.d_model = c.d_model;
    desc.vocab_size = c.vocab_size;
    desc.num_weights = static_cast<int32_t>(model->weightDescs.size());
    desc.weights = model->weightDescs.data();
    // Unused but poisoned, so the runtime must really provide it.
    desc.scratch_bytes = desc.batch * desc.tgt_len * desc.d_model * 4 + 100;
    model->stateShape = {desc.batch, desc.mem_len, desc.d_model};
    for (int32_t l = 0; l < c.n_layer; ++l)
      model->stateDescs.push_back(
          {"memory", l, 3, model->stateShape.data()});
    desc.num_states = static_cast<int32_t>(model->stateDescs.size());
    desc.states = model->stateDescs.data();
    desc.num_prepared = 0; // nothing to prepare: txl_model_prepare is a no-op
    desc.prepared = nullptr;
    desc.prepare_scratch_bytes = 0;
    // The least room the ABI allows: the runtime slides the windows back
    // almost every step, so its tests exercise that.
    desc.state_capacity = desc.mem_len ? desc.mem_len + desc.tgt_len : 0;
    return model;
  }

  /// One segment, computed with the kernels as the graph builder composes
  /// them (semantics §3-§5); throws on any inconsistency.
  void step(const float *const *weights, const int64_t *tokens, int64_t n,
            int64_t memoryRows, int64_t windowStart, float *const *memories,
            float *hidden, float *logProbs, void *scratch) const;
};

/// The instance, created on first use (thread-safe); nullptr after a
/// configuration error, which is reported once.
const ReferenceModel *instance() {
  static const std::unique_ptr<ReferenceModel> model = [] {
    try {
      return ReferenceModel::fromEnvironment();
    } catch (const std::exception &error) {
      std::fprintf(stderr, "txl_reference_model: %s\n", error.what());
      return std::unique_ptr<ReferenceModel>();
    }
  }();
  return model.get();
}

void ReferenceModel::step(const float *const *weights, const int64_t *tokens,
                          int64_t n, int64_t memoryRows, int64_t windowStart,
                          float *const *memories, float *hidden,
                          float *logProbs, void *scratch) const {
  const ModelConfig &c = config;
  const int64_t B = desc.batch, T = desc.tgt_len, D = desc.d_model,
                V = desc.vocab_size, C = desc.mem_len, L = desc.n_layer,
                capacity = desc.state_capacity, M = memoryRows,
                S = windowStart;
  if (n < 1 || n > T)
    throw std::invalid_argument("n = " + std::to_string(n) +
                                ", expected 1 <= n <= " + std::to_string(T));
  if (M < 0 || M > C)
    throw std::invalid_argument(
        "memory_rows = " + std::to_string(M) +
        ", expected 0 <= memory_rows <= " + std::to_string(C));
  if (S < 0 || (C > 0 && S + C + T > capacity))
    throw std::invalid_argument(
        "window_start = " + std::to_string(S) + ", expected 0 <= window_start "
        "<= state_capacity - mem_len - T = " +
        std::to_string(capacity - C - T));
  if (!weights || !tokens || !memories || !hidden)
    throw std::invalid_argument("weights, tokens, memories or hidden is NULL");
  if (!scratch || reinterpret_cast<uintptr_t>(scratch) % 64 != 0)
    throw std::invalid_argument("scratch is NULL or not 64-byte aligned");
  std::fill_n(static_cast<float *>(scratch), desc.scratch_bytes / 4,
              kUndefined);

  auto weight = [&](const std::string &name) -> ConstTensorRef {
    auto it = indexByName.find(name);
    if (it == indexByName.end())
      throw std::logic_error("no weight named '" + name + "'");
    if (!weights[it->second])
      throw std::invalid_argument("weight '" + name + "' is NULL");
    return ConstTensorRef(weights[it->second], parameters[it->second].shape);
  };
  auto layerWeight = [&](int64_t l, const std::string &suffix) {
    return weight(layerParamName(l, suffix));
  };
  auto optionalWeight = [&](const std::string &name) {
    return name.empty() ? ConstTensorRef() : weight(name);
  };

  std::vector<int64_t> ids(B * n);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < n; ++t) {
      ids[b * n + t] = tokens[b * T + t];
      if (ids[b * n + t] < 0 || ids[b * n + t] >= V)
        throw std::invalid_argument("token id out of range");
      if (ids[b * n + t] == failingToken)
        throw KernelError(
            "kernel error: token " + std::to_string(failingToken) +
            " at batch row " + std::to_string(b) + ", position " +
            std::to_string(t) + " (TXL_REFERENCE_MODEL_FAILING_TOKEN)");
    }

  // Adaptive embedding [§1].
  size_t parts = c.numClusters() + 1;
  std::vector<ConstTensorRef> tables, embedProjections;
  if (c.div_val == 1) {
    tables.push_back(weight(embeddingTableName(0)));
    if (c.d_embed != c.d_model)
      embedProjections.push_back(weight(embeddingProjectionName(c, 0)));
  } else {
    for (size_t i = 0; i < parts; ++i) {
      tables.push_back(weight(embeddingTableName(i)));
      embedProjections.push_back(weight(embeddingProjectionName(c, i)));
    }
  }
  Tensor h = reference::adaptiveEmbedding(ids, B, n, tables, embedProjections,
                                          c.cutoffs, c.div_val, D);
  Tensor positions = reference::positionalEmbedding(M + n, D, c.clamp_len);

  for (int64_t l = 0; l < L; ++l) {
    // The held rows: the last M of the window [S, S + mem_len).
    Tensor memory({B, M, D});
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(memories[l] + (b * capacity + S + C - M) * D, M * D,
                  memory.data.begin() + b * M * D);

    // The memory keeps the layer's input (§4): its n rows are appended
    // after the window, which the caller then slides by n.
    if (C > 0)
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(h.data.begin() + b * n * D, n * D,
                    memories[l] + (b * capacity + S + C) * D);

    auto norm = [&](const Tensor &x, const std::string &which) {
      return reference::layerNorm(
          x, layerWeight(l, which + ".layer_norm.weight"),
          layerWeight(l, which + ".layer_norm.bias"), c.layer_norm_epsilon);
    };
    auto attend = [&](const Tensor &x, const Tensor &keys) {
      return reference::relativeAttention(
          x, keys, positions, layerWeight(l, "dec_attn.qkv_net.weight"),
          layerWeight(l, "dec_attn.r_net.weight"),
          layerWeight(l, "dec_attn.o_net.weight"), weight(rwBiasName(c, l)),
          weight(rrBiasName(c, l)), c.n_head, c.d_head, c.same_length,
          c.mem_len);
    };
    auto feedForward = [&](const Tensor &x) {
      return reference::feedForward(x,
                                    layerWeight(l, "pos_ff.CoreNet.0.weight"),
                                    layerWeight(l, "pos_ff.CoreNet.0.bias"),
                                    layerWeight(l, "pos_ff.CoreNet.3.weight"),
                                    layerWeight(l, "pos_ff.CoreNet.3.bias"));
    };
    if (c.pre_lnorm) {
      Tensor y = reference::add(
          h, attend(norm(h, "dec_attn"), norm(memory, "dec_attn")));
      h = reference::add(y, feedForward(norm(y, "pos_ff")));
    } else {
      Tensor y = norm(reference::add(h, attend(h, memory)), "dec_attn");
      h = norm(reference::add(y, feedForward(y)), "pos_ff");
    }
  }

  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(h.data.begin() + b * n * D, n * D, hidden + b * T * D);
    std::fill_n(hidden + (b * T + n) * D, (T - n) * D, kUndefined);
  }
  if (!logProbs)
    return;

  // Projected adaptive log-softmax [§5].
  std::vector<ConstTensorRef> outWeights, outBiases, outProjections;
  if (c.div_val == 1) {
    outWeights.push_back(weight(outputLayerWeightName(c, 0)));
    outBiases.push_back(weight(outputLayerBiasName(c, 0)));
    if (c.d_embed != c.d_model)
      for (size_t i = 0; i < parts; ++i)
        outProjections.push_back(weight(outputProjectionName(c, i)));
  } else {
    for (size_t i = 0; i < parts; ++i) {
      outWeights.push_back(weight(outputLayerWeightName(c, i)));
      outBiases.push_back(weight(outputLayerBiasName(c, i)));
      outProjections.push_back(weight(outputProjectionName(c, i)));
    }
  }
  Tensor scores = reference::adaptiveLogSoftmax(
      h, outWeights, outBiases, outProjections,
      optionalWeight(clusterWeightName(c)), optionalWeight(clusterBiasName(c)),
      c.cutoffs, c.div_val, V);
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(scores.data.begin() + b * n * V, n * V, logProbs + b * T * V);
    std::fill_n(logProbs + (b * T + n) * V, (T - n) * V, kUndefined);
  }
}

} // namespace

extern "C" {

const txl_model_desc *txl_model_describe(void) {
  const ReferenceModel *model = instance();
  return model ? &model->desc : nullptr;
}

int32_t txl_model_prepare(const float *const *weights, float *const *prepared,
                          void *scratch) {
  return instance() ? 0 : 2;
}

int32_t txl_model_step(const float *const *weights,
                       const float *const *prepared, const int64_t *tokens,
                       int64_t n, int64_t memory_rows, int64_t window_start,
                       float *const *memories, float *hidden, float *log_probs,
                       void *scratch) {
  const ReferenceModel *model = instance();
  if (!model)
    return 2;
  auto report = [](const std::exception &error, bool kernel) {
    std::string message =
        std::string("txl_reference_model: txl_model_step: ") + error.what();
    if (txl_model_error_handler handler = errorHandler.load()) {
      handler(nullptr, message.c_str());
      return;
    }
    std::fprintf(stderr, "%s\n", message.c_str());
    if (kernel)
      std::abort();
  };
  try {
    model->step(weights, tokens, n, memory_rows, window_start, memories, hidden,
                log_probs, scratch);
    return 0;
  } catch (const KernelError &error) {
    report(error, true);
    return 3;
  } catch (const std::exception &error) {
    report(error, false);
    return 1;
  }
}

const char *txl_model_vocabulary(uint64_t *size) {
  const ReferenceModel *model = instance();
  bool has = model && model->hasVocabulary;
  *size = has ? model->vocabulary.size() : 0;
  return has ? model->vocabulary.data() : nullptr;
}

void txl_model_set_error_handler(txl_model_error_handler handler) {
  errorHandler.store(handler);
}

} // extern "C"
