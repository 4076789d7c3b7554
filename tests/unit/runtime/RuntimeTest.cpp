//===- RuntimeTest.cpp - CompiledModel and Session, reference model -------===//
//
// The runtime runs txl_reference_model (ModelABI.h with the reference
// kernels) on every case of tests/vectors and must reproduce the PyTorch
// outputs; then sessions, reset, loading errors, bad arguments, embedded
// weights, models linked in by function pointers, the vocabulary, kernel
// errors as statuses, and threads.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "txl/models/ModelConfig.h"
#include "txl/support/SafeTensors.h"

#include <dlfcn.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

using namespace txl;
using namespace txl::testing;
namespace fs = std::filesystem;

namespace {

/// The reference model for `data`, compiled (so to speak) for segments of T.
std::shared_ptr<const CompiledModel> loadModel(const VectorData &data,
                                               int64_t T) {
  std::string library = referenceModelCopy(data.modelDir(), data.batch, T);
  auto model = CompiledModel::load(library, data.weightsPath());
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

std::unique_ptr<Session> newSession(std::shared_ptr<const CompiledModel> m) {
  auto session = Session::create(std::move(m));
  EXPECT_TRUE(session.ok()) << session.status().message();
  return session.ok() ? std::move(*session) : nullptr;
}

/// The error of loading `library` with `weights`, or "" if it loads.
std::string loadError(const std::string &library, const std::string &weights) {
  auto model = CompiledModel::load(library, weights);
  EXPECT_FALSE(model.ok()) << library << " with " << weights << " loaded";
  return model.ok() ? "" : model.status().message();
}

void expectMatchesVectors(const VectorData &data, const StreamResult &result,
                          bool withLogProbs = true) {
  EXPECT_TRUE(near(result.hidden, data.expected("hidden"), "hidden"));
  if (withLogProbs) {
    EXPECT_TRUE(near(result.logProbs, data.expected("log_probs"), "log_probs"));
  }
  EXPECT_TRUE(near(result.memories, data.expected("mems"), "mems"));
}

//===----------------------------------------------------------------------===//
// Against the PyTorch vectors
//===----------------------------------------------------------------------===//

class RuntimeVectors : public ::testing::TestWithParam<const char *> {};

TEST_P(RuntimeVectors, MatchesPyTorchSegmentBySegment) {
  VectorData data = VectorData::load(GetParam());
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  EXPECT_EQ(model->batch(), data.batch);
  EXPECT_EQ(model->tgtLen(), data.tgtLen);
  auto config = ModelConfig::fromJsonString(model->configJson(), "config_json");
  ASSERT_TRUE(config.ok()) << config.status().message();
  EXPECT_EQ(model->memLen(), config->mem_len);
  EXPECT_FALSE(model->usesEmbeddedWeights());
  auto session = newSession(model);
  ASSERT_TRUE(session);
  EXPECT_EQ(session->memoryRows(), 0);

  // The vectors' last segment is shorter than T in most cases.
  StreamResult result =
      runStream(*session, data.tokens, data.length, data.tgtLen);
  expectMatchesVectors(data, result);
  int64_t seen = 0;
  for (int64_t rows : result.rowsAfterStep) {
    seen = std::min(seen + data.tgtLen, data.length);
    EXPECT_EQ(rows, std::min(model->memLen(), seen));
  }
}

TEST_P(RuntimeVectors, PartialSegmentsOfALongerCompiledLength) {
  // Compiled for T + 3, run with the vectors' T: every step is partial.
  VectorData data = VectorData::load(GetParam());
  auto model = loadModel(data, data.tgtLen + 3);
  ASSERT_TRUE(model);
  auto session = newSession(model);
  ASSERT_TRUE(session);
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

TEST_P(RuntimeVectors, WithoutLogProbs) {
  VectorData data = VectorData::load(GetParam());
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  auto session = newSession(model);
  ASSERT_TRUE(session);
  expectMatchesVectors(data,
                       runStream(*session, data.tokens, data.length,
                                 data.tgtLen, /*withLogProbs=*/false),
                       /*withLogProbs=*/false);
}

INSTANTIATE_TEST_SUITE_P(Cases, RuntimeVectors,
                         ::testing::ValuesIn(kVectorCases),
                         [](const auto &info) {
                           return std::string(info.param);
                         });

//===----------------------------------------------------------------------===//
// Sessions
//===----------------------------------------------------------------------===//

/// A second stream for the same model: the first one reversed per row.
std::vector<int64_t> reversedRows(const VectorData &data) {
  std::vector<int64_t> other(data.tokens.size());
  for (int64_t b = 0; b < data.batch; ++b)
    for (int64_t t = 0; t < data.length; ++t)
      other[b * data.length + t] =
          data.tokens[b * data.length + data.length - 1 - t];
  return other;
}

TEST(Session, InterleavedSessionsEqualEachAlone) {
  VectorData data = VectorData::load("adaptive_div4");
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  std::vector<int64_t> other = reversedRows(data);
  int64_t N = data.length, T = data.tgtLen;

  auto aloneA = newSession(model), aloneB = newSession(model);
  StreamResult expectedA = runStream(*aloneA, data.tokens, N, T);
  StreamResult expectedB = runStream(*aloneB, other, N, T);

  auto a = newSession(model), b = newSession(model);
  int64_t B = model->batch(), D = model->dModel(), V = model->vocabSize();
  std::vector<float> hiddenA(B * N * D), hiddenB(B * N * D),
      logProbsA(B * N * V), logProbsB(B * N * V);
  for (int64_t start = 0; start < N; start += T) {
    int64_t n = std::min(T, N - start);
    for (auto [session, stream, hidden, logProbs] :
         {std::make_tuple(a.get(), &data.tokens, &hiddenA, &logProbsA),
          std::make_tuple(b.get(), &other, &hiddenB, &logProbsB)}) {
      std::vector<int64_t> ids(B * n);
      std::vector<float> h(B * n * D), lp(B * n * V);
      for (int64_t r = 0; r < B; ++r)
        std::copy_n(&(*stream)[r * N + start], n, &ids[r * n]);
      Status status = session->step(ids.data(), n, h.data(), lp.data());
      ASSERT_TRUE(status.isOk()) << status.message();
      for (int64_t r = 0; r < B; ++r) {
        std::copy_n(&h[r * n * D], n * D, &(*hidden)[(r * N + start) * D]);
        std::copy_n(&lp[r * n * V], n * V, &(*logProbs)[(r * N + start) * V]);
      }
    }
  }
  // The same code on the same inputs: bit for bit.
  EXPECT_EQ(hiddenA, expectedA.hidden);
  EXPECT_EQ(logProbsA, expectedA.logProbs);
  EXPECT_EQ(a->memories(), expectedA.memories);
  EXPECT_EQ(hiddenB, expectedB.hidden);
  EXPECT_EQ(logProbsB, expectedB.logProbs);
  EXPECT_EQ(b->memories(), expectedB.memories);
  EXPECT_NE(hiddenA, hiddenB);
}

TEST(Session, ResetStartsAFreshStream) {
  VectorData data = VectorData::load("plain_postln");
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  auto session = newSession(model);
  runStream(*session, reversedRows(data), data.length, data.tgtLen);
  EXPECT_GT(session->memoryRows(), 0);
  session->reset();
  EXPECT_EQ(session->memoryRows(), 0);
  EXPECT_TRUE(session->memories().empty());
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

TEST(Session, OutputsInAlignedAndUnalignedBuffersAgree) {
  // n == T lets the model write straight into a 64-byte aligned caller
  // buffer; anything else goes through the session's own buffers.
  VectorData data = VectorData::load("plain_sameln_clamp");
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  int64_t B = model->batch(), T = model->tgtLen(), D = model->dModel(),
          V = model->vocabSize();
  std::vector<int64_t> ids(B * T);
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(&data.tokens[b * data.length], T, &ids[b * T]);

  size_t hiddenCount = B * T * D, logProbsCount = B * T * V;
  std::vector<float> storage(hiddenCount + logProbsCount + 64);
  float *base = storage.data();
  while (reinterpret_cast<uintptr_t>(base) % 64)
    ++base;
  float *aligned[2] = {base, base + (hiddenCount + 15) / 16 * 16};
  ASSERT_LE(aligned[1] + logProbsCount, storage.data() + storage.size());
  std::vector<float> unalignedStorage(hiddenCount + logProbsCount + 2);
  float *unaligned[2] = {unalignedStorage.data() + 1,
                         unalignedStorage.data() + 1 + hiddenCount};

  auto first = newSession(model), second = newSession(model);
  ASSERT_TRUE(first->step(ids.data(), T, aligned[0], aligned[1]).isOk());
  ASSERT_TRUE(second->step(ids.data(), T, unaligned[0], unaligned[1]).isOk());
  EXPECT_TRUE(std::equal(aligned[0], aligned[0] + hiddenCount, unaligned[0]));
  EXPECT_TRUE(std::equal(aligned[1], aligned[1] + logProbsCount, unaligned[1]));
  EXPECT_EQ(first->memories(), second->memories());
}

// The id check Session and the runner's backends share: rows of n ids at a
// stride (the ids past n in a row are not read), the first one outside
// [lowest, vocab) named by row and position.
TEST(CheckIds, NamesTheFirstIdOutsideTheVocabulary) {
  // Two rows of 3 ids at stride 4; the fourth of each row is not an id.
  std::vector<int64_t> ids = {0, 1, 2, 99, 3, 4, 5, 99};
  EXPECT_TRUE(checkIds("m", "token id", ids.data(), 2, 4, 3, 0, 6).isOk());
  ids[6] = 6;
  Status status = checkIds("m: step", "token id", ids.data(), 2, 4, 3, 0, 6);
  EXPECT_EQ(status.message(), "m: step: token id 6 at batch row 1, position 2 "
                              "is outside the vocabulary [0, 6)");
  // Targets: -1 (no target) is allowed, and the message says so.
  ids[6] = -1;
  EXPECT_TRUE(checkIds("m", "target", ids.data(), 2, 4, 3, -1, 6).isOk());
  ids[1] = -2;
  status = checkIds("m", "target", ids.data(), 2, 4, 3, -1, 6);
  EXPECT_EQ(status.message(), "m: target -2 at batch row 0, position 1 is "
                              "outside the vocabulary [0, 6) (-1: no target)");
}

TEST(Session, RefusesBadTokensAndLengthsWithoutChangingState) {
  VectorData data = VectorData::load("plain_postln"); // B 2, T 5, V 40
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  auto session = newSession(model);
  int64_t B = model->batch(), T = model->tgtLen(), D = model->dModel();
  std::vector<int64_t> ids(B * T, 1);
  std::vector<float> hidden(B * T * D);

  ids[1 * T + 2] = 40;
  Status status = session->step(ids.data(), T, hidden.data(), nullptr);
  ASSERT_FALSE(status.isOk());
  EXPECT_CONTAINS(status.message(), "token id 40 at batch row 1, position 2 "
                                    "is outside the vocabulary [0, 40)");
  ids[1 * T + 2] = -3;
  status = session->step(ids.data(), T, hidden.data(), nullptr);
  EXPECT_CONTAINS(status.message(), "token id -3 at batch row 1, position 2");
  ids[1 * T + 2] = 1;

  for (int64_t n : {int64_t(0), int64_t(-1), T + 1}) {
    status = session->step(ids.data(), n, hidden.data(), nullptr);
    ASSERT_FALSE(status.isOk()) << n;
    EXPECT_CONTAINS(status.message(), "n = " + std::to_string(n) +
                                          " tokens per batch row, expected "
                                          "1 <= n <= 5");
  }
  status = session->step(nullptr, T, hidden.data(), nullptr);
  EXPECT_CONTAINS(status.message(), "tokens is NULL");

  // Nothing happened: the stream still starts from scratch.
  EXPECT_EQ(session->memoryRows(), 0);
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

class LoadErrors : public ::testing::Test {
protected:
  void SetUp() override {
    data = VectorData::load("plain_postln");
    library = referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
    auto file = SafeTensorsFile::open(data.weightsPath());
    ASSERT_TRUE(file.ok());
    original = std::move(*file);
  }

  /// model.safetensors with `change` applied to its tensor list.
  template <class Change> std::string rewritten(Change change) {
    std::vector<TensorToWrite> tensors;
    for (const TensorInfo &info : original->tensors())
      tensors.push_back({info.name, info.dtype, info.shape, info.data});
    change(tensors);
    std::string path = testDir() + "/weights.safetensors";
    Status status = writeSafeTensors(path, tensors);
    EXPECT_TRUE(status.isOk()) << status.message();
    return path;
  }

  VectorData data;
  std::string library;
  std::unique_ptr<SafeTensorsFile> original;
};

TEST_F(LoadErrors, MissingTensor) {
  const std::string name = "transformer.layers.1.pos_ff.CoreNet.3.bias";
  std::string path = rewritten([&](std::vector<TensorToWrite> &tensors) {
    tensors.erase(std::find_if(tensors.begin(), tensors.end(),
                               [&](auto &t) { return t.name == name; }));
  });
  std::string message = loadError(library, path);
  EXPECT_CONTAINS(message, path + ": tensor '" + name + "': missing");
}

TEST_F(LoadErrors, WrongShape) {
  const std::string name = "transformer.layers.0.dec_attn.qkv_net.weight";
  std::string path = rewritten([&](std::vector<TensorToWrite> &tensors) {
    for (TensorToWrite &tensor : tensors)
      if (tensor.name == name)
        std::swap(tensor.shape[0], tensor.shape[1]);
  });
  std::string message = loadError(library, path);
  EXPECT_CONTAINS(message, path + ": tensor '" + name + "': wrong shape");
  EXPECT_CONTAINS(message, "expected [72, 24], found [24, 72]");
}

TEST_F(LoadErrors, TruncatedFile) {
  std::string path = testDir() + "/truncated.safetensors";
  std::ifstream in(data.weightsPath(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::string message = loadError(library, path);
  EXPECT_CONTAINS(message, path + ": tensor '");
  EXPECT_CONTAINS(message, "data_offsets beyond the data section");
}

// A checkpoint's stored positional buffer is not a descriptor weight, but a
// compiled model computes the frequencies from d_model: one that differs
// would silently mean another model.
TEST_F(LoadErrors, StoredInverseFrequenciesMustMatch) {
  const int64_t dModel = 24; // plain_postln's
  std::vector<float> invFreq(dModel / 2);
  for (size_t i = 0; i < invFreq.size(); ++i)
    invFreq[i] = float(1.0 / std::pow(10000.0, 2.0 * i / dModel));
  auto withInvFreq = [&](std::vector<TensorToWrite> &tensors) {
    tensors.push_back({"transformer.pos_emb.inv_freq",
                       DType::F32,
                       {int64_t(invFreq.size())},
                       invFreq.data()});
  };
  std::string path = rewritten(withInvFreq);
  auto model = CompiledModel::load(library, path);
  EXPECT_TRUE(model.ok()) << model.status().message();

  invFreq[2] *= 1.01f;
  path = rewritten(withInvFreq);
  std::string message = loadError(library, path);
  EXPECT_CONTAINS(message, path + ": tensor 'transformer.pos_emb.inv_freq': "
                                  "differs from the inverse frequencies of "
                                  "d_model 24 at index 2");
}

TEST_F(LoadErrors, NoWeightsFile) {
  std::string message = loadError(library, testDir() + "/absent.safetensors");
  EXPECT_CONTAINS(message, "absent.safetensors: cannot open");
  // Default: model.safetensors beside the library, absent here.
  message = loadError(library, "");
  EXPECT_CONTAINS(message, fs::path(library).parent_path().string() +
                               "/model.safetensors: cannot open");
}

TEST_F(LoadErrors, NotAModel) {
  std::string message = loadError(testDir() + "/absent.so", "");
  EXPECT_CONTAINS(message, "absent.so: cannot load the compiled model");
  std::string text = testDir() + "/text.so";
  std::ofstream(text) << "not a library\n";
  EXPECT_CONTAINS(loadError(text, ""), "text.so: cannot load the compiled "
                                       "model");
  // A real library that is no model.
  Dl_info info;
  ASSERT_NE(::dladdr(reinterpret_cast<void *>(&::dlopen), &info), 0);
  std::string libdl = info.dli_fname;
  EXPECT_CONTAINS(loadError(libdl, ""),
                  ": not a compiled txl model: it exports no "
                  "'txl_model_describe'");
}

TEST_F(LoadErrors, ModelCannotDescribeItself) {
  ::unsetenv("TXL_REFERENCE_MODEL_DIR");
  std::string copy = testDir() + "/unconfigured.so";
  fs::copy_file(TXL_REFERENCE_MODEL_PATH, copy);
  EXPECT_CONTAINS(loadError(copy, data.weightsPath()),
                  "unconfigured.so: txl_model_describe returned NULL");
}

TEST(Loading, WeightsBesideTheLibraryByDefault) {
  VectorData data = VectorData::load("adaptive_div1");
  std::string folder = testDir() + "/deployed";
  fs::create_directories(folder);
  fs::copy_file(data.weightsPath(), folder + "/model.safetensors");
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen, folder);
  auto model = CompiledModel::load(library);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_EQ((*model)->weightsSource(), folder + "/model.safetensors");
  auto session = newSession(*model);
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

// A library moved away from its weights said only "cannot open".
TEST(Loading, MissingWeightsBesideTheLibraryHintAtTheFlags) {
  VectorData data = VectorData::load("adaptive_div1");
  std::string folder = testDir() + "/moved";
  fs::create_directories(folder);
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen, folder);
  auto model = CompiledModel::load(library);
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  folder + "/model.safetensors: cannot open");
  EXPECT_CONTAINS(model.status().message(),
                  "give them with --weights FILE, or compile them in with "
                  "txlc --embed-weights");
}

TEST(Loading, RelativeLibraryPathMeansThatFile) {
  VectorData data = VectorData::load("plain_postln");
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
  fs::path previous = fs::current_path();
  fs::current_path(fs::path(library).parent_path());
  auto model = CompiledModel::load(fs::path(library).filename().string(),
                                   data.weightsPath());
  fs::current_path(previous);
  EXPECT_TRUE(model.ok()) << model.status().message();
}

//===----------------------------------------------------------------------===//
// Models linked in (function pointers), embedded weights, descriptor checks
//===----------------------------------------------------------------------===//

/// A model "linked into the executable": the reference model's functions
/// with a descriptor, embedded weights and step result the test controls.
struct LinkedModel {
  static inline ModelEntryPoints real;
  static inline txl_model_desc desc;
  static inline std::vector<txl_weight_desc> weights;
  static inline std::vector<std::vector<int64_t>> shapes;
  static inline std::string blob;
  static inline int32_t failWith = 0;

  static const txl_model_desc *describe() { return &desc; }
  static int32_t step(const float *const *w, const float *const *prepared,
                      const int64_t *tokens, int64_t n, int64_t rows,
                      int64_t windowStart, float *const *states, float *hidden,
                      float *logProbs, void *scratch) {
    if (failWith)
      return failWith;
    return real.step(w, prepared, tokens, n, rows, windowStart, states, hidden,
                     logProbs, scratch);
  }
  static const unsigned char *embedded(uint64_t *size) {
    *size = blob.size();
    return reinterpret_cast<const unsigned char *>(blob.data());
  }

  /// Copies the loaded reference model's description; returns the model
  /// whose code it borrows (keep it alive).
  static std::shared_ptr<const CompiledModel> setUp(const VectorData &data) {
    auto source = loadModel(data, data.tgtLen);
    if (!source)
      return nullptr;
    real = source->functions();
    desc = source->desc();
    weights.assign(desc.weights, desc.weights + desc.num_weights);
    shapes.clear();
    for (const txl_weight_desc &w : weights)
      shapes.emplace_back(w.shape, w.shape + w.rank);
    for (size_t i = 0; i < weights.size(); ++i)
      weights[i].shape = shapes[i].data();
    desc.weights = weights.data();
    std::ifstream in(data.weightsPath(), std::ios::binary);
    blob.assign(std::istreambuf_iterator<char>(in), {});
    failWith = 0;
    return source;
  }

  static ModelEntryPoints entryPoints(bool withEmbeddedWeights) {
    ModelEntryPoints points = real;
    points.describe = &describe;
    points.step = &step;
    points.embeddedWeights = withEmbeddedWeights ? &embedded : nullptr;
    points.vocabulary = nullptr;
    points.setErrorHandler = nullptr;
    return points;
  }
};

TEST(LinkedModel, EmbeddedWeights) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(true),
                                              "", "demo-exe");
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE((*model)->usesEmbeddedWeights());
  EXPECT_EQ((*model)->weightsSource(), "demo-exe:embedded-weights");
  // The weights are used in place in the blob (it is 8-byte aligned).
  const float *first = (*model)->weightPointers().front();
  EXPECT_GE(reinterpret_cast<const char *>(first), LinkedModel::blob.data());
  EXPECT_LT(reinterpret_cast<const char *>(first),
            LinkedModel::blob.data() + LinkedModel::blob.size());
  auto session = newSession(*model);
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

TEST(LinkedModel, WeightsFileOverridesEmbeddedWeights) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  LinkedModel::blob = "garbage";
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(true),
                                              data.weightsPath());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_FALSE((*model)->usesEmbeddedWeights());
  EXPECT_TRUE((*model)->hasEmbeddedWeights());
}

TEST(LinkedModel, BadEmbeddedWeights) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  LinkedModel::blob.resize(LinkedModel::blob.size() - 10);
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(true),
                                              "", "demo-exe");
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  "demo-exe:embedded-weights: tensor '");
  EXPECT_CONTAINS(model.status().message(),
                  "data_offsets beyond the data section");
}

TEST(LinkedModel, NoWeightsAtAll) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                              "", "demo-exe");
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  "demo-exe: no weights: the model has no embedded weights");
}

TEST(LinkedModel, DescriptorChecks) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  auto error = [&]() {
    auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                                data.weightsPath(), "demo-exe");
    EXPECT_FALSE(model.ok());
    return model.ok() ? std::string() : model.status().message();
  };

  LinkedModel::desc.abi_version = 99;
  EXPECT_CONTAINS(error(), "demo-exe: compiled for model ABI version 99, this "
                           "runtime implements version " +
                               std::to_string(TXL_MODEL_ABI_VERSION));
  LinkedModel::desc.abi_version = TXL_MODEL_ABI_VERSION;

  LinkedModel::desc.tgt_len = 0;
  EXPECT_CONTAINS(error(), "field 'tgt_len' expected >= 1, found 0");
  LinkedModel::desc.tgt_len = data.tgtLen;

  // State buffers without room to append a segment after the window.
  int64_t capacity = LinkedModel::desc.state_capacity;
  ASSERT_GT(LinkedModel::desc.mem_len, 0);
  LinkedModel::desc.state_capacity = LinkedModel::desc.mem_len;
  EXPECT_CONTAINS(error(),
                  "field 'state_capacity' expected >= mem_len + "
                  "tgt_len = " +
                      std::to_string(LinkedModel::desc.mem_len + data.tgtLen));
  LinkedModel::desc.state_capacity = capacity;

  LinkedModel::desc.n_layer = 3;
  EXPECT_CONTAINS(error(), "demo-exe: descriptor field 'n_layer' is 3 but "
                           "its config_json says 2");
  LinkedModel::desc.n_layer = 2;

  // A weight compiled with another shape than the file (and config) has.
  LinkedModel::shapes[3][0] += 1;
  std::string message = error();
  EXPECT_CONTAINS(message, data.weightsPath() + ": tensor '" +
                               std::string(LinkedModel::weights[3].name) +
                               "': wrong shape, expected");
  EXPECT_CONTAINS(message, "(as compiled into demo-exe)");
  LinkedModel::shapes[3][0] -= 1;

  // A weight the file does not have.
  LinkedModel::weights[3].name = "transformer.not_there";
  EXPECT_CONTAINS(error(), data.weightsPath() +
                               ": tensor 'transformer.not_there': missing "
                               "(the compiled model demo-exe reads it)");
}

/// A step variant for tgtLen tokens on the reference model's T-token step:
/// its tokens [B, tgtLen] and outputs [B, tgtLen, ...] repacked around the
/// real step (a variant computes what the segment step does). Counts calls.
struct LinkedVariant {
  static inline int64_t tgtLen = 0;
  static inline int calls = 0;

  static int32_t step(const float *const *w, const float *const *prepared,
                      const int64_t *tokens, int64_t n, int64_t rows,
                      int64_t windowStart, float *const *states, float *hidden,
                      float *logProbs, void *scratch) {
    ++calls;
    const txl_model_desc &d = LinkedModel::desc;
    int64_t B = d.batch, T = d.tgt_len, D = d.d_model, V = d.vocab_size;
    std::vector<int64_t> full(B * T, 0);
    std::vector<float> h(B * T * D), lp(logProbs ? B * T * V : 0);
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(tokens + b * tgtLen, tgtLen, &full[b * T]);
    int32_t code = LinkedModel::real.step(
        w, prepared, full.data(), n, rows, windowStart, states, h.data(),
        logProbs ? lp.data() : nullptr, scratch);
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(&h[b * T * D], tgtLen * D, hidden + b * tgtLen * D);
      if (logProbs)
        std::copy_n(&lp[b * T * V], tgtLen * V, logProbs + b * tgtLen * V);
    }
    return code;
  }
};

TEST(LinkedModel, StepVariantsTakeTheTokensTheyHold) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  ASSERT_GT(data.tgtLen, 2);
  txl_step_variant_desc variants[] = {{2, &LinkedVariant::step}};
  LinkedVariant::tgtLen = 2;
  LinkedVariant::calls = 0;
  LinkedModel::desc.num_step_variants = 1;
  LinkedModel::desc.step_variants = variants;
  auto load = [&]() {
    return CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                          data.weightsPath(), "demo-exe");
  };
  auto model = load();
  ASSERT_TRUE(model.ok()) << model.status().message();

  // Steps of one and two tokens go through the variant, longer ones through
  // the segment step; the numbers are those of the segment step alone, bit
  // for bit (the variant repacks around the same code).
  auto withVariant = newSession(*model);
  StreamResult one = runStream(*withVariant, data.tokens, data.length, 1);
  EXPECT_EQ(LinkedVariant::calls, data.length);
  auto segmentOnly = newSession(*model);
  segmentOnly->setUseStepVariants(false);
  StreamResult expected = runStream(*segmentOnly, data.tokens, data.length, 1);
  EXPECT_EQ(LinkedVariant::calls, data.length);
  EXPECT_EQ(one.hidden, expected.hidden);
  EXPECT_EQ(one.logProbs, expected.logProbs);
  EXPECT_EQ(one.memories, expected.memories);
  LinkedVariant::calls = 0;
  withVariant->reset();
  StreamResult segments =
      runStream(*withVariant, data.tokens, data.length, data.tgtLen);
  EXPECT_EQ(LinkedVariant::calls,
            data.length % data.tgtLen && data.length % data.tgtLen <= 2 ? 1
                                                                        : 0);
  expectMatchesVectors(data, segments);

  auto error = [&]() {
    auto refused = load();
    EXPECT_FALSE(refused.ok());
    return refused.ok() ? std::string() : refused.status().message();
  };
  variants[0].tgt_len = data.tgtLen;
  EXPECT_CONTAINS(error(), "demo-exe: invalid model descriptor: step variant "
                           "#0 has no step function or a tgt_len outside "
                           "[1, tgt_len)");
  variants[0].tgt_len = 2;
  variants[0].step = nullptr;
  EXPECT_CONTAINS(error(), "step variant #0 has no step function");
  LinkedModel::desc.step_variants = nullptr;
  EXPECT_CONTAINS(error(), "step_variants is NULL, expected 1 entries");
}

TEST(LinkedModel, BindsAWeightUnderItsAlternateName) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  auto load = [&]() {
    return CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                          data.weightsPath(), "demo-exe");
  };
  // The file holds the weight only under the name the descriptor gives as
  // an alternate one (a tied copy): that is the tensor bound.
  const char *fileName = LinkedModel::weights[3].name;
  const char *alternates[] = {"transformer.also_not_there", fileName};
  LinkedModel::weights[3].name = "transformer.not_there";
  LinkedModel::weights[3].num_alternate_names = 2;
  LinkedModel::weights[3].alternate_names = alternates;
  auto model = load();
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto file = SafeTensorsFile::open(data.weightsPath());
  ASSERT_TRUE(file.ok());
  const TensorInfo *tensor = (*file)->find(fileName);
  ASSERT_TRUE(tensor);
  std::vector<float> expected = toFloat32(*tensor);
  EXPECT_EQ(std::memcmp((*model)->weightPointers()[3], expected.data(),
                        expected.size() * sizeof(float)),
            0);

  // Under none of its names: the message lists them all.
  alternates[1] = "transformer.still_not_there";
  model = load();
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  ": tensor 'transformer.not_there': missing (the compiled "
                  "model demo-exe reads it), expected shape ");
  EXPECT_CONTAINS(model.status().message(),
                  "(also accepted under 'transformer.also_not_there', "
                  "'transformer.still_not_there')");
}

// Two names of one parameter holding different values: one was read, the
// other silently ignored.
TEST(LinkedModel, TiedCopiesThatDifferAreRefused) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  // Layer 1's qkv_net as a copy of layer 0's: same shape, other values.
  size_t i = 0;
  while (i < LinkedModel::weights.size() &&
         std::string(LinkedModel::weights[i].name)
                 .find("layers.0.dec_attn.qkv_net") == std::string::npos)
    ++i;
  ASSERT_LT(i, LinkedModel::weights.size());
  std::string name = LinkedModel::weights[i].name;
  std::string copy = name;
  copy.replace(copy.find("layers.0."), 9, "layers.1.");
  const char *alternates[] = {copy.c_str()};
  LinkedModel::weights[i].num_alternate_names = 1;
  LinkedModel::weights[i].alternate_names = alternates;
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                              data.weightsPath(), "demo-exe");
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  data.weightsPath() + ": tensors '" + name + "' and '" + copy +
                      "' are the same parameter '" + name +
                      "' but hold different values");
}

TEST(LinkedModel, NonFiniteWeightsAreRefused) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  const char *name = LinkedModel::weights[3].name;
  size_t offset = 0;
  {
    auto file = SafeTensorsFile::fromMemory("blob", LinkedModel::blob.data(),
                                            LinkedModel::blob.size());
    ASSERT_TRUE(file.ok()) << file.status().message();
    const TensorInfo *tensor = (*file)->find(name);
    ASSERT_TRUE(tensor && tensor->dtype == DType::F32 && tensor->nbytes > 8);
    offset =
        reinterpret_cast<const char *>(tensor->data) - LinkedModel::blob.data();
  }
  float nan = NAN;
  std::memcpy(&LinkedModel::blob[offset + 4], &nan, 4);
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(true),
                                              "", "demo-exe");
  ASSERT_FALSE(model.ok());
  EXPECT_CONTAINS(model.status().message(),
                  "demo-exe:embedded-weights: tensor '" + std::string(name) +
                      "': non-finite value nan at [");
  EXPECT_CONTAINS(model.status().message(), "expected finite weights");
}

TEST(LinkedModel, FailedStepPoisonsTheSessionUntilReset) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                              data.weightsPath(), "demo-exe");
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto session = newSession(*model);
  std::vector<int64_t> ids(data.batch * data.tgtLen, 1);
  LinkedModel::failWith = 7;
  Status status = session->step(ids.data(), data.tgtLen, nullptr, nullptr);
  EXPECT_CONTAINS(status.message(), "demo-exe: txl_model_step failed (code 7)");
  LinkedModel::failWith = 0;
  status = session->step(ids.data(), data.tgtLen, nullptr, nullptr);
  EXPECT_CONTAINS(status.message(), "reset the session first");
  session->reset();
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

TEST(LinkedModel, WithoutAnErrorHandlerKernelErrorsAreNotReported) {
  VectorData data = VectorData::load("prelnorm_shared_r");
  auto source = LinkedModel::setUp(data);
  ASSERT_TRUE(source);
  EXPECT_TRUE(source->reportsKernelErrors());
  auto model = CompiledModel::fromEntryPoints(LinkedModel::entryPoints(false),
                                              data.weightsPath(), "demo-exe");
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_FALSE((*model)->reportsKernelErrors());
  EXPECT_FALSE((*model)->hasVocabulary());
  EXPECT_EQ((*model)->vocabulary(), "");
}

//===----------------------------------------------------------------------===//
// The vocabulary compiled into a model
//===----------------------------------------------------------------------===//

/// A model directory in the test's folder: `data`'s config.json, and a
/// vocab.txt holding `vocabulary` unless it is empty.
std::string modelDirWithVocabulary(const VectorData &data,
                                   const std::string &vocabulary) {
  std::string dir = testDir() + "/model";
  fs::create_directories(dir);
  fs::copy_file(data.modelDir() + "/config.json", dir + "/config.json",
                fs::copy_options::overwrite_existing);
  if (!vocabulary.empty())
    std::ofstream(dir + "/vocab.txt", std::ios::binary) << vocabulary;
  return dir;
}

TEST(Vocabulary, ComesFromTheModel) {
  VectorData data = VectorData::load("plain_postln");
  std::string vocabulary;
  for (int id = 0; id < 40; ++id)
    vocabulary +=
        id == 3 ? std::string("\\s\n") : "t" + std::to_string(id) + "\n";
  std::string dir = modelDirWithVocabulary(data, vocabulary);
  auto model = CompiledModel::load(
      referenceModelCopy(dir, data.batch, data.tgtLen), data.weightsPath());
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE((*model)->hasVocabulary());
  EXPECT_EQ((*model)->vocabulary(), vocabulary);
}

TEST(Vocabulary, EmptyWhenTheModelHasNone) {
  VectorData data = VectorData::load("plain_postln");
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  // The reference model exports the function; it returns NULL here.
  EXPECT_NE(model->functions().vocabulary, nullptr);
  EXPECT_FALSE(model->hasVocabulary());
  EXPECT_EQ(model->vocabulary(), "");
}

//===----------------------------------------------------------------------===//
// Kernel errors: statuses of the step, not aborts
//===----------------------------------------------------------------------===//

/// The reference model for `data` that fails, as a failing kernel does
/// (through the error handler), on every step that sees token `failing`.
std::shared_ptr<const CompiledModel> failingModel(const VectorData &data,
                                                  int64_t failing) {
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
  ::setenv("TXL_REFERENCE_MODEL_FAILING_TOKEN", std::to_string(failing).c_str(),
           1);
  // The copy reads its configuration on the first describe, in load().
  auto model = CompiledModel::load(library, data.weightsPath());
  ::unsetenv("TXL_REFERENCE_MODEL_FAILING_TOKEN");
  EXPECT_TRUE(model.ok()) << model.status().message();
  return model.ok() ? *model : nullptr;
}

/// `count` tokens, all 1 except `failing` at position `at` (if >= 0).
std::vector<int64_t> tokensWith(size_t count, int64_t failing, int64_t at) {
  std::vector<int64_t> ids(count, 1);
  if (at >= 0)
    ids[at] = failing;
  return ids;
}

size_t occurrences(const std::string &text, const std::string &part) {
  size_t count = 0;
  for (size_t at = text.find(part); at != std::string::npos;
       at = text.find(part, at + 1))
    ++count;
  return count;
}

// Without the handler the reference model, like Halide's default handler,
// aborts the process: this test then fails by crashing.
TEST(KernelErrors, BecomeTheStatusOfTheStep) {
  VectorData data = VectorData::load("plain_postln");
  auto model = failingModel(data, 7);
  ASSERT_TRUE(model);
  EXPECT_TRUE(model->reportsKernelErrors());
  auto session = newSession(model);
  const int64_t B = data.batch, T = data.tgtLen;
  std::vector<int64_t> good = tokensWith(B * T, 7, -1);
  ASSERT_TRUE(session->step(good.data(), T, nullptr, nullptr).isOk());

  // Token 7 at batch row 1, position 2.
  std::vector<int64_t> bad = tokensWith(B * T, 7, T + 2);
  Status status = session->step(bad.data(), T, nullptr, nullptr);
  ASSERT_FALSE(status.isOk());
  EXPECT_CONTAINS(status.message(),
                  "txl_model_step failed (code 3): txl_reference_model: "
                  "txl_model_step: kernel error: token 7 at batch row 1, "
                  "position 2 (TXL_REFERENCE_MODEL_FAILING_TOKEN); the "
                  "session's memory is undefined until reset");
  EXPECT_CONTAINS(session->step(good.data(), T, nullptr, nullptr).message(),
                  "reset the session first");

  // Each failure reports its own message only.
  session->reset();
  ASSERT_TRUE(session->step(good.data(), T, nullptr, nullptr).isOk());
  status = session->step(bad.data(), T, nullptr, nullptr);
  EXPECT_EQ(occurrences(status.message(), "kernel error"), 1u)
      << status.message();
  session->reset();
  expectMatchesVectors(
      data, runStream(*session, data.tokens, data.length, data.tgtLen));
}

TEST(KernelErrors, StayWithTheThreadThatFailed) {
  VectorData data = VectorData::load("plain_postln");
  auto model = failingModel(data, 7);
  ASSERT_TRUE(model);
  const int64_t B = data.batch, T = data.tgtLen;
  constexpr int kSteps = 40;
  std::vector<std::string> failingMessages, goodMessages;
  auto run = [&](bool fail, std::vector<std::string> &messages) {
    auto session = newSession(model);
    std::vector<int64_t> ids = tokensWith(B * T, 7, fail ? 0 : -1);
    for (int i = 0; i < kSteps; ++i) {
      messages.push_back(
          session->step(ids.data(), T, nullptr, nullptr).message());
      session->reset();
    }
  };
  std::thread failing(run, true, std::ref(failingMessages));
  std::thread good(run, false, std::ref(goodMessages));
  failing.join();
  good.join();
  for (const std::string &message : goodMessages)
    EXPECT_EQ(message, "");
  for (const std::string &message : failingMessages)
    EXPECT_EQ(occurrences(message, "kernel error: token 7 at batch row 0, "
                                   "position 0"),
              1u)
        << message;
}

//===----------------------------------------------------------------------===//
// Threads
//===----------------------------------------------------------------------===//

TEST(Threads, SessionsOfOneModelRunConcurrently) {
  VectorData data = VectorData::load("adaptive_div4");
  auto model = loadModel(data, data.tgtLen);
  ASSERT_TRUE(model);
  std::vector<std::vector<int64_t>> streams = {data.tokens, reversedRows(data)};
  std::vector<StreamResult> alone;
  for (const auto &stream : streams) {
    auto session = newSession(model);
    alone.push_back(runStream(*session, stream, data.length, data.tgtLen));
  }

  constexpr int kRounds = 5;
  std::vector<std::vector<StreamResult>> results(streams.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < streams.size(); ++i)
    threads.emplace_back([&, i] {
      auto session = newSession(model);
      for (int round = 0; round < kRounds; ++round) {
        results[i].push_back(
            runStream(*session, streams[i], data.length, data.tgtLen));
        session->reset();
      }
    });
  for (std::thread &thread : threads)
    thread.join();
  for (size_t i = 0; i < streams.size(); ++i) {
    ASSERT_EQ(results[i].size(), size_t(kRounds));
    for (const StreamResult &result : results[i]) {
      EXPECT_EQ(result.hidden, alone[i].hidden);
      EXPECT_EQ(result.logProbs, alone[i].logProbs);
      EXPECT_EQ(result.memories, alone[i].memories);
    }
  }
  expectMatchesVectors(data, results[0].back());
}

} // namespace
