//===- LinalgBuilder.h - terse linalg.generic construction ------*- C++ -*-===//
//
// The decompositions of txl ops are short lists of linalg.generic ops; this
// keeps each one a few lines: index maps as affine expressions over named
// loop dimensions, bodies as lambdas.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_LINALGBUILDER_H
#define TXL_PASSES_LINALGBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/Builders.h"

#include <functional>

namespace txl {

/// Builds linalg.generic ops on static-shape f32 tensors.
class LinalgBuilder {
public:
  LinalgBuilder(mlir::OpBuilder &builder, mlir::Location loc)
      : b(builder), loc(loc) {}

  using BodyFn = std::function<mlir::Value(mlir::OpBuilder &, mlir::Location,
                                           mlir::ValueRange)>;
  struct Operand {
    mlir::Value value;
    llvm::SmallVector<mlir::AffineExpr> index; // one expr per tensor dim
  };

  /// Loop dimension `i` of a generic (as an affine expression).
  mlir::AffineExpr dim(unsigned i) const {
    return mlir::getAffineDimExpr(i, b.getContext());
  }

  /// A generic over `loops` (sizes; `reductions` marks reduction loops)
  /// reading `inputs` and updating `init` at `outIndex`. The body gets the
  /// input elements, then the current output element, and returns the new
  /// output element. Returns the result tensor.
  mlir::Value generic(llvm::ArrayRef<Operand> inputs, mlir::Value init,
                      llvm::ArrayRef<mlir::AffineExpr> outIndex,
                      unsigned numLoops, llvm::ArrayRef<unsigned> reductions,
                      const BodyFn &body, llvm::StringRef name);

  /// An f32 tensor of `shape` for a generic that writes every element.
  mlir::Value empty(llvm::ArrayRef<int64_t> shape);

  /// A tensor of `shape` filled with `value`.
  mlir::Value filled(llvm::ArrayRef<int64_t> shape, float value);

  /// y[..., n] = sum_k x[..., k] * w[n + rowOffset, k] (+ bias[n + biasOffset]
  /// when `bias` is given): `x @ W^T + b` on a row block of W.
  mlir::Value matmulTransposed(mlir::Value x, mlir::Value w, int64_t rows,
                               int64_t rowOffset, mlir::Value bias,
                               int64_t biasOffset, llvm::StringRef name);

  /// Rows [first, first + rows) of a row-major tensor: a tensor.extract_slice
  /// (contiguous, so a view after bufferization), or the tensor itself.
  mlir::Value rowBlock(mlir::Value matrix, int64_t first, int64_t rows);

  /// y[..., n] = sum_k x[..., k] * p[k, n]: `x @ P` (no transpose).
  mlir::Value matmul(mlir::Value x, mlir::Value p, llvm::StringRef name);

  /// Element-wise map over tensors of one shape.
  mlir::Value map(llvm::ArrayRef<mlir::Value> inputs, const BodyFn &body,
                  llvm::StringRef name);

  // Scalar helpers for bodies.
  mlir::Value f32(mlir::OpBuilder &builder, float value) const;
  mlir::Value index(mlir::OpBuilder &builder, int64_t value) const;
  /// linalg.index of loop `i`, as index.
  mlir::Value loopIndex(mlir::OpBuilder &builder, unsigned i) const;

  mlir::OpBuilder &builder() { return b; }
  mlir::Location location() const { return loc; }

private:
  mlir::OpBuilder &b;
  mlir::Location loc;
};

} // namespace txl

#endif // TXL_PASSES_LINALGBUILDER_H
