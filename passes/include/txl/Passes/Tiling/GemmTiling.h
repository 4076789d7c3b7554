//===- GemmTiling.h - register tiles of a packed GEMM -----------*- C++ -*-===//
//
// The pure arithmetic of GemmPlanner, apart so that it can be tested and
// searched without IR: which register tile, how many rows an accumulator
// holds, how the output is cut into tiles for the threads and grouped for
// L2. Every function takes its knobs (TileKnobs.h) explicitly.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_TILING_GEMMTILING_H
#define TXL_PASSES_TILING_GEMMTILING_H

#include "txl/Passes/Tiling/TileKnobs.h"

#include <cstdint>

namespace txl::tiling {

/// A register tile: `rows` rows by `panels` packed-weight panels.
struct RegisterTile {
  int64_t rows = 1, panels = 1;
  bool operator==(const RegisterTile &o) const {
    return rows == o.rows && panels == o.panels;
  }
};

/// How the output of a GEMM is tiled: register tiles, the rows of one
/// accumulator (all rows of a batch entry, or blocks of them), and panel
/// blocks per group.
struct GemmTiling {
  RegisterTile tile;
  /// Rows of a batch entry in the region that is tiled.
  int64_t rows = 0;
  int64_t rowBlock = 0;
  int64_t group = 1;
};

/// The shape facts of one packed GEMM the tiling depends on.
struct GemmShape {
  int64_t rows = 0;   // extent of m
  int64_t panels = 0; // ceil(N / panelWidth)
  int64_t panelWidth = 16;
  int64_t weightBytes = 0;
};

/// f32 lanes per vector along a panel: the target's width, or the panel's
/// when it is narrower.
int64_t panelLanes(int64_t panelWidth, int64_t vectorWidth);

/// The rows of one accumulator: all of them, or blocks of about
/// knobs.accumulatorRows, a multiple of the register tile's rows where that
/// wastes least (blocks are shifted inwards: a remainder is recomputed).
int64_t accumulatorRows(int64_t rows, int64_t tileRows, const GemmKnobs &knobs);

/// The register tile for a GEMM of `rows` x `panels` panels: among tiles
/// that fill the accumulator registers, the one that computes the fewest
/// padded points, weighed by how well its shape runs (measured at 24
/// registers: 8x3 best; 12x2 and 4x6 load more per multiply-add); ties go
/// to the earlier candidate. knobs.tileRows/tilePanels force one.
RegisterTile chooseRegisterTile(int64_t rows, int64_t panels,
                                int64_t panelWidth, int64_t vectorWidth,
                                const GemmKnobs &knobs);

/// The tiling of `rows` rows (per batch entry, `batchEntries` of them):
/// accumulators of at most knobs.accumulatorRows rows, and smaller ones
/// (down to two register tiles) where there would be fewer than
/// knobs.minTiles tiles; panel blocks grouped (`grouped`) so that a group's
/// slice of the weight stays in L2 where there are several blocks of rows.
GemmTiling planGemmTiling(const GemmShape &gemm, RegisterTile tile,
                          int64_t rows, int64_t batchEntries, bool grouped,
                          const GemmKnobs &knobs);

} // namespace txl::tiling

#endif // TXL_PASSES_TILING_GEMMTILING_H
