//===- TileKnobs.h - every tiling decision, a named parameter ---*- C++ -*-===//
//
// The heuristic of txl-tile (and the layouts chosen before it) is structured
// code driven by these numbers: each one was a constant measured on one
// Intel AVX-512 machine. Here each is named, with its legal range and the
// constraint that keeps a point legal, and its default derived from the
// target (TargetInfo). A tuner enumerates them (tileKnobRanges), a person
// sets them with txl-tile's `knobs` option; every legal point gives a legal
// schedule by construction. docs/SCHEDULES.md says which decision each one
// drives.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_TILING_TILEKNOBS_H
#define TXL_PASSES_TILING_TILEKNOBS_H

#include "txl/support/Status.h"
#include "txl/target/TargetInfo.h"

#include <cstdint>
#include <string>
#include <vector>

namespace txl::tiling {

/// Layouts chosen before txl-tile (txl-pack-weights, txl-decompose); the
/// planners read the layout from the IR, so these only need to agree with
/// the target's vectors.
struct LayoutKnobs {
  /// Width of a packed weight panel ([ceil(N/P), K, P]): a multiple of the
  /// vector width, or a divisor of it.
  int64_t panelWidth = 16;
  /// Distances per block of the attention's positions ([H, N/B, Dh, B]): a
  /// multiple of the vector width (one block = a few whole vectors).
  int64_t positionBlock = 48;
  /// Columns read together where clamped distances repeat (clamp_len): a
  /// divisor of positionBlock and a multiple of the vector width.
  int64_t clampRun = 16;
};

/// Packed GEMMs and their epilogues (GemmPlanner).
struct GemmKnobs {
  /// Vector registers that hold accumulators in a register tile (the rest
  /// hold the weight vectors and the broadcast row value): at most the
  /// target's registers less 4.
  int64_t accumulatorRegisters = 24;
  /// Register tile forced on every GEMM (rows x panels); 0 x 0: chosen per
  /// GEMM by cost among those that fill accumulatorRegisters.
  int64_t tileRows = 0, tilePanels = 0;
  /// A block of the reduction reads at most this many bytes of the weight,
  /// kept in L1 while every row goes by (default: half of L1d).
  int64_t l1WeightBytes = 24 << 10;
  /// Weights up to this many bytes are assumed to stay in L2 while a row
  /// epilogue's blocks go by; a group of panel blocks reads at most this
  /// much (default: half of L2).
  int64_t l2WeightBytes = 1 << 20;
  /// An accumulator holds at most this many rows.
  int64_t accumulatorRows = 96;
  /// Independent tiles wanted, so that threads share them evenly (default:
  /// 4 per core, at least 8).
  int64_t minTiles = 8;
  /// The least rows of a block of a row epilogue (register tiles that reuse
  /// each slice of the weight).
  int64_t minEpilogueBlockRows = 32;
};

/// The fused attention (AttentionPlanner).
struct AttentionKnobs {
  /// Query rows per tile: the tile's [rows, K] scores stay in L1/L2 between
  /// the stages.
  int64_t queryRows = 8;
  /// Vectors along the keys per block of the score GEMM.
  int64_t scoreVectors = 3;
  /// Accumulator registers of the score GEMMs' register tiles (at most the
  /// target's registers less 4).
  int64_t scoreAccumulators = 24;
  /// Rows per register tile of the value GEMM.
  int64_t valueRows = 8;
  /// Key rows per task of the gathers of all heads' keys and values.
  int64_t gatherRows = 64;
};

/// Row reductions in vector lanes (RowReductionPlanner).
struct RowReductionKnobs {
  /// Rows per thread's block (a cache line of f32 results: 16).
  int64_t rowsPerTask = 16;
};

/// Element-wise generics at root (ElementwisePlanner).
struct ElementwiseKnobs {
  /// Results with at least this many elements are shared among threads.
  int64_t parallelElements = 1 << 16;
  /// The least elements of one such task.
  int64_t taskElements = 1 << 14;
};

struct TileKnobs {
  LayoutKnobs layout;
  GemmKnobs gemm;
  AttentionKnobs attention;
  RowReductionKnobs rows;
  ElementwiseKnobs elementwise;
};

/// The defaults for `target`: vector width and registers set the register
/// tiles and the layouts' vectors, L1d and L2 the block bytes, cores the
/// tiles wanted.
TileKnobs defaultKnobs(const target::TargetInfo &target);

/// One knob of the search space: its name in `knobs=` and its legal range.
struct KnobRange {
  std::string name;
  int64_t minimum, maximum;
  /// Legal values are multiples of this (1: any).
  int64_t step = 1;
};

/// Every knob of `knobs`, with the range legal on `target`. Ranges alone do
/// not make a point legal: checkKnobs does.
std::vector<KnobRange> tileKnobRanges(const target::TargetInfo &target);

/// OK when every knob is in its range and the constraints between knobs
/// and the target hold; else an error naming the knob, its value and the
/// rule.
Status checkKnobs(const TileKnobs &knobs, const target::TargetInfo &target);

/// Sets knobs from "name=value,name=value" (names as in tileKnobRanges,
/// e.g. "gemm.l1_weight_bytes=16384,attention.query_rows=16"). Errors name
/// the unknown knob or the malformed value.
Status setKnobs(TileKnobs &knobs, const std::string &spec);

/// The knobs as "name=value,..." (every knob; setKnobs reads it back).
std::string printKnobs(const TileKnobs &knobs);

} // namespace txl::tiling

#endif // TXL_PASSES_TILING_TILEKNOBS_H
