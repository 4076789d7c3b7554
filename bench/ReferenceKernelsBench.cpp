//===- ReferenceKernelsBench.cpp - cost of the reference kernels ----------===//
//
// The reference kernels are the oracle, not a fast path: this measures what a
// correctness run costs per layer, and gives the compiled kernels of later
// issues a baseline to report ratios against. Shapes: wt103-base widths
// (d_model 410, 10 x 41 heads, d_inner 2100) with a short segment.
//
//   build/bin/bench-reference-kernels --benchmark_min_time=0.2
//
//===----------------------------------------------------------------------===//

#include "txl/reference/Kernels.h"

#include <benchmark/benchmark.h>

#include <random>

using namespace txl::reference;

namespace {

constexpr int64_t kModel = 410, kHeads = 10, kHeadWidth = 41, kInner = 2100;

Tensor randomTensor(std::vector<int64_t> shape, unsigned seed) {
  Tensor t(std::move(shape));
  std::mt19937 gen(seed);
  std::normal_distribution<float> dist(0.0f, 0.05f);
  for (float &v : t.data)
    v = dist(gen);
  return t;
}

// state.range(0): segment length T; state.range(1): memory rows M.
void BM_RelativeAttention(benchmark::State &state) {
  int64_t T = state.range(0), M = state.range(1), inner = kHeads * kHeadWidth;
  Tensor x = randomTensor({1, T, kModel}, 1),
         mem = randomTensor({1, M, kModel}, 2);
  Tensor pos = positionalEmbedding(M + T, kModel, 0);
  Tensor qkv = randomTensor({3 * inner, kModel}, 3),
         r = randomTensor({inner, kModel}, 4);
  Tensor o = randomTensor({kModel, inner}, 5),
         u = randomTensor({kHeads, kHeadWidth}, 6);
  Tensor v = randomTensor({kHeads, kHeadWidth}, 7);
  for (auto _ : state)
    benchmark::DoNotOptimize(relativeAttention(x, mem, pos, qkv, r, o, u, v,
                                               kHeads, kHeadWidth, false, M));
  state.SetItemsProcessed(state.iterations() * T);
}
BENCHMARK(BM_RelativeAttention)
    ->Args({16, 0})
    ->Args({16, 64})
    ->Unit(benchmark::kMillisecond);

void BM_FeedForward(benchmark::State &state) {
  int64_t T = state.range(0);
  Tensor x = randomTensor({1, T, kModel}, 1);
  Tensor w1 = randomTensor({kInner, kModel}, 2), b1 = randomTensor({kInner}, 3);
  Tensor w2 = randomTensor({kModel, kInner}, 4), b2 = randomTensor({kModel}, 5);
  for (auto _ : state)
    benchmark::DoNotOptimize(feedForward(x, w1, b1, w2, b2));
  state.SetItemsProcessed(state.iterations() * T);
}
BENCHMARK(BM_FeedForward)->Arg(16)->Unit(benchmark::kMillisecond);

} // namespace

BENCHMARK_MAIN();
