//===- txlc.cpp - the txl compiler driver: a model definition to model.so -===//
//
// txlc MODEL -o OUT [--emit=...]: builds the txl module of a model (a model
// directory or its config.json, or a .mlir file in the txl dialect with a
// @step), lowers it (the txl-lower pipeline, txl/Passes/Pipeline.h),
// outlines the kernels and plans memory, compiles each kernel with Halide,
// generates the host step through MLIR's LLVM dialect and links everything
// into a shared library (or a standalone executable, --emit=exe). main runs
// one function per stage, in order, and stops at the one --emit asks for
// (docs/CODEGEN.md). The model directory's vocab.txt is embedded, and with
// --embed-weights its weights too, checked against the model first. MLIR's
// standard flags apply (--mlir-print-ir-after-all, --mlir-timing, ...).
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/Passes.h"
#include "txl/Passes/Pipeline.h"
#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/codegen/host/HostCodegen.h"
#include "txl/codegen/host/Linker.h"
#include "txl/codegen/host/StepProgram.h"
#include "txl/codegen/host/StepVariants.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/ModelConfig.h"
#include "txl/models/WeightBinding.h"
#include "txl/support/Limits.h"
#include "txl/tuner/TuningLookup.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/SymbolTable.h"
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

#include <algorithm>
#include <chrono>
#include <optional>

namespace cl = llvm::cl;
using namespace txl;
using namespace txl::codegen;

namespace {

cl::OptionCategory txlcCategory("Compiling a model (txlc options)");
/// MLIR's own flags (which MLIR registers without a category): the ones that
/// apply to txlc's pipeline, shown by --help beside txlc's.
cl::OptionCategory mlirCategory(
    "MLIR options",
    "MLIR's standard flags: IR printing around the lowering passes, timing "
    "of every stage (--mlir-timing), threading, the pass manager and the IR "
    "printer.");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<model directory, config.json or "
                                        ".mlir file>"),
                               cl::cat(txlcCategory));
cl::opt<std::string> outputPath("o",
                                cl::desc("Output path (default: "
                                         "model.so, model for exe, or - "
                                         "for text stages)"),
                                cl::value_desc("path"), cl::init(""),
                                cl::cat(txlcCategory));

/// What txlc produces, in the order of the stages that produce it: after the
/// plan, the kernels (Kernels, HalideStmt) and the host code (Llvm, Asm) are
/// two branches that the objects (Obj, So, Exe) join.
enum class Emit {
  Mlir,
  Linalg,
  Plan,
  Kernels,
  HalideStmt,
  Llvm,
  Asm,
  Obj,
  So,
  Exe
};
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
        clEnumValN(Emit::So, "so", "a shared library (the default)"),
        clEnumValN(Emit::Exe, "exe",
                   "a standalone executable (the runner's command line; "
                   "with --embed-weights it needs no other file)")),
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
cl::opt<int64_t> scoreSegments(
    "score-segments",
    cl::desc("Segments txl_model_nll scores per call (default 8): scoring "
             "is outside the recurrence, so a runtime scores S steps at "
             "once and the output layer's tail weights stream once per S "
             "segments"),
    cl::init(8), cl::cat(txlcCategory));
cl::opt<std::string> stepVariants(
    "step-variants",
    cl::desc("Steps compiled beside the segment step for fewer tokens per "
             "call, sharing its weights and state (ModelABI.h): lengths "
             "below T, comma-separated, or none (default: 1, the one-token "
             "step of generation; needs a model directory or config.json)"),
    cl::value_desc("lengths"), cl::init("1"), cl::cat(txlcCategory));
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
cl::opt<bool> noKvCache(
    "no-kv-cache",
    cl::desc("Keep hidden memories and project the keys/values of all "
             "mem_len + T rows every segment, as the original algorithm "
             "(default: txl-kv-cache keeps projected keys and values)"),
    cl::init(false), cl::cat(txlcCategory));
cl::opt<bool> keepMems(
    "keep-mems",
    cl::desc("With the key/value cache, also keep the hidden memories so "
             "that txl-run can write `mems` (costs a copy per layer)"),
    cl::init(false), cl::cat(txlcCategory));
cl::opt<bool> noHoist(
    "no-hoist",
    cl::desc("Compute the positional projections in every step instead of "
             "once at load (txl-hoist-invariants)"),
    cl::init(false), cl::cat(txlcCategory));
cl::opt<int> packPanel(
    "pack-weights",
    cl::desc("Panel width P of txl-pack-weights: GEMM weights are packed "
             "once at load into [N/P, K, P] panels (0: read weights as "
             "they are; default: the target's layout.panel_width, 16)"),
    cl::value_desc("P"), cl::init(-1), cl::cat(txlcCategory));
cl::opt<std::string> targetCache(
    "target-cache",
    cl::desc("Cache sizes and cores of the target, for the tiling knobs' "
             "defaults: l1d=32K,l2=1M,l3=32M,cores=2 (any of them; default: "
             "this machine's for host, else docs/TARGETS.md's)"),
    cl::value_desc("spec"), cl::init(""), cl::cat(txlcCategory));
cl::opt<std::string> tileKnobs(
    "tile-knobs",
    cl::desc("Tiling knobs replacing the target's defaults: name=value,... "
             "(e.g. attention.query_rows=16,gemm.l1_weight_bytes=16384; the "
             "list: docs/SCHEDULES.md)"),
    cl::value_desc("knobs"), cl::init(""), cl::cat(txlcCategory));
cl::list<std::string> tuningDbs(
    "tuning-db",
    cl::desc("A tuning database (txl-tune; a file or postgresql://...) whose "
             "best records replace the heuristic's schedules; repeat it, the "
             "first database with a record for a kernel wins; kernels without "
             "one keep the heuristic (docs/TUNING.md)"),
    cl::value_desc("db"), cl::cat(txlcCategory));
cl::opt<bool> tuningDbRequire(
    "tuning-db-require",
    cl::desc("Fail when a kernel has no record in the tuning databases"),
    cl::init(false), cl::cat(txlcCategory));
cl::opt<int64_t> tuningThreads(
    "tuning-threads",
    cl::desc("Thread count whose tuning records are used (records are "
             "measured at a thread count; default 1)"),
    cl::init(1), cl::cat(txlcCategory));
cl::opt<std::string> configPath(
    "config",
    cl::desc("config.json recorded in the model when the input is a .mlir "
             "file"),
    cl::init(""), cl::cat(txlcCategory));
cl::opt<bool> embedWeights(
    "embed-weights",
    cl::desc("Embed the weights in the output (txl_model_embedded_weights): "
             "the model directory's model.safetensors or --weights, checked "
             "against the model before anything is compiled"),
    cl::init(false), cl::cat(txlcCategory));
cl::opt<std::string>
    weightsPath("weights",
                cl::desc("The safetensors file --embed-weights embeds "
                         "(default: model.safetensors of the model "
                         "directory)"),
                cl::value_desc("file"), cl::init(""), cl::cat(txlcCategory));
cl::opt<std::string> vocabPath(
    "vocab",
    cl::desc("The vocabulary to embed (txl_model_vocabulary), one token per "
             "line (default: vocab.txt of the model directory, if any)"),
    cl::value_desc("file"), cl::init(""), cl::cat(txlcCategory));
cl::opt<bool> noVocab("no-vocab", cl::desc("Embed no vocabulary"),
                      cl::init(false), cl::cat(txlcCategory));
cl::opt<std::string> exeSupport(
    "exe-support",
    cl::desc("The static library that completes --emit=exe (main(), the "
             "runner, the runtime; default: ../lib/libTxlExecutableSupport.a "
             "beside txlc, else the build tree's)"),
    cl::value_desc("archive"), cl::init(""), cl::cat(txlcCategory));
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
  case Emit::Exe:
    return "model";
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

/// --help lists txlc's options and MLIR's, not the hundreds LLVM registers.
void showOnlyTxlcAndMlirOptions() {
  for (auto &entry : cl::getRegisteredOptions())
    if (entry.getKey().starts_with("mlir-"))
      entry.getValue()->addCategory(mlirCategory);
  cl::HideUnrelatedOptions({&txlcCategory, &mlirCategory});
}

/// `path` made absolute (as the host module records embedded files).
std::string absolutePath(const std::string &path) {
  llvm::SmallString<256> absolute(path);
  llvm::sys::fs::make_absolute(absolute);
  llvm::sys::path::remove_dots(absolute, /*remove_dot_dot=*/true);
  return absolute.str().str();
}

/// Checks a vocabulary against the model: one token per line, line i is
/// token id i, so it must have vocab_size lines (the last may lack its
/// newline).
Status checkVocabulary(const std::string &path, const ModelConfig *config) {
  bool ok;
  std::string text = readFile(path, ok);
  if (!ok)
    return Status::error(path + ": cannot read the vocabulary");
  int64_t lines = std::count(text.begin(), text.end(), '\n');
  if (!text.empty() && text.back() != '\n')
    ++lines;
  if (config && lines != config->vocab_size)
    return Status::error(path + ": " + std::to_string(lines) +
                         " lines, but the model's vocab_size is " +
                         std::to_string(config->vocab_size) +
                         " (one token per line, line i is token id i); "
                         "--vocab gives another file, --no-vocab none");
  return Status::ok();
}

/// Checks the weights that --embed-weights embeds, as the runtime will check
/// them when it loads the model: every parameter of the config present with
/// its shape, nothing else (BoundWeights::bind), then every weight the
/// compiled step reads present with the shape it was compiled for.
Status checkWeightsForModel(const BoundWeights &weights,
                            const std::string &path,
                            const host::StepProgram &program) {
  for (const host::WeightEntry &wanted : program.weights) {
    std::string prefix = path + ": tensor '" + wanted.name + "': ";
    const BoundTensor *tensor = weights.find(wanted.name);
    if (!tensor)
      return Status::error(prefix + "missing (the compiled step reads it)");
    std::vector<int64_t> expected(wanted.shape.begin(), wanted.shape.end());
    if (tensor->shape != expected) {
      auto text = [](const std::vector<int64_t> &shape) {
        std::string out = "[";
        for (size_t i = 0; i < shape.size(); ++i)
          out += (i ? ", " : "") + std::to_string(shape[i]);
        return out + "]";
      };
      return Status::error(prefix + "wrong shape, expected " + text(expected) +
                           " (compiled into the model), found " +
                           text(tensor->shape));
    }
  }
  return Status::ok();
}

/// The archive that completes an executable: --exe-support, else
/// ../lib/libTxlExecutableSupport.a beside this txlc (an installed txlc and
/// the build tree share that layout), else the one the build made.
StatusOr<std::string> findExecutableSupport(const char *argv0) {
  if (!exeSupport.empty()) {
    if (!llvm::sys::fs::exists(exeSupport))
      return Status::error(exeSupport + ": no such file (--exe-support)");
    return std::string(exeSupport);
  }
  std::vector<std::string> candidates;
  std::string self = llvm::sys::fs::getMainExecutable(
      argv0, reinterpret_cast<void *>(&findExecutableSupport));
  if (!self.empty()) {
    llvm::SmallString<256> beside(llvm::sys::path::parent_path(self));
    llvm::sys::path::append(beside, "..", "lib", "libTxlExecutableSupport.a");
    llvm::sys::path::remove_dots(beside, /*remove_dot_dot=*/true);
    candidates.push_back(beside.str().str());
  }
#ifdef TXL_EXECUTABLE_SUPPORT_ARCHIVE
  candidates.push_back(TXL_EXECUTABLE_SUPPORT_ARCHIVE);
#endif
  std::string tried;
  for (const std::string &candidate : candidates) {
    if (llvm::sys::fs::exists(candidate))
      return candidate;
    tried += (tried.empty() ? "" : ", ") + candidate;
  }
  return Status::error("--emit=exe needs libTxlExecutableSupport.a (main() "
                       "and the runtime), not found (tried: " +
                       (tried.empty() ? std::string("nothing") : tried) +
                       "); give it with --exe-support");
}

// --- The stages, in order; main runs them up to --emit -------------------

/// The model in the txl dialect and what it was built from.
struct Model {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::string configJson = "{}";
  /// The folder of config.json (a model directory), where model.safetensors
  /// and vocab.txt are looked for; empty for a .mlir input.
  std::string modelDir;
  std::optional<ModelConfig> config;
  /// The lengths of the step variants to compile (--step-variants).
  std::vector<int64_t> variantLengths;
};

/// What the output embeds, checked before anything is compiled.
struct EmbeddedFiles {
  /// The weights, bound to the config; checked again against the plan.
  std::optional<BoundWeights> boundWeights;
  std::string weightsPath, vocabularyPath;
};

/// The compiled kernels: their objects, and Halide's statements when asked.
struct CompiledKernels {
  std::vector<std::string> objects;
  std::string stmts;
};

/// `config` (a JSON object's text) with "txl_tuning": `records` added as
/// its first member.
std::string withTuningRecords(const std::string &config,
                              const std::string &records) {
  size_t open = config.find('{');
  if (open == std::string::npos)
    return config;
  size_t next = config.find_first_not_of(" \t\r\n", open + 1);
  bool empty = next != std::string::npos && config[next] == '}';
  return config.substr(0, open + 1) + "\"txl_tuning\": " + records +
         (empty ? "" : ", ") + config.substr(open + 1);
}

/// The text of `op` as MLIR prints it.
std::string printed(mlir::Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  op->print(os);
  return text;
}

/// Checks the flags that do not depend on the model.
Status checkFlags() {
  if (tuningDbRequire && tuningDbs.empty())
    return Status::error("--tuning-db-require needs --tuning-db");
  if (tuningThreads < 1)
    return Status::error("--tuning-threads must be at least 1");
  if (!weightsPath.empty() && !embedWeights)
    return Status::error("--weights names the weights to embed: it needs "
                         "--embed-weights");
  if (noVocab && !vocabPath.empty())
    return Status::error("--vocab and --no-vocab contradict each other");
  return Status::ok();
}

/// Checks the flags of the lowering and of the step's shape.
/// txl-lower's options from txlc's flags.
void setLoweringOptions(TxlLowerOptions &options) {
  options.target = target.getValue();
  options.targetCache = targetCache.getValue();
  options.knobs = tileKnobs.getValue();
  options.kvCache = !noKvCache;
  options.keepMemories = keepMems.getValue();
  options.hoist = !noHoist;
  options.packPanel = packPanel.getValue();
  options.fuse = fuseMode == "none" ? FuseMode::None : FuseMode::Default;
  options.tile = tileMode == "none" ? TileMode::None : TileMode::Heuristic;
}

Status checkLoweringFlags() {
  if (fuseMode != "default" && fuseMode != "none")
    return Status::error("--txl-fuse must be 'default' or 'none', not '" +
                         fuseMode + "'");
  if (tileMode != "heuristic" && tileMode != "none")
    return Status::error("--txl-tile must be 'heuristic' or 'none', not '" +
                         tileMode + "'");
  if (batch < 1)
    return Status::error("--batch must be at least 1");
  if (batch > limits::kMaxBatch)
    return Status::error(
        "--batch too large, expected <= " + std::to_string(limits::kMaxBatch) +
        ", found " + std::to_string(batch));
  if (tgtLen < 0 || tgtLen > limits::kMaxSegmentLength)
    return Status::error("--tgt-len out of range, expected 1 to " +
                         std::to_string(limits::kMaxSegmentLength) +
                         ", found " + std::to_string(tgtLen));
  if (scoreSegments < 1)
    return Status::error("--score-segments must be at least 1");
  if (packPanel < -1)
    return Status::error("--pack-weights must be 0 (off) or a panel width");
  // The target, its caches and the knobs, checked before anything is built.
  TxlLowerOptions options;
  setLoweringOptions(options);
  if (StatusOr<tiling::TileKnobs> knobs = resolveKnobs(options); !knobs.ok())
    return Status::error("--target/--target-cache/--tile-knobs: " +
                         knobs.status().message());
  return Status::ok();
}

/// The lengths of --step-variants below `segmentLength`, increasing and
/// distinct; lengths >= T are an error (the segment step holds them).
StatusOr<std::vector<int64_t>> stepVariantLengths(int64_t segmentLength) {
  std::vector<int64_t> lengths;
  if (stepVariants == "none")
    return lengths;
  llvm::SmallVector<llvm::StringRef> items;
  llvm::StringRef(stepVariants).split(items, ',');
  for (llvm::StringRef item : items) {
    int64_t length = 0;
    if (item.trim().getAsInteger(10, length) || length < 1)
      return Status::error("--step-variants: '" + item.str() +
                           "' is not a length >= 1 (expected lengths "
                           "like 1,4 or none)");
    if (length >= segmentLength) {
      if (stepVariants.getNumOccurrences() == 0)
        continue; // the default on a model with T = 1: nothing to add
      return Status::error("--step-variants: " + std::to_string(length) +
                           " is not below the segment length " +
                           std::to_string(segmentLength));
    }
    lengths.push_back(length);
  }
  std::sort(lengths.begin(), lengths.end());
  lengths.erase(std::unique(lengths.begin(), lengths.end()), lengths.end());
  return lengths;
}

/// Stage 1: the model in the txl dialect, parsed from a .mlir file or built
/// from a config.json.
StatusOr<Model> buildModel(mlir::MLIRContext &context,
                           llvm::SourceMgr &sourceMgr) {
  Model model;
  std::string path = inputPath;
  if (llvm::sys::fs::is_directory(path))
    path = (llvm::Twine(path) + "/config.json").str();
  if (llvm::StringRef(path).ends_with(".mlir")) {
    model.module =
        mlir::parseSourceFile<mlir::ModuleOp>(path, sourceMgr, &context);
    if (!model.module)
      return Status::error(path + ": cannot parse");
    if (!model.module->lookupSymbol<mlir::func::FuncOp>("step"))
      return Status::error(path + ": no func.func @step");
    // A step alone cannot be built again for fewer tokens: no variants.
    if (stepVariants.getNumOccurrences() && stepVariants != "none")
      return Status::error("--step-variants needs the model's config (a model "
                           "directory or config.json) to build the steps; " +
                           path + " is a step alone");
    if (!configPath.empty()) {
      bool ok;
      model.configJson = readFile(configPath, ok);
      if (!ok)
        return Status::error(configPath + ": cannot read");
      auto config = ModelConfig::fromJsonString(model.configJson, configPath);
      if (!config.ok())
        return config.status();
      model.config = std::move(*config);
    }
    return model;
  }
  bool ok;
  model.configJson = readFile(path, ok);
  if (!ok)
    return Status::error(path + ": cannot read (expected a model directory "
                                "with a config.json, a config.json or a "
                                ".mlir file)");
  auto config = ModelConfig::fromJsonString(model.configJson, path);
  if (!config.ok())
    return config.status();
  model.config = *config;
  model.modelDir = llvm::sys::path::parent_path(path).str();
  if (model.modelDir.empty())
    model.modelDir = ".";
  int64_t length = tgtLen ? int64_t(tgtLen) : config->tgt_len.value_or(0);
  if (length < 1)
    return Status::error(path + " has no tgt_len: give the segment length "
                                "with --tgt-len");
  StatusOr<std::vector<int64_t>> lengths = stepVariantLengths(length);
  if (!lengths.ok())
    return lengths.status();
  model.variantLengths = std::move(*lengths);
  StepShape shape;
  shape.batch = batch;
  shape.segmentLength = length;
  shape.maxSegmentLength = length;
  shape.scoreSegments = scoreSegments;
  model.module = buildModelModule(context, *config, shape);
  if (!model.module || mlir::failed(mlir::verify(*model.module)))
    return Status::error(path + ": the model does not build");
  return model;
}

/// Stage 2: the weights and vocabulary the output embeds, checked against
/// the model.
StatusOr<EmbeddedFiles> checkEmbeddedFiles(const Model &model) {
  EmbeddedFiles files;
  if (embedWeights) {
    if (!model.config)
      return Status::error("--embed-weights needs the model's config.json to "
                           "check the weights: give it with --config");
    std::string path = weightsPath;
    if (path.empty()) {
      if (model.modelDir.empty())
        return Status::error("--embed-weights: no model directory to take "
                             "model.safetensors from: give the file with "
                             "--weights");
      path = model.modelDir + "/model.safetensors";
    }
    auto bound = BoundWeights::bind(*model.config, path);
    if (!bound.ok())
      return Status::error(bound.status().message() + " (--embed-weights)");
    files.boundWeights.emplace(std::move(*bound));
    files.weightsPath = path;
  }
  std::string vocab = vocabPath;
  if (vocab.empty() && !noVocab && !model.modelDir.empty() &&
      llvm::sys::fs::exists(model.modelDir + "/vocab.txt"))
    vocab = model.modelDir + "/vocab.txt";
  if (!vocab.empty()) {
    Status status =
        checkVocabulary(vocab, model.config ? &*model.config : nullptr);
    if (!status.isOk())
      return status;
    files.vocabularyPath = vocab;
  }
  return files;
}

/// Stage 3: the txl-lower pipeline (passes/lib/Pipeline.cpp) with the
/// options of txlc's flags; with `tuning`, the --tuning-db lookup before
/// txl-tile (without, the heuristic plans every kernel).
Status lower(mlir::ModuleOp module, mlir::TimingScope &timing,
             tuner::TuningLookupResult *tuning) {
  mlir::PassManager pm(module.getContext());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return Status::error("bad pass manager options");
  pm.enableTiming(timing);
  TxlLowerOptions options;
  setLoweringOptions(options);
  tuner::TuningLookupOptions lookup;
  lookup.databases.assign(tuningDbs.begin(), tuningDbs.end());
  lookup.target = target;
  lookup.targetCache = targetCache;
  lookup.threads = tuningThreads;
  lookup.require = tuningDbRequire;
  buildTxlLowerPipeline(pm, options, [&](mlir::OpPassManager &nested) {
    if (tuning && !lookup.databases.empty())
      nested.addPass(tuner::createTuningLookupPass(lookup, tuning));
  });
  bool failed = mlir::failed(pm.run(module));
  if (failed && tuning && tuning->failed)
    return Status::error("the tuning-database lookup failed");
  if (failed)
    return Status::error(noKvCache ? "lowering failed"
                                   : "lowering failed (a step whose memories "
                                     "cannot become key/value caches compiles "
                                     "with --no-kv-cache)");
  return Status::ok();
}

/// Stage 4: every kernel outlined into a function of the module
/// (txl-outline-kernels) and the memory plan; the embedded weights checked
/// against what the step reads.
StatusOr<host::StepProgram> outlineAndPlan(mlir::ModuleOp module,
                                           EmbeddedFiles &files,
                                           mlir::TimingScope &timing) {
  auto step = module.lookupSymbol<mlir::func::FuncOp>("step");
  if (!step)
    return Status::error("no @step after lowering");
  mlir::PassManager pm(module.getContext());
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return Status::error("bad pass manager options");
  pm.enableTiming(timing);
  pm.addPass(createTxlOutlineKernels());
  if (mlir::failed(pm.run(module)))
    return Status::error("outlining the kernels failed");
  StatusOr<host::StepProgram> program = host::analyzeStep(
      step, module.lookupSymbol<mlir::func::FuncOp>("prepare"),
      module.lookupSymbol<mlir::func::FuncOp>("nll"));
  if (!program.ok())
    return program.status();
  if (files.boundWeights) {
    Status status =
        checkWeightsForModel(*files.boundWeights, files.weightsPath, *program);
    if (!status.isOk())
      return Status::error(status.message() + " (--embed-weights)");
    files.boundWeights.reset(); // Checked: the host object copies the file.
  }
  return program;
}

/// The outlined function of kernel `symbol` as text, its name left out.
std::string kernelCode(mlir::ModuleOp module, const std::string &symbol) {
  auto func = module.lookupSymbol<mlir::func::FuncOp>(symbol);
  if (!func)
    return "";
  std::string text = printed(func);
  size_t at = text.find("@" + symbol);
  if (at != std::string::npos)
    text.erase(at, symbol.size() + 1);
  return text;
}

/// Stage 4b: the step for `length` tokens per call (--step-variants): the
/// model built for T = length, lowered and outlined (its kernels renamed
/// txl_t<length>_...), planned and merged into `program`
/// (host::addStepVariant). Returns the module that holds its kernels.
StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
addVariant(mlir::MLIRContext &context, const Model &model, int64_t length,
           mlir::ModuleOp segmentModule, host::StepProgram &program,
           mlir::TimingScope &timing) {
  StepShape shape;
  shape.batch = batch;
  shape.segmentLength = length;
  shape.maxSegmentLength = length;
  shape.scoreSegments = 1;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildModelModule(context, *model.config, shape);
  std::string what = "the step for " + std::to_string(length) + " token(s)";
  if (!module || mlir::failed(mlir::verify(*module)))
    return Status::error(what + " does not build");
  // txl-tune measures the segment step's kernels; the small steps' kernels
  // (other shapes, other keys) are planned by the heuristic.
  if (Status status = lower(*module, timing, /*tuning=*/nullptr);
      !status.isOk())
    return Status::error(what + ": " + status.message());
  mlir::PassManager pm(&context);
  if (mlir::failed(mlir::applyPassManagerCLOptions(pm)))
    return Status::error("bad pass manager options");
  pm.enableTiming(timing);
  pm.addPass(createTxlOutlineKernels());
  if (mlir::failed(pm.run(*module)))
    return Status::error(what + ": outlining the kernels failed");
  // Its kernels get names of their own: txl_k3_x becomes txl_t1_k3_x.
  std::string prefix = "txl_t" + std::to_string(length) + "_";
  mlir::SymbolTable symbols(*module);
  for (auto func : llvm::to_vector(module->getOps<mlir::func::FuncOp>())) {
    llvm::StringRef name = func.getSymName();
    if (!name.starts_with("txl_"))
      continue;
    auto renamed =
        mlir::StringAttr::get(&context, prefix + name.drop_front(4).str());
    if (mlir::failed(symbols.rename(func, renamed)))
      return Status::error(what + ": cannot rename kernel " + name.str());
  }
  StatusOr<host::StepProgram> variant =
      host::analyzeStep(module->lookupSymbol<mlir::func::FuncOp>("step"),
                        module->lookupSymbol<mlir::func::FuncOp>("prepare"),
                        nullptr, program.stateCapacity);
  if (!variant.ok())
    return Status::error(what + ": " + variant.status().message());
  mlir::ModuleOp variantModule = *module;
  Status merged = host::addStepVariant(
      program, *variant, "txl_model_step_t" + std::to_string(length),
      [&](const host::KernelCall &theirs, const host::KernelCall &mine) {
        std::string code = kernelCode(segmentModule, theirs.symbol);
        return !code.empty() && code == kernelCode(variantModule, mine.symbol);
      });
  if (!merged.isOk())
    return merged;
  return module;
}

/// Stage 5: the host step (txl_model_step and the descriptor) in LLVM IR.
StatusOr<std::unique_ptr<llvm::Module>>
buildHostCode(mlir::MLIRContext &context, llvm::LLVMContext &llvmContext,
              const host::StepProgram &program, const Model &model,
              const EmbeddedFiles &files) {
  host::ModelDescription description;
  description.target = target;
  description.configJson = model.configJson;
  if (!files.weightsPath.empty())
    description.embeddedWeightsPath = absolutePath(files.weightsPath);
  if (!files.vocabularyPath.empty())
    description.vocabularyPath = absolutePath(files.vocabularyPath);
  return host::buildHostLLVMModule(context, llvmContext, program, description);
}

/// Where objects go: the --emit=kernels directory, else a temporary one.
Status makeWorkDir(WorkDir &work, std::string &kernelDir) {
  if (emit == Emit::Kernels) {
    kernelDir = outputPath;
    if (std::error_code error = llvm::sys::fs::create_directories(kernelDir))
      return Status::error(kernelDir + ": cannot create: " + error.message());
    return Status::ok();
  }
  llvm::SmallString<128> dir;
  if (std::error_code error = llvm::sys::fs::createUniqueDirectory("txlc", dir))
    return Status::error("cannot create a temporary directory: " +
                         error.message());
  work.path = dir.str().str();
  kernelDir = work.path;
  if (keepTemps)
    llvm::errs() << "txlc: intermediates in " << work.path << "\n";
  return Status::ok();
}

/// Stage 6: every kernel compiled with Halide into `kernelDir` (with
/// --emit=kernels also its .mlir, statement, assembly and header), in the
/// order of the calls: @prepare's, @step's, @nll's.
StatusOr<CompiledKernels> compileKernels(llvm::ArrayRef<mlir::ModuleOp> modules,
                                         const host::StepProgram &program,
                                         const std::string &kernelDir) {
  CompiledKernels compiled;
  halide::KernelArtifacts artifacts;
  artifacts.stmt = emit == Emit::Kernels || emit == Emit::HalideStmt;
  artifacts.assembly = emit == Emit::Kernels;
  artifacts.cHeader = emit == Emit::Kernels;
  auto start = std::chrono::steady_clock::now();
  std::vector<const host::KernelCall *> calls;
  for (const host::KernelCall &call : program.prepareCalls)
    calls.push_back(&call);
  for (const host::KernelCall &call : program.calls)
    calls.push_back(&call);
  for (const host::KernelCall &call : program.nllCalls)
    calls.push_back(&call);
  for (const host::StepVariant &variant : program.variants)
    for (const host::KernelCall &call : variant.calls)
      calls.push_back(&call);
  for (const host::KernelCall *call : calls) {
    mlir::func::FuncOp func;
    for (mlir::ModuleOp module : modules)
      if (!func)
        func = module.lookupSymbol<mlir::func::FuncOp>(call->symbol);
    if (!func)
      return Status::error("kernel " + call->symbol + " (" + call->kernelName +
                           "): no such function");
    std::string base = kernelDir + "/" + call->symbol;
    if (emit == Emit::Kernels) {
      Status status = writeText(base + ".mlir", printed(func) + "\n");
      if (!status.isOk())
        return status;
    }
    auto kernelStart = std::chrono::steady_clock::now();
    auto kernel = halide::compileKernel(func, target, base, artifacts);
    if (!kernel.ok())
      return Status::error("kernel " + call->symbol + " (" + call->kernelName +
                           "): " + kernel.status().message());
    if (verbose)
      llvm::errs() << "txlc: " << call->symbol << ": "
                   << llvm::format("%.2f", secondsSince(kernelStart)) << " s\n";
    compiled.objects.push_back(kernel->objectPath);
    if (!kernel->stmtPath.empty()) {
      bool ok;
      compiled.stmts += "// ===== " + call->symbol + " (" + call->kernelName +
                        ") =====\n" + readFile(kernel->stmtPath, ok) + "\n";
    }
  }
  if (verbose)
    llvm::errs() << "txlc: " << calls.size() << " kernels in "
                 << llvm::format("%.2f", secondsSince(start)) << " s\n";
  return compiled;
}

/// Stage 7: the host object, Halide's runtime and the kernels linked into
/// the output (a shared library, an executable or one relocatable object).
Status link(llvm::Module &hostModule, std::vector<std::string> objects,
            const std::string &kernelDir, const std::string &executableSupport,
            mlir::TimingScope &scope) {
  std::string hostObject = kernelDir + "/host.o";
  mlir::TimingScope hostTiming = scope.nest("host object");
  Status status = host::emitHostObject(hostModule, hostObject);
  if (!status.isOk())
    return status;
  hostTiming.stop();
  std::string runtimeObject = kernelDir + "/halide_runtime.o";
  mlir::TimingScope runtimeTiming = scope.nest("Halide runtime");
  status = halide::compileHalideRuntime(target, runtimeObject);
  if (!status.isOk())
    return Status::error("Halide runtime: " + status.message());
  runtimeTiming.stop();
  mlir::TimingScope linkTiming = scope.nest("link");
  objects.insert(objects.begin(), hostObject);
  objects.push_back(runtimeObject);
  host::LinkKind kind = emit == Emit::So    ? host::LinkKind::SharedLibrary
                        : emit == Emit::Exe ? host::LinkKind::Executable
                                            : host::LinkKind::Relocatable;
  std::vector<std::string> archives;
  if (emit == Emit::Exe)
    archives.push_back(executableSupport);
  return host::linkObjects(objects, outputPath, kind, archives);
}

/// The host code branch: LLVM IR, assembly and every object.
bool needsHostCode() { return emit >= Emit::Llvm; }

/// Writes a stage's text to the output; the exit code of txlc.
int emitText(const std::string &text) {
  Status status = writeText(outputPath, text);
  return status.isOk() ? 0 : fail(status.message());
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  mlir::registerAsmPrinterCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerPassManagerCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  showOnlyTxlcAndMlirOptions();
  cl::ParseCommandLineOptions(
      argc, argv,
      "txlc: compiles a Transformer-XL model to native code\n\n"
      "  MODEL is a model directory (config.json), a config.json, or a .mlir\n"
      "  file in the txl dialect with a @step. The default output is a\n"
      "  shared library implementing runtime/include/txl/runtime/ModelABI.h,\n"
      "  run it with txl-run; --emit=exe makes a standalone program instead.\n"
      "  The model directory's vocab.txt is compiled in, and with\n"
      "  --embed-weights its model.safetensors, checked first.\n"
      "  See docs/CODEGEN.md.\n");
  if (outputPath.empty())
    outputPath = defaultOutput();
  if (Status status = checkFlags(); !status.isOk())
    return fail(status.message());
  std::string executableSupport;
  if (emit == Emit::Exe) {
    auto found = findExecutableSupport(argv[0]);
    if (!found.ok())
      return fail(found.status().message());
    executableSupport = *found;
  }
  if (Status status = checkLoweringFlags(); !status.isOk())
    return fail(status.message());

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
  llvm::SourceMgr sourceMgr;
  mlir::SourceMgrDiagnosticHandler diagnostics(sourceMgr, &context);

  StatusOr<Model> model = [&] {
    mlir::TimingScope scope = rootTiming.nest("build model");
    return buildModel(context, sourceMgr);
  }();
  if (!model.ok())
    return fail(model.status().message());
  mlir::ModuleOp module = *model->module;
  tuner::TuningLookupResult tuning;
  StatusOr<EmbeddedFiles> files = [&] {
    mlir::TimingScope scope = rootTiming.nest("check embedded files");
    return checkEmbeddedFiles(*model);
  }();
  if (!files.ok())
    return fail(files.status().message());
  if (emit == Emit::Mlir)
    return emitText(printed(module));

  {
    mlir::TimingScope scope = rootTiming.nest("lower");
    if (Status status = lower(module, scope, &tuning); !status.isOk())
      return fail(status.message());
  }
  if (!tuningDbs.empty()) {
    llvm::errs() << "txlc: tuning: " << tuning.summary() << "\n";
    // The records used go into the model's descriptor, inside its
    // config_json (no ABI change): a binary says what it was built with.
    tuner::TuningLookupOptions lookup;
    lookup.databases.assign(tuningDbs.begin(), tuningDbs.end());
    lookup.threads = tuningThreads;
    model->configJson =
        withTuningRecords(model->configJson, tuning.json(lookup));
  }
  if (emit == Emit::Linalg)
    return emitText(printed(module));

  StatusOr<host::StepProgram> program = [&] {
    mlir::TimingScope scope = rootTiming.nest("outline and plan");
    return outlineAndPlan(module, *files, scope);
  }();
  if (!program.ok())
    return fail(program.status().message());
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> variantModules;
  {
    mlir::TimingScope scope = rootTiming.nest("step variants");
    for (int64_t length : model->variantLengths) {
      auto added = addVariant(context, *model, length, module, *program, scope);
      if (!added.ok())
        return fail(added.status().message());
      variantModules.push_back(std::move(*added));
    }
  }
  if (emit == Emit::Plan)
    return emitText(program->describe());

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> hostModule;
  if (needsHostCode()) {
    auto built = [&] {
      mlir::TimingScope scope = rootTiming.nest("host code");
      return buildHostCode(context, llvmContext, *program, *model, *files);
    }();
    if (!built.ok())
      return fail(built.status().message());
    hostModule = std::move(*built);
  }
  if (emit == Emit::Llvm) {
    std::string text;
    llvm::raw_string_ostream os(text);
    hostModule->print(os, nullptr);
    return emitText(text);
  }

  WorkDir work;
  std::string kernelDir;
  if (Status status = makeWorkDir(work, kernelDir); !status.isOk())
    return fail(status.message());
  if (emit == Emit::Asm) {
    std::string path = kernelDir + "/host.s";
    Status status = host::emitHostObject(*hostModule, path, true);
    if (!status.isOk())
      return fail(status.message());
    bool ok;
    return emitText(readFile(path, ok));
  }

  StatusOr<CompiledKernels> compiled = [&] {
    mlir::TimingScope scope = rootTiming.nest("kernels (Halide)");
    std::vector<mlir::ModuleOp> modules = {module};
    for (auto &variantModule : variantModules)
      modules.push_back(*variantModule);
    return compileKernels(modules, *program, kernelDir);
  }();
  if (!compiled.ok())
    return fail(compiled.status().message());
  if (emit == Emit::HalideStmt)
    return emitText(compiled->stmts);
  if (emit == Emit::Kernels) {
    Status status = writeText(kernelDir + "/plan.txt", program->describe());
    return status.isOk() ? 0 : fail(status.message());
  }

  mlir::TimingScope scope = rootTiming.nest("host object and link");
  Status status = link(*hostModule, std::move(compiled->objects), kernelDir,
                       executableSupport, scope);
  return status.isOk() ? 0 : fail(status.message());
}
