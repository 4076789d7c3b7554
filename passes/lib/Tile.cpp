//===- Tile.cpp - txl-tile: a schedule attribute on every kernel ----------===//
//
// The "decide" half of scheduling (codegen only applies what is written
// here; a tuner may write it instead). Schema: docs/SCHEDULES.md.
//
// GEMMs on packed weights get register tiles. A generic is a packed GEMM
// when it computes out[.., m, n] += a[.., m, k..] * wp[n floordiv 16, k..,
// n mod 16] (the weight [N, K] packed into 16-wide panels [ceil(N/16), K,
// 16], zero-padded; see docs/SCHEDULES.md). Its output is tiled in blocks of
// V panels by all rows of a batch entry (or blocks of them); each tile's
// accumulator is zeroed, updated in R x V register tiles (rows and panels
// unrolled, lanes vectorized) with the reduction outermost but blocked so
// that a block's slice of the weight stays in L1, and copied out plus the
// init. Where it is computed depends on its consumers:
//  * a kernel result, or computed at root: the tile loops (panel blocks
//    outermost, in groups whose weight slice stays in L2 while the blocks of
//    rows go by) are fused and run in parallel; in a kernel whose work is
//    counted at run time (skip_when_zero: a scoring tail over its gathered
//    rows), all rows form one block, so only the rows needed are computed;
//  * read only by one element-wise kernel result (bias + ReLU): the GEMM is
//    inlined into it and the accumulator computed at its tiles;
//  * a row epilogue (residual + LayerNorm, a log-softmax): every generic of
//    the kernel is computed per block of rows of the kernel's result, the
//    GEMM tiled inside the block as above, then the epilogue on rows still
//    in cache (cheap element-wise steps inlined, row reductions in vector
//    lanes). Blocks have up to 96 rows when the weights fit in L2, else all
//    rows of a batch entry (the weight is then streamed once per block).
//
// Everything else, per generic:
//  * an element-wise generic read by one other generic of the kernel is
//    inlined into it (ReLU, scale, mask: no buffer of their own);
//  * everything else is computed at root inside the kernel;
//  * a reduction's update runs its reduction loop outside the innermost
//    parallel loop, which is vectorized by the target's f32 width (guarded
//    tail: the model's widths, 41, 410, 2100, are not multiples of 16), and
//    the outermost parallel loop with work is parallel.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <algorithm>
#include <optional>

namespace txl {
#define GEN_PASS_DEF_TXLTILE
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

namespace {

/// Width of a packed weight panel (the layout contract, docs/SCHEDULES.md).
constexpr int64_t kPanel = 16;
/// Weights up to this many bytes are assumed to stay in L2 while a row
/// epilogue's blocks go by.
constexpr int64_t kL2WeightBytes = 1 << 20;
/// The slice of a weight that one block of the reduction reads is kept
/// below this, to stay in L1 (48 KiB here) while every row goes by.
constexpr int64_t kL1WeightBytes = 24 << 10;
/// An accumulator holds at most this many rows (of up to 64 columns: 24 KiB).
constexpr int64_t kAccumulatorRows = 96;

/// The f32 vector width of a Halide target string.
int64_t vectorWidthOf(StringRef target) {
  if (target.contains("cuda"))
    return 1; // GPU schedules tile instead (gpu_tile, left to the default)
  if (target.contains("avx512") || target == "host")
    return 16; // "host" on this project's machines is AVX-512
  if (target.contains("avx2") || target.contains("avx"))
    return 8;
  return 4;
}

std::string loopName(unsigned i) { return "d" + std::to_string(i); }

/// Attribute spelling helpers.
struct AttrBuilder {
  OpBuilder &b;
  Attribute str(StringRef s) const { return b.getStringAttr(s); }
  Attribute i64(int64_t v) const { return b.getI64IntegerAttr(v); }
  Attribute strs(ArrayRef<std::string> names) const {
    SmallVector<Attribute> out;
    for (const std::string &n : names)
      out.push_back(b.getStringAttr(n));
    return b.getArrayAttr(out);
  }
  Attribute arr(ArrayRef<Attribute> items) const {
    return b.getArrayAttr(items);
  }
  DictionaryAttr dict(ArrayRef<std::pair<StringRef, Attribute>> fields) const {
    SmallVector<NamedAttribute> named;
    for (auto &[key, value] : fields)
      named.push_back(b.getNamedAttr(key, value));
    return b.getDictionaryAttr(named);
  }
  Attribute split(const std::string &loop, int64_t factor,
                  const std::string &inner, StringRef tail) const {
    return dict({{"loop", str(loop)},
                 {"factor", i64(factor)},
                 {"inner", str(inner)},
                 {"tail", str(tail)}});
  }
  Attribute fuse(const std::string &outer, const std::string &inner,
                 const std::string &into) const {
    return dict(
        {{"outer", str(outer)}, {"inner", str(inner)}, {"into", str(into)}});
  }
  /// `tail` empty: the kernel's default tail.
  Attribute vectorize(const std::string &loop, int64_t width,
                      StringRef tail = "") const {
    SmallVector<std::pair<StringRef, Attribute>> fields = {
        {"loop", str(loop)}, {"width", i64(width)}};
    if (!tail.empty())
      fields.push_back({"tail", str(tail)});
    return arr({dict(fields)});
  }
};

/// Element-wise results with at least this many elements are shared among
/// threads (below it, waking a worker costs more than the copy).
constexpr int64_t kParallelElements = 1 << 16;
/// The least work of one such task (64 KiB of f32).
constexpr int64_t kTaskElements = 1 << 14;

/// One entry of `funcs` for a generic of a kernel, by the per-generic rules.
/// `name` refers to the generic by its txl.name, or by its position (`#i`)
/// where the name is not unique in the kernel.
DictionaryAttr scheduleFor(linalg::GenericOp generic, StringRef name,
                           OpBuilder &b, int64_t width) {
  SmallVector<NamedAttribute> entry;
  entry.push_back(b.getNamedAttr("name", b.getStringAttr(name)));

  SmallVector<utils::IteratorType> iterators = generic.getIteratorTypesArray();
  bool isReduction = llvm::any_of(iterators, [](utils::IteratorType t) {
    return t == utils::IteratorType::reduction;
  });
  Value result = generic.getResult(0);
  unsigned usesInKernel = std::distance(result.use_begin(), result.use_end());
  bool feedsOneGeneric =
      usesInKernel == 1 && isa<linalg::GenericOp>(*result.user_begin());
  if (!isReduction && feedsOneGeneric) {
    entry.push_back(b.getNamedAttr("compute", b.getStringAttr("inline")));
    return b.getDictionaryAttr(entry);
  }
  entry.push_back(b.getNamedAttr("compute", b.getStringAttr("root")));
  if (!isReduction && width > 1) {
    // Element-wise at root (a memory window's update, a copy): vectors
    // along the innermost loop, threads over the first loop with more than
    // one iteration when the result is big enough to share.
    SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
    SmallVector<NamedAttribute> pure;
    if (!ranges.empty() && ranges.back() >= width)
      pure.push_back(b.getNamedAttr(
          "vectorize",
          b.getArrayAttr({b.getDictionaryAttr(
              {b.getNamedAttr("loop",
                              b.getStringAttr(loopName(ranges.size() - 1))),
               b.getNamedAttr("width", b.getI64IntegerAttr(width))})})));
    int64_t elements = 1;
    for (int64_t r : ranges)
      elements *= r;
    if (elements >= kParallelElements)
      for (unsigned l = 0; l + 1 < ranges.size(); ++l)
        if (ranges[l] > 1) {
          // Each task at least kTaskElements: one task per row of a memory
          // window (410 floats) spent more in the thread pool's lock than
          // in the copy.
          int64_t perIteration = elements;
          for (unsigned o = 0; o <= l; ++o)
            perIteration /= ranges[o];
          int64_t factor = std::min(
              ranges[l], (kTaskElements + perIteration - 1) / perIteration);
          if (factor > 1)
            pure.push_back(b.getNamedAttr(
                "split",
                b.getArrayAttr({b.getDictionaryAttr(
                    {b.getNamedAttr("loop", b.getStringAttr(loopName(l))),
                     b.getNamedAttr("factor", b.getI64IntegerAttr(factor)),
                     b.getNamedAttr("tail", b.getStringAttr("guard"))})})));
          pure.push_back(b.getNamedAttr(
              "parallel", b.getArrayAttr({b.getStringAttr(loopName(l))})));
          break;
        }
    if (!pure.empty())
      entry.push_back(b.getNamedAttr("pure", b.getDictionaryAttr(pure)));
    return b.getDictionaryAttr(entry);
  }
  if (!isReduction || width <= 1)
    return b.getDictionaryAttr(entry);

  // The update: parallel loops in order, the reductions, then the innermost
  // parallel loop (vectorized).
  SmallVector<unsigned> parallel, reductions;
  for (auto [i, t] : llvm::enumerate(iterators))
    (t == utils::IteratorType::reduction ? reductions : parallel).push_back(i);
  if (parallel.empty())
    return b.getDictionaryAttr(entry);
  unsigned inner = parallel.back();
  SmallVector<Attribute> order;
  for (unsigned i : ArrayRef<unsigned>(parallel).drop_back())
    order.push_back(b.getStringAttr(loopName(i)));
  for (unsigned r : reductions)
    order.push_back(b.getStringAttr(loopName(r)));
  order.push_back(b.getStringAttr(loopName(inner)));
  SmallVector<int64_t> ranges = generic.getStaticLoopRanges();
  SmallVector<NamedAttribute> update = {
      b.getNamedAttr("order", b.getArrayAttr(order))};
  if (ranges[inner] >= width)
    update.push_back(b.getNamedAttr(
        "vectorize",
        b.getArrayAttr({b.getDictionaryAttr(
            {b.getNamedAttr("loop", b.getStringAttr(loopName(inner))),
             b.getNamedAttr("width", b.getI64IntegerAttr(width))})})));
  for (unsigned p : ArrayRef<unsigned>(parallel).drop_back())
    if (ranges[p] > 1) {
      update.push_back(b.getNamedAttr(
          "parallel", b.getArrayAttr({b.getStringAttr(loopName(p))})));
      break;
    }
  entry.push_back(b.getNamedAttr("update", b.getDictionaryAttr(update)));
  return b.getDictionaryAttr(entry);
}

//===----------------------------------------------------------------------===//
// Packed GEMMs
//===----------------------------------------------------------------------===//

/// A generic computing out[.., m, n] += a[.., m, k..] * wp[n floordiv 16,
/// k.., n mod 16].
struct PackedGemm {
  linalg::GenericOp op;
  /// The output's loops, row-major: batch loops, then m, then n.
  SmallVector<unsigned> outLoops;
  SmallVector<unsigned> reductions;
  /// Extent of every loop.
  SmallVector<int64_t> ranges;
  int64_t rows = 0;   // extent of m
  int64_t panels = 0; // ceil(N / 16)
  int64_t weightBytes = 0;

  unsigned m() const { return outLoops[outLoops.size() - 2]; }
  unsigned n() const { return outLoops.back(); }
};

/// The loops an output map indexes, row-major; none unless every result is
/// a plain loop.
std::optional<SmallVector<unsigned>> outputLoops(AffineMap map) {
  SmallVector<unsigned> loops;
  for (AffineExpr expr : map.getResults()) {
    auto dim = dyn_cast<AffineDimExpr>(expr);
    if (!dim)
      return std::nullopt;
    loops.push_back(dim.getPosition());
  }
  return loops;
}

bool usesAnyLoop(AffineExpr expr, ArrayRef<unsigned> loops) {
  return llvm::any_of(loops,
                      [&](unsigned l) { return expr.isFunctionOfDim(l); });
}

std::optional<PackedGemm> matchPackedGemm(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || op.getNumDpsInputs() != 2 ||
      !op.hasPureTensorSemantics())
    return std::nullopt;
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  std::optional<SmallVector<unsigned>> out = outputLoops(maps[2]);
  if (!out || out->size() < 2)
    return std::nullopt;
  PackedGemm gemm;
  gemm.op = op;
  gemm.outLoops = *out;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  SmallVector<unsigned> parallel;
  for (auto [i, t] : llvm::enumerate(iterators))
    (t == utils::IteratorType::reduction ? gemm.reductions : parallel)
        .push_back(i);
  if (gemm.reductions.empty() || parallel.size() != gemm.outLoops.size())
    return std::nullopt;

  // The body: yield(out + a * b), in any operand order.
  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 3)
    return std::nullopt;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return std::nullopt;
  Value outArg = body.getArgument(2);
  Value product = add.getLhs() == outArg   ? add.getRhs()
                  : add.getRhs() == outArg ? add.getLhs()
                                           : Value();
  auto mul = product ? product.getDefiningOp<arith::MulFOp>() : nullptr;
  if (!mul)
    return std::nullopt;
  Value in0 = body.getArgument(0), in1 = body.getArgument(1);
  if (!((mul.getLhs() == in0 && mul.getRhs() == in1) ||
        (mul.getLhs() == in1 && mul.getRhs() == in0)))
    return std::nullopt;

  // Which input is the packed weight: it reads n only as its panel and
  // lane, and no other parallel loop.
  MLIRContext *context = op.getContext();
  AffineExpr n = getAffineDimExpr(gemm.n(), context);
  std::optional<unsigned> weight;
  for (unsigned i = 0; i < 2; ++i) {
    AffineMap map = maps[i];
    auto type = dyn_cast<RankedTensorType>(op.getDpsInputs()[i].getType());
    if (!type || !type.hasStaticShape() || type.getRank() != 3 ||
        map.getNumResults() != 3)
      continue;
    if (map.getResult(0) != n.floorDiv(kPanel) ||
        map.getResult(2) != n % kPanel ||
        usesAnyLoop(map.getResult(1), parallel) || type.getDimSize(2) != kPanel)
      continue;
    weight = i;
    gemm.weightBytes = type.getNumElements() * 4;
    gemm.panels = type.getDimSize(0);
  }
  if (!weight)
    return std::nullopt;
  // The other operand must not depend on n.
  AffineMap other = maps[1 - *weight];
  if (llvm::any_of(other.getResults(),
                   [&](AffineExpr e) { return e.isFunctionOfDim(gemm.n()); }))
    return std::nullopt;
  gemm.ranges = op.getStaticLoopRanges();
  if ((gemm.ranges[gemm.n()] + kPanel - 1) / kPanel != gemm.panels)
    return std::nullopt;
  gemm.rows = gemm.ranges[gemm.m()];
  return gemm;
}

/// A register tile: `rows` rows by `panels` 16-wide panels.
struct RegisterTile {
  int64_t rows = 1, panels = 1;
};

/// The rows of one accumulator: all of them, or blocks of about
/// kAccumulatorRows, a multiple of the register tile's rows where that
/// wastes least (blocks are shifted inwards: a remainder is recomputed).
int64_t accumulatorRows(int64_t rows, int64_t tileRows) {
  if (rows <= kAccumulatorRows)
    return rows;
  int64_t fewest = (rows + kAccumulatorRows - 1) / kAccumulatorRows;
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

/// The register tile for a GEMM of `rows` x `panels` panels: among tiles
/// that fill the target's accumulator registers, the one that computes the
/// fewest padded points (panel blocks at the edge are shifted inwards and
/// redo work, a partial tile of rows costs about a full one), weighed by
/// how well its shape runs (measured: 8x3 best; 12x2 and 4x6 load more
/// per multiply-add); ties go to the earlier candidate.
RegisterTile chooseTile(int64_t rows, int64_t panels, int64_t width) {
  // AVX-512: 24 of the 32 zmm registers hold accumulators, the rest the
  // weight vectors and the broadcast row value. Narrower targets: 12.
  struct Candidate {
    RegisterTile tile;
    int64_t penaltyPercent;
  };
  SmallVector<Candidate> candidates;
  int64_t vectorsPerPanel = std::max<int64_t>(1, kPanel / width);
  int64_t registers = width >= kPanel ? 24 : 12;
  if (width >= kPanel) {
    candidates = {{{8, 3}, 0}, {{6, 4}, 4}, {{12, 2}, 6}, {{4, 6}, 10}};
  } else {
    for (int64_t panels : {1, 2})
      if (registers / (vectorsPerPanel * panels) >= 1)
        candidates.push_back(
            {{registers / (vectorsPerPanel * panels), panels}, 0});
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
    tile.rows = std::min(tile.rows, rows);
    // Rows are computed per accumulator block, each in register tiles
    // (the last one partial: about as slow as a full one).
    int64_t block = accumulatorRows(rows, tile.rows);
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

/// Enough independent tiles that threads share them evenly (8 tiles: at
/// most 1/8 idle at the end with two threads). More would split the rows of
/// a GEMM whose panel blocks alone make fewer tiles, and each block of rows
/// streams the weight again: wt103-base's 410 x 410 projections (9 panel
/// blocks of 64 rows) ran 3% of a segment slower at one thread in blocks of
/// 32 rows (for 16 tiles), and no faster at two.
constexpr int64_t kMinTiles = 8;

/// The tiling of `rows` rows (per batch entry, `batchEntries` of them) of
/// a GEMM: accumulators of at most kAccumulatorRows rows, and smaller ones
/// (down to two register tiles) where there would be too few tiles for the
/// threads; panel blocks grouped (`grouped`) where there are several blocks
/// of rows.
GemmTiling planTiling(const PackedGemm &gemm, RegisterTile tile, int64_t rows,
                      int64_t batchEntries, bool grouped) {
  GemmTiling t;
  t.tile = tile;
  t.rows = rows;
  t.rowBlock = accumulatorRows(rows, tile.rows);
  int64_t panelBlocks = (gemm.panels + tile.panels - 1) / tile.panels;
  auto efficiency = [&](int64_t block) {
    int64_t blocks = (rows + block - 1) / block;
    double tiles = static_cast<double>(panelBlocks * batchEntries * blocks);
    return std::min(1.0, tiles / kMinTiles) * rows / (blocks * block);
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
    t.group = std::clamp<int64_t>(kL2WeightBytes / blockBytes, 1, panelBlocks);
  }
  return t;
}

/// The nest that tiles the output of a GEMM (or of the element-wise generic
/// it is inlined into), whose output loops are `loops` (batch.., m, n): n in
/// 16-wide panels (a guarded tail: the last panel may be partial), panels
/// in blocks of tile.panels (shifted inwards at the edge, so that every
/// block has the same width and stays aligned to panels), the panel blocks
/// outermost and fused with the batch loops into `tile`, the lanes
/// vectorized. A tile holds every row of a batch entry, or a block of
/// rowBlock of them (shifted inwards). Where there are several blocks of
/// rows, the panel blocks go in groups (a guarded tail) around them, so that
/// a group's slice of the weight stays in L2 while the blocks of rows go
/// by, and a block of rows stays in L2 while the group's panel blocks go by.
DictionaryAttr tiledOutputStage(const AttrBuilder &ab, ArrayRef<unsigned> loops,
                                const GemmTiling &t, int64_t width,
                                bool parallel) {
  std::string n = loopName(loops.back()), m = loopName(loops[loops.size() - 2]);
  SmallVector<Attribute> splits = {
      ab.split(n, kPanel, n + "i", "guard"),
      ab.split(n, t.tile.panels, n + "v", "shift_inwards")};
  bool rowBlocks = t.rowBlock < t.rows;
  if (rowBlocks)
    splits.push_back(ab.split(m, t.rowBlock, m + "i", "shift_inwards"));
  SmallVector<std::string> outer = {n};
  for (unsigned l : loops.drop_back(2))
    outer.push_back(loopName(l));
  if (rowBlocks)
    outer.push_back(m);
  if (t.group > 1 && outer.size() > 1) {
    splits.push_back(ab.split(n, t.group, n + "g", "guard"));
    outer.push_back(n + "g");
  }
  SmallVector<std::string> order(outer.begin(), outer.end());
  SmallVector<Attribute> fuses;
  std::string fused = outer[0];
  for (const std::string &l : ArrayRef<std::string>(outer).drop_front()) {
    fuses.push_back(ab.fuse(fused, l, "tile"));
    fused = "tile";
  }
  order.append({rowBlocks ? m + "i" : m, n + "v", n + "i"});
  SmallVector<std::pair<StringRef, Attribute>> fields = {
      {"split", ab.arr(splits)},
      {"order", ab.strs(order)},
      {"fuse", ab.arr(fuses)},
      {"vectorize", ab.vectorize(n + "i", width)}};
  if (parallel)
    fields.push_back({"parallel", ab.strs({fused})});
  return ab.dict(fields);
}

/// The loop of tiledOutputStage's nest that holds one tile.
std::string tileLoop(ArrayRef<unsigned> loops, const GemmTiling &t) {
  return loops.size() > 2 || t.rowBlock < t.rows ? "tile"
                                                 : loopName(loops.back());
}

/// The accumulator of a packed GEMM, computed per tile (all rows by
/// tile.panels panels) at `atLoop` of `at` (empty: the GEMM itself): zeroed,
/// then updated in register tiles of tile.rows rows (a guarded tail) by
/// tile.panels panels, unrolled, the lanes vectorized, with the reduction
/// outermost but blocked: for each block of the reduction (sized so that
/// its slice of the weight, block x 16 * tile.panels floats, stays in L1),
/// every register tile of rows goes by, loading and storing its
/// accumulators once per block.
DictionaryAttr accumulatorEntry(const AttrBuilder &ab, const PackedGemm &gemm,
                                RegisterTile tile, StringRef at,
                                StringRef atLoop, int64_t width) {
  std::string n = loopName(gemm.n()), m = loopName(gemm.m());
  Attribute panelSplit = ab.split(n, kPanel, n + "i", "round_up");
  SmallVector<std::string> pureUnroll = {n};
  SmallVector<std::string> unroll = {n, m + "i"};
  if (width < kPanel) {
    pureUnroll.push_back(n + "i"); // the lanes beyond one vector
    unroll.push_back(n + "i");
  }
  SmallVector<Attribute> splits = {panelSplit,
                                   ab.split(m, tile.rows, m + "i", "guard")};
  SmallVector<std::string> order;
  for (unsigned l : ArrayRef<unsigned>(gemm.outLoops).drop_back(2))
    order.push_back(loopName(l));
  // Blocks of the reduction: the outermost reduction loop is split so that
  // a block (its inner part times the inner reduction loops) reads at most
  // maxBlock steps; the register tiles of rows go by inside each block.
  int64_t maxBlock = kL1WeightBytes / (tile.panels * kPanel * 4);
  std::string first = loopName(gemm.reductions.front());
  int64_t innerSteps = 1;
  for (unsigned r : ArrayRef<unsigned>(gemm.reductions).drop_front())
    innerSteps *= gemm.ranges[r];
  int64_t extent = gemm.ranges[gemm.reductions.front()];
  int64_t perBlock = std::max<int64_t>(1, maxBlock / innerSteps);
  SmallVector<std::string> blockLoops;
  if (perBlock < extent) {
    int64_t blocks = (extent + perBlock - 1) / perBlock;
    int64_t block = (extent + blocks - 1) / blocks;
    splits.push_back(ab.split(first, block, first + "i", "guard"));
    order.push_back(first);
    blockLoops.push_back(first + "i");
  } else {
    blockLoops.push_back(first);
  }
  for (unsigned r : ArrayRef<unsigned>(gemm.reductions).drop_front())
    blockLoops.push_back(loopName(r));
  order.push_back(m);
  order.append(blockLoops.begin(), blockLoops.end());
  order.append({m + "i", n, n + "i"});
  SmallVector<std::pair<StringRef, Attribute>> computeAt = {
      {"loop", ab.str(atLoop)}};
  if (!at.empty())
    computeAt.push_back({"func", ab.str(at)});
  return ab.dict(
      {{"compute_at", ab.dict(computeAt)},
       {"pure", ab.dict({{"split", ab.arr({panelSplit})},
                         {"vectorize", ab.vectorize(n + "i", width)},
                         {"unroll", ab.strs(pureUnroll)}})},
       {"update", ab.dict({{"split", ab.arr(splits)},
                           {"order", ab.strs(order)},
                           {"vectorize", ab.vectorize(n + "i", width)},
                           {"unroll", ab.strs(unroll)}})}});
}

/// A packed GEMM's entry: its result tiled (`compute` = "root", or computed
/// at `computeAt`), its accumulator at its tiles.
DictionaryAttr gemmEntry(const AttrBuilder &ab, const PackedGemm &gemm,
                         StringRef key, const GemmTiling &t, int64_t width,
                         DictionaryAttr computeAt, bool parallel) {
  SmallVector<std::pair<StringRef, Attribute>> fields = {{"name", ab.str(key)}};
  if (computeAt)
    fields.push_back({"compute_at", computeAt});
  else
    fields.push_back({"compute", ab.str("root")});
  fields.push_back(
      {"pure", tiledOutputStage(ab, gemm.outLoops, t, width, parallel)});
  fields.push_back(
      {"accumulator", accumulatorEntry(ab, gemm, t.tile, "",
                                       tileLoop(gemm.outLoops, t), width)});
  return ab.dict(fields);
}

/// The product of a GEMM's batch loops (all output loops but m and n).
int64_t batchEntries(const PackedGemm &gemm) {
  int64_t entries = 1;
  for (unsigned l : ArrayRef<unsigned>(gemm.outLoops).drop_back(2))
    entries *= gemm.ranges[l];
  return entries;
}

/// The schedule of one kernel: per-generic defaults, with packed GEMMs and
/// their epilogues replaced.
class KernelPlanner {
public:
  KernelPlanner(KernelOp kernel, OpBuilder &b, int64_t width)
      : kernel(kernel), ab{b}, width(width) {}

  SmallVector<Attribute> plan() {
    llvm::StringMap<unsigned> nameCount;
    kernel.getBody().walk([&](linalg::GenericOp generic) {
      generics.push_back(generic);
      if (auto name = generic->getAttrOfType<StringAttr>("txl.name"))
        ++nameCount[name.getValue()];
    });
    for (auto [position, generic] : llvm::enumerate(generics)) {
      auto name = generic->getAttrOfType<StringAttr>("txl.name");
      keys.push_back(name && nameCount[name.getValue()] == 1
                         ? name.getValue().str()
                         : "#" + std::to_string(position));
      entries.push_back(scheduleFor(generic, keys.back(), ab.b, width));
      if (width > 1)
        gemms.push_back(matchPackedGemm(generic));
      else
        gemms.push_back(std::nullopt);
    }
    if (!planAttention() &&
        llvm::any_of(gemms, [](const auto &g) { return g.has_value(); }))
      planGemms();
    return SmallVector<Attribute>(entries.begin(), entries.end());
  }

private:
  bool isInline(unsigned i) const {
    auto compute = entries[i].getAs<StringAttr>("compute");
    return compute && compute.getValue() == "inline";
  }

  /// The generic defining a kernel result, if the kernel has exactly one.
  std::optional<unsigned> singleResult() {
    auto yield = cast<YieldOp>(kernel.getBody().front().getTerminator());
    if (yield.getNumOperands() != 1)
      return std::nullopt;
    auto generic = yield.getOperand(0).getDefiningOp<linalg::GenericOp>();
    if (!generic || generic.getNumResults() != 1)
      return std::nullopt;
    auto it = llvm::find(generics, generic);
    return it == generics.end()
               ? std::nullopt
               : std::optional<unsigned>(it - generics.begin());
  }

  void planGemms() {
    std::optional<unsigned> result = singleResult();
    if (result && !gemms[*result]) {
      if (planElementwiseEpilogue(*result) || planRowEpilogue(*result))
        return;
    }
    // Every packed GEMM at root, tiled; row reductions over what they
    // produce (a softmax's max and sum) in vector lanes along the row, rows
    // in parallel, rather than across rows (strided reads).
    for (unsigned i = 0; i < generics.size(); ++i) {
      if (!gemms[i]) {
        if (!isInline(i) && generics[i].getNumReductionLoops() != 0)
          reduceRowsInLanes(i);
        continue;
      }
      const PackedGemm &gemm = *gemms[i];
      GemmTiling tiling =
          planTiling(gemm, chooseTile(gemm.rows, gemm.panels, width), gemm.rows,
                     batchEntries(gemm), /*grouped=*/true);
      if (kernel.getSkipWhenZero()) {
        // Rows counted at run time (a scoring tail's gathered rows): one
        // block of all of them, so that only the rows asked for are
        // computed (blocks of a fixed size would compute whole blocks).
        tiling.rowBlock = tiling.rows;
        tiling.group = 1;
      }
      rootGathersOf(i);
      entries[i] = gemmEntry(ab, gemm, keys[i], tiling, width, nullptr,
                             /*parallel=*/true);
    }
  }

  /// The inlined generics that GEMM `i` reads and that gather through
  /// tensor.extract (a scoring tail's rows, picked by a slot table) are
  /// computed at root instead: inlined, their index arithmetic would run
  /// for every multiply-add of the GEMM's inner loop.
  void rootGathersOf(unsigned i) {
    for (Value input : generics[i].getDpsInputs()) {
      auto producer = input.getDefiningOp<linalg::GenericOp>();
      auto it = llvm::find(generics, producer);
      if (!producer || it == generics.end())
        continue;
      unsigned j = it - generics.begin();
      bool gathers = false;
      producer.getRegion().walk([&](tensor::ExtractOp) { gathers = true; });
      if (!isInline(j) || !gathers || producer.getNumReductionLoops() != 0)
        continue;
      SmallVector<std::pair<StringRef, Attribute>> fields = {
          {"name", ab.str(keys[j])}, {"compute", ab.str("root")}};
      std::optional<SmallVector<unsigned>> loops =
          outputLoops(producer.getIndexingMapsArray().back());
      if (loops && !loops->empty() &&
          producer.getStaticLoopRanges()[loops->back()] >= width)
        fields.push_back(
            {"pure", ab.dict({{"vectorize",
                               ab.vectorize(loopName(loops->back()), width)}})});
      entries[j] = ab.dict(fields);
    }
  }

  /// Generic `i`, a reduction along its rows' last dimension, computed at
  /// root: its update becomes rowReductionUpdate's, threads on its last
  /// output loop.
  void reduceRowsInLanes(unsigned i) {
    std::optional<SmallVector<unsigned>> outLoops =
        outputLoops(generics[i].getIndexingMapsArray().back());
    std::string parallelRow =
        outLoops && !outLoops->empty() ? loopName(outLoops->back()) : "";
    DictionaryAttr update = rowReductionUpdate(generics[i], parallelRow);
    if (!update)
      return;
    SmallVector<NamedAttribute> fields;
    for (NamedAttribute field : entries[i])
      if (field.getName() != "update")
        fields.push_back(field);
    fields.push_back(ab.b.getNamedAttr("update", update));
    entries[i] = ab.b.getDictionaryAttr(fields);
  }

  /// The kernel result `e` is element-wise over exactly the output of one
  /// packed GEMM, which nothing else reads, and every other generic is
  /// inlined: the GEMM is inlined into `e`, whose tiles hold its
  /// accumulator.
  bool planElementwiseEpilogue(unsigned e) {
    linalg::GenericOp epilogue = generics[e];
    if (epilogue.getNumReductionLoops() != 0)
      return false;
    std::optional<unsigned> gemmIndex;
    for (auto [i, generic] : llvm::enumerate(generics)) {
      if (i == e)
        continue;
      if (gemms[i]) {
        if (gemmIndex)
          return false;
        gemmIndex = i;
      } else if (!isInline(i)) {
        return false;
      }
    }
    if (!gemmIndex)
      return false;
    const PackedGemm &gemm = *gemms[*gemmIndex];
    Value product = generics[*gemmIndex].getResult(0);
    if (!product.hasOneUse() || *product.user_begin() != epilogue)
      return false;
    std::optional<SmallVector<unsigned>> loops =
        outputLoops(epilogue.getIndexingMapsArray().back());
    if (!loops || loops->size() != gemm.outLoops.size() ||
        epilogue.getResult(0).getType() != product.getType())
      return false;
    // `e` reads the GEMM at its own output point.
    for (OpOperand *input : epilogue.getDpsInputOperands())
      if (input->get() == product && epilogue.getMatchingIndexingMap(input) !=
                                         epilogue.getIndexingMapsArray().back())
        return false;
    GemmTiling tiling =
        planTiling(gemm, chooseTile(gemm.rows, gemm.panels, width), gemm.rows,
                   batchEntries(gemm), /*grouped=*/true);
    entries[e] =
        ab.dict({{"name", ab.str(keys[e])},
                 {"compute", ab.str("root")},
                 {"pure", tiledOutputStage(ab, *loops, tiling, width, true)}});
    entries[*gemmIndex] = ab.dict(
        {{"name", ab.str(keys[*gemmIndex])},
         {"compute", ab.str("inline")},
         {"accumulator", accumulatorEntry(ab, gemm, tiling.tile, keys[e],
                                          tileLoop(*loops, tiling), width)}});
    return true;
  }

  /// Every generic of the kernel is computed per block of rows of the
  /// kernel result `r` (its outputs share r's leading dimensions), packed
  /// GEMMs tiled inside the block.
  bool planRowEpilogue(unsigned r) {
    linalg::GenericOp anchor = generics[r];
    if (anchor.getNumReductionLoops() != 0)
      return false;
    std::optional<SmallVector<unsigned>> loops =
        outputLoops(anchor.getIndexingMapsArray().back());
    if (!loops || loops->size() < 2)
      return false;
    ArrayRef<int64_t> shape =
        cast<RankedTensorType>(anchor.getResult(0).getType()).getShape();
    ArrayRef<int64_t> prefix = shape.drop_back();
    int64_t rows = prefix.back();
    int64_t maxWeightBytes = 0;
    for (auto [i, generic] : llvm::enumerate(generics)) {
      if (i == r || isInline(i))
        continue;
      auto type = cast<RankedTensorType>(generic.getResult(0).getType());
      if (type.getRank() < static_cast<int64_t>(prefix.size()) ||
          type.getShape().take_front(prefix.size()) != prefix)
        return false;
      if (gemms[i]) {
        if (gemms[i]->rows != rows)
          return false;
        maxWeightBytes = std::max(maxWeightBytes, gemms[i]->weightBytes);
      }
    }
    // One register tile height for every GEMM of the block, chosen for the
    // largest weight.
    const PackedGemm *largest = nullptr;
    for (const auto &gemm : gemms)
      if (gemm && (!largest || gemm->weightBytes > largest->weightBytes))
        largest = &*gemm;
    if (!largest)
      return false;
    int64_t tileRows = chooseTile(rows, largest->panels, width).rows;
    int64_t batchEntries = 1;
    for (int64_t extent : prefix.drop_back())
      batchEntries *= extent;
    // Blocks of rows: the rows of a batch entry when the weights do not fit
    // in L2 (each block streams them); otherwise blocks of an accumulator's
    // size (the GEMM inside reuses each slice of the weight across its
    // register tiles). With a single block, threads share the GEMM's tiles
    // and the epilogue's rows inside it.
    int64_t blockRows = rows;
    if (maxWeightBytes <= kL2WeightBytes) {
      auto rowsPerBlock = [&](int64_t perEntry) {
        int64_t block = (rows + perEntry - 1) / perEntry;
        return std::min(rows, (block + tileRows - 1) / tileRows * tileRows);
      };
      int64_t perEntry = (rows + kAccumulatorRows - 1) / kAccumulatorRows;
      blockRows = rowsPerBlock(perEntry);
      // More, smaller blocks where there are fewer than kMinTiles, if they
      // divide the rows evenly and keep at least 32 rows (4 register tiles
      // reusing each slice of the weight): threads that wake late still
      // find work.
      for (int64_t more = perEntry + 1;
           batchEntries * (rows / blockRows) < kMinTiles; ++more) {
        int64_t block = rowsPerBlock(more);
        if (block < std::max<int64_t>(2 * tileRows, 32))
          break;
        if (rows % block == 0 && block < blockRows)
          blockRows = block;
      }
    }
    int64_t blocks = batchEntries * ((rows + blockRows - 1) / blockRows);
    bool parallelBlocks = blocks >= 2;

    // The anchor: rows in blocks (batch loops fused in), lanes vectorized.
    std::string n = loopName(loops->back()),
                m = loopName((*loops)[loops->size() - 2]);
    std::string rowLoop = m;
    SmallVector<Attribute> fuses;
    if (loops->size() > 2) {
      std::string fused = loopName((*loops)[0]);
      for (unsigned l : ArrayRef<unsigned>(*loops).drop_front().drop_back()) {
        fuses.push_back(ab.fuse(fused, loopName(l), "rows"));
        fused = "rows";
      }
      rowLoop = "rows";
    }
    SmallVector<std::pair<StringRef, Attribute>> pure = {
        {"split", ab.arr({ab.split(m, blockRows, m + "i", "shift_inwards")})},
        {"fuse", ab.arr(fuses)}};
    if (shape.back() >= width)
      pure.push_back({"vectorize", ab.vectorize(n, width)});
    // Threads share the blocks, or (one block) the rows inside each step.
    pure.push_back({"parallel", ab.strs({parallelBlocks ? rowLoop : m + "i"})});
    entries[r] = ab.dict({{"name", ab.str(keys[r])},
                          {"compute", ab.str("root")},
                          {"pure", ab.dict(pure)}});

    DictionaryAttr atBlock =
        ab.dict({{"func", ab.str(keys[r])}, {"loop", ab.str(rowLoop)}});
    for (auto [i, generic] : llvm::enumerate(generics)) {
      if (i == r || isInline(i))
        continue;
      if (gemms[i]) {
        RegisterTile tile = chooseTile(rows, gemms[i]->panels, width);
        tile.rows = tileRows;
        // Inside a block: one batch entry's rows, threads only when the
        // blocks do not have them.
        GemmTiling tiling =
            planTiling(*gemms[i], tile, blockRows,
                       /*batchEntries=*/parallelBlocks ? kMinTiles : 1,
                       /*grouped=*/false);
        entries[i] = gemmEntry(ab, *gemms[i], keys[i], tiling, width, atBlock,
                               /*parallel=*/!parallelBlocks);
        continue;
      }
      // Cheap element-wise steps (a residual add, a centering) are
      // recomputed by each reader rather than stored: fewer passes over the
      // block.
      if (isCheapElementwise(generic)) {
        entries[i] =
            ab.dict({{"name", ab.str(keys[i])}, {"compute", ab.str("inline")}});
        continue;
      }
      // Other generics keep their stage directives, computed in the block;
      // with a single block, their rows in parallel.
      SmallVector<std::pair<StringRef, Attribute>> fields = {
          {"name", ab.str(keys[i])}, {"compute_at", atBlock}};
      std::optional<SmallVector<unsigned>> outLoops =
          outputLoops(generic.getIndexingMapsArray().back());
      std::string parallelRow;
      if (!parallelBlocks && outLoops && outLoops->size() >= prefix.size())
        parallelRow = loopName((*outLoops)[prefix.size() - 1]);
      bool reduces = generic.getNumReductionLoops() != 0;
      if (!parallelRow.empty() && !reduces) {
        SmallVector<std::pair<StringRef, Attribute>> stage = {
            {"parallel", ab.strs({parallelRow})}};
        std::string inner = loopName(outLoops->back());
        if (inner != parallelRow &&
            generic.getStaticLoopRanges()[outLoops->back()] >= width)
          stage.push_back({"vectorize", ab.vectorize(inner, width)});
        fields.push_back({"pure", ab.dict(stage)});
      }
      if (DictionaryAttr update = rowReductionUpdate(generic, parallelRow)) {
        fields.push_back({"update", update});
      } else if (Attribute update = entries[i].get("update")) {
        // Without the parallel loop: no nested parallelism in a block.
        auto stage = cast<DictionaryAttr>(update);
        SmallVector<NamedAttribute> kept;
        for (NamedAttribute field : stage)
          if (field.getName() != "parallel")
            kept.push_back(field);
        fields.push_back({"update", ab.b.getDictionaryAttr(kept)});
      }
      entries[i] = ab.dict(fields);
    }
    return true;
  }

  /// The fused attention kernel of DecomposeAttention (`attention.core`:
  /// scores -> mask -> max -> exp -> sum -> values -> normalise, loops
  /// (b, h, t, j, c) for scores, (b, t, h, c, j) for values, the result
  /// normalise [B, T, H, Dh]). Computed at root, every stage would stream
  /// several [B, H, T, K] tensors through memory. Instead the result is cut
  /// into tiles of (batch, head, 8 query rows), run in parallel (across
  /// heads, not inside one), and every stage is computed per tile: the
  /// tile's [8, K] block of scores stays in L1/L2 between the stages.
  bool planAttention() {
    static constexpr StringLiteral kStages[] = {
        "attention.key_rows_by_head", "attention.keys_by_head",
        "attention.values_by_head",
        "attention.content_queries", "attention.position_queries",
        "attention.scores",       "attention.position_scores",
        "attention.mask",
        "attention.max",          "attention.exp",
        "attention.sum",          "attention.values",
        "attention.normalise"};
    // Present where distances are clamped (clamp_len).
    static constexpr StringLiteral kClampedPositions =
        "attention.clamped_position_scores";
    llvm::StringMap<unsigned> index;
    for (auto [i, generic] : llvm::enumerate(generics))
      if (auto name = generic->getAttrOfType<StringAttr>("txl.name"))
        index[name.getValue()] = i;
    bool clamped = index.count(kClampedPositions) &&
                   keys[index[kClampedPositions]] == kClampedPositions;
    if (generics.size() != std::size(kStages) + (clamped ? 1 : 0) || width <= 1)
      return false;
    for (StringRef stage : kStages)
      if (!index.count(stage) || keys[index[stage]] != stage)
        return false;
    std::optional<unsigned> result = singleResult();
    if (!result || *result != index["attention.normalise"])
      return false;
    // The loop structure this schedule names.
    auto hasLoops = [&](StringRef stage, unsigned loops, unsigned reductions) {
      linalg::GenericOp g = generics[index[stage]];
      return g.getNumLoops() == loops && g.getNumReductionLoops() == reductions;
    };
    if (!hasLoops("attention.key_rows_by_head", 4, 0) ||
        !hasLoops("attention.keys_by_head", 4, 0) ||
        !hasLoops("attention.values_by_head", 4, 0) ||
        !hasLoops("attention.content_queries", 4, 0) ||
        !hasLoops("attention.position_queries", 4, 0) ||
        !hasLoops("attention.scores", 5, 1) ||
        !hasLoops("attention.position_scores", 5, 1) ||
        !hasLoops("attention.mask", 4, 0) || !hasLoops("attention.max", 4, 1) ||
        !hasLoops("attention.exp", 4, 0) || !hasLoops("attention.sum", 4, 1) ||
        !hasLoops("attention.values", 5, 1) ||
        !hasLoops("attention.normalise", 4, 0) ||
        (clamped && !hasLoops(kClampedPositions, 4, 0)))
      return false;

    auto entry = [&](StringRef stage,
                     SmallVector<std::pair<StringRef, Attribute>> fields) {
      fields.insert(fields.begin(), {"name", ab.str(stage)});
      entries[index[stage]] = ab.dict(fields);
    };
    auto at = [&](StringRef loop) {
      return ab.dict(
          {{"func", ab.str("attention.normalise")}, {"loop", ab.str(loop)}});
    };
    // The keys the reductions start from depend on the memory rows held (a
    // runtime bound: the rows not yet held are skipped), so regions along
    // the keys are known only at run time: storage keeps the static extent
    // (accumulators: their block), so buffers keep a constant size and the
    // accumulators stay in registers.
    auto extentOf = [&](StringRef stage, unsigned loop) {
      return generics[index[stage]].getStaticLoopRanges()[loop];
    };
    auto storage = [&](StringRef loop, int64_t extent) {
      return ab.dict({{loop, ab.i64(extent)}});
    };
    // normalise (b=d0, t=d1, h=d2, c=d3): threads take heads; each head goes
    // by in tiles of kQueryRows query rows.
    entry("attention.normalise",
          {{"compute", ab.str("root")},
           {"pure",
            ab.dict({{"split",
                      ab.arr({ab.split("d1", kQueryRows, "d1i", "guard")})},
                     {"order", ab.strs({"d0", "d2", "d1", "d1i", "d3"})},
                     {"fuse", ab.arr({ab.fuse("d0", "d2", "head")})},
                     {"vectorize", ab.vectorize("d3", width)},
                     {"parallel", ab.strs({"head"})}})}});
    // Vectors along a head's columns: the last one shifted inwards (a plain
    // load and store) where the head has a vector's columns, else guarded.
    StringRef columnTail =
        extentOf("attention.keys_by_head", 2) >= width ? "shift_inwards"
                                                       : "guard";
    // The key and value rows of every head (b, h, j, c), gathered once for
    // all heads, row after row: each row of the cache (all heads' columns,
    // contiguous) streams from memory once. Gathered per head instead, every
    // head read its few columns of all rows, and the cache's lines came from
    // memory about once per head (wt103-base: ~4% of a segment more).
    // Threads take blocks of rows.
    for (StringRef stage :
         {"attention.key_rows_by_head", "attention.values_by_head"})
      entry(stage,
            {{"compute", ab.str("root")},
             {"storage", storage("d2", extentOf(stage, 2))},
             {"pure",
              ab.dict({{"split", ab.arr({ab.split("d2", kGatherRows, "d2i",
                                                  "guard")})},
                       {"order", ab.strs({"d0", "d2", "d2i", "d1", "d3"})},
                       {"parallel", ab.strs({"d2"})},
                       {"vectorize", ab.vectorize("d3", width, columnTail)}})}});
    // The head's keys transposed (b, h, c, j), once per head for all its
    // query tiles.
    entry("attention.keys_by_head",
          {{"compute_at", at("head")},
           {"storage", storage("d3", extentOf("attention.keys_by_head", 3))},
           {"pure", ab.dict({{"vectorize", ab.vectorize("d3", width)}})}});
    // The tile's queries plus each term's bias (b, h, t, c): the GEMMs below
    // then broadcast a loaded element (an add and a register broadcast per
    // row and column of the head before, in the GEMMs' inner loops).
    for (StringRef stage :
         {"attention.content_queries", "attention.position_queries"})
      entry(stage,
            {{"compute_at", at("d1")},
             {"pure", ab.dict({{"vectorize",
                                ab.vectorize("d3", width, columnTail)}})}});

    // scores (b, h, t, j; c) and position_scores (b, h, t, n; c): GEMMs of
    // the tile's queries by the head's keys, contiguous along j, and by its
    // positions, contiguous along the distances n. Blocks of a few vectors
    // along j (n) for all the tile's rows; inside, register tiles of as many
    // rows as the accumulator registers allow by those vectors, the head
    // dimension c outermost.
    // The keys held number at least T: with T >= block, every region along
    // the keys holds a whole block, and blocks shifted inwards keep the
    // accumulator's extent constant (a guarded tail would make it dynamic).
    // A region aligned to the blocks is whole blocks, so the last one needs
    // no shifting: rounded up. Halide's bound for such a region still reaches
    // up to two blocks past it, which DecomposeAttention's layout leaves
    // room for (positionBlocks).
    auto scoreGemm = [&](StringRef stage, int64_t block, int64_t alignTo) {
      StringRef blockTail = alignTo == block ? "round_up"
                            : extentOf("attention.scores", 2) >= block
                                ? "shift_inwards"
                                : "guard";
      int64_t rows = std::clamp<int64_t>(
          scoreAccumulators(width) / (block / width), 1, kQueryRows);
      SmallVector<std::pair<StringRef, Attribute>> fields = {
          {"compute_at", at("d1")},
          {"storage", storage("d3", extentOf(stage, 3))}};
      if (alignTo > 1)
        fields.push_back({"align", storage("d3", alignTo)});
      fields.push_back(
          {"pure", ab.dict({{"split",
                             ab.arr({ab.split("d3", block, "d3i", blockTail)})},
                            {"order", ab.strs({"d0", "d1", "d3", "d2", "d3i"})},
                            {"vectorize", ab.vectorize("d3i", width)}})});
      fields.push_back(
          {"accumulator", registerTiles("d3", {"d0", "d1"}, "d2", rows, "d3",
                                        "guard", "d4", storage("d3", block))});
      entry(stage, fields);
    };
    scoreGemm("attention.scores", kScoreVectors * width, 1);
    // The positions come in blocks of B distances ([H, N/B, Dh, B],
    // DecomposeAttention): a block of the GEMM is one of them, its region
    // aligned to them, so that each block reads B * Dh contiguous floats,
    // one stream (the rows of a [Dh, N] layout were Dh streams, and the
    // positions come from memory: -1% of a wt103-base segment).
    int64_t positionBlock =
        cast<RankedTensorType>(generics[index["attention.position_scores"]]
                                   .getDpsInputs()[1]
                                   .getType())
            .getDimSize(3);
    if (positionBlock % width == 0)
      scoreGemm("attention.position_scores", positionBlock, positionBlock);
    else
      scoreGemm("attention.position_scores", kScoreVectors * width, 1);
    // The clamped columns (DecomposeAttention) read at a run of them: copied
    // in blocks of the positions' layout, aligned to them, so that every
    // vector is one contiguous run of the position scores.
    if (clamped) {
      SmallVector<std::pair<StringRef, Attribute>> fields = {
          {"compute_at", at("d1")},
          {"storage", storage("d3", extentOf(kClampedPositions, 3))}};
      if (positionBlock % width == 0) {
        fields.push_back({"align", storage("d3", positionBlock)});
        fields.push_back(
            {"pure", ab.dict({{"split", ab.arr({ab.split("d3", positionBlock,
                                                         "d3i", "round_up")})},
                              {"vectorize", ab.vectorize("d3i", width)},
                              {"unroll", ab.strs({"d3i"})}})});
      } else {
        fields.push_back(
            {"pure", ab.dict({{"vectorize", ab.vectorize("d3", width)}})});
      }
      entry(kClampedPositions, fields);
    }
    entry("attention.mask", {{"compute", ab.str("inline")}});
    // Row statistics along the keys (contiguous): partial results in the
    // lanes of a vector.
    for (StringRef stage : {"attention.max", "attention.sum"})
      entry(stage,
            {{"compute_at", at("d1")},
             {"update",
              ab.dict({{"rfactor", ab.dict({{"loop", ab.str("d3")},
                                            {"width", ab.i64(width)}})}})}});
    // exp is read twice (sum, values): stored per tile rather than
    // recomputed.
    entry("attention.exp",
          {{"compute_at", at("d1")},
           {"storage", storage("d3", extentOf("attention.exp", 3))},
           {"pure", ab.dict({{"vectorize", ab.vectorize("d3", width)}})}});
    // values (b, t, h, c; j): a GEMM of the tile's weights by the head's
    // values, contiguous along c; register tiles of kValueRows rows by the
    // head's columns rounded up to whole vectors (the values' layout clamps
    // the columns past the head, whose lanes are dropped), j outermost.
    entry("attention.values",
          {{"compute_at", at("d1")},
           {"pure", ab.dict({{"split", ab.arr({ab.split("d3", width, "d3i",
                                                        "round_up")})},
                             {"vectorize", ab.vectorize("d3i", width)}})},
           {"accumulator",
            registerTiles("d0", {"d0", "d2"}, "d1", kValueRows, "d3",
                          "round_up", "d4", nullptr)}});
    return true;
  }

  /// An attention GEMM's accumulator, computed at its owner's loop `at`:
  /// register tiles of `rows` rows (loop `row`) by vectors along `column`
  /// (tail `columnTail`), unrolled, with the reduction loop outside each
  /// tile and the loops `outer` outside everything.
  DictionaryAttr registerTiles(StringRef at, ArrayRef<std::string> outer,
                               const std::string &row, int64_t rows,
                               const std::string &column, StringRef columnTail,
                               const std::string &reduction,
                               DictionaryAttr storage) {
    SmallVector<std::string> order(outer.begin(), outer.end());
    order.append({row, reduction, row + "i", column, column + "i"});
    SmallVector<std::pair<StringRef, Attribute>> fields = {
        {"compute_at", ab.dict({{"loop", ab.str(at)}})}};
    if (storage)
      fields.push_back({"storage", storage});
    fields.push_back(
        {"pure", ab.dict({{"vectorize", ab.vectorize(column, width)}})});
    fields.push_back(
        {"update",
         ab.dict({{"split",
                   ab.arr({ab.split(row, rows, row + "i", "guard"),
                           ab.split(column, width, column + "i", columnTail)})},
                  {"order", ab.strs(order)},
                  {"vectorize", ab.vectorize(column + "i", width)},
                  {"unroll", ab.strs({row + "i", column})}})});
    return ab.dict(fields);
  }

  /// Register tiles of the attention's two GEMMs: scores as many query rows
  /// as scoreAccumulators allows (with 16 lanes a whole tile: 8 rows) by
  /// their block's vectors (kScoreVectors of keys, 3; positions: a block of
  /// their layout, 48 distances, 3 vectors at 16 lanes). At 16 lanes: 24
  /// accumulators, 8 broadcasts and 3 loads per 24 FMAs (4 x 4 tiles needed
  /// 4 and 4 per 16, and a wt103-base segment took 1.7% longer at 1 thread).
  /// Values: kValueRows rows by a head's columns (3 vectors for 41).
  static constexpr int64_t kScoreVectors = 3;
  static int64_t scoreAccumulators(int64_t width) {
    return width >= 16 ? 24 : 12; // of 32 registers (AVX-512), or 16
  }
  static constexpr int64_t kValueRows = 8;

  /// Query rows per tile of attention.core: an [8, K] block of scores for a
  /// few hundred keys stays in cache between the stages. With 16 rows a
  /// tile's scores, position scores and weights took ~45 KiB each at K = 704
  /// (L1 holds 48), and a wt103-base segment took 1.2% longer at 1 thread.
  static constexpr int64_t kQueryRows = 8;

  /// Key rows per task of the gathers of all heads' keys and values.
  static constexpr int64_t kGatherRows = 64;

  /// The index of loop `d<i>`.
  static unsigned loopIndex(StringRef name) {
    unsigned index = 0;
    name.drop_front().getAsInteger(10, index);
    return index;
  }

  /// No reduction loops, and a body of at most a few arithmetic ops.
  static bool isCheapElementwise(linalg::GenericOp generic) {
    if (generic.getNumReductionLoops() != 0 || generic.getNumResults() != 1)
      return false;
    Block &body = generic.getRegion().front();
    if (body.getOperations().size() > 4)
      return false;
    return llvm::all_of(body.without_terminator(), [](Operation &op) {
      return op.getDialect() && op.getDialect()->getNamespace() ==
                                    arith::ArithDialect::getDialectNamespace();
    });
  }

  /// A reduction along the contiguous dimension of everything it reads (a
  /// row sum or max): partial results in the lanes of a vector (rfactor),
  /// added up at the end of the row, instead of a serial chain of scalar
  /// adds.
  DictionaryAttr rowReductionUpdate(linalg::GenericOp generic,
                                    const std::string &parallelRow) {
    SmallVector<unsigned> reductions;
    for (auto [l, t] : llvm::enumerate(generic.getIteratorTypesArray()))
      if (t == utils::IteratorType::reduction)
        reductions.push_back(l);
    if (reductions.size() != 1)
      return nullptr;
    unsigned r = reductions[0];
    AffineExpr loop = getAffineDimExpr(r, generic.getContext());
    for (OpOperand *input : generic.getDpsInputOperands()) {
      AffineMap map = generic.getMatchingIndexingMap(input);
      for (unsigned k = 0; k < map.getNumResults(); ++k)
        if (map.getResult(k).isFunctionOfDim(r) &&
            (k + 1 != map.getNumResults() || map.getResult(k) != loop))
          return nullptr;
    }
    // The combiner must be one that Halide recognizes as associative.
    Block &body = generic.getRegion().front();
    Operation *combiner = cast<linalg::YieldOp>(body.getTerminator())
                              .getOperand(0)
                              .getDefiningOp();
    if (!combiner || !isa<arith::AddFOp, arith::MaximumFOp>(combiner))
      return nullptr;
    int64_t extent = generic.getStaticLoopRanges()[r];
    if (extent < 2 * width)
      return nullptr;
    SmallVector<std::pair<StringRef, Attribute>> fields = {
        {"rfactor",
         ab.dict({{"loop", ab.str(loopName(r))}, {"width", ab.i64(width)}})}};
    if (!parallelRow.empty() &&
        generic.getStaticLoopRanges()[loopIndex(parallelRow)] >= 2 * 16) {
      // Threads take blocks of 16 rows: each writes its own cache line of
      // the result (rows next to each other would share one).
      fields.push_back(
          {"split",
           ab.arr({ab.split(parallelRow, 16, parallelRow + "r", "guard")})});
      fields.push_back({"parallel", ab.strs({parallelRow})});
    }
    return ab.dict(fields);
  }

  KernelOp kernel;
  AttrBuilder ab;
  int64_t width;
  SmallVector<linalg::GenericOp> generics;
  SmallVector<std::string> keys;
  SmallVector<DictionaryAttr> entries;
  SmallVector<std::optional<PackedGemm>> gemms;
};

struct TilePass : public txl::impl::TxlTileBase<TilePass> {
  using TxlTileBase::TxlTileBase;

  void runOnOperation() override {
    int64_t width = vectorWidthOf(target);
    OpBuilder b(&getContext());
    getOperation().walk([&](KernelOp kernel) {
      // A schedule already there (from a tuner or a person) wins.
      if (kernel->hasAttr("txl.schedule") && !overwrite)
        return;
      SmallVector<Attribute> funcs = KernelPlanner(kernel, b, width).plan();
      SmallVector<NamedAttribute> schedule = {
          b.getNamedAttr("funcs", b.getArrayAttr(funcs))};
      if (width > 1)
        schedule.push_back(
            b.getNamedAttr("vector_width", b.getI64IntegerAttr(width)));
      kernel->setAttr("txl.schedule", b.getDictionaryAttr(schedule));
      kernel->setAttr("txl.target", b.getStringAttr(target));
    });
  }
};

} // namespace
