//===- MlirFuzzer.cpp - .mlir parser, verifier and txl's lowering ---------===//
//
// Input: a .mlir module, as txl-opt reads one (the txl dialect and the
// upstream dialects txl-opt registers). It is parsed and verified; a module
// that verifies goes through txlc's lowering (--txl-lower with the default
// options), which must fail with a diagnostic or produce IR that verifies,
// never crash.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"
#include "txl/Passes/Pipeline.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registry.insert<txl::TxlDialect, mlir::arith::ArithDialect,
                  mlir::bufferization::BufferizationDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::tensor::TensorDialect>();
  auto context = std::make_unique<mlir::MLIRContext>(registry);
  // One thread: the fuzzer wants a deterministic, single-threaded run.
  context->disableMultithreading();
  context->loadAllAvailableDialects();
  // Errors are expected; keep them off stderr.
  context->getDiagEngine().registerHandler(
      [](mlir::Diagnostic &) { return mlir::success(); });
  return context;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // A context keeps every type and attribute it ever uniqued: a fresh one
  // every 1,000 inputs keeps the memory bounded (libFuzzer's -rss_limit_mb).
  static std::unique_ptr<mlir::MLIRContext> owned;
  static int uses = 0;
  if (!owned || ++uses % 1000 == 0)
    owned = makeContext();
  mlir::MLIRContext *context = owned.get();
  // MLIR's lexer reads up to a terminating NUL (txl-opt's files have one);
  // libFuzzer's bytes have none: parse a NUL-terminated copy.
  std::string text(reinterpret_cast<const char *>(data), size);
  if (text.find('\0') != std::string::npos)
    return 0;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, context);
  if (!module || mlir::failed(mlir::verify(*module)))
    return 0;
  mlir::PassManager pm(context);
  txl::TxlLowerOptions options;
  txl::buildTxlLowerPipeline(pm, options);
  if (mlir::succeeded(pm.run(*module)) && mlir::failed(mlir::verify(*module))) {
    std::fprintf(stderr, "the lowering succeeded on IR that then fails to "
                         "verify\n");
    std::abort();
  }
  return 0;
}
