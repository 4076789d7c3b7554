//===- CompileCandidate.cpp - one candidate kernel to a shared library ----===//
//
// `txl-tune compile-candidate KERNEL.mlir --target T --runtime R.o -o OUT.so`
// (run by the tuner in a child process with a time limit): the kernel
// compiled by compileKernel for T, as txlc compiles every kernel, then
// linked with Halide's runtime object into a library the worker loads.
//
//===----------------------------------------------------------------------===//

#include "Commands.h"

#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/codegen/host/Linker.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Parser/Parser.h"

#include "llvm/Support/FileSystem.h"

namespace txl::tune {

int runCompileCandidate(const std::vector<std::string> &argv) {
  auto args = Arguments::parse(argv, {"target", "runtime", "o"}, {});
  if (!args.ok())
    return fail(args.status().message());
  if (args->positional.size() != 1 || !args->has("o") || !args->has("runtime"))
    return fail("usage: txl-tune compile-candidate KERNEL.mlir --target T "
                "--runtime R.o -o OUT.so");
  mlir::DialectRegistry registry;
  tuner::registerModelDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  const std::string &path = args->positional[0];
  auto module = mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
  if (!module)
    return fail(path + ": cannot parse");
  auto func = module->lookupSymbol<mlir::func::FuncOp>("txl_tune_kernel");
  if (!func)
    return fail(path + ": no func.func @txl_tune_kernel");
  std::string out = args->get("o", "");
  std::string base = out + ".kernel";
  auto kernel =
      codegen::halide::compileKernel(func, args->get("target", "host"), base);
  if (!kernel.ok())
    return fail(path + ": " + kernel.status().message());
  Status status =
      codegen::host::linkObjects({kernel->objectPath, args->get("runtime", "")},
                                 out, codegen::host::LinkKind::SharedLibrary);
  llvm::sys::fs::remove(kernel->objectPath);
  if (!status.isOk())
    return fail(status.message());
  return 0;
}

} // namespace txl::tune
