//===- ReferenceVectorsTest.cpp - reference executor vs PyTorch vectors ---===//
//
// Runs every case of tests/vectors (written by the independent PyTorch
// implementation in tests/torch_reference) through the whole front end: load
// config.json + model.safetensors, build the txl module, interpret @score,
// and compare hidden states, log-probabilities and the final memories.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/WeightBinding.h"
#include "txl/reference/Interpreter.h"
#include "txl/runtime/SafeTensors.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

using namespace txl;
using reference::Tensor;

namespace {

/// Tolerance of the acceptance bar; the measured error is ~1e-6.
constexpr double kTolerance = 1e-4;

const char *kCases[] = {"plain_postln",  "plain_sameln_clamp", "adaptive_div1",
                        "adaptive_div4", "prelnorm_shared_r",  "untied_all"};

std::string caseDir(const std::string &name) {
  return std::string(TXL_VECTORS_DIR) + "/" + name;
}

int64_t readTgtLen(const std::string &dir) {
  std::ifstream in(dir + "/case.json");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  auto at = text.find("\"tgt_len\"");
  return std::stoll(text.substr(text.find(':', at) + 1));
}

Tensor loadTensor(const SafeTensorsFile &file, const std::string &name) {
  const TensorInfo *info = file.find(name);
  EXPECT_NE(info, nullptr) << name;
  if (!info)
    return Tensor();
  return Tensor(info->shape, toFloat32(*info));
}

::testing::AssertionResult near(const Tensor &actual, const Tensor &expected,
                                const std::string &what) {
  if (actual.shape != expected.shape)
    return ::testing::AssertionFailure()
           << what << ": shape " << reference::shapeString(actual.shape)
           << " != " << reference::shapeString(expected.shape);
  double worst = 0;
  for (size_t i = 0; i < actual.data.size(); ++i)
    worst =
        std::max(worst, std::fabs(double(actual.data[i]) - expected.data[i]));
  if (!(worst <= kTolerance))
    return ::testing::AssertionFailure()
           << what << ": max abs error " << worst << " > " << kTolerance;
  return ::testing::AssertionSuccess() << what << ": max abs error " << worst;
}

/// [B, M, D] per layer -> [L, M, B, D], the layout of the vectors' `mems`.
Tensor timeMajor(const std::vector<Tensor> &memories) {
  int64_t L = memories.size(), B = memories[0].shape[0],
          M = memories[0].shape[1], D = memories[0].shape[2];
  Tensor out({L, M, B, D});
  for (int64_t l = 0; l < L; ++l)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t m = 0; m < M; ++m)
        for (int64_t d = 0; d < D; ++d)
          out.at({l, m, b, d}) = memories[l].at({b, m, d});
  return out;
}

class ReferenceVectors : public ::testing::TestWithParam<const char *> {};

TEST_P(ReferenceVectors, MatchesPyTorchOnEverySegment) {
  std::string dir = caseDir(GetParam());
  auto model = loadModelDirectory(dir);
  ASSERT_TRUE(model.ok()) << model.status().message();
  auto tokensFile = SafeTensorsFile::open(dir + "/tokens.safetensors");
  auto expectedFile = SafeTensorsFile::open(dir + "/expected.safetensors");
  ASSERT_TRUE(tokensFile.ok() && expectedFile.ok());

  const TensorInfo *ids = (*tokensFile)->find("tokens");
  ASSERT_NE(ids, nullptr);
  reference::TokenTensor tokens{ids->shape,
                                std::vector<int64_t>(ids->numElements())};
  std::memcpy(tokens.data.data(), ids->data, ids->nbytes);

  mlir::MLIRContext context;
  StepShape shape;
  shape.batch = tokens.shape[0];
  shape.maxSegmentLength = readTgtLen(dir);
  auto module = buildModelModule(context, model->config, shape);
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));

  reference::Interpreter interpreter(
      *module,
      [&](const std::string &name) -> std::optional<reference::ConstTensorRef> {
        const BoundTensor *bound = model->weights.find(name);
        if (!bound)
          return std::nullopt;
        return reference::ConstTensorRef(bound->data, bound->shape);
      });
  auto results = interpreter.run("score", {tokens});
  ASSERT_TRUE(results.ok()) << results.status().message();
  ASSERT_EQ(results->size(), 2 + size_t(model->config.n_layer));

  const SafeTensorsFile &expected = **expectedFile;
  EXPECT_TRUE(near(std::get<Tensor>((*results)[0]),
                   loadTensor(expected, "hidden"), "hidden"));
  EXPECT_TRUE(near(std::get<Tensor>((*results)[1]),
                   loadTensor(expected, "log_probs"), "log_probs"));
  std::vector<Tensor> memories;
  for (size_t l = 2; l < results->size(); ++l)
    memories.push_back(std::get<Tensor>((*results)[l]));
  EXPECT_TRUE(near(timeMajor(memories), loadTensor(expected, "mems"), "mems"));
}

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceVectors, ::testing::ValuesIn(kCases),
                         [](const auto &info) {
                           return std::string(info.param);
                         });

} // namespace
