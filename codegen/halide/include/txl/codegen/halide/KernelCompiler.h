//===- KernelCompiler.h - kernels to objects with Halide; a JIT -*- C++ -*-===//
//
// The public face of the Halide backend; it exposes no Halide types. A kernel
// is a func.func of linalg on static-shape tensors (the contract is described
// in KernelTranslator.h); it becomes one Halide pipeline, scheduled from its
// `txl.schedule` attribute (Schedule.h, docs/SCHEDULES.md), and is compiled
// ahead of time to an object, or JIT-run for tests.
//
// ABI of a compiled kernel (Halide's AOT convention), for a kernel
//   func.func @k(%a: tensor<2x5xf32>, %m: index, %b: tensor<5xi64>)
//       -> (tensor<2x5xf32>, tensor<2xf32>)
// the object defines
//   int k(halide_buffer_t *arg0, int64_t arg1, halide_buffer_t *arg2,
//         halide_buffer_t *out0, halide_buffer_t *out1);
// tensor arguments become halide_buffer_t* and scalar arguments (index or
// i64) int64_t, in kernel-argument order, followed by one halide_buffer_t*
// per result. Every buffer must be dense and row-major: Halide dimension d is
// tensor dimension rank-1-d (dim 0 is the contiguous last tensor dimension),
// min 0, extents and strides exactly those of the static shape (the kernel
// checks them and returns a nonzero halide_error_code_t otherwise). It returns
// 0 on success. The object is compiled with Target::NoRuntime: link it with
// one object from compileHalideRuntime() for the same target. Before the
// nonzero return, the kernel reports the error through halide_error(), whose
// default handler in Halide's runtime prints and calls abort(): a host that
// wants the error code must first install its own handler with
// halide_set_error_handler() (exported by the runtime object).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HALIDE_KERNELCOMPILER_H
#define TXL_CODEGEN_HALIDE_KERNELCOMPILER_H

#include "txl/support/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace txl::schedule {
struct KernelSchedule;
} // namespace txl::schedule

namespace txl::codegen::halide {

using schedule::KernelSchedule;

/// Element types of kernel tensors.
enum class ElementKind { F32, I64, I32 };
const char *elementKindName(ElementKind kind);

/// A kernel argument or result as the compiled code sees it.
struct KernelValueInfo {
  enum class Kind { Tensor, Scalar };
  Kind kind = Kind::Tensor;
  ElementKind element = ElementKind::F32;
  /// Row-major static shape (empty for scalars and rank-0 tensors).
  std::vector<int64_t> shape;
  /// For scalars: true for `index` (passed as int64_t like i64).
  bool isIndex = false;
  /// The C parameter name in the compiled function.
  std::string name;
};

/// The compiled function's signature.
struct KernelSignature {
  std::string name;
  std::vector<KernelValueInfo> arguments;
  std::vector<KernelValueInfo> results;
  /// `int name(struct halide_buffer_t *arg0, int64_t arg1, ...);`
  std::string cPrototype() const;
};

/// The signature of a kernel, from its types alone (no Halide involved).
StatusOr<KernelSignature> kernelSignature(mlir::func::FuncOp kernel);

/// Choices shared by compileKernel and jitRun.
struct CodegenOptions {
  /// Used instead of the kernel's `txl.schedule` attribute when set.
  const KernelSchedule *schedule = nullptr;
  /// Ignore the attribute and use the default schedule everywhere.
  bool defaultScheduleOnly = false;
};

/// Which files compileKernel writes besides `<outputBase>.o`.
struct KernelArtifacts {
  bool stmt = false;     // <outputBase>.stmt: Halide's lowered statement
  bool assembly = false; // <outputBase>.s
  bool cHeader = false;  // <outputBase>.h: the C prototype
};

/// What compileKernel wrote.
struct CompiledKernel {
  KernelSignature signature;
  std::string objectPath, stmtPath, assemblyPath, headerPath;
  /// Seconds spent in Halide (lowering and LLVM).
  double compileSeconds = 0;
};

/// OK when a kernel whose schedule was planned for `planned` (its
/// `txl.target`) may be compiled for `target`: the same vector width and
/// registers, both CPU or both GPU; otherwise an error naming both.
Status checkPlannedTarget(const std::string &planned,
                          const std::string &target);

/// Compiles `kernel` for `target` (a Halide target string: "host",
/// "x86-64-linux-avx512", "host-cuda-cuda_capability_86", ...; NoRuntime is
/// added) to `<outputBase>.o` with a function named after the kernel's symbol.
StatusOr<CompiledKernel> compileKernel(mlir::func::FuncOp kernel,
                                       const std::string &target,
                                       const std::string &outputBase,
                                       const KernelArtifacts &artifacts = {},
                                       const CodegenOptions &options = {});

/// Writes one object with Halide's runtime for `target` (thread pool, buffer
/// helpers, and for GPU targets the device API): link it once per model.
Status compileHalideRuntime(const std::string &target,
                            const std::string &objectPath);

/// A dense row-major tensor in host memory; only the vector matching
/// `element` is used.
struct HostTensor {
  ElementKind element = ElementKind::F32;
  std::vector<int64_t> shape;
  std::vector<float> f32;
  std::vector<int64_t> i64;
  std::vector<int32_t> i32;

  static HostTensor ofF32(std::vector<int64_t> shape, std::vector<float> data);
  static HostTensor ofI64(std::vector<int64_t> shape,
                          std::vector<int64_t> data);
  static HostTensor ofI32(std::vector<int64_t> shape,
                          std::vector<int32_t> data);
  int64_t numElements() const;
};

/// JIT-compiles `kernel` for the host and runs it once: `inputs` are its
/// tensor arguments and `scalars` its scalar arguments, each in order.
/// Returns the results. For tests and experiments.
StatusOr<std::vector<HostTensor>>
jitRun(mlir::func::FuncOp kernel, const std::vector<HostTensor> &inputs,
       const std::vector<int64_t> &scalars = {},
       const CodegenOptions &options = {});

/// The dialects a kernel may use (func, linalg, arith, math, tensor).
void registerKernelDialects(mlir::DialectRegistry &registry);

} // namespace txl::codegen::halide

#endif // TXL_CODEGEN_HALIDE_KERNELCOMPILER_H
