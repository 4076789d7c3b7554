//===- ScalarOps.h - arith and math ops as Halide expressions ---*- C++ -*-===//
//
// Internal to the Halide backend. The scalar ops of generic bodies (and of the
// kernel body, for fill values and index arithmetic) map one to one onto
// Halide Exprs; MLIR's exact semantics are kept where Halide's differ
// (rounding of signed division, i1 sign extension, unordered comparisons).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HALIDE_LIB_SCALAROPS_H
#define TXL_CODEGEN_HALIDE_LIB_SCALAROPS_H

#include "txl/support/Status.h"

#include "Halide.h"
#include "mlir/IR/Operation.h"
#include "mlir/IR/Types.h"

#include <optional>
#include <string>

namespace txl::codegen::halide::detail {

/// Halide's type for a scalar MLIR type: f32/f64, i1 (Bool), i8..i64, and
/// index (Int(32), Halide's index type). Nullopt for anything else.
std::optional<Halide::Type> halideType(mlir::Type type);

/// "'arith.foo' at loc(...)", for error messages.
std::string describeOp(mlir::Operation *op);

/// Whether translateScalarOp knows `op` (arith and math ops on scalars).
bool isScalarOp(mlir::Operation *op);

/// The Expr of the single result of a scalar op, given its operands' Exprs.
/// With `fastExp`, math.exp on f32 uses a clamped fast_exp.
StatusOr<Halide::Expr> translateScalarOp(mlir::Operation *op,
                                         llvm::ArrayRef<Halide::Expr> operands,
                                         bool fastExp);

} // namespace txl::codegen::halide::detail

#endif // TXL_CODEGEN_HALIDE_LIB_SCALAROPS_H
