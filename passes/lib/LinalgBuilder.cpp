//===- LinalgBuilder.cpp - terse construction of linalg.generic ops ------===//

#include "txl/Passes/LinalgBuilder.h"

#include "txl/Dialect/AttrNames.h"

using namespace mlir;

namespace txl {

Value LinalgBuilder::generic(ArrayRef<Operand> inputs, Value init,
                             ArrayRef<AffineExpr> outIndex, unsigned numLoops,
                             ArrayRef<unsigned> reductions, const BodyFn &body,
                             StringRef name) {
  SmallVector<Value> inputValues;
  SmallVector<AffineMap> maps;
  for (const Operand &input : inputs) {
    inputValues.push_back(input.value);
    maps.push_back(AffineMap::get(numLoops, 0, input.index, b.getContext()));
  }
  maps.push_back(AffineMap::get(numLoops, 0, outIndex, b.getContext()));
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::parallel);
  for (unsigned r : reductions)
    iterators[r] = utils::IteratorType::reduction;
  auto op = b.create<linalg::GenericOp>(
      loc, init.getType(), inputValues, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location nestedLoc, ValueRange args) {
        nested.create<linalg::YieldOp>(nestedLoc,
                                       body(nested, nestedLoc, args));
      });
  // Names let schedules and researchers refer to one generic of a kernel.
  op->setAttr(txl::attr::kGenericName, b.getStringAttr(name));
  return op.getResult(0);
}

Value LinalgBuilder::empty(ArrayRef<int64_t> shape) {
  return b.create<tensor::EmptyOp>(loc, shape, b.getF32Type());
}

Value LinalgBuilder::filled(ArrayRef<int64_t> shape, float value) {
  Value scalar = b.create<arith::ConstantOp>(loc, b.getF32FloatAttr(value));
  return b.create<linalg::FillOp>(loc, scalar, empty(shape)).getResult(0);
}

Value LinalgBuilder::rowBlock(Value matrix, int64_t first, int64_t rows) {
  auto type = cast<RankedTensorType>(matrix.getType());
  if (first == 0 && rows == type.getDimSize(0))
    return matrix;
  SmallVector<OpFoldResult> offsets = {b.getIndexAttr(first)},
                            sizes = {b.getIndexAttr(rows)},
                            strides = {b.getIndexAttr(1)};
  for (int64_t d = 1; d < type.getRank(); ++d) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
    strides.push_back(b.getIndexAttr(1));
  }
  return b.create<tensor::ExtractSliceOp>(loc, matrix, offsets, sizes, strides);
}

Value LinalgBuilder::matmulTransposed(Value x, Value w, int64_t rows,
                                      int64_t rowOffset, Value bias,
                                      int64_t biasOffset, StringRef name) {
  // Row blocks of W and b are contiguous: slices, never copies.
  w = rowBlock(w, rowOffset, rows);
  if (bias)
    bias = rowBlock(bias, biasOffset, rows);
  auto xType = cast<RankedTensorType>(x.getType());
  unsigned rank = xType.getRank();
  // Loops: x's leading dims, then n (output column), then k (reduction).
  unsigned n = rank - 1, k = rank;
  SmallVector<int64_t> shape(xType.getShape().drop_back());
  shape.push_back(rows);
  SmallVector<AffineExpr> outIndex, xIndex;
  for (unsigned i = 0; i + 1 < rank; ++i) {
    outIndex.push_back(dim(i));
    xIndex.push_back(dim(i));
  }
  outIndex.push_back(dim(n));
  xIndex.push_back(dim(k));

  Value init;
  if (bias) {
    // Broadcast the bias into the accumulator, so the GEMM adds onto it.
    init = generic(
        {{bias, {dim(n)}}},
        b.create<tensor::EmptyOp>(loc, shape, b.getF32Type()), outIndex, rank,
        {}, [](OpBuilder &, Location, ValueRange args) { return args[0]; },
        (name + ".bias").str());
  } else {
    init = filled(shape, 0.0f);
  }
  return generic(
      {{x, xIndex}, {w, {dim(n), dim(k)}}}, init, outIndex, rank + 1, {k},
      [](OpBuilder &nb, Location nl, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(nl, args[0], args[1]);
        return nb.create<arith::AddFOp>(nl, args[2], product);
      },
      name);
}

Value LinalgBuilder::matmul(Value x, Value p, StringRef name) {
  auto xType = cast<RankedTensorType>(x.getType());
  auto pType = cast<RankedTensorType>(p.getType());
  unsigned rank = xType.getRank();
  unsigned n = rank - 1, k = rank;
  SmallVector<int64_t> shape(xType.getShape().drop_back());
  shape.push_back(pType.getDimSize(1));
  SmallVector<AffineExpr> outIndex, xIndex;
  for (unsigned i = 0; i + 1 < rank; ++i) {
    outIndex.push_back(dim(i));
    xIndex.push_back(dim(i));
  }
  outIndex.push_back(dim(n));
  xIndex.push_back(dim(k));
  return generic(
      {{x, xIndex}, {p, {dim(k), dim(n)}}}, filled(shape, 0.0f), outIndex,
      rank + 1, {k},
      [](OpBuilder &nb, Location nl, ValueRange args) {
        Value product = nb.create<arith::MulFOp>(nl, args[0], args[1]);
        return nb.create<arith::AddFOp>(nl, args[2], product);
      },
      name);
}

Value LinalgBuilder::map(ArrayRef<Value> inputs, const BodyFn &body,
                         StringRef name) {
  auto type = cast<RankedTensorType>(inputs.front().getType());
  unsigned rank = type.getRank();
  SmallVector<AffineExpr> identity;
  for (unsigned i = 0; i < rank; ++i)
    identity.push_back(dim(i));
  SmallVector<Operand> operands;
  for (Value input : inputs)
    operands.push_back({input, identity});
  Value init = b.create<tensor::EmptyOp>(loc, type.getShape(), b.getF32Type());
  return generic(
      operands, init, identity, rank, {},
      [&](OpBuilder &nb, Location nl, ValueRange args) {
        // The output element is not read by a map.
        return body(nb, nl, args.drop_back());
      },
      name);
}

Value LinalgBuilder::f32(OpBuilder &builder, float value) const {
  return builder.create<arith::ConstantOp>(loc, builder.getF32FloatAttr(value));
}

Value LinalgBuilder::index(OpBuilder &builder, int64_t value) const {
  return builder.create<arith::ConstantIndexOp>(loc, value);
}

Value LinalgBuilder::loopIndex(OpBuilder &builder, unsigned i) const {
  return builder.create<linalg::IndexOp>(loc, i);
}

} // namespace txl
