//===- HostCodegen.h - host code through MLIR's LLVM dialect ----*- C++ -*-===//
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
#include "txl/support/Status.h"

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
  /// A file whose bytes become the model's embedded weights
  /// (`txl_model_embedded_weights`, ModelABI.h); empty: none. Only its size
  /// is read when the module is built; emitHostObject copies it into the
  /// object, so it must not change in between.
  std::string embeddedWeightsPath;
  /// Likewise for the vocabulary (`txl_model_vocabulary`); empty: none.
  std::string vocabularyPath;
};

/// Registers the dialects and translations host code generation needs.
void registerHostCodegenDialects(mlir::DialectRegistry &registry);

/// `txl_model_step` and the kernel declarations as an LLVM dialect module.
/// With `deviceKernels` (a GPU target) every kernel call is followed by a
/// call of `txl_device_sync` (declared here; buildHostLLVMModule defines it).
mlir::OwningOpRef<mlir::ModuleOp>
buildHostStepModule(mlir::MLIRContext &context, const StepProgram &program,
                    bool deviceKernels = false);

/// The whole host module in LLVM IR: the step (translated from
/// buildHostStepModule's module), `txl_model_describe`,
/// `txl_model_set_error_handler` (which forwards to the Halide runtime's
/// `halide_set_error_handler`, so the model must be linked with one) and,
/// when `description` names their files, `txl_model_embedded_weights` and
/// `txl_model_vocabulary`; with the host's triple and data layout.
///
/// An embedded file is never loaded into the module: module-level assembly
/// reserves room for it in a read-only section of its own (`.lrodata.txl_*`
/// on x86-64, the large-data section, placed after all other data so a blob
/// of any size pushes nothing out of reach; `.rodata.txl_*` elsewhere;
/// 64-byte aligned for weights), and the named metadata
/// `txl.embedded_files` records the section, the path and the size, for
/// emitHostObject to copy the bytes in. Compiler memory stays constant in
/// the size of the file.
StatusOr<std::unique_ptr<llvm::Module>>
buildHostLLVMModule(mlir::MLIRContext &context, llvm::LLVMContext &llvmContext,
                    const StepProgram &program,
                    const ModelDescription &description);

/// Emits `module` for the host as an object (or assembly) file at `path`
/// (written to a temporary name, then renamed). An object gets the files of
/// `txl.embedded_files` copied into their sections (streamed); assembly shows
/// their room as `.zero SIZE`. Errors (of the assembler, an embedded file
/// that changed size or cannot be read) are returned, not printed.
Status emitHostObject(llvm::Module &module, const std::string &path,
                      bool assembly = false);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_HOSTCODEGEN_H
