//===- DecomposeAttention.cpp - txl.rel_attention -> linalg ---------------===//
//
// Keys are the window's C rows followed by the segment's T rows; query t sits
// at key position C + t, so its distance to key j is C + t - j. The position
// term reads the projected positions at that distance (the rel-shift as an
// index); the mask is a predicate on (t, j, M); nothing is concatenated or
// shifted in memory. Loop order of the score generics: (b, h, t, j[, c]).
// The keys, values and positions are first laid out per head, contiguous
// along the loop that vectors run over (see HeadLayouts).
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"

#include "txl/Dialect/KernelRoles.h"

using namespace mlir;

namespace txl {
namespace {

namespace role = txl::roles::attention;

/// Masked scores are this instead of -inf: exp() of it minus a row maximum
/// is exactly 0, and no infinity ever reaches a fast exp.
constexpr float kMasked = -1.0e30f;

struct AttentionShape {
  int64_t batch, length, width, capacity, heads, headWidth, distances;
  /// Distances from this one on share one position (clamp_len), or 0.
  int64_t clampLen;
  /// Distances per block of the positions' layout, and columns read together
  /// where clamped distances repeat (AttentionLayout, txl-decompose's
  /// options; TileKnobs' layout.position_block and layout.clamp_run).
  int64_t positionBlock, clampRun;
  int64_t inner() const { return heads * headWidth; }
  int64_t keys() const { return capacity + length; }
  /// The last column n of the positions by distance (distance K - 1 - n)
  /// whose distance is clamped: columns 0..clampColumn() all hold the same
  /// position (the table's last row, or clamp_len's). 0 if none repeats.
  int64_t clampColumn() const {
    int64_t clamp = distances - 1;
    if (clampLen > 0)
      clamp = std::min(clamp, clampLen);
    return std::max<int64_t>(keys() - 1 - clamp, 0);
  }
  /// Blocks of the positions by distance: the K + T - 1 distances the
  /// queries reach, and two blocks more (repeating the nearest distance), so
  /// that a schedule's region aligned to blocks stays inside: Halide's
  /// bounds for it reach up to two blocks past the last distance read.
  int64_t positionBlocks() const {
    return (keys() + length - 1 + positionBlock - 1) / positionBlock + 2;
  }
};

/// [window; input] along time, read through indices (no copy once fused).
Value keyRows(LinalgBuilder &lb, const AttentionShape &s, Value window,
              Value input) {
  if (s.capacity == 0)
    return input;
  return lb.generic(
      {}, lb.empty({s.batch, s.keys(), s.width}),
      {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
      [&](OpBuilder &b, Location loc, ValueRange) {
        return rowOfConcatenation(lb, b, loc, window, s.capacity, input,
                                  s.length, lb.loopIndex(b, 0),
                                  lb.loopIndex(b, 1), lb.loopIndex(b, 2));
      },
      role::kKeysInput);
}

/// C + t - j for loops (b, h, t, j, ...): query t sits at key position C + t.
Value queryKeyDistance(LinalgBuilder &lb, OpBuilder &b, Location loc,
                       int64_t capacity) {
  Value query = lb.loopIndex(b, 2);
  Value position = b.create<arith::AddIOp>(loc, query, lb.index(b, capacity));
  Value key = lb.loopIndex(b, 3);
  return b.create<arith::SubIOp>(loc, position, key);
}

/// Where attention reads the keys and values of its K = C + T keys: either
/// materialised [B, K, H*Dh] tensors (window form: projected from [window;
/// input]) or, in the cached form, a cache [B, C, H*Dh] and the segment's
/// rows [B, T, H*Dh], read by index (no concatenation).
struct KeySource {
  Value keys, values;
  Value keyCache, valueCache, segmentKeys, segmentValues;
  bool cached() const { return keyCache != nullptr; }
};

/// The operands of one attention after the keys are settled.
struct AttentionParts {
  Value input, qkvWeight, positions, rWeight, oWeight, rwBias, rrBias,
      memoryRows;
  int64_t memLen;
  bool sameLength;
};

/// Element (batch, key, column) of the keys or the values, inside a generic
/// body: a materialised tensor, or the cache's rows followed by the
/// segment's.
Value keySourceElement(LinalgBuilder &lb, OpBuilder &b, Location loc,
                       const AttentionShape &s, const KeySource &source,
                       bool values, Value batch, Value key, Value column) {
  if (!source.cached() || s.capacity == 0) {
    Value all = !source.cached()
                    ? (values ? source.values : source.keys)
                    : (values ? source.segmentValues : source.segmentKeys);
    return b.create<tensor::ExtractOp>(loc, all,
                                       ValueRange{batch, key, column});
  }
  return rowOfConcatenation(
      lb, b, loc, values ? source.valueCache : source.keyCache, s.capacity,
      values ? source.segmentValues : source.segmentKeys, s.length, batch, key,
      column);
}

/// Column h * Dh + c of loops (..., h = `headLoop`, c = `columnLoop`),
/// clamped to the last column: a vector that runs past the head's last
/// column (a tile rounded up to whole vectors) still reads inside the
/// tensor, and those lanes are never used.
Value headColumn(LinalgBuilder &lb, OpBuilder &b, Location loc,
                 const AttentionShape &s, unsigned headLoop,
                 unsigned columnLoop) {
  Value start = b.create<arith::MulIOp>(loc, lb.loopIndex(b, headLoop),
                                        lb.index(b, s.headWidth));
  Value column =
      b.create<arith::AddIOp>(loc, start, lb.loopIndex(b, columnLoop));
  return clampIndex(b, loc, column, 0, s.inner() - 1);
}

/// The per-head layouts the fused attention reads, each contiguous along its
/// innermost loop so that vectors load whole rows:
/// - keys by head [B, H, Dh, K]: transposed, contiguous along the keys;
/// - values by head [B, H, K, Dh]: contiguous along the head's columns;
/// - positions by distance [H, N / 48, Dh, 48] (positionBlocks): element
///   n = 48 * block + i holds the projected position at distance
///   C + T - 1 - n (clamped to the distances there are), so query t reads
///   key j's position at n = j + T - 1 - t, a contiguous run along j: the
///   rel-shift becomes an offset. In blocks of 48 distances (all of a
///   head's columns for one block, contiguous), a block of the position
///   GEMM that starts at one reads a single stream; laid out [H, Dh, N], it
///   read Dh short runs a row apart, and the positions (constants, 1.3 MB
///   per wt103-base layer) come from memory.
struct HeadLayouts {
  Value keys, values, positions;
};

Value positionsByDistance(LinalgBuilder &lb, const AttentionShape &s,
                          Value rk) {
  int64_t blocks = s.positionBlocks();
  return lb.generic(
      {}, lb.empty({s.heads, blocks, s.headWidth, s.positionBlock}),
      {lb.dim(0), lb.dim(1), lb.dim(2), lb.dim(3)}, 4, {},
      [&](OpBuilder &b, Location loc, ValueRange) {
        Value n = b.create<arith::AddIOp>(
            loc,
            b.create<arith::MulIOp>(loc, lb.loopIndex(b, 1),
                                    lb.index(b, s.positionBlock)),
            lb.loopIndex(b, 3));
        Value distance =
            b.create<arith::SubIOp>(loc, lb.index(b, s.keys() - 1), n);
        Value row = clampIndex(b, loc, distance, 0, s.distances - 1);
        return b
            .create<tensor::ExtractOp>(
                loc, rk, ValueRange{row, headColumn(lb, b, loc, s, 0, 2)})
            .getResult();
      },
      role::kPositionsByDistance);
}

HeadLayouts headLayouts(LinalgBuilder &lb, const AttentionShape &s,
                        const KeySource &source, Value positions) {
  AffineExpr b = lb.dim(0), h = lb.dim(1), d2 = lb.dim(2), d3 = lb.dim(3);
  HeadLayouts layouts;
  layouts.positions = positions;
  // Loops (b, h, j, c): the head's key rows, contiguous, then transposed
  // (a copy that reads one source, with no select per element).
  Value keyRows = lb.generic(
      {}, lb.empty({s.batch, s.heads, s.keys(), s.headWidth}), {b, h, d2, d3},
      4, {},
      [&](OpBuilder &nb, Location loc, ValueRange) {
        return keySourceElement(lb, nb, loc, s, source, /*values=*/false,
                                lb.loopIndex(nb, 0), lb.loopIndex(nb, 2),
                                headColumn(lb, nb, loc, s, 1, 3));
      },
      role::kKeyRowsByHead);
  // Loops (b, h, c, j).
  layouts.keys = lb.generic(
      {{keyRows, {b, h, d3, d2}}},
      lb.empty({s.batch, s.heads, s.headWidth, s.keys()}), {b, h, d2, d3}, 4,
      {}, [&](OpBuilder &, Location, ValueRange args) { return args[0]; },
      role::kKeysByHead);
  // Loops (b, h, j, c).
  layouts.values = lb.generic(
      {}, lb.empty({s.batch, s.heads, s.keys(), s.headWidth}), {b, h, d2, d3},
      4, {},
      [&](OpBuilder &nb, Location loc, ValueRange) {
        return keySourceElement(lb, nb, loc, s, source, /*values=*/true,
                                lb.loopIndex(nb, 0), lb.loopIndex(nb, 2),
                                headColumn(lb, nb, loc, s, 1, 3));
      },
      role::kValuesByHead);
  return layouts;
}

/// The position scores with the clamped columns read at a run of them:
/// every distance from clamp_len on has clamp_len's position, so columns
/// 0..clampColumn are one column repeated (wt103-base: 304 of the 767 a
/// segment's queries reach; enwik8-base: 1360 of 2259). Column n is read at
/// max(n, F + n mod 16), F the first column of the last whole run of 16
/// clamped columns: n itself from F on, before it the same place in run F
/// (clamped, so the same number). The GEMM's region then starts at F's
/// block, and a copy aligned to the blocks moves whole vectors, each one
/// contiguous run (read at max(n, clampColumn) instead, the vectors before
/// the clamp gathered). The far end alike: columns from K - 1 on are at
/// distances <= 0, which the positions clamp to distance 0 (queries read
/// them for future keys only, which the mask hides), so column n is read at
/// most at L + n mod 16, L the first run of them, and the GEMM ends at L's
/// run. The form of the index keeps Halide's bounds tight: the remainder is
/// in [0, 16), so the read is in [F, L + 16).
Value clampedPositionScores(LinalgBuilder &lb, const AttentionShape &s,
                            Value positionScores) {
  auto type = cast<RankedTensorType>(positionScores.getType());
  int64_t first = (s.clampColumn() + 1) / s.clampRun * s.clampRun - s.clampRun;
  int64_t last = (s.keys() - 1 + s.clampRun - 1) / s.clampRun * s.clampRun;
  return lb.generic(
      {}, lb.empty(type.getShape()),
      {lb.dim(0), lb.dim(1), lb.dim(2), lb.dim(3)}, 4, {},
      [&](OpBuilder &b, Location loc, ValueRange) {
        Value column = lb.loopIndex(b, 3);
        Value block = lb.index(b, s.clampRun);
        Value inBlock = b.create<arith::SubIOp>(
            loc, column,
            b.create<arith::MulIOp>(
                loc, b.create<arith::FloorDivSIOp>(loc, column, block), block));
        Value read = b.create<arith::MaxSIOp>(
            loc, column,
            b.create<arith::AddIOp>(loc, lb.index(b, first), inBlock));
        read = b.create<arith::MinSIOp>(
            loc, read,
            b.create<arith::AddIOp>(loc, lb.index(b, last), inBlock));
        return b
            .create<tensor::ExtractOp>(loc, positionScores,
                                       ValueRange{lb.loopIndex(b, 0),
                                                  lb.loopIndex(b, 1),
                                                  lb.loopIndex(b, 2), read})
            .getResult();
      },
      role::kClampedPositionScores);
}

/// The attribute that marks a reduction over keys as reading keys that hold
/// memory only: iterations of loop `loop` before key C - M (M = the
/// generic's scalar input `input`) leave the output unchanged (those keys
/// are masked: weight exactly 0, score below every visible one), so a code
/// generator may start the loop at the first key held. The mask keeps the
/// numbers exact either way; this only lets the work grow with M.
constexpr llvm::StringLiteral kHeldKeysAttr = "txl.first_contributing";

/// `reduction`'s defining generic, with `memoryRows` as its last input,
/// marked as above.
Value markHeldKeysOnly(LinalgBuilder &lb, Value reduction, unsigned keyLoop,
                       int64_t capacity) {
  auto generic = reduction.getDefiningOp<linalg::GenericOp>();
  OpBuilder &b = lb.builder();
  MLIRContext *ctx = b.getContext();
  unsigned input = generic.getNumDpsInputs() - 1;
  AffineMap first = AffineMap::get(
      0, 1, getAffineConstantExpr(capacity, ctx) - getAffineSymbolExpr(0, ctx));
  generic->setAttr(
      kHeldKeysAttr,
      b.getDictionaryAttr({b.getNamedAttr("loop", b.getI64IntegerAttr(keyLoop)),
                           b.getNamedAttr("input", b.getI64IntegerAttr(input)),
                           b.getNamedAttr("at", AffineMapAttr::get(first))}));
  return reduction;
}

/// A row max or sum over the keys of [B, H, T, K] scores or weights, over
/// the keys held only (markHeldKeysOnly).
Value reduceOverHeldKeys(LinalgBuilder &lb, const AttentionShape &s, Value x,
                         float init, bool takeMax, Value memoryRows,
                         StringRef name) {
  AffineExpr b = lb.dim(0), h = lb.dim(1), t = lb.dim(2), j = lb.dim(3);
  Value reduced = lb.generic(
      {{x, {b, h, t, j}}, {memoryRows, {}}},
      lb.filled({s.batch, s.heads, s.length}, init), {b, h, t}, 4, {3},
      [takeMax](OpBuilder &nb, Location loc, ValueRange args) {
        if (takeMax)
          return nb.create<arith::MaximumFOp>(loc, args.back(), args[0])
              .getResult();
        return nb.create<arith::AddFOp>(loc, args.back(), args[0]).getResult();
      },
      name);
  return markHeldKeysOnly(lb, reduced, 3, s.capacity);
}

/// Queries, the position term, scores, mask, softmax, values and output
/// projection: everything after the keys and values.
Value attendOverKeys(LinalgBuilder &lb, const AttentionShape &s,
                     const AttentionParts &p, const KeySource &source) {
  float scale = 1.0f / std::sqrt(static_cast<float>(s.headWidth));
  int64_t inner = s.inner();
  Value q = lb.matmulTransposed(p.input, p.qkvWeight, inner, 0, nullptr, 0,
                                role::kQueries);
  Value rk = lb.matmulTransposed(p.positions, p.rWeight, inner, 0, nullptr, 0,
                                 role::kPositions);
  HeadLayouts layouts =
      headLayouts(lb, s, source, positionsByDistance(lb, s, rk));

  // The queries with each term's bias, per head: loops (b, h, t, c). The
  // bias is added once per query element here, not once per key in the
  // GEMMs below, whose inner loops then broadcast a query element as loaded.
  AffineExpr b = lb.dim(0), h = lb.dim(1), t = lb.dim(2), j = lb.dim(3),
             c = lb.dim(4);
  auto biasedQueries = [&](Value bias, StringRef name) {
    AffineExpr column = lb.dim(3);
    return lb.generic(
        {{q, {b, t, h * s.headWidth + column}}, {bias, {h, column}}},
        lb.empty({s.batch, s.heads, s.length, s.headWidth}), {b, h, t, column},
        4, {},
        [](OpBuilder &nb, Location loc, ValueRange args) {
          return nb.create<arith::AddFOp>(loc, args[0], args[1]).getResult();
        },
        name);
  };
  Value contentQueries = biasedQueries(p.rwBias, role::kContentQueries);
  Value positionQueries = biasedQueries(p.rrBias, role::kPositionQueries);
  // out += query * key, the body of both terms' GEMMs.
  auto multiplyAdd = [](OpBuilder &nb, Location loc, ValueRange args) {
    Value term = nb.create<arith::MulFOp>(loc, args[0], args[1]);
    return nb.create<arith::AddFOp>(loc, args.back(), term).getResult();
  };
  // Loops (b, h, t, j, c): the content term (q + u) . k_j, summed over the
  // head's columns c.
  Value scores =
      lb.generic({{contentQueries, {b, h, t, c}}, {layouts.keys, {b, h, c, j}}},
                 lb.filled({s.batch, s.heads, s.length, s.keys()}, 0.0f),
                 {b, h, t, j}, 5, {4}, multiplyAdd, role::kScores);
  // Loops (b, h, t, n, c): the position term (q + v) . Rk for every
  // distance by n (the head's positions by distance), so that query t finds
  // key j's at n = j + T - 1 - t. Against every key j directly, each query
  // row would read its own offset run of positions; against the distances,
  // it is a GEMM whose loads all rows share (a tile of rows needs T - 1 more
  // distances than keys).
  AffineExpr n = lb.dim(3);
  Value positionScores =
      lb.generic({{positionQueries, {b, h, t, c}},
                  {layouts.positions,
                   {h, n.floorDiv(s.positionBlock), c, n % s.positionBlock}}},
                 lb.filled({s.batch, s.heads, s.length,
                            s.positionBlocks() * s.positionBlock},
                           0.0f),
                 {b, h, t, n}, 5, {4}, multiplyAdd, role::kPositionScores);
  // Worth a copy when the clamped columns hold a whole block past the first.
  if (s.clampColumn() + 1 >= 2 * s.positionBlock)
    positionScores = clampedPositionScores(lb, s, positionScores);

  // Both terms, scaled and masked: key j is visible to query t iff it is not
  // in the future (distance >= 0), it holds memory (j >= C - M) or is in the
  // segment, and, with same_length, its distance is below mem_len.
  AffineExpr score[] = {b, h, t, j};
  Value masked = lb.generic(
      {{scores, {b, h, t, j}},
       {positionScores, {b, h, t, j - t + (s.length - 1)}}},
      lb.empty({s.batch, s.heads, s.length, s.keys()}), score, 4, {},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value distance = queryKeyDistance(lb, nb, loc, s.capacity);
        Value key = lb.loopIndex(nb, 3);
        Value visible = nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                                 distance, lb.index(nb, 0));
        Value firstHeld = nb.create<arith::SubIOp>(
            loc, lb.index(nb, s.capacity), p.memoryRows);
        visible = nb.create<arith::AndIOp>(
            loc, visible,
            nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, key,
                                     firstHeld));
        if (p.sameLength)
          visible = nb.create<arith::AndIOp>(
              loc, visible,
              nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, distance,
                                       lb.index(nb, p.memLen)));
        Value scaled = nb.create<arith::MulFOp>(
            loc, nb.create<arith::AddFOp>(loc, args[0], args[1]),
            lb.f32(nb, scale));
        return nb
            .create<arith::SelectOp>(loc, visible, scaled, lb.f32(nb, kMasked))
            .getResult();
      },
      role::kMask);

  // Softmax over keys: exp(s - max), masked keys contribute exactly 0.
  Value rowMax = reduceOverHeldKeys(lb, s, masked, kMasked, true, p.memoryRows,
                                    role::kMax);
  Value weights = mapWithRowValue(
      lb, masked, rowMax,
      [&](OpBuilder &nb, Location loc, Value score, Value max) {
        Value isMasked = nb.create<arith::CmpFOp>(
            loc, arith::CmpFPredicate::OLE, score, lb.f32(nb, kMasked));
        Value e = nb.create<math::ExpOp>(
            loc, nb.create<arith::SubFOp>(loc, score, max));
        return nb.create<arith::SelectOp>(loc, isMasked, lb.f32(nb, 0.0f), e)
            .getResult();
      },
      role::kExp);
  Value rowSum =
      reduceOverHeldKeys(lb, s, weights, 0.0f, false, p.memoryRows, role::kSum);

  // Loops (b, t, h, c, j): weighted values per head, then normalise.
  AffineExpr b2 = lb.dim(0), t2 = lb.dim(1), h2 = lb.dim(2), c2 = lb.dim(3),
             j2 = lb.dim(4);
  Value weighted = markHeldKeysOnly(
      lb,
      lb.generic(
          {{weights, {b2, h2, t2, j2}},
           {layouts.values, {b2, h2, j2, c2}},
           {p.memoryRows, {}}},
          lb.filled({s.batch, s.length, s.heads, s.headWidth}, 0.0f),
          {b2, t2, h2, c2}, 5, {4},
          [&](OpBuilder &nb, Location loc, ValueRange args) {
            Value product = nb.create<arith::MulFOp>(loc, args[0], args[1]);
            return nb.create<arith::AddFOp>(loc, args.back(), product)
                .getResult();
          },
          role::kValues),
      4, s.capacity);
  Value normalised = lb.generic(
      {{weighted, {b2, t2, h2, c2}}, {rowSum, {b2, h2, t2}}},
      lb.empty({s.batch, s.length, s.heads, s.headWidth}), {b2, t2, h2, c2}, 4,
      {},
      [](OpBuilder &nb, Location loc, ValueRange args) {
        return nb.create<arith::DivFOp>(loc, args[0], args[1]).getResult();
      },
      role::kNormalise);

  // Output projection over (head, column): loops (b, t, d, h, c).
  AffineExpr d3 = lb.dim(2), h3 = lb.dim(3), c3 = lb.dim(4);
  return lb.generic(
      {{normalised, {lb.dim(0), lb.dim(1), h3, c3}},
       {p.oWeight, {d3, h3 * s.headWidth + c3}}},
      lb.filled({s.batch, s.length, s.width}, 0.0f), {lb.dim(0), lb.dim(1), d3},
      5, {3, 4},
      [](OpBuilder &nb, Location loc, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(loc, args[0], args[1]);
        return nb.create<arith::AddFOp>(loc, args[2], product).getResult();
      },
      role::kOutput);
}

/// The shape of an attention from its input, memory capacity and positions.
/// clamp_len of the positions when a txl.pos_emb makes them (txl-decompose
/// decomposes the attentions before it), else 0.
AttentionShape shapeOf(Value input, int64_t capacity, Value positions,
                       int64_t heads, int64_t headWidth,
                       const AttentionLayout &layout) {
  auto inputType = cast<RankedTensorType>(input.getType());
  auto embedding = positions.getDefiningOp<PosEmbOp>();
  return {inputType.getDimSize(0),
          inputType.getDimSize(1),
          inputType.getDimSize(2),
          capacity,
          heads,
          headWidth,
          cast<RankedTensorType>(positions.getType()).getDimSize(0),
          embedding ? embedding.getClampLenAttr().getInt() : 0,
          layout.positionBlock,
          layout.clampRun};
}

} // namespace

Value decomposeRelAttention(LinalgBuilder &lb, RelAttentionOp op,
                            const AttentionLayout &layout) {
  auto memoryType = cast<RankedTensorType>(op.getMemory().getType());
  AttentionShape s =
      shapeOf(op.getInput(), memoryType.getDimSize(1), op.getPositions(),
              op.getNHeadAttr().getInt(), op.getDHeadAttr().getInt(), layout);
  // Rows held: the memory_rows operand of the window form, else all rows.
  Value memoryRows =
      op.getMemoryRows()
          ? op.getMemoryRows()
          : lb.builder()
                .create<arith::ConstantIndexOp>(lb.location(), s.capacity)
                .getResult();
  int64_t inner = s.inner();
  Value keysInput = keyRows(lb, s, op.getMemory(), op.getInput());
  KeySource source;
  source.keys = lb.matmulTransposed(keysInput, op.getQkvWeight(), inner, inner,
                                    nullptr, 0, role::kKeys);
  source.values =
      lb.matmulTransposed(keysInput, op.getQkvWeight(), inner, 2 * inner,
                          nullptr, 0, role::kValuesProjection);
  AttentionParts parts{
      op.getInput(),     op.getQkvWeight(), op.getPositions(),
      op.getRWeight(),   op.getOWeight(),   op.getRWBias(),
      op.getRRBias(),    memoryRows,        op.getMemLenAttr().getInt(),
      op.getSameLength()};
  return attendOverKeys(lb, s, parts, source);
}

Value decomposeCachedRelAttention(LinalgBuilder &lb, CachedRelAttentionOp op,
                                  const AttentionLayout &layout) {
  auto cacheType = cast<RankedTensorType>(op.getKeyCache().getType());
  AttentionShape s =
      shapeOf(op.getInput(), cacheType.getDimSize(1), op.getPositions(),
              op.getNHeadAttr().getInt(), op.getDHeadAttr().getInt(), layout);
  KeySource source;
  source.keyCache = op.getKeyCache();
  source.valueCache = op.getValueCache();
  source.segmentKeys = op.getKeys();
  source.segmentValues = op.getValues();
  AttentionParts parts{
      op.getInput(),     op.getQkvWeight(),  op.getPositions(),
      op.getRWeight(),   op.getOWeight(),    op.getRWBias(),
      op.getRRBias(),    op.getMemoryRows(), op.getMemLenAttr().getInt(),
      op.getSameLength()};
  return attendOverKeys(lb, s, parts, source);
}

std::pair<Value, Value> decomposeKvProjection(LinalgBuilder &lb,
                                              KvProjectionOp op) {
  int64_t inner = op.getNHeadAttr().getInt() * op.getDHeadAttr().getInt();
  Value keys = lb.matmulTransposed(op.getInput(), op.getQkvWeight(), inner,
                                   inner, nullptr, 0, role::kKeys);
  Value values =
      lb.matmulTransposed(op.getInput(), op.getQkvWeight(), inner, 2 * inner,
                          nullptr, 0, role::kValuesProjection);
  return {keys, values};
}

} // namespace txl
