//===- ArenaPlanTest.cpp - scratch arena offsets from lifetimes -----------===//

#include "txl/codegen/host/ArenaPlan.h"

#include <gtest/gtest.h>

#include <random>

using namespace txl::codegen::host;

namespace {

/// No two buffers that are live at the same time share a byte.
void expectNoLiveOverlap(const std::vector<ArenaRequest> &requests,
                         const ArenaPlan &plan) {
  for (size_t a = 0; a < requests.size(); ++a) {
    EXPECT_EQ(plan.offsets[a] % kArenaAlignment, 0) << requests[a].name;
    EXPECT_LE(plan.offsets[a] + requests[a].bytes, plan.totalBytes);
    for (size_t b = a + 1; b < requests.size(); ++b) {
      if (!lifetimesOverlap(requests[a], requests[b]))
        continue;
      bool disjoint = plan.offsets[a] + requests[a].bytes <= plan.offsets[b] ||
                      plan.offsets[b] + requests[b].bytes <= plan.offsets[a];
      EXPECT_TRUE(disjoint) << requests[a].name << " and " << requests[b].name;
    }
  }
}

TEST(ArenaPlan, ReusesSpaceOfDeadBuffers) {
  // a -> b -> c: a is dead when c is written.
  std::vector<ArenaRequest> requests = {
      {1000, 0, 1, "a"}, {1000, 1, 2, "b"}, {1000, 2, 3, "c"}};
  ArenaPlan plan = planArena(requests);
  expectNoLiveOverlap(requests, plan);
  EXPECT_EQ(plan.offsets[0], plan.offsets[2]);
  EXPECT_EQ(plan.totalBytes, 2 * alignTo(1000));
  EXPECT_EQ(plan.unsharedBytes, 3 * alignTo(1000));
}

TEST(ArenaPlan, InputsAndOutputsOfOneKernelNeverAlias) {
  // Kernel 1 reads a (last use) and writes b: both live at position 1.
  std::vector<ArenaRequest> requests = {{256, 0, 1, "a"}, {256, 1, 1, "b"}};
  ArenaPlan plan = planArena(requests);
  EXPECT_NE(plan.offsets[0], plan.offsets[1]);
  expectNoLiveOverlap(requests, plan);
}

TEST(ArenaPlan, AlignsEveryOffset) {
  std::vector<ArenaRequest> requests = {
      {4, 0, 3, "x"}, {100, 0, 3, "y"}, {1, 0, 3, "z"}, {0, 0, 3, "empty"}};
  ArenaPlan plan = planArena(requests);
  expectNoLiveOverlap(requests, plan);
  EXPECT_EQ(plan.totalBytes % kArenaAlignment, 0);
  EXPECT_EQ(plan.totalBytes, 2 * 64 + 128);
}

TEST(ArenaPlan, RandomLifetimesNeverOverlap) {
  std::mt19937 random(7);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<ArenaRequest> requests;
    for (int i = 0; i < 40; ++i) {
      int64_t first = random() % 30;
      requests.push_back({static_cast<int64_t>(random() % 5000), first,
                          first + static_cast<int64_t>(random() % 8),
                          "r" + std::to_string(i)});
    }
    ArenaPlan plan = planArena(requests);
    expectNoLiveOverlap(requests, plan);
    EXPECT_LE(plan.totalBytes, plan.unsharedBytes);
  }
}

} // namespace
