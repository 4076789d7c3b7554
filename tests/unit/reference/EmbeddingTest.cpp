//===- EmbeddingTest.cpp - adaptive and positional embedding --------------===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

#include <cmath>

using namespace txl::reference;
using namespace txl::reference::testing;

namespace {

TEST(AdaptiveEmbedding, SingleTableIsALookupScaledBySqrtD) {
  Tensor table = randomTensor({5, 4}, 1);
  std::vector<int64_t> tokens = {3, 0, 4, 3}; // B=2, T=2
  Tensor e = adaptiveEmbedding(tokens, 2, 2, {table}, {}, {}, 1, 4);
  ASSERT_EQ(e.shape, (std::vector<int64_t>{2, 2, 4}));
  for (int64_t p = 0; p < 4; ++p)
    for (int64_t d = 0; d < 4; ++d)
      EXPECT_FLOAT_EQ(e.data[p * 4 + d], 2.0f * table.at({tokens[p], d}));
}

TEST(AdaptiveEmbedding, SingleTableProjectionUsesTranspose) {
  // e = [1,2,3] @ P^T with P = [[1,0,1],[0,1,-1]] = [4, -1], then * sqrt(2).
  Tensor table({2, 3}, {0, 0, 0, 1, 2, 3});
  Tensor projection({2, 3}, {1, 0, 1, 0, 1, -1});
  Tensor e = adaptiveEmbedding({1}, 1, 1, {table}, {projection}, {}, 1, 2);
  EXPECT_FLOAT_EQ(e.data[0], 4.0f * std::sqrt(2.0f));
  EXPECT_FLOAT_EQ(e.data[1], -1.0f * std::sqrt(2.0f));
}

TEST(AdaptiveEmbedding, CutoffsDoNotSplitASingleTable) {
  // div_val == 1 keeps one [V, E] table whatever the cutoffs are.
  Tensor table = randomTensor({6, 2}, 2);
  Tensor withCutoffs =
      adaptiveEmbedding({0, 2, 5}, 1, 3, {table}, {}, {2, 4}, 1, 2);
  Tensor without = adaptiveEmbedding({0, 2, 5}, 1, 3, {table}, {}, {}, 1, 2);
  EXPECT_EQ(withCutoffs.data, without.data);
}

// V = 6, cutoffs {2, 4}, div_val 2: widths 4, 2, 1, D = 3.
struct ClusteredEmbedding {
  std::vector<int64_t> ends = {0, 2, 4, 6};
  std::vector<Tensor> tables = {randomTensor({2, 4}, 10),
                                randomTensor({2, 2}, 11),
                                randomTensor({2, 1}, 12)};
  std::vector<Tensor> projections = {randomTensor({3, 4}, 20),
                                     randomTensor({3, 2}, 21),
                                     randomTensor({3, 1}, 22)};

  std::vector<ConstTensorRef> tableRefs() const {
    return {tables[0], tables[1], tables[2]};
  }
  std::vector<ConstTensorRef> projectionRefs() const {
    return {projections[0], projections[1], projections[2]};
  }

  /// sqrt(D) * P_i table_i[t - ends[i]], written out directly.
  std::vector<double> expected(int64_t token, int cluster) const {
    const Tensor &table = tables[cluster], &projection = projections[cluster];
    std::vector<double> e(3, 0.0);
    for (int64_t d = 0; d < 3; ++d)
      for (int64_t k = 0; k < table.dim(1); ++k)
        e[d] += double(projection.at({d, k})) *
                table.at({token - ends[cluster], k});
    for (double &value : e)
      value *= std::sqrt(3.0);
    return e;
  }
};

TEST(AdaptiveEmbedding, ClustersPickTheirTableAtBoundaries) {
  ClusteredEmbedding model;
  std::vector<int64_t> tokens = {0, 1, 2, 3, 4, 5};
  std::vector<int> clusterOf = {0, 0, 1, 1, 2, 2};
  Tensor e = adaptiveEmbedding(tokens, 2, 3, model.tableRefs(),
                               model.projectionRefs(), {2, 4}, 2, 3);
  ASSERT_EQ(e.shape, (std::vector<int64_t>{2, 3, 3}));
  for (int64_t p = 0; p < 6; ++p) {
    std::vector<double> expected = model.expected(tokens[p], clusterOf[p]);
    for (int64_t d = 0; d < 3; ++d)
      EXPECT_NEAR(e.data[p * 3 + d], expected[d], 1e-6)
          << "token " << tokens[p] << " dim " << d;
  }
}

TEST(AdaptiveEmbedding, OutOfRangeTokenThrows) {
  ClusteredEmbedding model;
  for (int64_t bad : {int64_t(6), int64_t(-1)})
    EXPECT_THROW(adaptiveEmbedding({0, bad}, 1, 2, model.tableRefs(),
                                   model.projectionRefs(), {2, 4}, 2, 3),
                 std::invalid_argument);
  Tensor table = randomTensor({5, 4}, 1);
  EXPECT_THROW(adaptiveEmbedding({5}, 1, 1, {table}, {}, {}, 1, 4),
               std::invalid_argument);
}

TEST(AdaptiveEmbedding, InconsistentShapesThrow) {
  ClusteredEmbedding model;
  // Table 1 must have ends[2] - ends[1] = 2 rows.
  EXPECT_THROW(adaptiveEmbedding({0}, 1, 1, model.tableRefs(),
                                 model.projectionRefs(), {3, 4}, 2, 3),
               std::invalid_argument);
  // A projection of the wrong width.
  std::vector<ConstTensorRef> projections = model.projectionRefs();
  std::swap(projections[1], projections[2]);
  EXPECT_THROW(adaptiveEmbedding({0}, 1, 1, model.tableRefs(), projections,
                                 {2, 4}, 2, 3),
               std::invalid_argument);
  // E != D needs a projection.
  Tensor table = randomTensor({5, 4}, 1);
  EXPECT_THROW(adaptiveEmbedding({0}, 1, 1, {table}, {}, {}, 1, 3),
               std::invalid_argument);
  // Token count must be B * T.
  EXPECT_THROW(adaptiveEmbedding({0, 1, 2}, 1, 2, {table}, {}, {}, 1, 4),
               std::invalid_argument);
  // Unordered cutoffs.
  EXPECT_THROW(adaptiveEmbedding({0}, 1, 1, {table}, {}, {3, 2}, 1, 4),
               std::invalid_argument);
}

TEST(PositionalEmbedding, DistanceZeroIsSinZeroCosOne) {
  Tensor pe = positionalEmbedding(3, 6, -1);
  ASSERT_EQ(pe.shape, (std::vector<int64_t>{3, 6}));
  for (int64_t k = 0; k < 3; ++k) {
    EXPECT_EQ(pe.at({0, k}), 0.0f);
    EXPECT_EQ(pe.at({0, 3 + k}), 1.0f);
  }
}

TEST(PositionalEmbedding, RowsAreIndexedByDistance) {
  const int64_t D = 8;
  Tensor pe = positionalEmbedding(20, D, 0);
  for (int64_t d = 0; d < 20; ++d)
    for (int64_t k = 0; k < D / 2; ++k) {
      double invFreq = std::pow(10000.0, -2.0 * k / D);
      EXPECT_NEAR(pe.at({d, k}), std::sin(d * invFreq), 2e-6);
      EXPECT_NEAR(pe.at({d, D / 2 + k}), std::cos(d * invFreq), 2e-6);
    }
}

TEST(PositionalEmbedding, ClampRepeatsTheClampRow) {
  Tensor pe = positionalEmbedding(10, 4, 3);
  for (int64_t d = 4; d < 10; ++d)
    for (int64_t c = 0; c < 4; ++c)
      EXPECT_EQ(pe.at({d, c}), pe.at({3, c})) << "distance " << d;
  EXPECT_NE(pe.at({2, 0}), pe.at({3, 0}));
  // clamp_len <= 0 means no clamping.
  Tensor unclamped = positionalEmbedding(10, 4, 0);
  EXPECT_NE(unclamped.at({9, 0}), unclamped.at({3, 0}));
}

TEST(PositionalEmbedding, AnglesAreFloat32Products) {
  // torch computes inv_freq and distance * inv_freq in float32; at large
  // distances that rounding is visible, so match it.
  const int64_t D = 6;
  Tensor pe = positionalEmbedding(1001, D, -1);
  for (int64_t k = 0; k < D / 2; ++k) {
    float invFreq =
        1.0f / std::pow(10000.0f, static_cast<float>(2 * k) / float(D));
    float angle = 1000.0f * invFreq;
    EXPECT_EQ(pe.at({1000, k}), static_cast<float>(std::sin(double(angle))));
  }
}

TEST(PositionalEmbedding, OddWidthThrows) {
  EXPECT_THROW(positionalEmbedding(4, 5, -1), std::invalid_argument);
}

} // namespace
