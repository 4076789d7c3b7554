//===- CompiledModelTest.cpp - the runtime on a model compiled by txlc ----===//
//
// A real model.so (tests/vectors/plain_postln, compiled by txlc at build time
// with --embed-weights and a vocabulary): it loads with no weights file
// beside it, matches the PyTorch vectors, hands out its vocabulary, and a
// failing Halide kernel becomes the Status of the step, with Halide's
// message, instead of aborting the process.
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "txl/runtime/txl.h"

#include <dlfcn.h>

#include <filesystem>
#include <thread>

using namespace txl;
using namespace txl::testing;
namespace fs = std::filesystem;

namespace {

std::string readAll(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

/// The compiled model, copied into the test's folder, where there is no
/// model.safetensors: its weights can only be the embedded ones. (Once per
/// test: rewriting a loaded library would pull the code from under it.)
std::string modelCopy() {
  std::string path = testDir() + "/plain_postln.so";
  fs::copy_file(TXL_COMPILED_MODEL_PATH, path,
                fs::copy_options::overwrite_existing);
  return path;
}

TEST(CompiledModel, RunsOnItsEmbeddedWeights) {
  VectorData data = VectorData::load("plain_postln");
  std::string library = modelCopy();
  ASSERT_FALSE(fs::exists(testDir() + "/model.safetensors"));
  auto model = CompiledModel::load(library);
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE((*model)->usesEmbeddedWeights());
  EXPECT_EQ((*model)->weightsSource(), library + ":embedded-weights");
  EXPECT_TRUE((*model)->reportsKernelErrors());

  // The blob is the file, read-only and 64-byte aligned in the library; the
  // F32 weights are used in place.
  uint64_t size = 0;
  const unsigned char *blob = (*model)->functions().embeddedWeights(&size);
  std::string file = readAll(data.weightsPath());
  ASSERT_EQ(size, file.size());
  EXPECT_EQ(std::memcmp(blob, file.data(), size), 0);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(blob) % 64, 0u);
  for (const float *weight : (*model)->weightPointers()) {
    EXPECT_GE(reinterpret_cast<const unsigned char *>(weight), blob);
    EXPECT_LT(reinterpret_cast<const unsigned char *>(weight), blob + size);
  }

  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok()) << session.status().message();
  StreamResult result =
      runStream(**session, data.tokens, data.length, data.tgtLen);
  EXPECT_TRUE(near(result.hidden, data.expected("hidden"), "hidden"));
  EXPECT_TRUE(near(result.logProbs, data.expected("log_probs"), "log_probs"));
  EXPECT_TRUE(near(result.memories, data.expected("mems"), "mems"));
}

TEST(CompiledModel, HasItsVocabulary) {
  std::string library = modelCopy();
  auto model = CompiledModel::load(library);
  ASSERT_TRUE(model.ok()) << model.status().message();
  std::string vocabulary = readAll(TXL_COMPILED_MODEL_VOCAB);
  ASSERT_FALSE(vocabulary.empty());
  EXPECT_TRUE((*model)->hasVocabulary());
  EXPECT_EQ((*model)->vocabulary(), vocabulary);

  txl_model *handle = nullptr;
  txl_status *status = txl_model_load(library.c_str(), nullptr, &handle);
  ASSERT_EQ(status, nullptr) << txl_status_message(status);
  uint64_t size = 0;
  const char *text = txl_model_get_vocabulary(handle, &size);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(std::string(text, size), vocabulary);
  txl_model_free(handle);
}

TEST(CompiledModel, ScoresAtTargetsWithoutLogProbs) {
  // txl_model_nll on both batch rows, segment by segment, against the
  // vectors' nll; the stream's last token has no target (-1, loss 0).
  VectorData data = VectorData::load("plain_postln");
  auto model = CompiledModel::load(modelCopy());
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_NE((*model)->functions().nll, nullptr);
  ASSERT_EQ(data.batch, 2);
  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok()) << session.status().message();
  int64_t B = data.batch, N = data.length, T = data.tgtLen;
  int64_t V = (*model)->vocabSize(), D = (*model)->dModel();
  std::vector<float> nll(B * (N - 1));
  for (int64_t start = 0; start < N; start += T) {
    int64_t n = std::min(T, N - start);
    std::vector<int64_t> ids(B * n), targets(B * n);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < n; ++t) {
        ids[b * n + t] = data.tokens[b * N + start + t];
        targets[b * n + t] =
            start + t + 1 < N ? data.tokens[b * N + start + t + 1] : -1;
      }
    std::vector<float> hidden(B * n * D), scored(B * n, -1.0f);
    if (start == 0) {
      // A target outside [-1, V) is refused before the model runs.
      std::vector<int64_t> bad = targets;
      bad[B * n - 1] = V;
      Status refused = (*session)->step(ids.data(), n, hidden.data(), nullptr,
                                        bad.data(), scored.data());
      EXPECT_CONTAINS(refused.message(),
                      "step: target " + std::to_string(V) +
                          " at batch row 1, position " + std::to_string(n - 1) +
                          " is outside the vocabulary");
      EXPECT_EQ((*session)->memoryRows(), 0);
    }
    Status status = (*session)->step(ids.data(), n, hidden.data(), nullptr,
                                     targets.data(), scored.data());
    ASSERT_TRUE(status.isOk()) << status.message();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < n; ++t) {
        if (start + t + 1 < N)
          nll[b * (N - 1) + start + t] = scored[b * n + t];
        else
          EXPECT_EQ(scored[b * n + t], 0.0f) << "no target, no loss";
      }
  }
  EXPECT_TRUE(near(nll, data.expected("nll"), "nll"));
}

/// A model whose step runs one of the compiled model's real Halide kernels
/// with a NULL buffer: Halide reports the error through the handler that
/// CompiledModel installs (the model's txl_model_set_error_handler), and the
/// kernel returns its error code.
struct BrokenStep {
  static inline int32_t (*kernel)(void *, void *, void *) = nullptr;
  static inline ModelEntryPoints real;
  static inline bool broken = true;

  static int32_t step(const float *const *w, const float *const *prepared,
                      const int64_t *tokens, int64_t n, int64_t rows,
                      int64_t windowStart, float *const *states, float *hidden,
                      float *logProbs, void *scratch) {
    if (broken)
      return kernel(nullptr, nullptr, nullptr);
    return real.step(w, prepared, tokens, n, rows, windowStart, states, hidden,
                     logProbs, scratch);
  }
};

TEST(CompiledModel, KernelErrorIsTheStatusOfTheStep) {
  VectorData data = VectorData::load("plain_postln");
  std::string library = modelCopy();
  auto loaded = CompiledModel::load(library);
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  void *handle = ::dlopen(library.c_str(), RTLD_NOW | RTLD_NOLOAD);
  ASSERT_NE(handle, nullptr);
  BrokenStep::kernel = reinterpret_cast<int32_t (*)(void *, void *, void *)>(
      ::dlsym(handle, "txl_k0_embed"));
  ::dlclose(handle);
  ASSERT_NE(BrokenStep::kernel, nullptr);
  BrokenStep::real = (*loaded)->functions();
  BrokenStep::broken = true;

  ModelEntryPoints entryPoints = BrokenStep::real;
  entryPoints.step = &BrokenStep::step;
  auto model = CompiledModel::fromEntryPoints(entryPoints, data.weightsPath(),
                                              "broken-model");
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok()) << session.status().message();
  std::vector<int64_t> ids(data.batch * data.tgtLen, 1);

  // Halide's default handler would abort the process here.
  Status status = (*session)->step(ids.data(), data.tgtLen, nullptr, nullptr);
  ASSERT_FALSE(status.isOk());
  EXPECT_CONTAINS(status.message(),
                  "broken-model: txl_model_step failed (code -12): Buffer "
                  "argument embed_scale is nullptr; the session's memory is "
                  "undefined until reset");

  // Another thread's steps see none of it; this one's next failure only its
  // own message.
  std::string otherThread = "not run";
  std::thread([&] {
    auto other = Session::create(*loaded);
    otherThread =
        (*other)->step(ids.data(), data.tgtLen, nullptr, nullptr).message();
  }).join();
  EXPECT_EQ(otherThread, "");
  (*session)->reset();
  status = (*session)->step(ids.data(), data.tgtLen, nullptr, nullptr);
  std::string message = status.message();
  EXPECT_EQ(message.find("nullptr"), message.rfind("nullptr")) << message;

  // Once the kernel runs properly again, so does the session.
  BrokenStep::broken = false;
  (*session)->reset();
  StreamResult result =
      runStream(**session, data.tokens, data.length, data.tgtLen);
  EXPECT_TRUE(near(result.hidden, data.expected("hidden"), "hidden"));
}

} // namespace
