//===- AdaptiveLogSoftmaxTest.cpp - projected adaptive log-softmax --------===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

#include <cmath>

using namespace txl::reference;
using namespace txl::reference::testing;

namespace {

/// log_softmax of a vector, in double.
std::vector<double> logSoftmax(const std::vector<double> &logits) {
  double maximum = *std::max_element(logits.begin(), logits.end());
  double total = 0.0;
  for (double l : logits)
    total += std::exp(l - maximum);
  std::vector<double> result;
  for (double l : logits)
    result.push_back(l - maximum - std::log(total));
  return result;
}

/// (h @ P) @ W[rows]^T + b[rows] for one row h; P may be null.
std::vector<double> clusterLogits(const float *h, int64_t D,
                                  const Tensor *projection, const Tensor &W,
                                  const Tensor &bias, int64_t firstRow,
                                  int64_t rows) {
  int64_t E = W.dim(1);
  std::vector<double> projected(E, 0.0);
  for (int64_t e = 0; e < E; ++e)
    if (projection)
      for (int64_t d = 0; d < D; ++d)
        projected[e] += double(h[d]) * projection->at({d, e});
    else
      projected[e] = h[e];
  std::vector<double> logits(rows);
  for (int64_t t = 0; t < rows; ++t) {
    logits[t] = bias.data[firstRow + t];
    for (int64_t e = 0; e < E; ++e)
      logits[t] += double(W.at({firstRow + t, e})) * projected[e];
  }
  return logits;
}

void expectRowsSumToOne(const Tensor &logProbs) {
  int64_t V = logProbs.shape.back();
  for (int64_t r = 0; r < logProbs.numElements() / V; ++r) {
    double total = 0.0;
    for (int64_t t = 0; t < V; ++t)
      total += std::exp(double(logProbs.data[r * V + t]));
    EXPECT_NEAR(total, 1.0, 1e-6) << "row " << r;
  }
}

TEST(AdaptiveLogSoftmax, UniformWhenEverythingIsZero) {
  Tensor h = randomTensor({1, 2, 3}, 1), W({7, 3}), b({7});
  Tensor logProbs = adaptiveLogSoftmax(h, {W}, {b}, {}, {}, {}, {}, 1, 7);
  ASSERT_EQ(logProbs.shape, (std::vector<int64_t>{1, 2, 7}));
  for (float value : logProbs.data)
    EXPECT_NEAR(value, -std::log(7.0), 1e-6);
}

TEST(AdaptiveLogSoftmax, WithoutClustersIsAPlainLogSoftmax) {
  const int64_t D = 4, V = 9;
  Tensor h = randomTensor({2, 3, D}, 2), W = randomTensor({V, D}, 3),
         b = randomTensor({V}, 4);
  ConstTensorRef none(nullptr, {0});
  Tensor logProbs = adaptiveLogSoftmax(h, {W}, {b}, {}, none, none, {}, 1, V);
  expectRowsSumToOne(logProbs);
  for (int64_t r = 0; r < 6; ++r) {
    std::vector<double> expected =
        logSoftmax(clusterLogits(&h.data[r * D], D, nullptr, W, b, 0, V));
    for (int64_t t = 0; t < V; ++t)
      EXPECT_NEAR(logProbs.data[r * V + t], expected[t], 1e-6);
  }
}

TEST(AdaptiveLogSoftmax, ProjectionIsAppliedWithoutTranspose) {
  // h = [1, 2], P = [[1, 0, 0], [0, 0, 1]] ([D=2, E=3]) gives h @ P =
  // [1, 0, 2]; P^T would not even have the right shape.
  Tensor h({1, 1, 2}, {1, 2});
  Tensor P({2, 3}, {1, 0, 0, 0, 0, 1});
  Tensor W({2, 3}, {1, 0, 0, 0, 0, 1}), b({2});
  Tensor logProbs = adaptiveLogSoftmax(h, {W}, {b}, {P}, {}, {}, {}, 1, 2);
  std::vector<double> expected = logSoftmax({1.0, 2.0});
  EXPECT_NEAR(logProbs.data[0], expected[0], 1e-6);
  EXPECT_NEAR(logProbs.data[1], expected[1], 1e-6);
}

/// V = 8, cutoffs {3, 5}: clusters [0,3) (head), [3,5), [5,8).
struct ClusteredSoftmax {
  static constexpr int64_t D = 3, V = 8;
  std::vector<int64_t> cutoffs = {3, 5}, ends = {0, 3, 5, 8};
};

TEST(AdaptiveLogSoftmax, SharedWeightsWithClustersMatchTheFormula) {
  // div_val == 1: one [V, E] weight sliced by rows, one projection per
  // cluster.
  ClusteredSoftmax c;
  const int64_t E = 4;
  Tensor h = randomTensor({2, 2, c.D}, 5), W = randomTensor({c.V, E}, 6),
         b = randomTensor({c.V}, 7);
  std::vector<Tensor> P = {randomTensor({c.D, E}, 8), randomTensor({c.D, E}, 9),
                           randomTensor({c.D, E}, 10)};
  Tensor clusterW = randomTensor({2, E}, 11), clusterB = randomTensor({2}, 12);
  Tensor logProbs = adaptiveLogSoftmax(h, {W}, {b}, {P[0], P[1], P[2]},
                                       clusterW, clusterB, c.cutoffs, 1, c.V);
  expectRowsSumToOne(logProbs);

  Tensor headW({5, E}), headB({5});
  for (int64_t t = 0; t < 5; ++t) {
    const Tensor &rowsW = t < 3 ? W : clusterW;
    const Tensor &rowsB = t < 3 ? b : clusterB;
    int64_t row = t < 3 ? t : t - 3;
    for (int64_t e = 0; e < E; ++e)
      headW.at({t, e}) = rowsW.at({row, e});
    headB.data[t] = rowsB.data[row];
  }
  for (int64_t r = 0; r < 4; ++r) {
    const float *row = &h.data[r * c.D];
    std::vector<double> head =
        logSoftmax(clusterLogits(row, c.D, &P[0], headW, headB, 0, 5));
    for (int64_t t = 0; t < c.V; ++t) {
      double expected;
      if (t < 3) {
        expected = head[t];
      } else {
        int i = t < 5 ? 1 : 2;
        std::vector<double> tail = logSoftmax(clusterLogits(
            row, c.D, &P[i], W, b, c.ends[i], c.ends[i + 1] - c.ends[i]));
        expected = head[3 + i - 1] + tail[t - c.ends[i]];
      }
      EXPECT_NEAR(logProbs.data[r * c.V + t], expected, 1e-6)
          << "row " << r << " token " << t;
    }
  }
}

TEST(AdaptiveLogSoftmax, PerClusterWeightsMatchTheFormula) {
  // div_val == 2: widths 4, 2, 1, one weight/bias/projection per cluster.
  ClusteredSoftmax c;
  Tensor h = randomTensor({1, 3, c.D}, 20);
  std::vector<Tensor> W = {randomTensor({3, 4}, 21), randomTensor({2, 2}, 22),
                           randomTensor({3, 1}, 23)};
  std::vector<Tensor> b = {randomTensor({3}, 24), randomTensor({2}, 25),
                           randomTensor({3}, 26)};
  std::vector<Tensor> P = {randomTensor({c.D, 4}, 27),
                           randomTensor({c.D, 2}, 28),
                           randomTensor({c.D, 1}, 29)};
  Tensor clusterW = randomTensor({2, 4}, 30), clusterB = randomTensor({2}, 31);
  Tensor logProbs = adaptiveLogSoftmax(h, {W[0], W[1], W[2]},
                                       {b[0], b[1], b[2]}, {P[0], P[1], P[2]},
                                       clusterW, clusterB, c.cutoffs, 2, c.V);
  expectRowsSumToOne(logProbs);

  for (int64_t r = 0; r < 3; ++r) {
    const float *row = &h.data[r * c.D];
    std::vector<double> headLogits =
        clusterLogits(row, c.D, &P[0], W[0], b[0], 0, 3);
    std::vector<double> clusterLogit =
        clusterLogits(row, c.D, &P[0], clusterW, clusterB, 0, 2);
    headLogits.insert(headLogits.end(), clusterLogit.begin(),
                      clusterLogit.end());
    std::vector<double> head = logSoftmax(headLogits);
    for (int64_t t = 0; t < c.V; ++t) {
      int i = t < 3 ? 0 : t < 5 ? 1 : 2;
      double expected = head[t < 3 ? t : 3 + i - 1];
      if (i > 0)
        expected += logSoftmax(clusterLogits(row, c.D, &P[i], W[i], b[i], 0,
                                             W[i].dim(0)))[t - c.ends[i]];
      EXPECT_NEAR(logProbs.data[r * c.V + t], expected, 1e-6)
          << "row " << r << " token " << t;
    }
  }
}

TEST(AdaptiveLogSoftmax, ClusterRowsAreUsedInAscendingOrder) {
  // All output weights zero: the head logits are [0, 0, 0, +5, -5] and every
  // cluster is uniform. Cluster 1 (tokens 3, 4) must get head column 3, i.e.
  // cluster_weight/bias row 0 (HF/TF); the authors' PyTorch would use row 1.
  ClusteredSoftmax c;
  Tensor h = randomTensor({1, 1, c.D}, 40), W({c.V, c.D}), b({c.V});
  Tensor clusterW({2, c.D}), clusterB({2}, {5, -5});
  Tensor logProbs = adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB,
                                       c.cutoffs, 1, c.V);
  double denominator = 3 + std::exp(5.0) + std::exp(-5.0);
  for (int64_t t = 0; t < 3; ++t)
    EXPECT_NEAR(logProbs.data[t], -std::log(denominator), 1e-6);
  for (int64_t t = 3; t < 5; ++t)
    EXPECT_NEAR(logProbs.data[t], 5 - std::log(denominator) - std::log(2.0),
                1e-6);
  for (int64_t t = 5; t < 8; ++t)
    EXPECT_NEAR(logProbs.data[t], -5 - std::log(denominator) - std::log(3.0),
                1e-6);

  // Swapping the two cluster rows moves the mass between exactly those
  // clusters' tokens and leaves the shortlist alone.
  Tensor swappedB({2}, {-5, 5});
  Tensor swapped = adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, swappedB,
                                      c.cutoffs, 1, c.V);
  for (int64_t t = 0; t < 3; ++t)
    EXPECT_NEAR(swapped.data[t], logProbs.data[t], 1e-6);
  for (int64_t t = 3; t < 5; ++t)
    EXPECT_NEAR(swapped.data[t], logProbs.data[t] - 10, 1e-5);
  for (int64_t t = 5; t < 8; ++t)
    EXPECT_NEAR(swapped.data[t], logProbs.data[t] + 10, 1e-5);
}

TEST(AdaptiveLogSoftmax, InconsistentArgumentsThrow) {
  ClusteredSoftmax c;
  Tensor h({1, 1, c.D}), W({c.V, c.D}), b({c.V});
  Tensor clusterW({2, c.D}), clusterB({2});
  EXPECT_NO_THROW(adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB,
                                     c.cutoffs, 1, c.V));
  // Cutoffs out of order or reaching V.
  EXPECT_THROW(
      adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB, {5, 3}, 1, c.V),
      std::invalid_argument);
  EXPECT_THROW(
      adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB, {3, 8}, 1, c.V),
      std::invalid_argument);
  // Cluster parameters must match the number of tail clusters.
  EXPECT_THROW(
      adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB, {3}, 1, c.V),
      std::invalid_argument);
  EXPECT_THROW(
      adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB, {}, 1, c.V),
      std::invalid_argument);
  // Weight rows must cover the vocabulary.
  EXPECT_THROW(
      adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB, c.cutoffs, 1, 9),
      std::invalid_argument);
  // div_val > 1 needs one weight per cluster.
  EXPECT_THROW(adaptiveLogSoftmax(h, {W}, {b}, {}, clusterW, clusterB,
                                  c.cutoffs, 2, c.V),
               std::invalid_argument);
}

} // namespace
