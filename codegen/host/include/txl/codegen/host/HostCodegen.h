//===- HostCodegen.h - the step's host code through MLIR's LLVM dialect -*- C++
//-*-===//
//
// Turns a StepProgram into the host half of a compiled model: the function
// `txl_model_step` of runtime/include/txl/runtime/ModelABI.h, built as LLVM
// dialect ops (halide_buffer_t descriptors filled on the stack, one call per
// kernel, early return on a kernel's error, the final memory copies), then
// translated to LLVM IR, completed with `txl_model_describe` (built with the
// LLVM IR API) and emitted as an object for the host with LLVM's
// TargetMachine.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_HOSTCODEGEN_H
#define TXL_CODEGEN_HOST_HOSTCODEGEN_H

#include "txl/codegen/host/StepProgram.h"
#include "txl/runtime/Status.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <memory>
#include <string>

namespace llvm {
class LLVMContext;
class Module;
} // namespace llvm

namespace txl::codegen::host {

/// What the model descriptor records besides the program's shapes.
struct ModelDescription {
  /// The Halide target string the kernels were compiled for.
  std::string target = "host";
  /// The config.json text the model was compiled from.
  std::string configJson = "{}";
};

/// Registers the dialects and translations host code generation needs.
void registerHostCodegenDialects(mlir::DialectRegistry &registry);

/// `txl_model_step` and the kernel declarations as an LLVM dialect module.
mlir::OwningOpRef<mlir::ModuleOp>
buildHostStepModule(mlir::MLIRContext &context, const StepProgram &program);

/// The whole host module in LLVM IR: the step (translated from
/// buildHostStepModule's module) and `txl_model_describe`, with the host's
/// triple and data layout.
StatusOr<std::unique_ptr<llvm::Module>>
buildHostLLVMModule(mlir::MLIRContext &context, llvm::LLVMContext &llvmContext,
                    const StepProgram &program,
                    const ModelDescription &description);

/// Emits `module` for the host as an object (or assembly) file at `path`
/// (written to a temporary name, then renamed).
Status emitHostObject(llvm::Module &module, const std::string &path,
                      bool assembly = false);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_HOSTCODEGEN_H
