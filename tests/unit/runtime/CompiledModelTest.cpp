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

TEST(CompiledModel, ScoresStreamsAtTargets) {
  // txl_model_nll on both batch rows, S segments per call, against the
  // vectors' nll and hidden states; the stream's last token has no target
  // (-1, loss 0).
  VectorData data = VectorData::load("plain_postln");
  auto model = CompiledModel::load(modelCopy());
  ASSERT_TRUE(model.ok()) << model.status().message();
  ASSERT_NE((*model)->functions().nll, nullptr);
  int64_t S = (*model)->desc().score_segments;
  int64_t B = data.batch, N = data.length, T = data.tgtLen;
  int64_t V = (*model)->vocabSize(), D = (*model)->dModel();
  ASSERT_EQ(B, 2);
  ASSERT_GT(S, 1);
  ASSERT_GT((N + T - 1) / T, 1) << "several segments, one group";
  auto session = Session::create(*model);
  ASSERT_TRUE(session.ok()) << session.status().message();
  std::vector<int64_t> targets(B * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < N; ++t)
      targets[b * N + t] = t + 1 < N ? data.tokens[b * N + t + 1] : -1;
  auto scoreAll = [&](std::vector<float> &nll, std::vector<float> &hidden) {
    nll.assign(B * N, -1.0f);
    hidden.assign(B * N * D, 0.0f);
    return (*session)->scoreStream(data.tokens.data(), N, targets.data(),
                                   hidden.data(), nll.data());
  };
  auto withoutLast = [&](const std::vector<float> &nll) {
    std::vector<float> kept;
    for (int64_t b = 0; b < B; ++b) {
      kept.insert(kept.end(), nll.begin() + b * N, nll.begin() + b * N + N - 1);
      EXPECT_EQ(nll[b * N + N - 1], 0.0f) << "no target, no loss";
    }
    return kept;
  };

  // A target outside [-1, V) is refused before anything runs.
  std::vector<float> nll, hidden;
  targets[B * N - 2] = V;
  Status refused = scoreAll(nll, hidden);
  EXPECT_CONTAINS(refused.message(),
                  "scoreStream: target " + std::to_string(V) +
                      " at batch row 1, position " + std::to_string(N - 2) +
                      " is outside the vocabulary");
  EXPECT_EQ((*session)->memoryRows(), 0);
  targets[B * N - 2] = data.tokens[B * N - 1];

  Status status = scoreAll(nll, hidden);
  ASSERT_TRUE(status.isOk()) << status.message();
  EXPECT_TRUE(near(withoutLast(nll), data.expected("nll"), "nll"));
  EXPECT_TRUE(near(hidden, data.expected("hidden"), "hidden"));

  // The stream in two calls (the memory carried between them), the first
  // one segment long: the same losses.
  (*session)->reset();
  std::vector<float> pieces(B * N);
  for (int64_t first : {T, N - T}) {
    int64_t begin = first == T ? 0 : T;
    std::vector<int64_t> ids(B * first), part(B * first);
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(&data.tokens[b * N + begin], first, &ids[b * first]);
      std::copy_n(&targets[b * N + begin], first, &part[b * first]);
    }
    std::vector<float> scored(B * first);
    ASSERT_TRUE((*session)
                    ->scoreStream(ids.data(), first, part.data(), nullptr,
                                  scored.data())
                    .isOk());
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(&scored[b * first], first, &pieces[b * N + begin]);
  }
  EXPECT_TRUE(near(withoutLast(pieces), data.expected("nll"), "nll"));
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
