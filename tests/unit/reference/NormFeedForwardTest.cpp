//===- NormFeedForwardTest.cpp - LayerNorm, feed-forward, residual add ----===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

#include <cmath>

using namespace txl::reference;
using namespace txl::reference::testing;

namespace {

TEST(LayerNorm, NormalisesAKnownVector) {
  // mean 2.5, biased variance 1.25.
  Tensor x({4}, {1, 2, 3, 4});
  Tensor ones({4}, {1, 1, 1, 1}), zeros({4});
  Tensor y = layerNorm(x, ones, zeros, 0.0);
  double s = std::sqrt(1.25);
  EXPECT_NEAR(y.data[0], -1.5 / s, 1e-6);
  EXPECT_NEAR(y.data[1], -0.5 / s, 1e-6);
  EXPECT_NEAR(y.data[2], 0.5 / s, 1e-6);
  EXPECT_NEAR(y.data[3], 1.5 / s, 1e-6);
}

TEST(LayerNorm, AppliesEpsilonGammaBetaPerRow) {
  // Two rows of a [1, 2, 4] input, normalised independently.
  Tensor x({1, 2, 4}, {1, 2, 3, 4, 10, 10, 10, 14});
  Tensor gamma({4}, {1, 2, 3, 4}), beta({4}, {0.5, 0, -0.5, 1});
  double eps = 1e-5;
  Tensor y = layerNorm(x, gamma, beta, eps);
  ASSERT_EQ(y.shape, x.shape);
  double rows[2][4] = {{-1.5, -0.5, 0.5, 1.5}, {-1, -1, -1, 3}};
  double variances[2] = {1.25, 3.0};
  for (int r = 0; r < 2; ++r)
    for (int i = 0; i < 4; ++i)
      EXPECT_NEAR(y.data[r * 4 + i],
                  rows[r][i] / std::sqrt(variances[r] + eps) * gamma.data[i] +
                      beta.data[i],
                  1e-6);
}

TEST(LayerNorm, LargeOffsetDoesNotLoseThePrecisionOfTheVariance) {
  // Accumulating in double keeps 1e4 + small steps exact.
  Tensor x({4}, {10001, 10002, 10003, 10004});
  Tensor ones({4}, {1, 1, 1, 1}), zeros({4});
  Tensor shifted = layerNorm(x, ones, zeros, 1e-5);
  Tensor plain = layerNorm(Tensor({4}, {1, 2, 3, 4}), ones, zeros, 1e-5);
  EXPECT_TRUE(allNear(shifted, plain, 1e-6));
}

TEST(LayerNorm, WrongParameterShapeThrows) {
  Tensor x({2, 4});
  Tensor three({3}), four({4});
  EXPECT_THROW(layerNorm(x, three, four, 1e-5), std::invalid_argument);
  EXPECT_THROW(layerNorm(x, four, three, 1e-5), std::invalid_argument);
}

TEST(FeedForward, HandWorkedExampleWithRelu) {
  // x W1^T + b1 = [1, -0.5, -1] -> relu [1, 0, 0] -> W2 [.] + b2 = [1.5, 3.5].
  Tensor x({1, 1, 2}, {1, -1});
  Tensor w1({3, 2}, {1, 0, 0, 1, 1, 1}), b1({3}, {0, 0.5, -1});
  Tensor w2({2, 3}, {1, 2, 3, 4, 5, 6}), b2({2}, {0.5, -0.5});
  Tensor y = feedForward(x, w1, b1, w2, b2);
  ASSERT_EQ(y.shape, x.shape);
  EXPECT_FLOAT_EQ(y.data[0], 1.5f);
  EXPECT_FLOAT_EQ(y.data[1], 3.5f);
}

TEST(FeedForward, MatchesADirectFormulaOnEveryRow) {
  const int64_t D = 5, F = 7;
  Tensor x = randomTensor({2, 3, D}, 1);
  Tensor w1 = randomTensor({F, D}, 2), b1 = randomTensor({F}, 3);
  Tensor w2 = randomTensor({D, F}, 4), b2 = randomTensor({D}, 5);
  Tensor y = feedForward(x, w1, b1, w2, b2);
  Tensor expected(x.shape);
  for (int64_t r = 0; r < 6; ++r)
    for (int64_t d = 0; d < D; ++d) {
      double sum = b2.data[d];
      for (int64_t f = 0; f < F; ++f) {
        double inner = b1.data[f];
        for (int64_t k = 0; k < D; ++k)
          inner += double(w1.at({f, k})) * x.data[r * D + k];
        sum += w2.at({d, f}) * std::max(inner, 0.0);
      }
      expected.data[r * D + d] = float(sum);
    }
  EXPECT_TRUE(allNear(y, expected, 1e-6));
}

TEST(FeedForward, InconsistentShapesThrow) {
  Tensor x({1, 2, 4});
  Tensor w1({3, 4}), b1({3}), w2({4, 3}), b2({4});
  EXPECT_NO_THROW(feedForward(x, w1, b1, w2, b2));
  Tensor wrongW2({3, 4}), wrongB1({4});
  EXPECT_THROW(feedForward(x, w1, b1, wrongW2, b2), std::invalid_argument);
  EXPECT_THROW(feedForward(x, w1, wrongB1, w2, b2), std::invalid_argument);
  EXPECT_THROW(feedForward(Tensor({1, 2, 3}), w1, b1, w2, b2),
               std::invalid_argument);
}

TEST(Add, IsElementwiseAndNeedsEqualShapes) {
  Tensor a({2, 2}, {1, 2, 3, 4}), b({2, 2}, {10, 20, 30, 40});
  EXPECT_EQ(add(a, b).data, (std::vector<float>{11, 22, 33, 44}));
  EXPECT_THROW(add(a, Tensor({4})), std::invalid_argument);
}

} // namespace
