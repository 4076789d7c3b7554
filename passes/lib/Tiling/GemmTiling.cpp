//===- GemmTiling.cpp - register tiles and blocks of a packed GEMM --------===//

#include "txl/Passes/Tiling/GemmTiling.h"

#include <algorithm>
#include <vector>

namespace txl::tiling {

int64_t panelLanes(int64_t panelWidth, int64_t vectorWidth) {
  return std::min(panelWidth, vectorWidth);
}

int64_t accumulatorRows(int64_t rows, int64_t tileRows,
                        const GemmKnobs &knobs) {
  if (rows <= knobs.accumulatorRows)
    return rows;
  int64_t fewest = (rows + knobs.accumulatorRows - 1) / knobs.accumulatorRows;
  int64_t best = rows, bestWaste = -1;
  for (int64_t blocks = fewest; blocks <= 2 * fewest; ++blocks) {
    int64_t block = (rows + blocks - 1) / blocks;
    block = std::min(rows, (block + tileRows - 1) / tileRows * tileRows);
    int64_t waste = (rows + block - 1) / block * block - rows;
    if (bestWaste < 0 || waste < bestWaste) {
      best = block;
      bestWaste = waste;
    }
  }
  return best;
}

RegisterTile chooseRegisterTile(int64_t rows, int64_t panels,
                                int64_t panelWidth, int64_t vectorWidth,
                                const GemmKnobs &knobs) {
  struct Candidate {
    RegisterTile tile;
    int64_t penaltyPercent;
  };
  std::vector<Candidate> candidates;
  int64_t lanes = panelLanes(panelWidth, vectorWidth);
  int64_t vectorsPerPanel = std::max<int64_t>(1, panelWidth / lanes);
  int64_t registers = knobs.accumulatorRegisters;
  if (knobs.tileRows > 0) {
    candidates = {{{knobs.tileRows, knobs.tilePanels}, 0}};
  } else if (vectorsPerPanel == 1 && registers % 12 == 0) {
    // One vector per panel: the shapes measured at 24 registers (8x3 best),
    // scaled to the registers there are.
    candidates = {{{registers / 3, 3}, 0},
                  {{registers / 4, 4}, 4},
                  {{registers / 2, 2}, 6},
                  {{registers / 6, 6}, 10}};
  } else {
    for (int64_t panelCount : {1, 2})
      if (registers / (vectorsPerPanel * panelCount) >= 1)
        candidates.push_back(
            {{registers / (vectorsPerPanel * panelCount), panelCount}, 0});
  }
  RegisterTile best;
  int64_t bestCost = -1;
  for (auto [tile, penalty] : candidates) {
    // Fewer panels than the tile has: more rows fill the registers (at most
    // 16, which the load ports still feed).
    if (tile.panels > panels) {
      tile.panels = panels;
      tile.rows = std::max(
          tile.rows,
          std::min<int64_t>(16, registers / (vectorsPerPanel * panels)));
    }
    // Fewer rows than the tile has (a step of one token: a matrix-vector
    // product): more panels fill the registers, or each multiply-add waits
    // for the previous one into its accumulator (the FMA latency) instead
    // of the weight streaming at the cache's bandwidth. Of the widths from
    // the registers' down to two thirds of it, the one padding least.
    if (rows < tile.rows) {
      int64_t widest = std::min(panels, registers / (vectorsPerPanel * rows));
      int64_t bestPanels = tile.panels, bestPadded = -1;
      for (int64_t p = widest; p >= std::max<int64_t>(1, widest * 2 / 3); --p)
        if (int64_t padded = (panels + p - 1) / p * p;
            bestPadded < 0 || padded < bestPadded) {
          bestPanels = p;
          bestPadded = padded;
        }
      tile.panels = std::max(tile.panels, bestPanels);
    }
    tile.rows = std::min(tile.rows, rows);
    // Rows are computed per accumulator block, each in register tiles (the
    // last one partial: about as slow as a full one).
    int64_t block = accumulatorRows(rows, tile.rows, knobs);
    int64_t blocks = (rows + block - 1) / block;
    int64_t cost = blocks * ((block + tile.rows - 1) / tile.rows * tile.rows) *
                   ((panels + tile.panels - 1) / tile.panels * tile.panels) *
                   (100 + penalty);
    if (bestCost < 0 || cost < bestCost) {
      bestCost = cost;
      best = tile;
    }
  }
  return best;
}

GemmTiling planGemmTiling(const GemmShape &gemm, RegisterTile tile,
                          int64_t rows, int64_t batchEntries, bool grouped,
                          const GemmKnobs &knobs) {
  GemmTiling t;
  t.tile = tile;
  t.rows = rows;
  t.rowBlock = accumulatorRows(rows, tile.rows, knobs);
  int64_t panelBlocks = (gemm.panels + tile.panels - 1) / tile.panels;
  // More tiles than minTiles would split the rows of a GEMM whose panel
  // blocks alone make fewer, and each block of rows streams the weight again
  // (wt103-base's 410 x 410 projections ran 3% of a segment slower at one
  // thread in blocks of 32 rows, and no faster at two).
  auto efficiency = [&](int64_t block) {
    int64_t blocks = (rows + block - 1) / block;
    double tiles = static_cast<double>(panelBlocks * batchEntries * blocks);
    return std::min(1.0, tiles / knobs.minTiles) * rows / (blocks * block);
  };
  double best = efficiency(t.rowBlock);
  for (int64_t blocks = 2; best < 1.0; ++blocks) {
    int64_t block = (rows + blocks - 1) / blocks;
    block = (block + tile.rows - 1) / tile.rows * tile.rows;
    if (block < 2 * tile.rows || block >= t.rowBlock)
      break;
    if (double e = efficiency(block); e > best + 0.02) {
      best = e;
      t.rowBlock = block;
    }
  }
  if (grouped && batchEntries * ((rows + t.rowBlock - 1) / t.rowBlock) > 1) {
    // As many panel blocks as keep the group's slice of the weight in L2.
    int64_t blockBytes = gemm.weightBytes / gemm.panels * tile.panels;
    t.group =
        std::clamp<int64_t>(knobs.l2WeightBytes / blockBytes, 1, panelBlocks);
  }
  return t;
}

} // namespace txl::tiling
