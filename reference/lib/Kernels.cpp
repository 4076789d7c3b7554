//===- Kernels.cpp - the reference implementation of every txl op ---------===//
//
// Plain loops, reductions innermost over contiguous memory, every
// accumulation in double. Shapes are checked up front so the loops below can
// index without further tests.
//
//===----------------------------------------------------------------------===//

#include "txl/reference/Kernels.h"

#include "txl/Dialect/PositionalEncoding.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>

namespace txl::reference {
namespace {

[[noreturn]] void fail(const char *kernel, const std::string &message) {
  throw std::invalid_argument(std::string(kernel) + ": " + message);
}

void expectShape(const char *kernel, const std::string &what,
                 const std::vector<int64_t> &actual,
                 const std::vector<int64_t> &expected) {
  if (actual != expected)
    fail(kernel, what + " has shape " + shapeString(actual) + ", expected " +
                     shapeString(expected));
}

void expectRank(const char *kernel, const std::string &what,
                const std::vector<int64_t> &shape, size_t rank) {
  if (shape.size() != rank)
    fail(kernel, what + " has shape " + shapeString(shape) +
                     ", expected rank " + std::to_string(rank));
  numElementsOf(shape); // rejects negative dimensions
}

/// A weight must have storage behind it unless it is empty.
void expectData(const char *kernel, const std::string &what,
                const ConstTensorRef &tensor) {
  if (!tensor.data && tensor.numElements() != 0)
    fail(kernel,
         what + " has shape " + shapeString(tensor.shape) + " but no data");
}

void expectWeight(const char *kernel, const std::string &what,
                  const ConstTensorRef &tensor,
                  const std::vector<int64_t> &expected) {
  expectShape(kernel, what, tensor.shape, expected);
  expectData(kernel, what, tensor);
}

/// `ends = [0, cutoffs..., vocab]`, checking that the cutoffs are strictly
/// increasing and inside (0, vocab).
std::vector<int64_t> clusterEnds(const char *kernel,
                                 const std::vector<int64_t> &cutoffs,
                                 int64_t vocab) {
  std::vector<int64_t> ends = {0};
  for (int64_t cutoff : cutoffs) {
    if (cutoff <= ends.back() || cutoff >= vocab)
      fail(kernel, "cutoffs must be strictly increasing within (0, " +
                       std::to_string(vocab) + "), got " +
                       shapeString(cutoffs));
    ends.push_back(cutoff);
  }
  ends.push_back(vocab);
  return ends;
}

template <typename A, typename B>
double dot(const A *a, const B *b, int64_t n) {
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sum += static_cast<double>(a[i]) * static_cast<double>(b[i]);
  return sum;
}

/// log(sum(exp(values))) with the maximum subtracted first.
double logSumExp(const std::vector<double> &values) {
  double maximum = -std::numeric_limits<double>::infinity();
  for (double value : values)
    maximum = std::max(maximum, value);
  double sum = 0.0;
  for (double value : values)
    sum += std::exp(value - maximum);
  return maximum + std::log(sum);
}

/// Row-major [rows, cols] -> [cols, rows], so that `h @ P` reduces over
/// contiguous memory.
std::vector<float> transposed(const ConstTensorRef &matrix) {
  int64_t rows = matrix.dim(0), cols = matrix.dim(1);
  std::vector<float> result(rows * cols);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c)
      result[c * rows + r] = matrix.data[r * cols + c];
  return result;
}

} // namespace

//===----------------------------------------------------------------------===//
// Adaptive embedding
//===----------------------------------------------------------------------===//

Tensor adaptiveEmbedding(const std::vector<int64_t> &tokens, int64_t B,
                         int64_t T, const std::vector<ConstTensorRef> &tables,
                         const std::vector<ConstTensorRef> &projections,
                         const std::vector<int64_t> &cutoffs, int64_t divVal,
                         int64_t dModel) {
  const char *kernel = "adaptiveEmbedding";
  if (B < 0 || T < 0)
    fail(kernel, "negative batch or segment length");
  if (static_cast<int64_t>(tokens.size()) != B * T)
    fail(kernel, std::to_string(tokens.size()) + " tokens for B=" +
                     std::to_string(B) + ", T=" + std::to_string(T));
  if (dModel <= 0)
    fail(kernel, "d_model must be positive");
  if (divVal < 1)
    fail(kernel, "div_val must be >= 1, got " + std::to_string(divVal));

  // With div_val == 1 a single table serves every cluster: treat it as one
  // cluster covering [0, V) (the cutoffs are still validated).
  size_t numTables = divVal == 1 ? 1 : cutoffs.size() + 1;
  if (tables.size() != numTables)
    fail(kernel, std::to_string(tables.size()) + " tables, expected " +
                     std::to_string(numTables));
  size_t maxProjections = numTables;
  if (!projections.empty() && projections.size() != maxProjections)
    fail(kernel, std::to_string(projections.size()) +
                     " projections, expected 0 or " +
                     std::to_string(maxProjections));
  for (size_t i = 0; i < numTables; ++i)
    expectRank(kernel, "table " + std::to_string(i), tables[i].shape, 2);

  int64_t vocab = divVal == 1 || cutoffs.empty()
                      ? tables[0].dim(0)
                      : cutoffs.back() + tables.back().dim(0);
  std::vector<int64_t> ends = clusterEnds(kernel, cutoffs, vocab);
  std::vector<int64_t> tableBegin = {0, vocab};
  if (divVal > 1)
    tableBegin = ends;

  for (size_t i = 0; i < numTables; ++i) {
    int64_t width = tables[i].dim(1);
    std::string name = "table " + std::to_string(i);
    expectWeight(kernel, name, tables[i],
                 {tableBegin[i + 1] - tableBegin[i], width});
    if (projections.empty()) {
      if (width != dModel)
        fail(kernel, name + " has width " + std::to_string(width) +
                         " != d_model " + std::to_string(dModel) +
                         " and there is no projection");
    } else {
      expectWeight(kernel, "projection " + std::to_string(i), projections[i],
                   {dModel, width});
    }
  }

  // The scale uses d_model (d_proj), not the embedding width.
  double scale = std::sqrt(static_cast<double>(dModel));
  Tensor result({B, T, dModel});
  for (int64_t position = 0; position < B * T; ++position) {
    int64_t token = tokens[position];
    if (token < 0 || token >= vocab)
      fail(kernel, "token " + std::to_string(token) + " at position " +
                       std::to_string(position) + " is outside [0, " +
                       std::to_string(vocab) + ")");
    size_t cluster = 0;
    while (token >= tableBegin[cluster + 1])
      ++cluster;
    const ConstTensorRef &table = tables[cluster];
    int64_t width = table.dim(1);
    const float *row = table.data + (token - tableBegin[cluster]) * width;
    float *out = result.data.data() + position * dModel;
    for (int64_t d = 0; d < dModel; ++d) {
      double value =
          projections.empty()
              ? row[d]
              : dot(projections[cluster].data + d * width, row, width);
      out[d] = static_cast<float>(value * scale);
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Positional embedding
//===----------------------------------------------------------------------===//

Tensor positionalEmbedding(int64_t K, int64_t dModel, int64_t clampLen) {
  const char *kernel = "positionalEmbedding";
  if (K < 0)
    fail(kernel, "negative number of distances");
  if (dModel <= 0 || dModel % 2 != 0)
    fail(kernel,
         "d_model must be positive and even, got " + std::to_string(dModel));
  int64_t half = dModel / 2;

  std::vector<float> invFreq = inverseFrequencies(dModel);

  Tensor result({K, dModel});
  for (int64_t d = 0; d < K; ++d) {
    float distance =
        static_cast<float>(clampLen > 0 ? std::min(d, clampLen) : d);
    float *row = result.data.data() + d * dModel;
    for (int64_t k = 0; k < half; ++k) {
      // One float32 multiply (torch.ger); sin/cos of that float angle.
      float angle = distance * invFreq[k];
      row[k] = static_cast<float>(std::sin(static_cast<double>(angle)));
      row[half + k] = static_cast<float>(std::cos(static_cast<double>(angle)));
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// LayerNorm and feed-forward
//===----------------------------------------------------------------------===//

Tensor layerNorm(const Tensor &x, ConstTensorRef gamma, ConstTensorRef beta,
                 double epsilon) {
  const char *kernel = "layerNorm";
  if (x.shape.empty() || x.shape.back() <= 0)
    fail(kernel, "input has shape " + shapeString(x.shape) +
                     ", expected a non-empty last dimension");
  int64_t width = x.shape.back();
  expectWeight(kernel, "gamma", gamma, {width});
  expectWeight(kernel, "beta", beta, {width});
  if (!(epsilon >= 0.0))
    fail(kernel, "epsilon must be >= 0");

  Tensor result(x.shape);
  int64_t rows = x.numElements() / width;
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x.data.data() + r * width;
    float *out = result.data.data() + r * width;
    double sum = 0.0;
    for (int64_t i = 0; i < width; ++i)
      sum += in[i];
    double mean = sum / width;
    double squares = 0.0;
    for (int64_t i = 0; i < width; ++i)
      squares += (in[i] - mean) * (in[i] - mean);
    double invStd = 1.0 / std::sqrt(squares / width + epsilon);
    for (int64_t i = 0; i < width; ++i)
      out[i] = static_cast<float>((in[i] - mean) * invStd * gamma.data[i] +
                                  beta.data[i]);
  }
  return result;
}

Tensor feedForward(const Tensor &x, ConstTensorRef w1, ConstTensorRef b1,
                   ConstTensorRef w2, ConstTensorRef b2) {
  const char *kernel = "feedForward";
  if (x.shape.empty())
    fail(kernel, "input must have rank >= 1");
  int64_t width = x.shape.back();
  expectRank(kernel, "w1", w1.shape, 2);
  int64_t inner = w1.dim(0);
  expectWeight(kernel, "w1", w1, {inner, width});
  expectWeight(kernel, "b1", b1, {inner});
  expectWeight(kernel, "w2", w2, {width, inner});
  expectWeight(kernel, "b2", b2, {width});

  Tensor result(x.shape);
  int64_t rows = width == 0 ? 0 : x.numElements() / width;
  std::vector<double> hidden(inner);
  for (int64_t r = 0; r < rows; ++r) {
    const float *in = x.data.data() + r * width;
    for (int64_t f = 0; f < inner; ++f)
      hidden[f] =
          std::max(0.0, b1.data[f] + dot(w1.data + f * width, in, width));
    float *out = result.data.data() + r * width;
    for (int64_t d = 0; d < width; ++d)
      out[d] = static_cast<float>(
          b2.data[d] + dot(w2.data + d * inner, hidden.data(), inner));
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Relative attention
//===----------------------------------------------------------------------===//

namespace {

/// Checks the head sizes and the qkv weight [3 H Dh, D]; returns H Dh.
int64_t checkHeads(const char *kernel, ConstTensorRef wQkv, int64_t nHead,
                   int64_t dHead, int64_t D) {
  if (nHead <= 0 || dHead <= 0)
    fail(kernel, "n_head and d_head must be positive");
  int64_t HD = nHead * dHead;
  expectWeight(kernel, "qkv weight", wQkv, {3 * HD, D});
  return HD;
}

/// The key and value of one input row (rows [HD, 2 HD) and [2 HD, 3 HD) of
/// the qkv weight), in double.
void projectKeyValue(ConstTensorRef wQkv, int64_t HD, int64_t D,
                     const float *row, double *key, double *value) {
  const float *wk = wQkv.data + HD * D, *wv = wQkv.data + 2 * HD * D;
  for (int64_t c = 0; c < HD; ++c) {
    key[c] = dot(wk + c * D, row, D);
    value[c] = dot(wv + c * D, row, D);
  }
}

/// Fills keys and values [K, H*Dh] (double) of batch row b.
using KeyValueRows = std::function<void(int64_t b, std::vector<double> &keys,
                                        std::vector<double> &values)>;

/// Relative attention [§3] once the keys and values of the K = M + T keys are
/// known (`keyValues`): queries, position term, mask, softmax, o_net. The
/// caller has checked the heads and the qkv weight (checkHeads).
Tensor attendOverKeys(const char *kernel, const Tensor &x, int64_t M,
                      const Tensor &positions, ConstTensorRef wQkv,
                      ConstTensorRef wR, ConstTensorRef wO,
                      ConstTensorRef rwBias, ConstTensorRef rrBias,
                      int64_t nHead, int64_t dHead, bool sameLength,
                      int64_t memLen, const KeyValueRows &keyValues) {
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2);
  int64_t K = M + T;
  expectRank(kernel, "positions", positions.shape, 2);
  if (positions.dim(0) < K || positions.dim(1) != D)
    fail(kernel, "positions has shape " + shapeString(positions.shape) +
                     ", expected [>= " + std::to_string(K) + ", " +
                     std::to_string(D) + "] for " + std::to_string(K) +
                     " keys");
  int64_t HD = nHead * dHead;
  expectWeight(kernel, "r weight", wR, {HD, D});
  expectWeight(kernel, "o weight", wO, {D, HD});
  expectWeight(kernel, "r_w_bias", rwBias, {nHead, dHead});
  expectWeight(kernel, "r_r_bias", rrBias, {nHead, dHead});
  if (sameLength && memLen <= 0)
    fail(kernel, "same_length with mem_len " + std::to_string(memLen) +
                     " masks every key");

  // Keys of the positions, Rk[d] = Wr positions[d], shared by the batch.
  std::vector<double> rk(K * HD);
  for (int64_t d = 0; d < K; ++d)
    for (int64_t c = 0; c < HD; ++c)
      rk[d * HD + c] = dot(wR.data + c * D, positions.data.data() + d * D, D);

  double scale = 1.0 / std::sqrt(static_cast<double>(dHead));
  const float *wq = wQkv.data;
  Tensor result({B, T, D});
  std::vector<double> keys(K * HD), values(K * HD), queries(T * HD);
  std::vector<double> attended(T * HD), queryU(dHead), queryV(dHead), scores;
  for (int64_t b = 0; b < B; ++b) {
    keyValues(b, keys, values);
    for (int64_t i = 0; i < T; ++i)
      for (int64_t c = 0; c < HD; ++c)
        queries[i * HD + c] =
            dot(wq + c * D, x.data.data() + (b * T + i) * D, D);

    std::fill(attended.begin(), attended.end(), 0.0);
    for (int64_t i = 0; i < T; ++i) {
      // Allowed keys: distance d = M + i - j in [0, memLen) (same_length) or
      // [0, inf); both bounds make j a contiguous range.
      int64_t last = M + i;
      int64_t first = sameLength ? std::max<int64_t>(0, last - memLen + 1) : 0;
      for (int64_t n = 0; n < nHead; ++n) {
        int64_t head = n * dHead;
        for (int64_t e = 0; e < dHead; ++e) {
          queryU[e] = queries[i * HD + head + e] + rwBias.data[head + e];
          queryV[e] = queries[i * HD + head + e] + rrBias.data[head + e];
        }
        scores.assign(last - first + 1, 0.0);
        for (int64_t j = first; j <= last; ++j) {
          int64_t distance = last - j;
          double content = dot(queryU.data(), &keys[j * HD + head], dHead);
          double position =
              dot(queryV.data(), &rk[distance * HD + head], dHead);
          scores[j - first] = (content + position) * scale;
        }
        double normaliser = logSumExp(scores);
        double *out = &attended[i * HD + head];
        for (int64_t j = first; j <= last; ++j) {
          double probability = std::exp(scores[j - first] - normaliser);
          for (int64_t e = 0; e < dHead; ++e)
            out[e] += probability * values[j * HD + head + e];
        }
      }
    }

    for (int64_t i = 0; i < T; ++i)
      for (int64_t d = 0; d < D; ++d)
        result.data[(b * T + i) * D + d] =
            static_cast<float>(dot(wO.data + d * HD, &attended[i * HD], HD));
  }
  return result;
}

} // namespace

Tensor relativeAttention(const Tensor &x, const Tensor &memory,
                         const Tensor &positions, ConstTensorRef wQkv,
                         ConstTensorRef wR, ConstTensorRef wO,
                         ConstTensorRef rwBias, ConstTensorRef rrBias,
                         int64_t nHead, int64_t dHead, bool sameLength,
                         int64_t memLen) {
  const char *kernel = "relativeAttention";
  expectRank(kernel, "input", x.shape, 3);
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2);
  expectRank(kernel, "memory", memory.shape, 3);
  int64_t M = memory.dim(1);
  expectShape(kernel, "memory", memory.shape, {B, M, D});
  int64_t HD = checkHeads(kernel, wQkv, nHead, dHead, D);
  // Keys and values over concat([memory, x]).
  auto project = [&](int64_t b, std::vector<double> &keys,
                     std::vector<double> &values) {
    for (int64_t j = 0; j < M + T; ++j) {
      const float *row = j < M ? memory.data.data() + (b * M + j) * D
                               : x.data.data() + (b * T + j - M) * D;
      projectKeyValue(wQkv, HD, D, row, &keys[j * HD], &values[j * HD]);
    }
  };
  return attendOverKeys(kernel, x, M, positions, wQkv, wR, wO, rwBias, rrBias,
                        nHead, dHead, sameLength, memLen, project);
}

std::pair<Tensor, Tensor> keyValueProjection(const Tensor &x,
                                             ConstTensorRef wQkv, int64_t nHead,
                                             int64_t dHead) {
  const char *kernel = "keyValueProjection";
  expectRank(kernel, "input", x.shape, 3);
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2);
  int64_t HD = checkHeads(kernel, wQkv, nHead, dHead, D);
  Tensor keys({B, T, HD}), values({B, T, HD});
  std::vector<double> key(HD), value(HD);
  for (int64_t r = 0; r < B * T; ++r) {
    projectKeyValue(wQkv, HD, D, x.data.data() + r * D, key.data(),
                    value.data());
    std::copy(key.begin(), key.end(), keys.data.begin() + r * HD);
    std::copy(value.begin(), value.end(), values.data.begin() + r * HD);
  }
  return {std::move(keys), std::move(values)};
}

Tensor cachedRelativeAttention(const Tensor &x, const Tensor &keyCache,
                               const Tensor &valueCache, const Tensor &keys,
                               const Tensor &values, const Tensor &positions,
                               ConstTensorRef wQkv, ConstTensorRef wR,
                               ConstTensorRef wO, ConstTensorRef rwBias,
                               ConstTensorRef rrBias, int64_t nHead,
                               int64_t dHead, bool sameLength, int64_t memLen) {
  const char *kernel = "cachedRelativeAttention";
  expectRank(kernel, "input", x.shape, 3);
  int64_t B = x.dim(0), T = x.dim(1), D = x.dim(2);
  int64_t HD = checkHeads(kernel, wQkv, nHead, dHead, D);
  expectRank(kernel, "key cache", keyCache.shape, 3);
  int64_t M = keyCache.dim(1);
  expectShape(kernel, "key cache", keyCache.shape, {B, M, HD});
  expectShape(kernel, "value cache", valueCache.shape, {B, M, HD});
  expectShape(kernel, "keys", keys.shape, {B, T, HD});
  expectShape(kernel, "values", values.shape, {B, T, HD});
  // Keys and values: the cached rows, then the segment's.
  auto gather = [&](int64_t b, std::vector<double> &keyRows,
                    std::vector<double> &valueRows) {
    for (int64_t j = 0; j < M + T; ++j) {
      const float *k = j < M ? keyCache.data.data() + (b * M + j) * HD
                             : keys.data.data() + (b * T + j - M) * HD;
      const float *v = j < M ? valueCache.data.data() + (b * M + j) * HD
                             : values.data.data() + (b * T + j - M) * HD;
      std::copy_n(k, HD, keyRows.begin() + j * HD);
      std::copy_n(v, HD, valueRows.begin() + j * HD);
    }
  };
  return attendOverKeys(kernel, x, M, positions, wQkv, wR, wO, rwBias, rrBias,
                        nHead, dHead, sameLength, memLen, gather);
}

//===----------------------------------------------------------------------===//
// Memory update
//===----------------------------------------------------------------------===//

Tensor memoryUpdate(const Tensor &memory, const Tensor &hidden,
                    int64_t memLen) {
  const char *kernel = "memoryUpdate";
  expectRank(kernel, "hidden", hidden.shape, 3);
  int64_t B = hidden.dim(0), T = hidden.dim(1), D = hidden.dim(2);
  expectRank(kernel, "memory", memory.shape, 3);
  int64_t M = memory.dim(1);
  expectShape(kernel, "memory", memory.shape, {B, M, D});
  if (memLen < 0)
    fail(kernel, "mem_len must be >= 0");

  int64_t kept = std::min(memLen, M + T);
  int64_t firstKept = M + T - kept;
  Tensor result({B, kept, D});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t r = 0; r < kept; ++r) {
      int64_t time = firstKept + r;
      const float *source = time < M
                                ? memory.data.data() + (b * M + time) * D
                                : hidden.data.data() + (b * T + time - M) * D;
      std::copy_n(source, D, result.data.data() + (b * kept + r) * D);
    }
  return result;
}

//===----------------------------------------------------------------------===//
// Adaptive log-softmax
//===----------------------------------------------------------------------===//

namespace {

/// One cluster of the output layer: rows [begin, end) of the vocabulary.
struct OutputCluster {
  int64_t begin, end, width;
  const float *weight; // [end - begin, width]
  const float *bias;   // [end - begin]
  /// P^T, [width, D], or empty when there is no projection.
  std::vector<float> projectionT;
};

} // namespace

Tensor adaptiveLogSoftmax(const Tensor &h,
                          const std::vector<ConstTensorRef> &outWeights,
                          const std::vector<ConstTensorRef> &outBiases,
                          const std::vector<ConstTensorRef> &outProjections,
                          ConstTensorRef clusterWeight,
                          ConstTensorRef clusterBias,
                          const std::vector<int64_t> &cutoffs, int64_t divVal,
                          int64_t vocab) {
  const char *kernel = "adaptiveLogSoftmax";
  expectRank(kernel, "input", h.shape, 3);
  int64_t B = h.dim(0), T = h.dim(1), D = h.dim(2);
  if (vocab <= 0)
    fail(kernel, "vocabulary must be non-empty");
  if (divVal < 1)
    fail(kernel, "div_val must be >= 1, got " + std::to_string(divVal));
  std::vector<int64_t> ends = clusterEnds(kernel, cutoffs, vocab);
  size_t numClusters = ends.size() - 1;

  // div_val == 1 shares one weight matrix and bias, sliced by rows.
  size_t numWeights = divVal == 1 ? 1 : numClusters;
  if (outWeights.size() != numWeights || outBiases.size() != numWeights)
    fail(kernel, std::to_string(outWeights.size()) + " weights and " +
                     std::to_string(outBiases.size()) + " biases, expected " +
                     std::to_string(numWeights) + " of each");
  if (!outProjections.empty() && outProjections.size() != numClusters)
    fail(kernel, std::to_string(outProjections.size()) +
                     " projections, expected 0 or " +
                     std::to_string(numClusters));

  std::vector<OutputCluster> clusters(numClusters);
  for (size_t i = 0; i < numClusters; ++i) {
    OutputCluster &cluster = clusters[i];
    cluster.begin = ends[i];
    cluster.end = ends[i + 1];
    size_t w = divVal == 1 ? 0 : i;
    std::string name = "weight " + std::to_string(w);
    expectRank(kernel, name, outWeights[w].shape, 2);
    cluster.width = outWeights[w].dim(1);
    int64_t rows = divVal == 1 ? vocab : cluster.end - cluster.begin;
    int64_t firstRow = divVal == 1 ? cluster.begin : 0;
    expectWeight(kernel, name, outWeights[w], {rows, cluster.width});
    expectWeight(kernel, "bias " + std::to_string(w), outBiases[w], {rows});
    cluster.weight = outWeights[w].data + firstRow * cluster.width;
    cluster.bias = outBiases[w].data + firstRow;
    if (outProjections.empty()) {
      if (cluster.width != D)
        fail(kernel, "cluster " + std::to_string(i) + " has width " +
                         std::to_string(cluster.width) + " != d_model " +
                         std::to_string(D) + " and there is no projection");
    } else {
      expectWeight(kernel, "projection " + std::to_string(i), outProjections[i],
                   {D, cluster.width});
      cluster.projectionT = transposed(outProjections[i]);
    }
  }
  int64_t numTails = static_cast<int64_t>(numClusters) - 1;
  if (numTails == 0) {
    // Absent cluster parameters may come as null views of any shape.
    auto present = [](const ConstTensorRef &tensor) {
      return tensor.data && tensor.numElements() != 0;
    };
    if (present(clusterWeight) || present(clusterBias))
      fail(kernel, "cluster weight/bias given without cutoffs");
  } else {
    expectWeight(kernel, "cluster weight", clusterWeight,
                 {numTails, clusters[0].width});
    expectWeight(kernel, "cluster bias", clusterBias, {numTails});
  }

  Tensor result({B, T, vocab});
  std::vector<double> projected, logits, head;
  for (int64_t r = 0; r < B * T; ++r) {
    const float *in = h.data.data() + r * D;
    float *out = result.data.data() + r * vocab;
    double headNormaliser = 0.0;
    for (size_t i = 0; i < numClusters; ++i) {
      const OutputCluster &cluster = clusters[i];
      projected.resize(cluster.width);
      for (int64_t e = 0; e < cluster.width; ++e)
        projected[e] = cluster.projectionT.empty()
                           ? in[e]
                           : dot(cluster.projectionT.data() + e * D, in, D);
      logits.resize(cluster.end - cluster.begin);
      for (int64_t t = 0; t < cluster.end - cluster.begin; ++t)
        logits[t] = cluster.bias[t] + dot(cluster.weight + t * cluster.width,
                                          projected.data(), cluster.width);

      if (i == 0) {
        // The head: shortlist logits followed by one logit per tail cluster,
        // in ascending cluster order (HF/TF).
        head = logits;
        for (int64_t k = 0; k < numTails; ++k)
          head.push_back(clusterBias.data[k] +
                         dot(clusterWeight.data + k * cluster.width,
                             projected.data(), cluster.width));
        headNormaliser = logSumExp(head);
        for (int64_t t = cluster.begin; t < cluster.end; ++t)
          out[t] = static_cast<float>(head[t] - headNormaliser);
      } else {
        double clusterLogProb = head[ends[1] + (i - 1)] - headNormaliser;
        double normaliser = logSumExp(logits);
        for (int64_t t = cluster.begin; t < cluster.end; ++t)
          out[t] = static_cast<float>(clusterLogProb +
                                      logits[t - cluster.begin] - normaliser);
      }
    }
  }
  return result;
}

//===----------------------------------------------------------------------===//
// Residual and loss
//===----------------------------------------------------------------------===//

Tensor add(const Tensor &a, const Tensor &b) {
  expectShape("add", "right operand", b.shape, a.shape);
  Tensor result(a.shape);
  for (size_t i = 0; i < a.data.size(); ++i)
    result.data[i] = a.data[i] + b.data[i];
  return result;
}

std::vector<float> nextTokenNll(const Tensor &logProbs,
                                const std::vector<int64_t> &tokens, int64_t B,
                                int64_t N) {
  const char *kernel = "nextTokenNll";
  expectRank(kernel, "log-probabilities", logProbs.shape, 3);
  int64_t V = logProbs.dim(2);
  expectShape(kernel, "log-probabilities", logProbs.shape, {B, N, V});
  if (N < 1)
    fail(kernel, "needs at least one token per row");
  if (static_cast<int64_t>(tokens.size()) != B * N)
    fail(kernel, std::to_string(tokens.size()) + " tokens for B=" +
                     std::to_string(B) + ", N=" + std::to_string(N));

  std::vector<float> nll(B * (N - 1));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t + 1 < N; ++t) {
      int64_t next = tokens[b * N + t + 1];
      if (next < 0 || next >= V)
        fail(kernel, "token " + std::to_string(next) + " is outside [0, " +
                         std::to_string(V) + ")");
      nll[b * (N - 1) + t] = -logProbs.data[(b * N + t) * V + next];
    }
  return nll;
}

Tensor targetNll(const Tensor &logProbs, const std::vector<int64_t> &targets) {
  const char *kernel = "targetNll";
  expectRank(kernel, "log-probabilities", logProbs.shape, 3);
  int64_t B = logProbs.dim(0), T = logProbs.dim(1), V = logProbs.dim(2);
  if (static_cast<int64_t>(targets.size()) != B * T)
    fail(kernel, std::to_string(targets.size()) + " targets for B=" +
                     std::to_string(B) + ", T=" + std::to_string(T));
  Tensor nll({B, T});
  for (int64_t row = 0; row < B * T; ++row) {
    int64_t target = targets[row];
    if (target < -1 || target >= V)
      fail(kernel, "target " + std::to_string(target) + " is outside [-1, " +
                       std::to_string(V) + ")");
    nll.data[row] = target < 0 ? 0.0f : -logProbs.data[row * V + target];
  }
  return nll;
}

} // namespace txl::reference
