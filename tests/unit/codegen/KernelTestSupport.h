//===- KernelTestSupport.h - parse kernels, make data, compare --*- C++ -*-===//
#ifndef TXL_TESTS_UNIT_CODEGEN_KERNELTESTSUPPORT_H
#define TXL_TESTS_UNIT_CODEGEN_KERNELTESTSUPPORT_H

#include "txl/codegen/halide/KernelCompiler.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace txl::codegen::halide::test {

/// A parsed module and its first func (the kernel).
struct ParsedKernel {
  std::unique_ptr<mlir::MLIRContext> context;
  mlir::OwningOpRef<mlir::ModuleOp> module;

  mlir::func::FuncOp kernel() {
    return *module->getOps<mlir::func::FuncOp>().begin();
  }
};

inline ParsedKernel parseKernel(const std::string &source) {
  ParsedKernel parsed;
  mlir::DialectRegistry registry;
  registerKernelDialects(registry);
  parsed.context = std::make_unique<mlir::MLIRContext>(registry);
  parsed.context->loadAllAvailableDialects();
  parsed.module =
      mlir::parseSourceString<mlir::ModuleOp>(source, parsed.context.get());
  EXPECT_TRUE(parsed.module) << "kernel IR does not parse:\n" << source;
  return parsed;
}

/// Deterministic values in [lo, hi).
inline std::vector<float> randomFloats(size_t count, uint32_t seed,
                                       float lo = -1.0f, float hi = 1.0f) {
  std::vector<float> values(count);
  uint32_t state = seed * 2654435761u + 12345u;
  for (float &v : values) {
    state = state * 1664525u + 1013904223u;
    v = lo + (hi - lo) * static_cast<float>(state >> 8) / 16777216.0f;
  }
  return values;
}

/// Runs a kernel that must succeed; returns its results.
inline std::vector<HostTensor> run(mlir::func::FuncOp kernel,
                                   const std::vector<HostTensor> &inputs,
                                   const std::vector<int64_t> &scalars = {},
                                   const CodegenOptions &options = {}) {
  StatusOr<std::vector<HostTensor>> outputs =
      jitRun(kernel, inputs, scalars, options);
  EXPECT_TRUE(outputs.ok()) << outputs.status().message();
  if (!outputs.ok())
    return {};
  return *outputs;
}

inline void expectNear(const std::vector<float> &actual,
                       const std::vector<double> &expected,
                       double tolerance = 1e-4) {
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i)
    ASSERT_NEAR(actual[i], expected[i],
                tolerance * std::max(1.0, std::fabs(expected[i])))
        << "at flat index " << i;
}

} // namespace txl::codegen::halide::test

#endif // TXL_TESTS_UNIT_CODEGEN_KERNELTESTSUPPORT_H
