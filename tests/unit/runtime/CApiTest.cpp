//===- CApiTest.cpp - the C API (txl.h) over the reference model ----------===//
//
// The same paths as RuntimeTest through the C functions: a whole stream
// against the PyTorch vectors, memories, reset, errors as txl_status, NULL
// arguments, and the header used from C99 (CApiFromC.c).
//
//===----------------------------------------------------------------------===//

#include "RuntimeTestSupport.h"

#include "txl/runtime/txl.h"

using namespace txl;
using namespace txl::testing;

extern "C" int txl_test_c_api_first_segment(const char *library,
                                            const char *weights,
                                            const int64_t *tokens, int64_t n,
                                            float *hidden, char *error,
                                            size_t error_size);

namespace {

/// Takes ownership of a status; its message, or "" for success.
std::string consume(txl_status *status) {
  std::string message = txl_status_message(status);
  txl_status_free(status);
  return message;
}

TEST(CApi, StreamMatchesVectors) {
  VectorData data = VectorData::load("adaptive_div4");
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
  txl_model *model = nullptr;
  ASSERT_EQ(consume(txl_model_load(library.c_str(), data.weightsPath().c_str(),
                                   &model)),
            "");
  const txl_model_desc *desc = txl_model_get_desc(model);
  ASSERT_NE(desc, nullptr);
  EXPECT_EQ(desc->batch, data.batch);
  EXPECT_EQ(desc->tgt_len, data.tgtLen);
  int64_t B = desc->batch, T = desc->tgt_len, D = desc->d_model,
          V = desc->vocab_size, N = data.length;

  txl_session *session = nullptr;
  ASSERT_EQ(consume(txl_session_create(model, &session)), "");
  // The session keeps what it needs of the model.
  txl_model_free(model);
  EXPECT_EQ(txl_session_memory_rows(session), 0);

  for (int pass = 0; pass < 2; ++pass) {
    std::vector<float> hidden(B * N * D), logProbs(B * N * V);
    for (int64_t start = 0; start < N; start += T) {
      int64_t n = std::min(T, N - start);
      std::vector<int64_t> ids(B * n);
      std::vector<float> h(B * n * D), lp(B * n * V);
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(&data.tokens[b * N + start], n, &ids[b * n]);
      ASSERT_EQ(consume(txl_session_step(session, ids.data(), n, h.data(),
                                         lp.data())),
                "");
      for (int64_t b = 0; b < B; ++b) {
        std::copy_n(&h[b * n * D], n * D, &hidden[(b * N + start) * D]);
        std::copy_n(&lp[b * n * V], n * V, &logProbs[(b * N + start) * V]);
      }
    }
    int64_t M = txl_session_memory_rows(session);
    EXPECT_EQ(M, std::min<int64_t>(7, N)); // mem_len 7
    std::vector<float> memories(2 * M * B * D);
    ASSERT_EQ(consume(txl_session_memories(session, memories.data())), "");
    EXPECT_TRUE(near(hidden, data.expected("hidden"), "hidden"));
    EXPECT_TRUE(near(logProbs, data.expected("log_probs"), "log_probs"));
    EXPECT_TRUE(near(memories, data.expected("mems"), "mems"));
    // The second pass after a reset is a fresh stream again.
    txl_session_reset(session);
    EXPECT_EQ(txl_session_memory_rows(session), 0);
  }
  txl_session_free(session);
}

TEST(CApi, ErrorsAreStatuses) {
  VectorData data = VectorData::load("plain_postln");
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);

  txl_model *model = reinterpret_cast<txl_model *>(0x1);
  std::string message = consume(
      txl_model_load(library.c_str(), "/nonexistent/w.safetensors", &model));
  EXPECT_EQ(model, nullptr);
  EXPECT_CONTAINS(message, "/nonexistent/w.safetensors: cannot open");
  EXPECT_CONTAINS(consume(txl_model_load(nullptr, nullptr, &model)),
                  "txl_model_load: library_path is NULL");
  EXPECT_CONTAINS(consume(txl_model_load(library.c_str(), nullptr, nullptr)),
                  "txl_model_load: out is NULL");

  ASSERT_EQ(consume(txl_model_load(library.c_str(), data.weightsPath().c_str(),
                                   &model)),
            "");
  txl_session *session = nullptr;
  EXPECT_CONTAINS(consume(txl_session_create(nullptr, &session)),
                  "txl_session_create: model is NULL");
  ASSERT_EQ(consume(txl_session_create(model, &session)), "");

  std::vector<int64_t> ids(2 * 5, 3);
  ids[7] = 1000;
  EXPECT_CONTAINS(
      consume(txl_session_step(session, ids.data(), 5, nullptr, nullptr)),
      "token id 1000 at batch row 1, position 2 is outside the vocabulary");
  EXPECT_CONTAINS(
      consume(txl_session_step(session, ids.data(), 6, nullptr, nullptr)),
      "n = 6 tokens per batch row, expected 1 <= n <= 5");
  EXPECT_CONTAINS(
      consume(txl_session_step(nullptr, ids.data(), 5, nullptr, nullptr)),
      "txl_session_step: session is NULL");
  ids[7] = 3;
  EXPECT_EQ(consume(txl_session_step(session, ids.data(), 5, nullptr, nullptr)),
            "");
  EXPECT_EQ(txl_session_memory_rows(session), 5);
  EXPECT_CONTAINS(consume(txl_session_memories(session, nullptr)),
                  "txl_session_memories: out is NULL");

  EXPECT_STREQ(txl_status_message(nullptr), "");
  txl_status_free(nullptr);
  txl_session_free(nullptr);
  txl_model_free(nullptr);
  txl_session_reset(nullptr);
  EXPECT_EQ(txl_session_memory_rows(nullptr), 0);
  EXPECT_EQ(txl_model_get_desc(nullptr), nullptr);
  uint64_t size = 7;
  EXPECT_EQ(txl_model_get_vocabulary(nullptr, &size), nullptr);
  EXPECT_EQ(size, 0u);
  // plain_postln has no vocab.txt: the model has no vocabulary.
  size = 7;
  EXPECT_EQ(txl_model_get_vocabulary(model, &size), nullptr);
  EXPECT_EQ(size, 0u);
  txl_session_free(session);
  txl_model_free(model);
}

TEST(CApi, Vocabulary) {
  VectorData data = VectorData::load("plain_postln");
  std::string dir = testDir() + "/model";
  std::filesystem::create_directories(dir);
  std::filesystem::copy_file(data.modelDir() + "/config.json",
                             dir + "/config.json",
                             std::filesystem::copy_options::overwrite_existing);
  std::string vocabulary = "\\n\n\\s\na\nb";
  std::ofstream(dir + "/vocab.txt", std::ios::binary) << vocabulary;
  std::string library = referenceModelCopy(dir, data.batch, data.tgtLen);
  txl_model *model = nullptr;
  ASSERT_EQ(consume(txl_model_load(library.c_str(), data.weightsPath().c_str(),
                                   &model)),
            "");
  uint64_t size = 0;
  const char *text = txl_model_get_vocabulary(model, &size);
  ASSERT_NE(text, nullptr);
  EXPECT_EQ(std::string(text, size), vocabulary);
  txl_model_free(model);
}

TEST(CApi, UsableFromC) {
  VectorData data = VectorData::load("untied_all");
  std::string library =
      referenceModelCopy(data.modelDir(), data.batch, data.tgtLen);
  int64_t B = data.batch, T = data.tgtLen, N = data.length, D = 16;
  std::vector<int64_t> ids(B * T);
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(&data.tokens[b * N], T, &ids[b * T]);
  std::vector<float> hidden(B * T * D);
  char error[512] = "";
  ASSERT_EQ(txl_test_c_api_first_segment(
                library.c_str(), data.weightsPath().c_str(), ids.data(), T,
                hidden.data(), error, sizeof(error)),
            0)
      << error;
  std::vector<float> expected = data.expected("hidden");
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < T * D; ++i)
      EXPECT_NEAR(hidden[b * T * D + i], expected[b * N * D + i],
                  kVectorTolerance);

  ids[0] = -5;
  EXPECT_EQ(txl_test_c_api_first_segment(
                library.c_str(), data.weightsPath().c_str(), ids.data(), T,
                hidden.data(), error, sizeof(error)),
            1);
  EXPECT_CONTAINS(error, "token id -5 at batch row 0, position 0");
}

} // namespace
