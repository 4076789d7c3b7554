//===- MemoryAndLossTest.cpp - memory update and next-token NLL -----------===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

using namespace txl::reference;

namespace {

/// [B, rows, D] whose value at (b, r, d) is 1000 * b + 10 * (r + offset) + d,
/// so every element names its batch row and time step.
Tensor labelled(int64_t B, int64_t rows, int64_t D, int64_t offset) {
  Tensor t({B, rows, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t d = 0; d < D; ++d)
        t.at({b, r, d}) = float(1000 * b + 10 * (r + offset) + d);
  return t;
}

TEST(MemoryUpdate, KeepsEverythingWhenItFits) {
  Tensor memory = labelled(2, 2, 3, 0), hidden = labelled(2, 3, 3, 2);
  Tensor updated = memoryUpdate(memory, hidden, 10);
  EXPECT_EQ(updated.shape, (std::vector<int64_t>{2, 5, 3}));
  EXPECT_EQ(updated.data, labelled(2, 5, 3, 0).data);
}

TEST(MemoryUpdate, KeepsTheMostRecentRows) {
  // Time 0..1 in memory, 2..4 in hidden; mem_len 4 keeps times 1..4.
  Tensor memory = labelled(2, 2, 3, 0), hidden = labelled(2, 3, 3, 2);
  Tensor updated = memoryUpdate(memory, hidden, 4);
  EXPECT_EQ(updated.shape, (std::vector<int64_t>{2, 4, 3}));
  EXPECT_EQ(updated.data, labelled(2, 4, 3, 1).data);
  // mem_len 2 < T drops the memory entirely.
  EXPECT_EQ(memoryUpdate(memory, hidden, 2).data, labelled(2, 2, 3, 3).data);
}

TEST(MemoryUpdate, FirstSegmentAndZeroMemLen) {
  Tensor empty({2, 0, 3}), hidden = labelled(2, 3, 3, 0);
  EXPECT_EQ(memoryUpdate(empty, hidden, 2).data, labelled(2, 2, 3, 1).data);
  Tensor none = memoryUpdate(labelled(2, 2, 3, 0), hidden, 0);
  EXPECT_EQ(none.shape, (std::vector<int64_t>{2, 0, 3}));
}

TEST(MemoryUpdate, InconsistentShapesThrow) {
  Tensor hidden({2, 3, 4});
  EXPECT_THROW(memoryUpdate(Tensor({1, 2, 4}), hidden, 4),
               std::invalid_argument);
  EXPECT_THROW(memoryUpdate(Tensor({2, 2, 5}), hidden, 4),
               std::invalid_argument);
  EXPECT_THROW(memoryUpdate(Tensor({2, 2, 4}), hidden, -1),
               std::invalid_argument);
}

TEST(NextTokenNll, PicksTheNextTokensLogProbability) {
  // B = 1, N = 3, V = 2.
  Tensor logProbs({1, 3, 2}, {-0.1f, -2.0f, -0.7f, -0.6f, -5.0f, -0.01f});
  std::vector<float> nll = nextTokenNll(logProbs, {0, 1, 0}, 1, 3);
  EXPECT_EQ(nll, (std::vector<float>{2.0f, 0.7f}));
  EXPECT_THROW(nextTokenNll(logProbs, {0, 2, 0}, 1, 3), std::invalid_argument);
  EXPECT_THROW(nextTokenNll(logProbs, {0, 1}, 1, 3), std::invalid_argument);
}

} // namespace
