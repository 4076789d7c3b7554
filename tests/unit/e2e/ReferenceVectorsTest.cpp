//===- ReferenceVectorsTest.cpp - reference executor vs PyTorch vectors ---===//
//
// Runs every case of tests/vectors (written by the independent PyTorch
// implementation in tests/torch_reference) through the whole front end: load
// config.json + model.safetensors, build the txl module, interpret @score,
// and compare hidden states, log-probabilities and the final memories.
//
//===----------------------------------------------------------------------===//

#include "VectorCase.h"

using namespace txl;
using namespace txl::testing;
using reference::Tensor;

namespace {

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
  VectorCase vc = VectorCase::load(GetParam());
  ASSERT_TRUE(vc.model.has_value()) << vc.error;

  mlir::MLIRContext context;
  StepShape shape;
  shape.batch = vc.tokens.shape[0];
  shape.maxSegmentLength = vc.tgtLen;
  auto module = buildModelModule(context, vc.model->config, shape);
  ASSERT_TRUE(mlir::succeeded(mlir::verify(*module)));

  reference::Interpreter interpreter(*module, vc.weightLookup());
  auto results = interpreter.run("score", {vc.tokens});
  ASSERT_TRUE(results.ok()) << results.status().message();
  ASSERT_EQ(results->size(), 2 + size_t(vc.model->config.n_layer));

  EXPECT_TRUE(
      near(std::get<Tensor>((*results)[0]), vc.expected("hidden"), "hidden"));
  EXPECT_TRUE(near(std::get<Tensor>((*results)[1]), vc.expected("log_probs"),
                   "log_probs"));
  std::vector<Tensor> memories;
  for (size_t l = 2; l < results->size(); ++l)
    memories.push_back(std::get<Tensor>((*results)[l]));
  EXPECT_TRUE(near(timeMajor(memories), vc.expected("mems"), "mems"));
}

INSTANTIATE_TEST_SUITE_P(Cases, ReferenceVectors,
                         ::testing::ValuesIn(kVectorCases),
                         [](const auto &info) {
                           return std::string(info.param);
                         });

} // namespace
