//===- txl-opt.cpp - mlir-opt with the txl dialect and txl's passes -------===//
//
// The research and test driver: parses, verifies, transforms and prints txl IR
// one pass at a time, or through txlc's whole lowering (--txl-lower), with
// MLIR's standard flags (--mlir-print-ir-after-all, --mlir-timing,
// --verify-diagnostics, ...).
//
//===----------------------------------------------------------------------===//

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "mlir/Transforms/Passes.h"

#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"
#include "txl/Passes/Pipeline.h"

int main(int argc, char **argv) {
  mlir::DialectRegistry registry;
  registry.insert<txl::TxlDialect, mlir::arith::ArithDialect,
                  mlir::bufferization::BufferizationDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  // MLIR's generic passes (canonicalize, cse, ...) are useful between ours.
  mlir::registerTransformsPasses();
  txl::registerTxlPasses();
  txl::registerTxlLowerPipeline();
  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "txl optimizer driver: the txl dialect and its passes\n",
      registry));
}
