//===- SegmentStepTest.cpp - the kernels composed into whole segments -----===//
//
// A tiny Transformer-XL driven segment by segment with the kernels, as the
// interpreter will sequence them (§4: memory l holds the input of layer l).
// Transformer-XL's defining property gives an end-to-end check: as long as
// the memory holds every key a query may see, running a stream in segments
// equals running it in one segment without memory.
//
//===----------------------------------------------------------------------===//

#include "KernelTestSupport.h"

#include "txl/reference/Kernels.h"

#include <cmath>

using namespace txl::reference;
using namespace txl::reference::testing;

namespace {

struct TinyLayer {
  Tensor qkv, r, o, rwBias, rrBias, attnGamma, attnBeta;
  Tensor w1, b1, w2, b2, ffGamma, ffBeta;
};

/// V = 11, cutoffs {4, 7}, div_val 2 (widths 8, 4, 2), D = 8, H = 2, Dh = 3,
/// F = 10, two layers with untied r biases.
struct TinyModel {
  static constexpr int64_t V = 11, D = 8, H = 2, Dh = 3, F = 10, L = 2;
  std::vector<int64_t> cutoffs = {4, 7};
  int64_t divVal = 2, clampLen = 4, memLen;
  bool sameLength, preLayerNorm;

  std::vector<Tensor> embTables, embProjs, outWeights, outBiases, outProjs;
  Tensor clusterWeight, clusterBias;
  std::vector<TinyLayer> layers;

  TinyModel(int64_t memLen, bool sameLength, bool preLayerNorm)
      : memLen(memLen), sameLength(sameLength), preLayerNorm(preLayerNorm) {
    unsigned seed = 100;
    std::vector<int64_t> rows = {4, 3, 4}, widths = {8, 4, 2};
    for (int i = 0; i < 3; ++i) {
      embTables.push_back(randomTensor({rows[i], widths[i]}, seed++));
      embProjs.push_back(randomTensor({D, widths[i]}, seed++, 0.5f));
      outWeights.push_back(randomTensor({rows[i], widths[i]}, seed++));
      outBiases.push_back(randomTensor({rows[i]}, seed++));
      outProjs.push_back(randomTensor({D, widths[i]}, seed++, 0.5f));
    }
    clusterWeight = randomTensor({2, widths[0]}, seed++);
    clusterBias = randomTensor({2}, seed++);
    for (int l = 0; l < L; ++l) {
      TinyLayer layer;
      layer.qkv = randomTensor({3 * H * Dh, D}, seed++, 0.4f);
      layer.r = randomTensor({H * Dh, D}, seed++, 0.4f);
      layer.o = randomTensor({D, H * Dh}, seed++, 0.4f);
      layer.rwBias = randomTensor({H, Dh}, seed++, 0.2f);
      layer.rrBias = randomTensor({H, Dh}, seed++, 0.2f);
      layer.attnGamma = randomTensor({D}, seed++, 0.2f);
      layer.attnBeta = randomTensor({D}, seed++, 0.2f);
      for (float &g : layer.attnGamma.data)
        g += 1.0f;
      layer.w1 = randomTensor({F, D}, seed++, 0.4f);
      layer.b1 = randomTensor({F}, seed++, 0.2f);
      layer.w2 = randomTensor({D, F}, seed++, 0.4f);
      layer.b2 = randomTensor({D}, seed++, 0.2f);
      layer.ffGamma = randomTensor({D}, seed++, 0.2f);
      layer.ffBeta = randomTensor({D}, seed++, 0.2f);
      for (float &g : layer.ffGamma.data)
        g += 1.0f;
      layers.push_back(std::move(layer));
    }
  }

  static std::vector<ConstTensorRef> refs(const std::vector<Tensor> &list) {
    return std::vector<ConstTensorRef>(list.begin(), list.end());
  }

  struct Step {
    Tensor logProbs;
    std::vector<Tensor> memories;
  };

  /// One segment: tokens [B*T], memories L x [B, M, D].
  Step run(const std::vector<int64_t> &tokens, int64_t B, int64_t T,
           const std::vector<Tensor> &memories) const {
    const double eps = 1e-5;
    Tensor h = adaptiveEmbedding(tokens, B, T, refs(embTables), refs(embProjs),
                                 cutoffs, divVal, D);
    int64_t M = memories[0].dim(1);
    Tensor positions = positionalEmbedding(M + T, D, clampLen);
    Step step;
    for (int64_t l = 0; l < L; ++l) {
      const TinyLayer &p = layers[l];
      step.memories.push_back(memoryUpdate(memories[l], h, memLen));
      auto attend = [&](const Tensor &x, const Tensor &memory) {
        return relativeAttention(x, memory, positions, p.qkv, p.r, p.o,
                                 p.rwBias, p.rrBias, H, Dh, sameLength, memLen);
      };
      if (preLayerNorm) {
        Tensor y = add(
            h, attend(layerNorm(h, p.attnGamma, p.attnBeta, eps),
                      layerNorm(memories[l], p.attnGamma, p.attnBeta, eps)));
        h = add(y, feedForward(layerNorm(y, p.ffGamma, p.ffBeta, eps), p.w1,
                               p.b1, p.w2, p.b2));
      } else {
        Tensor y = layerNorm(add(h, attend(h, memories[l])), p.attnGamma,
                             p.attnBeta, eps);
        h = layerNorm(add(y, feedForward(y, p.w1, p.b1, p.w2, p.b2)), p.ffGamma,
                      p.ffBeta, eps);
      }
    }
    step.logProbs =
        adaptiveLogSoftmax(h, refs(outWeights), refs(outBiases), refs(outProjs),
                           clusterWeight, clusterBias, cutoffs, divVal, V);
    return step;
  }

  std::vector<Tensor> emptyMemories(int64_t B) const {
    return std::vector<Tensor>(L, Tensor({B, 0, D}));
  }

  /// Runs `stream` ([B, N]) in segments of T, concatenating the log-probs.
  Tensor runInSegments(const std::vector<int64_t> &stream, int64_t B, int64_t N,
                       int64_t T) const {
    std::vector<Tensor> memories = emptyMemories(B);
    Tensor logProbs({B, N, V});
    int64_t seen = 0;
    for (int64_t start = 0; start < N; start += T) {
      std::vector<int64_t> segment;
      for (int64_t b = 0; b < B; ++b)
        for (int64_t t = start; t < start + T; ++t)
          segment.push_back(stream[b * N + t]);
      Step step = run(segment, B, T, memories);
      seen += T;
      for (const Tensor &memory : step.memories)
        EXPECT_EQ(memory.shape,
                  (std::vector<int64_t>{B, std::min(memLen, seen), D}));
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(&step.logProbs.data[b * T * V], T * V,
                    &logProbs.data[(b * N + start) * V]);
      memories = std::move(step.memories);
    }
    return logProbs;
  }
};

/// B = 2, N = 9: every token id appears, cluster boundaries included.
const std::vector<int64_t> kStream = {0, 3, 4, 6, 7, 10, 1, 5, 2,
                                      9, 8, 2, 3, 4, 0,  6, 7, 10};

struct StepCase {
  int64_t memLen;
  bool sameLength, preLayerNorm;
};

std::string caseName(const StepCase &c) {
  return std::string(c.preLayerNorm ? "preLN" : "postLN") + "_memLen" +
         std::to_string(c.memLen) + (c.sameLength ? "_sameLength" : "");
}

// Without it gtest prints the struct's bytes, padding included, and the
// ctest names would change from build to build.
void PrintTo(const StepCase &c, std::ostream *os) { *os << caseName(c); }

class SegmentedEqualsWhole : public ::testing::TestWithParam<StepCase> {};

TEST_P(SegmentedEqualsWhole, WhenMemoryHoldsEveryVisibleKey) {
  StepCase c = GetParam();
  TinyModel model(c.memLen, c.sameLength, c.preLayerNorm);
  Tensor segmented = model.runInSegments(kStream, 2, 9, 3);
  Tensor whole = model.run(kStream, 2, 9, model.emptyMemories(2)).logProbs;
  EXPECT_TRUE(allNear(segmented, whole, 2e-5));

  for (int64_t r = 0; r < 18; ++r) {
    double total = 0.0;
    for (int64_t t = 0; t < TinyModel::V; ++t)
      total += std::exp(double(segmented.data[r * TinyModel::V + t]));
    EXPECT_NEAR(total, 1.0, 1e-5);
  }
  for (float nll : nextTokenNll(segmented, kStream, 2, 9)) {
    EXPECT_TRUE(std::isfinite(nll));
    EXPECT_GT(nll, 0.0f);
  }
}

// Without same_length the memory must hold all 6 earlier steps; with it,
// a query only looks back mem_len - 1 steps, so any mem_len >= 1 suffices.
INSTANTIATE_TEST_SUITE_P(Configurations, SegmentedEqualsWhole,
                         ::testing::Values(StepCase{6, false, false},
                                           StepCase{6, false, true},
                                           StepCase{2, true, false},
                                           StepCase{4, true, true},
                                           StepCase{1, true, false}),
                         [](const ::testing::TestParamInfo<StepCase> &info) {
                           return caseName(info.param);
                         });

TEST(SegmentStep, ShortMemoryForgetsContext) {
  // mem_len 1 < the 6 steps of context: the segments no longer see the
  // whole stream, so the third segment must differ from the whole run.
  TinyModel model(1, false, false);
  Tensor segmented = model.runInSegments(kStream, 2, 9, 3);
  Tensor whole = model.run(kStream, 2, 9, model.emptyMemories(2)).logProbs;
  EXPECT_GT(maxAbsDifference(segmented, whole), 1e-3);
}

} // namespace
