//===- Passes.h - txl's passes ----------------------------------*- C++ -*-===//
#ifndef TXL_PASSES_PASSES_H
#define TXL_PASSES_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace txl {

#define GEN_PASS_DECL
#include "txl/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "txl/Passes/Passes.h.inc"

} // namespace txl

#endif // TXL_PASSES_PASSES_H
