//===- txlc.cpp - the txl compiler driver: a model definition to model.so -===//
//
// txlc MODEL -o OUT [--emit=...]: builds the txl module of a model (a model
// directory or its config.json, or a .mlir file in the txl dialect with a
// @step), lowers it (txl-window-memory, txl-decompose, txl-fuse, txl-tile),
// compiles each kernel with Halide, generates the host step through MLIR's
// LLVM dialect and links everything into a shared library. Every stage can be
// emitted on its own (docs/CODEGEN.md). MLIR's standard flags apply
// (--mlir-print-ir-after-all, --mlir-timing, ...).
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"
#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/codegen/host/HostCodegen.h"
#include "txl/codegen/host/Linker.h"
#include "txl/codegen/host/StepProgram.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/ModelConfig.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Support/Timing.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

namespace cl = llvm::cl;
using namespace txl;
using namespace txl::codegen;

namespace {

cl::OptionCategory txlcCategory("txlc options");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<model directory, config.json or "
                                        ".mlir file>"),
                               cl::cat(txlcCategory));
cl::opt<std::string> outputPath("o",
                                cl::desc("Output path (default: "
                                         "model.so, or - for text "
                                         "stages)"),
                                cl::value_desc("path"), cl::init(""),
                                cl::cat(txlcCategory));

enum class Emit { Mlir, Linalg, Plan, Kernels, HalideStmt, Llvm, Asm, Obj, So };
cl::opt<Emit> emit(
    "emit", cl::desc("What to produce"), cl::init(Emit::So),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir", "the model in the txl dialect"),
        clEnumValN(Emit::Linalg, "linalg",
                   "after decompose, fuse and tile: txl.kernel regions of "
                   "linalg"),
        clEnumValN(Emit::Plan, "plan",
                   "the kernel calls and the memory plan (text)"),
        clEnumValN(Emit::Kernels, "kernels",
                   "a directory with each kernel's .mlir, .o, .stmt and .s"),
        clEnumValN(Emit::HalideStmt, "halide-stmt",
                   "Halide's lowered statement of every kernel"),
        clEnumValN(Emit::Llvm, "llvm", "the host step in LLVM IR"),
        clEnumValN(Emit::Asm, "asm", "the host step in assembly"),
        clEnumValN(Emit::Obj, "obj",
                   "one relocatable object: host code, kernels and Halide's "
                   "runtime"),
        clEnumValN(Emit::So, "so", "a shared library (the default)")),
    cl::cat(txlcCategory));

cl::opt<std::string> target("target",
                            cl::desc("Halide target string for the kernels "
                                     "(host, x86-64-linux-avx512, ...)"),
                            cl::init("host"), cl::cat(txlcCategory));
cl::opt<int64_t> batch("batch", cl::desc("Batch rows B compiled in"),
                       cl::init(1), cl::cat(txlcCategory));
cl::opt<int64_t> tgtLen("tgt-len",
                        cl::desc("Segment length T compiled in (default: "
                                 "the config's tgt_len)"),
                        cl::init(0), cl::cat(txlcCategory));
cl::opt<std::string> fuseMode("txl-fuse",
                              cl::desc("Kernel fusion: default or none (one "
                                       "kernel per linalg op)"),
                              cl::init("default"), cl::cat(txlcCategory));
cl::opt<std::string>
    tileMode("txl-tile",
             cl::desc("Schedules: heuristic (txl-tile writes one per "
                      "kernel; the default) or none (codegen's default "
                      "schedule)"),
             cl::init("heuristic"), cl::cat(txlcCategory));
cl::opt<std::string> configPath(
    "config",
    cl::desc("config.json recorded in the model when the input is a .mlir "
             "file"),
    cl::init(""), cl::cat(txlcCategory));
cl::opt<bool> keepTemps("keep-temps",
                        cl::desc("Keep the intermediate objects (printed)"),
                        cl::init(false), cl::cat(txlcCategory));
cl::opt<bool> verbose("v", cl::desc("Report each stage and its time"),
                      cl::init(false), cl::cat(txlcCategory));

int fail(const std::string &message) {
  llvm::errs() << "txlc: error: " << message << "\n";
  return 1;
}

std::string readFile(const std::string &path, bool &ok) {
  auto buffer = llvm::MemoryBuffer::getFile(path);
  ok = bool(buffer);
  return ok ? (*buffer)->getBuffer().str() : std::string();
}

/// Writes text to `path` ("-" is stdout), all or nothing.
Status writeText(const std::string &path, const std::string &text) {
  std::string error;
  auto file = mlir::openOutputFile(path, &error);
  if (!file)
    return Status::error(error);
  file->os() << text;
  file->keep();
  return Status::ok();
}

std::string defaultOutput() {
  switch (emit) {
  case Emit::So:
    return "model.so";
  case Emit::Obj:
    return "model.o";
  case Emit::Kernels:
    return "kernels";
  default:
    return "-";
  }
}

/// A temporary directory that goes away unless --keep-temps.
struct WorkDir {
  std::string path;
  ~WorkDir() {
    if (!path.empty() && !keepTemps)
      llvm::sys::fs::remove_directories(path);
  }
};

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "txlc: compiles a Transformer-XL model to native code\n\n"
      "  MODEL is a model directory (config.json), a config.json, or a .mlir\n"
      "  file in the txl dialect with a @step. The default output is a\n"
      "  shared library implementing runtime/include/txl/runtime/ModelABI.h,\n"
      "  run it with txl-run. See docs/CODEGEN.md.\n");
  if (outputPath.empty())
    outputPath = defaultOutput();
  if (fuseMode != "default" && fuseMode != "none")
    return fail("--txl-fuse must be 'default' or 'none', not '" + fuseMode +
                "'");
  if (tileMode != "heuristic" && tileMode != "none")
    return fail("--txl-tile must be 'heuristic' or 'none', not '" + tileMode +
                "'");
  if (batch < 1)
    return fail("--batch must be at least 1");

  mlir::DialectRegistry registry;
  registry.insert<TxlDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
  halide::registerKernelDialects(registry);
  host::registerHostCodegenDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();

  mlir::DefaultTimingManager timing;
  mlir::applyDefaultTimingManagerCLOptions(timing);
  mlir::TimingScope rootTiming = timing.getRootScope();

  // --- The model in the txl dialect --------------------------------------
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string configJson = "{}";
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);
  {
    mlir::TimingScope scope = rootTiming.nest("build model");
    std::string path = inputPath;
    if (llvm::sys::fs::is_directory(path))
      path = (llvm::Twine(path) + "/config.json").str();
    if (llvm::StringRef(path).ends_with(".mlir")) {
      module = mlir::parseSourceFile<mlir::ModuleOp>(path, sourceMgr, &context);
      if (!module)
        return fail(path + ": cannot parse");
      if (!module->lookupSymbol<mlir::func::FuncOp>("step"))
        return fail(path + ": no func.func @step");
      if (!configPath.empty()) {
        bool ok;
        configJson = readFile(configPath, ok);
        if (!ok)
          return fail(configPath + ": cannot read");
      }
    } else {
      bool ok;
      configJson = readFile(path, ok);
      if (!ok)
        return fail(path + ": cannot read (expected a model directory with "
                           "a config.json, a config.json or a .mlir file)");
      auto config = ModelConfig::fromJsonString(configJson, path);
      if (!config.ok())
        return fail(config.status().message());
      int64_t length = tgtLen ? int64_t(tgtLen) : config->tgt_len.value_or(0);
      if (length < 1)
        return fail(path + " has no tgt_len: give the segment length with "
                           "--tgt-len");
      StepShape shape;
      shape.batch = batch;
      shape.segmentLength = length;
      shape.maxSegmentLength = length;
      module = buildModelModule(context, *config, shape);
      if (!module || mlir::failed(mlir::verify(*module)))
        return fail(path + ": the model does not build");
    }
  }
  if (emit == Emit::Mlir) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    Status status = writeText(outputPath, text);
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- Lowering: window memory, decompose, fuse, tile --------------------
  {
    mlir::PassManager pm(&context);
    if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
      return fail("bad pass manager options");
    mlir::TimingScope lowerTiming = rootTiming.nest("lower");
    pm.enableTiming(lowerTiming);
    bool windowed = false;
    if (auto step = module->lookupSymbol<mlir::func::FuncOp>("step"))
      windowed =
          step.getNumArguments() >= 3 && step.getArgumentTypes()[1].isIndex();
    if (!windowed)
      pm.addPass(createTxlWindowMemory());
    pm.addPass(createTxlDecompose());
    TxlFuseOptions fuse;
    fuse.mode = fuseMode;
    pm.addPass(createTxlFuse(fuse));
    if (tileMode == "heuristic") {
      TxlTileOptions tile;
      tile.target = target;
      pm.addPass(createTxlTile(tile));
    }
    if (mlir::failed(pm.run(*module)))
      return fail("lowering failed");
  }
  if (emit == Emit::Linalg) {
    std::string text;
    llvm::raw_string_ostream os(text);
    module->print(os);
    Status status = writeText(outputPath, text);
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- Outline kernels, plan memory ---------------------------------------
  auto step = module->lookupSymbol<mlir::func::FuncOp>("step");
  if (!step)
    return fail("no @step after lowering");
  mlir::OwningOpRef<mlir::ModuleOp> kernels =
      mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  StatusOr<host::StepProgram> program = [&] {
    mlir::TimingScope scope = rootTiming.nest("outline and plan");
    return host::analyzeStep(step, *kernels);
  }();
  if (!program.ok())
    return fail(program.status().message());
  if (emit == Emit::Plan) {
    Status status = writeText(outputPath, program->describe());
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- Host code ----------------------------------------------------------
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> hostModule;
  if (emit == Emit::Llvm || emit == Emit::Asm || emit == Emit::Obj ||
      emit == Emit::So) {
    mlir::TimingScope scope = rootTiming.nest("host code");
    host::ModelDescription description;
    description.target = target;
    description.configJson = configJson;
    auto built =
        host::buildHostLLVMModule(context, llvmContext, *program, description);
    if (!built.ok())
      return fail(built.status().message());
    hostModule = std::move(*built);
  }
  if (emit == Emit::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    hostModule->print(os, nullptr);
    Status status = writeText(outputPath, text);
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- A work directory for objects ----------------------------------------
  WorkDir work;
  std::string kernelDir;
  if (emit == Emit::Kernels) {
    kernelDir = outputPath;
    if (std::error_code error = llvm::sys::fs::create_directories(kernelDir))
      return fail(kernelDir + ": cannot create: " + error.message());
  } else {
    llvm::SmallString<128> dir;
    if (std::error_code error =
            llvm::sys::fs::createUniqueDirectory("txlc", dir))
      return fail("cannot create a temporary directory: " + error.message());
    work.path = dir.str().str();
    kernelDir = work.path;
    if (keepTemps)
      llvm::errs() << "txlc: intermediates in " << work.path << "\n";
  }

  if (emit == Emit::Asm) {
    std::string path = kernelDir + "/host.s";
    Status status = host::emitHostObject(*hostModule, path, true);
    if (!status.isOk())
      return fail(status.message());
    bool ok;
    std::string text = readFile(path, ok);
    status = writeText(outputPath, text);
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- Kernels with Halide --------------------------------------------------
  std::vector<std::string> objects;
  std::string stmts;
  {
    mlir::TimingScope scope = rootTiming.nest("kernels (Halide)");
    halide::KernelArtifacts artifacts;
    artifacts.stmt = emit == Emit::Kernels || emit == Emit::HalideStmt;
    artifacts.assembly = emit == Emit::Kernels;
    artifacts.cHeader = emit == Emit::Kernels;
    auto start = std::chrono::steady_clock::now();
    size_t index = 0;
    for (auto func : kernels->getOps<mlir::func::FuncOp>()) {
      std::string base = kernelDir + "/" + func.getSymName().str();
      if (emit == Emit::Kernels) {
        std::string text;
        llvm::raw_string_ostream os(text);
        func.print(os);
        Status status = writeText(base + ".mlir", text + "\n");
        if (!status.isOk())
          return fail(status.message());
      }
      auto kernelStart = std::chrono::steady_clock::now();
      auto compiled = halide::compileKernel(func, target, base, artifacts);
      if (!compiled.ok())
        return fail("kernel " + func.getSymName().str() + " (" +
                    program->calls[index].kernelName +
                    "): " + compiled.status().message());
      if (verbose)
        llvm::errs() << "txlc: " << func.getSymName() << ": "
                     << llvm::format("%.2f", secondsSince(kernelStart))
                     << " s\n";
      objects.push_back(compiled->objectPath);
      if (!compiled->stmtPath.empty()) {
        bool ok;
        stmts += "// ===== " + func.getSymName().str() + " (" +
                 program->calls[index].kernelName + ") =====\n" +
                 readFile(compiled->stmtPath, ok) + "\n";
      }
      ++index;
    }
    if (verbose)
      llvm::errs() << "txlc: " << index << " kernels in "
                   << llvm::format("%.2f", secondsSince(start)) << " s\n";
  }
  if (emit == Emit::HalideStmt) {
    Status status = writeText(outputPath, stmts);
    return status.isOk() ? 0 : fail(status.message());
  }
  if (emit == Emit::Kernels) {
    Status status = writeText(kernelDir + "/plan.txt", program->describe());
    return status.isOk() ? 0 : fail(status.message());
  }

  // --- Host object, Halide runtime, link ------------------------------------
  {
    mlir::TimingScope scope = rootTiming.nest("host object and link");
    std::string hostObject = kernelDir + "/host.o";
    Status status = host::emitHostObject(*hostModule, hostObject);
    if (!status.isOk())
      return fail(status.message());
    std::string runtimeObject = kernelDir + "/halide_runtime.o";
    status = halide::compileHalideRuntime(target, runtimeObject);
    if (!status.isOk())
      return fail("Halide runtime: " + status.message());
    objects.insert(objects.begin(), hostObject);
    objects.push_back(runtimeObject);
    status = host::linkObjects(objects, outputPath,
                               emit == Emit::So ? host::LinkKind::SharedLibrary
                                                : host::LinkKind::Relocatable);
    if (!status.isOk())
      return fail(status.message());
  }
  return 0;
}
