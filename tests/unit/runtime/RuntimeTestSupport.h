//===- RuntimeTestSupport.h - reference model, vectors ----------*- C++ -*-===//
//
// The runtime tests run the reference model (txl_reference_model, a .so that
// implements ModelABI.h with the reference kernels) on the cases of
// tests/vectors. The model reads its configuration from the environment once
// per loaded copy, so every load goes through a fresh copy of the library.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H
#define TXL_TESTS_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H

#include "../VectorCases.h"

#include "txl/runtime/Runtime.h"
#include "txl/support/SafeTensors.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace txl::testing {

#define EXPECT_CONTAINS(text, part)                                            \
  EXPECT_NE(std::string(text).find(part), std::string::npos)                   \
      << "'" << (text) << "' does not contain '" << (part) << "'"

inline std::string caseDir(const std::string &name) {
  return std::string(TXL_VECTORS_DIR) + "/" + name;
}

/// A folder of the running test's own, emptied on first use.
inline std::string testDir() {
  namespace fs = std::filesystem;
  const auto *test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::string name = std::string(test->test_suite_name()) + "." + test->name();
  for (char &ch : name)
    if (ch == '/')
      ch = '_';
  fs::path dir = fs::path(::testing::TempDir()) / "txl-runtime" / name;
  static std::vector<std::string> prepared;
  if (std::find(prepared.begin(), prepared.end(), dir.string()) ==
      prepared.end()) {
    prepared.push_back(dir.string());
    fs::remove_all(dir);
    fs::create_directories(dir);
  }
  return dir.string();
}

/// Configures the reference model for `dir` (config.json), batch B and
/// segment length T, and returns the path of a fresh copy of it in `folder`
/// (default: the test's own folder).
inline std::string referenceModelCopy(const std::string &dir, int64_t B,
                                      int64_t T, std::string folder = "") {
  static std::atomic<int> copies{0};
  ::setenv("TXL_REFERENCE_MODEL_DIR", dir.c_str(), 1);
  ::setenv("TXL_REFERENCE_MODEL_BATCH", std::to_string(B).c_str(), 1);
  ::setenv("TXL_REFERENCE_MODEL_TGT_LEN", std::to_string(T).c_str(), 1);
  if (folder.empty())
    folder = testDir();
  std::string path =
      folder + "/reference_model_" + std::to_string(copies++) + ".so";
  std::filesystem::copy_file(TXL_REFERENCE_MODEL_PATH, path,
                             std::filesystem::copy_options::overwrite_existing);
  return path;
}

/// A case of tests/vectors: tokens [B, N], the segment length the vectors
/// were made with, and the expected outputs.
struct VectorData {
  std::string name;
  std::vector<int64_t> tokens;
  int64_t batch = 0, length = 0, tgtLen = 0;
  std::unique_ptr<SafeTensorsFile> expectedFile;

  static VectorData load(const std::string &name) {
    VectorData data;
    data.name = name;
    auto tokens = SafeTensorsFile::open(caseDir(name) + "/tokens.safetensors");
    auto expected =
        SafeTensorsFile::open(caseDir(name) + "/expected.safetensors");
    EXPECT_TRUE(tokens.ok() && expected.ok()) << name;
    if (!tokens.ok() || !expected.ok())
      return data;
    const TensorInfo *ids = (*tokens)->find("tokens");
    data.batch = ids->shape[0];
    data.length = ids->shape[1];
    data.tokens.resize(ids->numElements());
    std::memcpy(data.tokens.data(), ids->data, ids->nbytes);
    std::ifstream in(caseDir(name) + "/case.json");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    auto at = text.find("\"tgt_len\"");
    data.tgtLen = std::stoll(text.substr(text.find(':', at) + 1));
    data.expectedFile = std::move(*expected);
    return data;
  }

  std::vector<float> expected(const std::string &tensor,
                              std::vector<int64_t> *shape = nullptr) const {
    const TensorInfo *info = expectedFile->find(tensor);
    EXPECT_NE(info, nullptr) << tensor;
    if (!info)
      return {};
    if (shape)
      *shape = info->shape;
    return toFloat32(*info);
  }

  std::string modelDir() const { return caseDir(name); }
  std::string weightsPath() const { return modelDir() + "/model.safetensors"; }
};

/// What a stream produced: hidden [B, N, D], log_probs [B, N, V] (empty
/// unless asked for), the memories [L, M, B, D] and M after every step.
struct StreamResult {
  std::vector<float> hidden, logProbs, memories;
  std::vector<int64_t> rowsAfterStep;
};

/// Runs tokens [B, N] through `session` in segments of `segment` tokens.
inline StreamResult runStream(Session &session,
                              const std::vector<int64_t> &tokens, int64_t N,
                              int64_t segment, bool withLogProbs = true) {
  const CompiledModel &model = session.model();
  int64_t B = model.batch(), D = model.dModel(), V = model.vocabSize();
  StreamResult result;
  result.hidden.assign(B * N * D, 0.0f);
  if (withLogProbs)
    result.logProbs.assign(B * N * V, 0.0f);
  for (int64_t start = 0; start < N; start += segment) {
    int64_t n = std::min(segment, N - start);
    std::vector<int64_t> ids(B * n);
    for (int64_t b = 0; b < B; ++b)
      std::copy_n(&tokens[b * N + start], n, &ids[b * n]);
    std::vector<float> hidden(B * n * D),
        logProbs(withLogProbs ? B * n * V : 0);
    Status status = session.step(ids.data(), n, hidden.data(),
                                 withLogProbs ? logProbs.data() : nullptr);
    EXPECT_TRUE(status.isOk()) << status.message();
    for (int64_t b = 0; b < B; ++b) {
      std::copy_n(&hidden[b * n * D], n * D,
                  &result.hidden[(b * N + start) * D]);
      if (withLogProbs)
        std::copy_n(&logProbs[b * n * V], n * V,
                    &result.logProbs[(b * N + start) * V]);
    }
    result.rowsAfterStep.push_back(session.memoryRows());
  }
  result.memories = session.memories();
  return result;
}

inline ::testing::AssertionResult near(const std::vector<float> &actual,
                                       const std::vector<float> &expected,
                                       const std::string &what,
                                       double tolerance = kVectorTolerance) {
  if (actual.size() != expected.size())
    return ::testing::AssertionFailure()
           << what << ": " << actual.size() << " values, expected "
           << expected.size();
  double worst = 0;
  for (size_t i = 0; i < actual.size(); ++i) {
    double error = std::fabs(double(actual[i]) - expected[i]);
    if (!(error <= worst)) // Also catches NaN.
      worst = std::isnan(error) ? INFINITY : error;
  }
  if (!(worst <= tolerance))
    return ::testing::AssertionFailure()
           << what << ": max abs error " << worst << " > " << tolerance;
  return ::testing::AssertionSuccess() << what << ": max abs error " << worst;
}

} // namespace txl::testing

#endif // TXL_TESTS_UNIT_RUNTIME_RUNTIMETESTSUPPORT_H
