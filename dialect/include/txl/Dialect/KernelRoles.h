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

#endif // TXL_DIALECT_KERNELROLES_H
