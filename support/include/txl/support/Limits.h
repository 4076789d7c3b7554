//===- Limits.h - the largest models and inputs txl accepts -----*- C++ -*-===//
//
// Checked before anything is allocated (ModelConfig, the safetensors reader,
// txl-run's options), so that every size txl computes from them fits int64
// with room to spare: the largest parameter is vocabulary x d_embed = 2^40
// elements, all parameters < 2^47 elements (n_layer x 2^36 + 2^40), the
// largest activation batch x tgt_len x (tgt_len + mem_len) x n_head =
// 2^12 x 2^14 x 2^15 x 2^16 = 2^57 elements, log-probabilities tokens x
// vocabulary = 2^32 x 2^24 = 2^56; times 8 bytes each stays below 2^63.
// docs/RUN.md ("Limits") lists them for users.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_SUPPORT_LIMITS_H
#define TXL_SUPPORT_LIMITS_H

#include <cstdint>

namespace txl::limits {

/// n_layer (the largest released Transformer-XL has 24).
constexpr int64_t kMaxLayers = 1024;
/// d_model and d_embed.
constexpr int64_t kMaxModelWidth = 65536;
/// n_head * d_head (and so each of n_head, d_head).
constexpr int64_t kMaxAttentionWidth = 65536;
/// d_inner.
constexpr int64_t kMaxInnerWidth = 262144;
/// vocab_size (wt103 has 267,735).
constexpr int64_t kMaxVocabulary = int64_t(1) << 24;
/// Number of cutoffs (tail clusters of the adaptive softmax).
constexpr int64_t kMaxCutoffs = 64;
/// tgt_len / --tgt-len: tokens per segment.
constexpr int64_t kMaxSegmentLength = 16384;
/// mem_len: remembered positions per layer.
constexpr int64_t kMaxMemoryLength = 16384;
/// Rows (streams) of a tokens file.
constexpr int64_t kMaxBatch = 4096;
/// Token ids in one tokens file (batch x length).
constexpr int64_t kMaxTokens = int64_t(1) << 32;
/// Bytes of a config.json (real ones are about 1 KB).
constexpr int64_t kMaxConfigFileBytes = int64_t(1) << 20;
/// Bytes of a safetensors header (the format's own limit).
constexpr int64_t kMaxSafeTensorsHeaderBytes = 100000000;

} // namespace txl::limits

#endif // TXL_SUPPORT_LIMITS_H
