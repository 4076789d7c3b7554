//===- KernelRoles.h - the roles (txl.name) of the generics -----*- C++ -*-===//
//
// The decompositions name each linalg.generic by its role in the model
// (attr::kGenericName); schedules refer to generics by these names, and the
// planners of txl-tile recognise a kernel family by them. Written by
// txl-decompose, read by txl-tile and docs/SCHEDULES.md's examples: named
// once here. Header-only.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_DIALECT_KERNELROLES_H
#define TXL_DIALECT_KERNELROLES_H

namespace txl::roles::attention {

// Projections and layouts around the fused core.
inline constexpr const char *kQueries = "attention.q";
inline constexpr const char *kKeys = "attention.k";
inline constexpr const char *kValuesProjection = "attention.v";
inline constexpr const char *kPositions = "attention.r";
inline constexpr const char *kKeysInput = "attention.keys_input";
inline constexpr const char *kPositionsByDistance =
    "attention.positions_by_distance";
inline constexpr const char *kOutput = "attention.output";

// The fused core (attention.core), in the order it computes.
inline constexpr const char *kKeyRowsByHead = "attention.key_rows_by_head";
inline constexpr const char *kKeysByHead = "attention.keys_by_head";
inline constexpr const char *kValuesByHead = "attention.values_by_head";
inline constexpr const char *kContentQueries = "attention.content_queries";
inline constexpr const char *kPositionQueries = "attention.position_queries";
inline constexpr const char *kScores = "attention.scores";
inline constexpr const char *kPositionScores = "attention.position_scores";
/// Present where clamp_len makes distances repeat.
inline constexpr const char *kClampedPositionScores =
    "attention.clamped_position_scores";
inline constexpr const char *kMask = "attention.mask";
inline constexpr const char *kMax = "attention.max";
inline constexpr const char *kExp = "attention.exp";
inline constexpr const char *kSum = "attention.sum";
inline constexpr const char *kValues = "attention.values";
inline constexpr const char *kNormalise = "attention.normalise";

} // namespace txl::roles::attention

namespace txl::roles {

/// Family prefixes: txl-fuse groups generics into kernels by them, and
/// txl-pack-weights packs the weights of the contractions of these families.
inline constexpr const char *kAttentionFamily = "attention.";
inline constexpr const char *kFfnFamily = "ffn.";
inline constexpr const char *kEmbedFamily = "embed.";
inline constexpr const char *kLayerNormFamily = "layer_norm";
inline constexpr const char *kLogSoftmaxFamily = "logsoftmax";
inline constexpr const char *kNllFamily = "nll.";
/// The residual add: an epilogue of the kernel it follows.
inline constexpr const char *kResidual = "residual";

} // namespace txl::roles

namespace txl::roles::ffn {
inline constexpr const char *kUp = "ffn.up";
inline constexpr const char *kRelu = "ffn.relu";
inline constexpr const char *kDown = "ffn.down";
} // namespace txl::roles::ffn

namespace txl::roles::layer_norm {
inline constexpr const char *kSum = "layer_norm.sum";
inline constexpr const char *kCenter = "layer_norm.center";
inline constexpr const char *kSquare = "layer_norm.square";
inline constexpr const char *kSumSquares = "layer_norm.sum_squares";
inline constexpr const char *kNormalised = "layer_norm";
} // namespace txl::roles::layer_norm

namespace txl::roles::nll {
/// The head's logits and its normaliser; the cluster logits of the tails.
inline constexpr const char *kHead = "nll.head";
inline constexpr const char *kHeadClusterLogits = "nll.head.cluster_logits";
inline constexpr const char *kHeadTarget = "nll.head.target";
/// The tables that gather each tail cluster's rows.
inline constexpr const char *kRowsRank = "nll.rows.rank";
inline constexpr const char *kRowsTable = "nll.rows.table";
inline constexpr const char *kRowsCount = "nll.rows.count";
inline constexpr const char *kRowsCountI64 = "nll.rows.count_i64";
/// Tail cluster i is "nll.tail.<i>" (and its kernel): this prefix, then i.
inline constexpr const char *kTailPrefix = "nll.tail.";
inline constexpr const char *kAssemble = "nll.assemble";
} // namespace txl::roles::nll

#endif // TXL_DIALECT_KERNELROLES_H
