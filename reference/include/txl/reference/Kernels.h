//===- Kernels.h - the reference implementation of every txl op -*- C++ -*-===//
//
// One plain C++ function per txl op, written to be obviously right: every dot
// product, sum, mean/variance, softmax normaliser and log-sum-exp accumulates
// in double; inputs and outputs are float32. They are the oracle the compiled
// backends are checked against, so clarity wins over speed.
//
// Layout: batch-major, row-major, contiguous. Shape letters: B batch, T
// segment length, M memory rows held (may be 0), K = M + T keys, D d_model,
// E embedding width, H heads, Dh head width, F inner FF width, V vocabulary.
// The computation is the one of docs/SEMANTICS.md (sections in brackets).
//
// Every kernel checks its argument shapes and throws std::invalid_argument,
// naming the kernel and the offending argument, on any inconsistency.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_REFERENCE_KERNELS_H
#define TXL_REFERENCE_KERNELS_H

#include "txl/reference/Tensor.h"

#include <cstdint>
#include <utility>
#include <vector>

namespace txl::reference {

/// Adaptive input embedding [§1] of `tokens` ([B*T] ids, row-major [B, T]),
/// returning [B, T, dModel], already scaled by sqrt(dModel).
///
/// With `ends = [0, cutoffs..., V]`:
/// * divVal == 1: one table [V, E]; `projections` is empty (then E == dModel)
///   or holds one [dModel, E] matrix P, applied as `e @ P^T`.
/// * divVal > 1: one table [ends[i+1] - ends[i], E_i] per cluster i and one
///   projection [dModel, E_i] per cluster (or none, if every E_i == dModel).
/// V is implied by the tables. A token outside [0, V) is an error.
Tensor adaptiveEmbedding(const std::vector<int64_t> &tokens, int64_t B,
                         int64_t T, const std::vector<ConstTensorRef> &tables,
                         const std::vector<ConstTensorRef> &projections,
                         const std::vector<int64_t> &cutoffs, int64_t divVal,
                         int64_t dModel);

/// Sinusoidal relative-position encodings [§2] for distances 0..K-1: [K, D].
/// Row d = concat(sin(a), cos(a)) (not interleaved) with
/// a[k] = float(min(d, clampLen)) * invFreq[k] (no clamping if clampLen <= 0)
/// and invFreq[k] = 1 / 10000^(2k/D), both rounded to float32 exactly as torch
/// computes them.
///
/// NOTE: indexed by *distance*. The authors' `pos_emb` row p encodes distance
/// K-1-p, i.e. it is this table upside down; indexing by distance lets one
/// table of K' >= K rows serve every segment and removes the rel-shift.
Tensor positionalEmbedding(int64_t K, int64_t dModel, int64_t clampLen);

/// LayerNorm over the last dimension of `x` [..., D] with biased variance:
/// (x - mean) / sqrt(var + epsilon) * gamma + beta; gamma, beta: [D].
Tensor layerNorm(const Tensor &x, ConstTensorRef gamma, ConstTensorRef beta,
                 double epsilon);

/// Position-wise feed-forward [§3 FF]: relu(x W1^T + b1) W2^T + b2 on every
/// row of `x` [..., D] (normally [B, T, D]); w1 [F, D], b1 [F], w2 [D, F],
/// b2 [D]. No residual, no LayerNorm.
Tensor feedForward(const Tensor &x, ConstTensorRef w1, ConstTensorRef b1,
                   ConstTensorRef w2, ConstTensorRef b2);

/// Relative multi-head attention [§3], the output of o_net: [B, T, D]. No
/// residual and no LayerNorm: for pre-LN the caller normalises `x` and
/// `memory` first, and the caller adds the residual.
///
/// x [B, T, D] gives the queries; keys and values come from
/// concat([memory, x], time) with memory [B, M, D] first (M may be 0).
/// `positions` [K', D] is distance-indexed (positionalEmbedding), K' >= M + T.
/// wQkv [3*H*Dh, D] (q, k, v blocks in that order, head n at columns
/// n*Dh..(n+1)*Dh-1 of each), wR [H*Dh, D], wO [D, H*Dh], rwBias = u [H, Dh],
/// rrBias = v [H, Dh].
///
/// Query i attends to key j at distance d = M + i - j iff d >= 0 and, when
/// `sameLength`, d < memLen; its score is
///   ((q_i + u) . k_j + (q_i + v) . (Wr positions[d])) / sqrt(Dh),
/// which equals the authors' rel-shift followed by their mask on every allowed
/// pair. `memLen` is read only when `sameLength` is set.
Tensor relativeAttention(const Tensor &x, const Tensor &memory,
                         const Tensor &positions, ConstTensorRef wQkv,
                         ConstTensorRef wR, ConstTensorRef wO,
                         ConstTensorRef rwBias, ConstTensorRef rrBias,
                         int64_t nHead, int64_t dHead, bool sameLength,
                         int64_t memLen);

/// The keys and values of every row of `x` [B, T, D] (the k and v blocks of
/// wQkv [3*H*Dh, D]), each [B, T, H*Dh] rounded to float32 (what a key/value
/// cache holds).
std::pair<Tensor, Tensor> keyValueProjection(const Tensor &x,
                                             ConstTensorRef wQkv, int64_t nHead,
                                             int64_t dHead);

/// relativeAttention with the memory's keys and values given instead of the
/// memory: keyCache, valueCache [B, M, H*Dh] (the M memory rows' projections,
/// oldest first) and the segment's own keys, values [B, T, H*Dh]. Equal to
/// relativeAttention(x, memory, ...) when the caches hold
/// keyValueProjection(memory) (up to the float32 rounding of the keys).
Tensor cachedRelativeAttention(const Tensor &x, const Tensor &keyCache,
                               const Tensor &valueCache, const Tensor &keys,
                               const Tensor &values, const Tensor &positions,
                               ConstTensorRef wQkv, ConstTensorRef wR,
                               ConstTensorRef wO, ConstTensorRef rwBias,
                               ConstTensorRef rrBias, int64_t nHead,
                               int64_t dHead, bool sameLength, int64_t memLen);

/// The memory kept for the next segment [§4]: the last min(memLen, M + T)
/// rows along time of concat([memory, hidden]); memory [B, M, D], hidden
/// [B, T, D]. memLen == 0 gives [B, 0, D].
Tensor memoryUpdate(const Tensor &memory, const Tensor &hidden, int64_t memLen);

/// Full log-probabilities [B, T, vocab] of the projected adaptive softmax
/// [§5] for h [B, T, D]. With `ends = [0, cutoffs..., vocab]`, n = #cutoffs:
///   logit_i(h) = (h @ P_i) @ W_i^T + b_i      (P_i [D, E_i], no transpose)
/// or h @ W_i^T + b_i when there are no projections.
/// * divVal == 1: `outWeights` = {[V, E]}, `outBiases` = {[V]}; cluster i is
///   the row slice ends[i]..ends[i+1]-1. `outProjections` is empty (E == D) or
///   holds one [D, E] per cluster (possibly the same storage).
/// * divVal > 1: one weight [ends[i+1]-ends[i], E_i], bias and projection
///   [D, E_i] per cluster (projections may be empty if every E_i == D).
/// * n == 0: log_softmax(logit_0); clusterWeight/clusterBias must be empty
///   (null data allowed).
/// * n >= 1: head = log_softmax over [logit_0 ; (h @ P_0) @ clusterWeight^T +
///   clusterBias], clusterWeight [n, E_0], clusterBias [n]. Token t < c_1:
///   head[t]; token t in cluster i >= 1: head[c_1 + i - 1] +
///   log_softmax(logit_i)[t - ends[i]]. This is the HF/TF ascending cluster
///   order, not the authors' PyTorch reversed one.
Tensor adaptiveLogSoftmax(const Tensor &h,
                          const std::vector<ConstTensorRef> &outWeights,
                          const std::vector<ConstTensorRef> &outBiases,
                          const std::vector<ConstTensorRef> &outProjections,
                          ConstTensorRef clusterWeight,
                          ConstTensorRef clusterBias,
                          const std::vector<int64_t> &cutoffs, int64_t divVal,
                          int64_t vocab);

/// Elementwise a + b (the residual connection); shapes must be equal.
Tensor add(const Tensor &a, const Tensor &b);

/// Next-token negative log-likelihood: [B * (N-1)] row-major [B, N-1] with
/// nll[b, t] = -logProbs[b, t, tokens[b, t+1]]; logProbs [B, N, V], tokens
/// [B*N] row-major [B, N].
std::vector<float> nextTokenNll(const Tensor &logProbs,
                                const std::vector<int64_t> &tokens, int64_t B,
                                int64_t N);

/// Negative log-likelihood at given targets: [B, T] with nll[b, t] =
/// -logProbs[b, t, targets[b, t]], or 0 where the target is -1 (no target);
/// logProbs [B, T, V], targets [B*T] row-major [B, T]. Any other target
/// outside [0, V) is an error.
Tensor targetNll(const Tensor &logProbs, const std::vector<int64_t> &targets);

} // namespace txl::reference

#endif // TXL_REFERENCE_KERNELS_H
