//===- Passes.h - txl's passes ----------------------------------*- C++ -*-===//
#ifndef TXL_PASSES_PASSES_H
#define TXL_PASSES_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace txl {

#define GEN_PASS_DECL
#include "txl/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "txl/Passes/Passes.h.inc"

} // namespace txl

#endif // TXL_PASSES_PASSES_H
