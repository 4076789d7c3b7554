//===- DecomposeRows.cpp - row-wise txl ops -> linalg ---------------------===//
//
// Positions, LayerNorm, the feed-forward network and the memory window
// update, plus the row reductions the other decompositions share.
//
//===----------------------------------------------------------------------===//

#include "Decompositions.h"
#include "txl/Dialect/KernelRoles.h"

#include "txl/Dialect/PositionalEncoding.h"

#include "mlir/IR/BuiltinAttributes.h"

using namespace mlir;

namespace txl {

Value clampIndex(OpBuilder &b, Location loc, Value value, int64_t low,
                 int64_t high) {
  Value lo = b.create<arith::ConstantIndexOp>(loc, low);
  Value hi = b.create<arith::ConstantIndexOp>(loc, high);
  Value atLeast = b.create<arith::MaxSIOp>(loc, value, lo);
  return b.create<arith::MinSIOp>(loc, atLeast, hi);
}

Value rowOfConcatenation(LinalgBuilder &lb, OpBuilder &b, Location loc,
                         Value first, int64_t firstRows, Value second,
                         int64_t secondRows, Value batch, Value row,
                         Value column) {
  Value inFirst = b.create<arith::CmpIOp>(loc, arith::CmpIPredicate::slt, row,
                                          lb.index(b, firstRows));
  // Both reads stay in bounds; the select keeps the right one.
  Value firstRow = clampIndex(b, loc, row, 0, firstRows - 1);
  Value secondRow = clampIndex(
      b, loc, b.create<arith::SubIOp>(loc, row, lb.index(b, firstRows)), 0,
      secondRows - 1);
  Value fromFirst = b.create<tensor::ExtractOp>(
      loc, first, ValueRange{batch, firstRow, column});
  Value fromSecond = b.create<tensor::ExtractOp>(
      loc, second, ValueRange{batch, secondRow, column});
  return b.create<arith::SelectOp>(loc, inFirst, fromFirst, fromSecond);
}

/// Identity index over the leading `rank` loops.
static SmallVector<AffineExpr> leading(LinalgBuilder &lb, unsigned rank) {
  SmallVector<AffineExpr> index;
  for (unsigned i = 0; i < rank; ++i)
    index.push_back(lb.dim(i));
  return index;
}

Value reduceLastDim(LinalgBuilder &lb, Value x, float init, bool takeMax,
                    StringRef name) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  Value acc = lb.filled(type.getShape().drop_back(), init);
  return lb.generic(
      {{x, leading(lb, rank)}}, acc, leading(lb, rank - 1), rank, {rank - 1},
      [takeMax](OpBuilder &b, Location loc, ValueRange args) {
        if (takeMax)
          return b.create<arith::MaximumFOp>(loc, args[1], args[0]).getResult();
        return b.create<arith::AddFOp>(loc, args[1], args[0]).getResult();
      },
      name);
}

Value mapWithRowValue(
    LinalgBuilder &lb, Value x, Value rowValue,
    const std::function<Value(OpBuilder &, Location, Value, Value)> &combine,
    StringRef name) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  Value init = lb.builder().create<tensor::EmptyOp>(
      lb.location(), type.getShape(), type.getElementType());
  return lb.generic(
      {{x, leading(lb, rank)}, {rowValue, leading(lb, rank - 1)}}, init,
      leading(lb, rank), rank, {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return combine(b, loc, args[0], args[1]);
      },
      name);
}

Value logSumExpLastDim(LinalgBuilder &lb, Value x, StringRef name) {
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  Value max =
      reduceLastDim(lb, x, -3.0e38f, /*takeMax=*/true, (name + ".max").str());
  Value sum = lb.generic(
      {{x, leading(lb, rank)}, {max, leading(lb, rank - 1)}},
      lb.filled(type.getShape().drop_back(), 0.0f), leading(lb, rank - 1), rank,
      {rank - 1},
      [](OpBuilder &b, Location loc, ValueRange args) {
        Value shifted = b.create<arith::SubFOp>(loc, args[0], args[1]);
        Value e = b.create<math::ExpOp>(loc, shifted);
        return b.create<arith::AddFOp>(loc, args[2], e).getResult();
      },
      (name + ".sum").str());
  return lb.map(
      {max, sum},
      [](OpBuilder &b, Location loc, ValueRange args) {
        Value log = b.create<math::LogOp>(loc, args[1]);
        return b.create<arith::AddFOp>(loc, args[0], log).getResult();
      },
      (name + ".lse").str());
}

Value decomposePosEmb(LinalgBuilder &lb, PosEmbOp op) {
  OpBuilder &b = lb.builder();
  Location loc = lb.location();
  RankedTensorType type = op.getType();
  int64_t width = type.getDimSize(1), half = width / 2;
  // Frequencies for both halves, so the table reads them with a plain map.
  std::vector<float> invFreq = inverseFrequencies(width);
  invFreq.insert(invFreq.end(), invFreq.begin(), invFreq.end());
  auto freqType = RankedTensorType::get({width}, b.getF32Type());
  Value freq = b.create<arith::ConstantOp>(
      loc, DenseElementsAttr::get(freqType, llvm::ArrayRef<float>(invFreq)));
  int64_t clamp = op.getClampLenAttr().getInt();
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), b.getF32Type());
  return lb.generic(
      {{freq, {lb.dim(1)}}}, init, {lb.dim(0), lb.dim(1)}, 2, {},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        Value distance = lb.loopIndex(nb, 0);
        if (clamp > 0)
          distance =
              nb.create<arith::MinSIOp>(nl, distance, lb.index(nb, clamp));
        Value asInt =
            nb.create<arith::IndexCastOp>(nl, nb.getI64Type(), distance);
        Value asFloat = nb.create<arith::SIToFPOp>(nl, nb.getF32Type(), asInt);
        // One float32 multiply, as the original's torch.ger.
        Value angle = nb.create<arith::MulFOp>(nl, asFloat, args[0]);
        Value isSine =
            nb.create<arith::CmpIOp>(nl, arith::CmpIPredicate::slt,
                                     lb.loopIndex(nb, 1), lb.index(nb, half));
        Value sine = nb.create<math::SinOp>(nl, angle);
        Value cosine = nb.create<math::CosOp>(nl, angle);
        return nb.create<arith::SelectOp>(nl, isSine, sine, cosine).getResult();
      },
      "pos_emb");
}

Value decomposeLayerNorm(LinalgBuilder &lb, LayerNormOp op) {
  Value x = op.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  unsigned rank = type.getRank();
  float width = static_cast<float>(type.getShape().back());
  float epsilon = static_cast<float>(op.getEpsilon().convertToDouble());

  Value sum = reduceLastDim(lb, x, 0.0f, false, roles::layer_norm::kSum);
  Value centered = mapWithRowValue(
      lb, x, sum,
      [&](OpBuilder &b, Location loc, Value v, Value s) {
        Value mean = b.create<arith::DivFOp>(loc, s, lb.f32(b, width));
        return b.create<arith::SubFOp>(loc, v, mean).getResult();
      },
      roles::layer_norm::kCenter);
  // Biased variance: mean of the squared deviations.
  Value squares = lb.map(
      {centered},
      [](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MulFOp>(loc, args[0], args[0]).getResult();
      },
      roles::layer_norm::kSquare);
  Value sumSquares =
      reduceLastDim(lb, squares, 0.0f, false, roles::layer_norm::kSumSquares);
  Value init = lb.builder().create<tensor::EmptyOp>(
      lb.location(), type.getShape(), type.getElementType());
  SmallVector<AffineExpr> all = leading(lb, rank), rows = leading(lb, rank - 1);
  return lb.generic(
      {{centered, all},
       {sumSquares, rows},
       {op.getWeight(), {lb.dim(rank - 1)}},
       {op.getBias(), {lb.dim(rank - 1)}}},
      init, all, rank, {},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        Value variance =
            b.create<arith::DivFOp>(loc, args[1], lb.f32(b, width));
        Value shifted =
            b.create<arith::AddFOp>(loc, variance, lb.f32(b, epsilon));
        Value scale = b.create<math::RsqrtOp>(loc, shifted);
        Value normal = b.create<arith::MulFOp>(loc, args[0], scale);
        Value gained = b.create<arith::MulFOp>(loc, normal, args[2]);
        return b.create<arith::AddFOp>(loc, gained, args[3]).getResult();
      },
      roles::layer_norm::kNormalised);
}

Value decomposeFfn(LinalgBuilder &lb, FfnOp op) {
  auto upType = cast<RankedTensorType>(op.getUpWeight().getType());
  auto downType = cast<RankedTensorType>(op.getDownWeight().getType());
  Value up =
      lb.matmulTransposed(op.getInput(), op.getUpWeight(), upType.getDimSize(0),
                          0, op.getUpBias(), 0, roles::ffn::kUp);
  Value relu = lb.map(
      {up},
      [&](OpBuilder &b, Location loc, ValueRange args) {
        return b.create<arith::MaximumFOp>(loc, args[0], lb.f32(b, 0.0f))
            .getResult();
      },
      roles::ffn::kRelu);
  return lb.matmulTransposed(relu, op.getDownWeight(), downType.getDimSize(0),
                             0, op.getDownBias(), 0, roles::ffn::kDown);
}

} // namespace txl
