//===- KernelMeasurer.cpp - candidate libraries and worker batches --------===//

#include "txl/tuner/KernelMeasurer.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/tuner/ChildProcess.h"
#include "txl/tuner/ContentHash.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/FileSystem.h"

#include <nlohmann/json.hpp>

#include <fstream>

namespace txl::tuner {

using json = nlohmann::json;

/// The symbol every candidate library defines.
static const char *kSymbol = "txl_tune_kernel";

KernelMeasurer::KernelMeasurer(std::vector<mlir::func::FuncOp> kernels,
                               MeasureOptions options)
    : kernels(std::move(kernels)), options(std::move(options)) {}

Status KernelMeasurer::prepare() {
  if (std::error_code e =
          llvm::sys::fs::create_directories(options.workDir + "/cache"))
    return Status::error(options.workDir + ": cannot create: " + e.message());
  runtimeObject = options.workDir + "/cache/halide_runtime-" +
                  contentHash(options.target) + ".o";
  if (llvm::sys::fs::exists(runtimeObject))
    return Status::ok();
  std::string partial = runtimeObject + ".tmp";
  Status status =
      codegen::halide::compileHalideRuntime(options.target, partial);
  if (!status.isOk())
    return Status::error("Halide runtime for " + options.target + ": " +
                         status.message());
  llvm::sys::fs::rename(partial, runtimeObject);
  return Status::ok();
}

std::string KernelMeasurer::library(size_t task, const Candidate &candidate,
                                    Measurement &failure) {
  mlir::func::FuncOp original = kernels[task];
  mlir::MLIRContext *context = original->getContext();
  mlir::Attribute schedule = mlir::parseAttribute(candidate.schedule, context);
  if (!schedule) {
    failure.outcome = Outcome::CompileError;
    failure.message = "the schedule does not parse";
    return "";
  }
  // The kernel alone in a module, named as every candidate library names it.
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::ModuleOp::create(original.getLoc());
  auto func = llvm::cast<mlir::func::FuncOp>(original->clone());
  func->setAttr(attr::kSchedule, schedule);
  func.setSymName(kSymbol);
  module->getBody()->push_back(func);
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os);
  os.flush();
  std::string base = options.workDir + "/cache/" +
                     contentHash(text + "\ntarget " + options.target);
  std::string so = base + ".so";
  if (llvm::sys::fs::exists(so))
    return so;
  std::ofstream(base + ".mlir") << text;
  ChildResult child = runChild(
      {options.tunerPath, "compile-candidate", base + ".mlir", "--target",
       options.target, "--runtime", runtimeObject, "-o", so},
      {}, base + ".compile.out", base + ".compile.err", options.compileTimeout);
  if (child.exited && child.exitCode == 0 && llvm::sys::fs::exists(so))
    return so;
  failure.outcome = child.timedOut ? Outcome::Timeout : Outcome::CompileError;
  failure.message = "compile " + child.describe() + ": " +
                    tailOfFile(base + ".compile.err", 3);
  return "";
}

std::vector<Measurement>
KernelMeasurer::measure(size_t task, const Candidate &heuristic,
                        const std::vector<Candidate> &candidates,
                        Measurement &baseline) {
  std::vector<Measurement> results(candidates.size());
  auto stopped = [&] { return options.stop && options.stop->load(); };
  std::string heuristicLibrary = library(task, heuristic, baseline);
  if (heuristicLibrary.empty()) {
    for (Measurement &m : results)
      m = baseline;
    return results;
  }
  // Compile everything first: nothing is compiled while timing.
  std::vector<std::string> libraries(candidates.size());
  std::vector<size_t> pending;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (stopped())
      return {};
    libraries[i] = library(task, candidates[i], results[i]);
    if (!libraries[i].empty())
      pending.push_back(i);
  }

  auto signature = codegen::halide::kernelSignature(kernels[task]);
  if (!signature.ok()) {
    baseline.outcome = Outcome::CompileError;
    baseline.message = signature.status().message();
    for (Measurement &m : results)
      m = baseline;
    return results;
  }
  json arguments = json::array(), outputs = json::array();
  json half = json::array();
  bool hasScalars = false;
  auto elementName = [](codegen::halide::ElementKind k) {
    return std::string(codegen::halide::elementKindName(k));
  };
  for (const auto &a : signature->arguments) {
    if (a.kind == codegen::halide::KernelValueInfo::Kind::Scalar) {
      arguments.push_back({{"kind", "scalar"}, {"value", options.scalarValue}});
      half.push_back(options.scalarValue / 2);
      hasScalars = true;
    } else {
      arguments.push_back({{"kind", "tensor"},
                           {"element", elementName(a.element)},
                           {"shape", a.shape}});
    }
  }
  for (const auto &r : signature->results)
    outputs.push_back(
        {{"element", elementName(r.element)}, {"shape", r.shape}});

  // Runs the worker until it reports, dropping the candidate it died on.
  std::string batchBase =
      options.workDir + "/batch-" + std::to_string(batches++);
  for (int attempt = 0;; ++attempt) {
    if (stopped())
      return {};
    json spec = {{"arguments", arguments},
                 {"results", outputs},
                 {"rounds", options.rounds},
                 {"min_sample_seconds", options.minSampleSeconds},
                 {"tolerance", options.tolerance},
                 {"thread_clock", options.threads == 1},
                 {"cold_bytes", options.coldBytes},
                 {"seed", options.seed + uint64_t(batches)}};
    if (hasScalars)
      spec["validate_scalars"] = json::array({half});
    json libs =
        json::array({{{"path", heuristicLibrary}, {"symbol", kSymbol}}});
    for (size_t i : pending)
      libs.push_back({{"path", libraries[i]}, {"symbol", kSymbol}});
    spec["libraries"] = libs;
    std::string specPath = batchBase + ".json";
    std::ofstream(specPath) << spec.dump(1);
    std::string out = batchBase + ".out", err = batchBase + ".err";
    ChildResult child =
        runChild({options.workerPath, specPath},
                 {"HL_NUM_THREADS=" + std::to_string(options.threads)}, out,
                 err, options.runTimeout);
    // The worker's lines.
    std::optional<json> result;
    std::optional<size_t> validating;
    std::string error;
    std::ifstream in(out);
    for (std::string line; std::getline(in, line);) {
      json j = json::parse(line, nullptr, false);
      if (j.is_discarded() || !j.is_object())
        continue;
      if (j.value("event", "") == "validating")
        validating = j.value("index", size_t(0));
      else if (j.value("event", "") == "result")
        result = j;
      else if (j.value("event", "") == "error")
        error = j.value("message", "");
    }
    if (stopped())
      return {};
    if (result) {
      const json &list = (*result)["candidates"];
      auto toMeasurement = [&](const json &item) {
        Measurement m;
        m.outcome = parseOutcome(item.value("status", "crash"))
                        .value_or(Outcome::Crash);
        m.message = item.value("message", "");
        m.minSeconds = item.value("min_s", 0.0);
        m.medianSeconds = item.value("median_s", 0.0);
        m.ratio = item.value("ratio", 1.0);
        m.spread = item.value("spread", 0.0);
        m.uncertainty = item.value("uncertainty", m.spread);
        m.maxError = item.value("max_error", 0.0);
        return m;
      };
      baseline = toMeasurement(list.at(0));
      for (size_t k = 0; k < pending.size(); ++k)
        results[pending[k]] = toMeasurement(list.at(k + 1));
      return results;
    }
    Outcome outcome = child.timedOut ? Outcome::Timeout : Outcome::Crash;
    std::string why =
        "worker " + child.describe() + (error.empty() ? "" : ": " + error);
    if (!validating || *validating == 0 || attempt > 8) {
      // The heuristic itself, or not pinned on one candidate.
      baseline.outcome = outcome;
      baseline.message = why + (validating ? " (validating the heuristic)"
                                           : " (while timing)");
      if (!validating)
        for (size_t i : pending) {
          results[i].outcome = outcome;
          results[i].message = baseline.message;
        }
      if (validating && *validating == 0)
        for (size_t i : pending) {
          results[i].outcome = outcome;
          results[i].message = "not measured: " + baseline.message;
        }
      return results;
    }
    size_t culprit = pending[*validating - 1];
    results[culprit].outcome = outcome;
    results[culprit].message = why + " (while validating it)";
    pending.erase(pending.begin() + (*validating - 1));
  }
}

} // namespace txl::tuner
