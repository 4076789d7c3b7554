//===- RelativeAttentionTest.cpp - relative multi-head attention ----------===//
//
// The kernel's closed form (score from distance d = M + i - j) is checked
// against a literal transcription of the authors' code: positions in their
// order, _rel_shift by reinterpreting a padded buffer, and the triu/tril mask.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

#include <cmath>
#include <limits>

using namespace txl::reference;
using namespace txl::reference::testing;

namespace {

struct AttentionWeights {
  int64_t H, Dh, D;
  Tensor qkv, r, o, u, v;

  AttentionWeights(int64_t H, int64_t Dh, int64_t D, unsigned seed)
      : H(H), Dh(Dh), D(D), qkv(randomTensor({3 * H * Dh, D}, seed, 0.5f)),
        r(randomTensor({H * Dh, D}, seed + 1, 0.5f)),
        o(randomTensor({D, H * Dh}, seed + 2, 0.5f)),
        u(randomTensor({H, Dh}, seed + 3, 0.5f)),
        v(randomTensor({H, Dh}, seed + 4, 0.5f)) {}

  Tensor run(const Tensor &x, const Tensor &memory, const Tensor &positions,
             bool sameLength = false, int64_t memLen = 0) const {
    return relativeAttention(x, memory, positions, qkv, r, o, u, v, H, Dh,
                             sameLength, memLen);
  }
};

/// The authors' RelPartialLearnableMultiHeadAttn._forward, one batch row and
/// head at a time, in double.
Tensor authorsAttention(const AttentionWeights &w, const Tensor &x,
                        const Tensor &memory, const Tensor &positions,
                        bool sameLength, int64_t memLen) {
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2), M = memory.dim(1);
  int64_t K = M + T, H = w.H, Dh = w.Dh, HD = H * Dh;
  auto linear = [&](const Tensor &weight, int64_t row, const float *in) {
    double sum = 0.0;
    for (int64_t k = 0; k < D; ++k)
      sum += double(weight.at({row, k})) * in[k];
    return sum;
  };
  // pos_seq = [K-1, ..., 0]: the authors' row p is distance K-1-p.
  std::vector<std::vector<double>> rk(K, std::vector<double>(HD));
  for (int64_t p = 0; p < K; ++p)
    for (int64_t c = 0; c < HD; ++c)
      rk[p][c] = linear(w.r, c, &positions.data[(K - 1 - p) * D]);

  // mask[i][j] = triu(ones, 1 + M) [+ tril(ones, -s) with same_length].
  std::vector<std::vector<bool>> mask(T, std::vector<bool>(K));
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < K; ++j) {
      mask[i][j] = j - i >= 1 + M;
      if (sameLength) {
        int64_t maskLen = K - memLen;
        int64_t shift = maskLen > 0 ? T - maskLen : T;
        mask[i][j] = mask[i][j] || j - i <= -shift;
      }
    }

  Tensor out({B, T, D});
  for (int64_t b = 0; b < B; ++b) {
    std::vector<std::vector<double>> heads(K, std::vector<double>(3 * HD));
    for (int64_t j = 0; j < K; ++j) {
      const float *row =
          j < M ? &memory.data[(b * M + j) * D] : &x.data[(b * T + j - M) * D];
      for (int64_t c = 0; c < 3 * HD; ++c)
        heads[j][c] = linear(w.qkv, c, row);
    }
    std::vector<std::vector<double>> att(T, std::vector<double>(HD, 0.0));
    for (int64_t n = 0; n < H; ++n) {
      std::vector<double> ac(T * K), bdRaw(T * K);
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < K; ++j) {
          double a = 0.0, bd = 0.0;
          for (int64_t e = 0; e < Dh; ++e) {
            double q = heads[M + i][n * Dh + e];
            a += (q + w.u.at({n, e})) * heads[j][HD + n * Dh + e];
            bd += (q + w.v.at({n, e})) * rk[j][n * Dh + e];
          }
          ac[i * K + j] = a;
          bdRaw[i * K + j] = bd;
        }
      // _rel_shift: pad a zero column in front ([T, K+1]), view the buffer
      // as [K+1, T], drop the first row, view as [T, K].
      std::vector<double> padded(T * (K + 1), 0.0);
      for (int64_t i = 0; i < T; ++i)
        for (int64_t j = 0; j < K; ++j)
          padded[i * (K + 1) + 1 + j] = bdRaw[i * K + j];
      std::vector<double> bd(padded.begin() + T, padded.end());

      for (int64_t i = 0; i < T; ++i) {
        std::vector<double> score(K);
        double maximum = -std::numeric_limits<double>::infinity();
        for (int64_t j = 0; j < K; ++j) {
          score[j] = mask[i][j] ? -std::numeric_limits<double>::infinity()
                                : (ac[i * K + j] + bd[i * K + j]) /
                                      std::sqrt(double(Dh));
          maximum = std::max(maximum, score[j]);
        }
        double total = 0.0;
        for (double &s : score)
          total += s = std::exp(s - maximum);
        for (int64_t j = 0; j < K; ++j)
          for (int64_t e = 0; e < Dh; ++e)
            att[i][n * Dh + e] +=
                score[j] / total * heads[j][2 * HD + n * Dh + e];
      }
    }
    for (int64_t i = 0; i < T; ++i)
      for (int64_t d = 0; d < D; ++d) {
        double sum = 0.0;
        for (int64_t c = 0; c < HD; ++c)
          sum += double(w.o.at({d, c})) * att[i][c];
        out.at({b, i, d}) = float(sum);
      }
  }
  return out;
}

TEST(RelativeAttention, SingleKeyGivesItsProjectedValue) {
  // T = 1, M = 0: softmax over one key is 1, so out = Wo (Wv x).
  AttentionWeights w(2, 3, 4, 1);
  Tensor x = randomTensor({2, 1, 4}, 2), memory({2, 0, 4});
  Tensor positions = randomTensor({1, 4}, 3);
  Tensor out = w.run(x, memory, positions);
  Tensor expected({2, 1, 4});
  for (int64_t b = 0; b < 2; ++b) {
    std::vector<double> value(6, 0.0);
    for (int64_t c = 0; c < 6; ++c)
      for (int64_t k = 0; k < 4; ++k)
        value[c] += double(w.qkv.at({12 + c, k})) * x.at({b, 0, k});
    for (int64_t d = 0; d < 4; ++d) {
      double sum = 0.0;
      for (int64_t c = 0; c < 6; ++c)
        sum += w.o.at({d, c}) * value[c];
      expected.at({b, 0, d}) = float(sum);
    }
  }
  EXPECT_TRUE(allNear(out, expected, 1e-6));
}

struct AttentionCase {
  int64_t T, M;
  bool sameLength;
  int64_t memLen;
};

std::string caseName(const AttentionCase &c) {
  return "T" + std::to_string(c.T) + "_M" + std::to_string(c.M) +
         (c.sameLength ? "_sameLength" + std::to_string(c.memLen) : "");
}

// Without it gtest prints the struct's bytes, padding included, and the
// ctest names would change from build to build.
void PrintTo(const AttentionCase &c, std::ostream *os) { *os << caseName(c); }

class MatchesAuthorsCode : public ::testing::TestWithParam<AttentionCase> {};

TEST_P(MatchesAuthorsCode, ClosedFormEqualsRelShiftAndMask) {
  AttentionCase c = GetParam();
  AttentionWeights w(2, 3, 5, 7); // H * Dh = 6 != D
  Tensor x = randomTensor({2, c.T, 5}, 8);
  Tensor memory = randomTensor({2, c.M, 5}, 9);
  Tensor positions = randomTensor({c.M + c.T, 5}, 10);
  Tensor out = w.run(x, memory, positions, c.sameLength, c.memLen);
  Tensor expected =
      authorsAttention(w, x, memory, positions, c.sameLength, c.memLen);
  EXPECT_TRUE(allNear(out, expected, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MatchesAuthorsCode,
    ::testing::Values(
        AttentionCase{1, 0, false, 0}, AttentionCase{4, 0, false, 0},
        AttentionCase{3, 5, false, 5}, AttentionCase{5, 2, false, 2},
        AttentionCase{4, 0, true, 2}, AttentionCase{3, 4, true, 4},
        AttentionCase{3, 4, true, 2}, AttentionCase{4, 3, true, 10}),
    [](const ::testing::TestParamInfo<AttentionCase> &info) {
      return caseName(info.param);
    });

TEST(RelativeAttention, FutureKeysAreMasked) {
  AttentionWeights w(2, 2, 4, 20);
  Tensor x = randomTensor({1, 4, 4}, 21), memory = randomTensor({1, 2, 4}, 22);
  Tensor positions = randomTensor({6, 4}, 23);
  Tensor before = w.run(x, memory, positions);
  for (int64_t d = 0; d < 4; ++d)
    x.at({0, 2, d}) += 1.0f; // key M + 2: only queries i >= 2 see it
  Tensor after = w.run(x, memory, positions);
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t d = 0; d < 4; ++d) {
      if (i < 2)
        EXPECT_EQ(after.at({0, i, d}), before.at({0, i, d})) << "query " << i;
      else
        EXPECT_NE(after.at({0, i, d}), before.at({0, i, d})) << "query " << i;
    }
}

TEST(RelativeAttention, MemoryIsAttendedByEveryQuery) {
  AttentionWeights w(2, 2, 4, 30);
  Tensor x = randomTensor({2, 3, 4}, 31), memory = randomTensor({2, 2, 4}, 32);
  Tensor positions = randomTensor({5, 4}, 33);
  Tensor before = w.run(x, memory, positions);
  memory.at({1, 0, 0}) += 1.0f;
  Tensor after = w.run(x, memory, positions);
  for (int64_t i = 0; i < 3; ++i) {
    // Batch rows are independent.
    EXPECT_EQ(after.at({0, i, 0}), before.at({0, i, 0}));
    EXPECT_NE(after.at({1, i, 0}), before.at({1, i, 0})) << "query " << i;
  }
}

TEST(RelativeAttention, SameLengthIgnoresKeysAtDistanceMemLen) {
  // M = 3, T = 2, mem_len 2: query 0 (time 3) sees times 3, 2; query 1
  // (time 4) sees times 4, 3. Memory rows 0 and 1 are never seen.
  AttentionWeights w(1, 3, 4, 40);
  Tensor x = randomTensor({1, 2, 4}, 41), memory = randomTensor({1, 3, 4}, 42);
  Tensor positions = randomTensor({5, 4}, 43);
  Tensor before = w.run(x, memory, positions, true, 2);
  for (int64_t d = 0; d < 4; ++d) {
    memory.at({0, 0, d}) += 1.0f;
    memory.at({0, 1, d}) -= 1.0f;
  }
  EXPECT_EQ(w.run(x, memory, positions, true, 2).data, before.data);
  for (int64_t d = 0; d < 4; ++d)
    memory.at({0, 2, d}) += 1.0f;
  Tensor after = w.run(x, memory, positions, true, 2);
  EXPECT_NE(after.at({0, 0, 0}), before.at({0, 0, 0}));
  EXPECT_EQ(after.at({0, 1, 0}), before.at({0, 1, 0}));
  // Without same_length every memory row is attended.
  EXPECT_NE(w.run(x, memory, positions).data,
            w.run(x, Tensor({1, 3, 4}), positions).data);
}

TEST(RelativeAttention, PositionRowsBeyondTheKeysAreUnused) {
  AttentionWeights w(2, 2, 4, 50);
  Tensor x = randomTensor({1, 3, 4}, 51), memory = randomTensor({1, 1, 4}, 52);
  Tensor positions = randomTensor({4, 4}, 53);
  Tensor longer({9, 4});
  std::copy(positions.data.begin(), positions.data.end(), longer.data.begin());
  for (size_t i = positions.data.size(); i < longer.data.size(); ++i)
    longer.data[i] = 1e6f;
  EXPECT_EQ(w.run(x, memory, longer).data, w.run(x, memory, positions).data);
}

TEST(RelativeAttention, DistanceSelectsThePositionRow) {
  // Changing positions[d] changes exactly the queries with a key at
  // distance d: with M = 0, T = 3, distance 2 is seen only by query 2.
  AttentionWeights w(2, 2, 4, 60);
  Tensor x = randomTensor({1, 3, 4}, 61), memory({1, 0, 4});
  Tensor positions = randomTensor({3, 4}, 62);
  Tensor before = w.run(x, memory, positions);
  positions.at({2, 1}) += 1.0f;
  Tensor after = w.run(x, memory, positions);
  EXPECT_EQ(after.at({0, 0, 0}), before.at({0, 0, 0}));
  EXPECT_EQ(after.at({0, 1, 0}), before.at({0, 1, 0}));
  EXPECT_NE(after.at({0, 2, 0}), before.at({0, 2, 0}));
}

TEST(RelativeAttention, InconsistentArgumentsThrow) {
  AttentionWeights w(2, 2, 4, 70);
  Tensor x({1, 3, 4}), memory({1, 2, 4}), positions({5, 4});
  EXPECT_NO_THROW(w.run(x, memory, positions));
  EXPECT_THROW(w.run(x, memory, Tensor({4, 4})), std::invalid_argument);
  EXPECT_THROW(w.run(x, Tensor({2, 2, 4}), positions), std::invalid_argument);
  EXPECT_THROW(w.run(x, Tensor({1, 2, 3}), positions), std::invalid_argument);
  EXPECT_THROW(w.run(x, memory, positions, true, 0), std::invalid_argument);
  Tensor wrongQkv({12, 5});
  EXPECT_THROW(relativeAttention(x, memory, positions, wrongQkv, w.r, w.o, w.u,
                                 w.v, 2, 2, false, 0),
               std::invalid_argument);
  EXPECT_THROW(relativeAttention(x, memory, positions, w.qkv, w.r, w.o, w.u,
                                 w.v, 4, 1, false, 0),
               std::invalid_argument);
}

} // namespace
