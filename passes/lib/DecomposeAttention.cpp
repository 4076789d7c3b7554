//===- DecomposeAttention.cpp - txl.rel_attention -> linalg ---------------===//
//
// Keys are the window's C rows followed by the segment's T rows; query t sits
// at key position C + t, so its distance to key j is C + t - j. The position
// term reads the projected positions at that distance (the rel-shift as an
// index); the mask is a predicate on (t, j, M); nothing is concatenated or
// shifted in memory. Loop order of the score generics: (b, h, t, j[, c]).
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"

using namespace mlir;

namespace txl {
namespace {

/// Masked scores are this instead of -inf: exp() of it minus a row maximum
/// is exactly 0, and no infinity ever reaches a fast exp.
constexpr float kMasked = -1.0e30f;

struct AttentionShape {
  int64_t batch, length, width, capacity, heads, headWidth, distances;
  int64_t inner() const { return heads * headWidth; }
  int64_t keys() const { return capacity + length; }
};

/// [window; input] along time, read through indices (no copy once fused).
Value keyRows(LinalgBuilder &lb, const AttentionShape &s, Value window,
              Value input) {
  if (s.capacity == 0)
    return input;
  Value init = lb.builder().create<tensor::EmptyOp>(
      lb.location(), ArrayRef<int64_t>{s.batch, s.keys(), s.width},
      lb.builder().getF32Type());
  return lb.generic(
      {}, init, {lb.dim(0), lb.dim(1), lb.dim(2)}, 3, {},
      [&](OpBuilder &b, Location loc, ValueRange) {
        return rowOfConcatenation(lb, b, loc, window, s.capacity, input,
                                  s.length, lb.loopIndex(b, 0),
                                  lb.loopIndex(b, 1), lb.loopIndex(b, 2));
      },
      "attention.keys_input");
}

/// C + t - j for loops (b, h, t, j, ...): query t sits at key position C + t.
Value queryKeyDistance(LinalgBuilder &lb, OpBuilder &b, Location loc,
                       int64_t capacity) {
  Value query = lb.loopIndex(b, 2);
  Value position = b.create<arith::AddIOp>(loc, query, lb.index(b, capacity));
  Value key = lb.loopIndex(b, 3);
  return b.create<arith::SubIOp>(loc, position, key);
}

} // namespace

Value decomposeRelAttention(LinalgBuilder &lb, RelAttentionOp op) {
  auto inputType = cast<RankedTensorType>(op.getInput().getType());
  auto memoryType = cast<RankedTensorType>(op.getMemory().getType());
  AttentionShape s{
      inputType.getDimSize(0),
      inputType.getDimSize(1),
      inputType.getDimSize(2),
      memoryType.getDimSize(1),
      op.getNHeadAttr().getInt(),
      op.getDHeadAttr().getInt(),
      cast<RankedTensorType>(op.getPositions().getType()).getDimSize(0)};
  int64_t memLen = op.getMemLenAttr().getInt();
  bool sameLength = op.getSameLength();
  float scale = 1.0f / std::sqrt(static_cast<float>(s.headWidth));
  int64_t inner = s.inner();
  OpBuilder &builder = lb.builder();
  // Rows held: the memory_rows operand of the window form, else all rows.
  Value memoryRows =
      op.getMemoryRows()
          ? op.getMemoryRows()
          : builder.create<arith::ConstantIndexOp>(lb.location(), s.capacity)
                .getResult();

  Value q = lb.matmulTransposed(op.getInput(), op.getQkvWeight(), inner, 0,
                                nullptr, 0, "attention.q");
  Value keysInput = keyRows(lb, s, op.getMemory(), op.getInput());
  Value k = lb.matmulTransposed(keysInput, op.getQkvWeight(), inner, inner,
                                nullptr, 0, "attention.k");
  Value v = lb.matmulTransposed(keysInput, op.getQkvWeight(), inner, 2 * inner,
                                nullptr, 0, "attention.v");
  Value rk = lb.matmulTransposed(op.getPositions(), op.getRWeight(), inner, 0,
                                 nullptr, 0, "attention.r");

  // Loops (b, h, t, j, c): content term (q + u) . k_j and position term
  // (q + v) . Rk[C + t - j], summed over the head's columns c.
  AffineExpr b = lb.dim(0), h = lb.dim(1), t = lb.dim(2), j = lb.dim(3),
             c = lb.dim(4);
  AffineExpr column = h * s.headWidth + c;
  Value scores = lb.generic(
      {{q, {b, t, column}},
       {op.getRWBias(), {h, c}},
       {op.getRRBias(), {h, c}},
       {k, {b, j, column}}},
      lb.filled({s.batch, s.heads, s.length, s.keys()}, 0.0f), {b, h, t, j}, 5,
      {4},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value distance = queryKeyDistance(lb, nb, loc, s.capacity);
        // Future keys have negative distances: read row 0, masked below.
        Value row = clampIndex(nb, loc, distance, 0, s.distances - 1);
        Value head = lb.loopIndex(nb, 1);
        Value headStart =
            nb.create<arith::MulIOp>(loc, head, lb.index(nb, s.headWidth));
        Value rkColumn =
            nb.create<arith::AddIOp>(loc, headStart, lb.loopIndex(nb, 4));
        Value position =
            nb.create<tensor::ExtractOp>(loc, rk, ValueRange{row, rkColumn});
        Value content = nb.create<arith::MulFOp>(
            loc, nb.create<arith::AddFOp>(loc, args[0], args[1]), args[3]);
        Value positional = nb.create<arith::MulFOp>(
            loc, nb.create<arith::AddFOp>(loc, args[0], args[2]), position);
        Value term = nb.create<arith::AddFOp>(loc, content, positional);
        return nb.create<arith::AddFOp>(loc, args[4], term).getResult();
      },
      "attention.scores");

  // Scale and mask: key j is visible to query t iff it is not in the future
  // (distance >= 0), it holds memory (j >= C - M) or is in the segment, and,
  // with same_length, its distance is below mem_len.
  Value masked = lb.map(
      {scores},
      [&](OpBuilder &nb, Location loc, ValueRange args) {
        Value distance = queryKeyDistance(lb, nb, loc, s.capacity);
        Value key = lb.loopIndex(nb, 3);
        Value visible = nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge,
                                                 distance, lb.index(nb, 0));
        Value firstHeld =
            nb.create<arith::SubIOp>(loc, lb.index(nb, s.capacity), memoryRows);
        visible = nb.create<arith::AndIOp>(
            loc, visible,
            nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::sge, key,
                                     firstHeld));
        if (sameLength)
          visible = nb.create<arith::AndIOp>(
              loc, visible,
              nb.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, distance,
                                       lb.index(nb, memLen)));
        Value scaled =
            nb.create<arith::MulFOp>(loc, args[0], lb.f32(nb, scale));
        return nb
            .create<arith::SelectOp>(loc, visible, scaled, lb.f32(nb, kMasked))
            .getResult();
      },
      "attention.mask");

  // Softmax over keys: exp(s - max), masked keys contribute exactly 0.
  Value rowMax = reduceLastDim(lb, masked, kMasked, true, "attention.max");
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
      "attention.exp");
  Value rowSum = reduceLastDim(lb, weights, 0.0f, false, "attention.sum");

  // Loops (b, t, h, c, j): weighted values per head, then normalise.
  AffineExpr b2 = lb.dim(0), t2 = lb.dim(1), h2 = lb.dim(2), c2 = lb.dim(3),
             j2 = lb.dim(4);
  Value weighted = lb.generic(
      {{weights, {b2, h2, t2, j2}}, {v, {b2, j2, h2 * s.headWidth + c2}}},
      lb.filled({s.batch, s.length, s.heads, s.headWidth}, 0.0f),
      {b2, t2, h2, c2}, 5, {4},
      [](OpBuilder &nb, Location loc, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(loc, args[0], args[1]);
        return nb.create<arith::AddFOp>(loc, args[2], product).getResult();
      },
      "attention.values");
  Value normalised = lb.generic(
      {{weighted, {b2, t2, h2, c2}}, {rowSum, {b2, h2, t2}}},
      builder.create<tensor::EmptyOp>(
          lb.location(),
          ArrayRef<int64_t>{s.batch, s.length, s.heads, s.headWidth},
          builder.getF32Type()),
      {b2, t2, h2, c2}, 4, {},
      [](OpBuilder &nb, Location loc, ValueRange args) {
        return nb.create<arith::DivFOp>(loc, args[0], args[1]).getResult();
      },
      "attention.normalise");

  // Output projection over (head, column): loops (b, t, d, h, c).
  AffineExpr d3 = lb.dim(2), h3 = lb.dim(3), c3 = lb.dim(4);
  return lb.generic(
      {{normalised, {lb.dim(0), lb.dim(1), h3, c3}},
       {op.getOWeight(), {d3, h3 * s.headWidth + c3}}},
      lb.filled({s.batch, s.length, s.width}, 0.0f), {lb.dim(0), lb.dim(1), d3},
      5, {3, 4},
      [](OpBuilder &nb, Location loc, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(loc, args[0], args[1]);
        return nb.create<arith::AddFOp>(loc, args[2], product).getResult();
      },
      "attention.output");
}

} // namespace txl
