//===- ModelKernels.cpp - build, lower, outline and group a model's kernels
//===//

#include "txl/tuner/ModelKernels.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlDialect.h"
#include "txl/Passes/KernelSymbols.h"
#include "txl/Passes/Passes.h"
#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/models/GraphBuilder.h"
#include "txl/models/ModelConfig.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <map>

namespace txl::tuner {

void registerModelDialects(mlir::DialectRegistry &registry) {
  registry.insert<TxlDialect, mlir::arith::ArithDialect,
                  mlir::func::FuncDialect, mlir::linalg::LinalgDialect,
                  mlir::math::MathDialect, mlir::tensor::TensorDialect>();
  codegen::halide::registerKernelDialects(registry);
}

StatusOr<mlir::OwningOpRef<mlir::ModuleOp>>
buildModel(mlir::MLIRContext &context, const ModelSource &source) {
  std::string path = source.path;
  if (llvm::sys::fs::is_directory(path))
    path += "/config.json";
  if (llvm::StringRef(path).ends_with(".mlir")) {
    mlir::OwningOpRef<mlir::ModuleOp> module =
        mlir::parseSourceFile<mlir::ModuleOp>(path, &context);
    if (!module)
      return Status::error(path + ": cannot parse");
    if (!module->lookupSymbol<mlir::func::FuncOp>("step"))
      return Status::error(path + ": no func.func @step");
    return module;
  }
  auto buffer = llvm::MemoryBuffer::getFile(path);
  if (!buffer)
    return Status::error(path + ": cannot read (expected a model directory "
                                "with a config.json, a config.json or a "
                                ".mlir file)");
  auto config = ModelConfig::fromJsonString((*buffer)->getBuffer().str(), path);
  if (!config.ok())
    return config.status();
  int64_t length = source.tgtLen ? source.tgtLen : config->tgt_len.value_or(0);
  if (length < 1)
    return Status::error(path + " has no tgt_len: give the segment length "
                                "with --tgt-len");
  StepShape shape;
  shape.batch = source.batch;
  shape.segmentLength = length;
  shape.maxSegmentLength = length;
  shape.scoreSegments = source.scoreSegments;
  mlir::OwningOpRef<mlir::ModuleOp> module =
      buildModelModule(context, *config, shape);
  if (!module || mlir::failed(mlir::verify(*module)))
    return Status::error(path + ": the model does not build");
  return module;
}

std::vector<std::pair<std::string, KernelOp>>
kernelsInCallOrder(mlir::ModuleOp module) {
  std::vector<std::pair<std::string, KernelOp>> kernels;
  for (const char *name : {"prepare", "step", "nll"}) {
    auto function = module.lookupSymbol<mlir::func::FuncOp>(name);
    if (!function || function.isExternal())
      continue;
    for (KernelOp kernel : function.getBody().front().getOps<KernelOp>())
      kernels.emplace_back(name, kernel);
  }
  return kernels;
}

namespace {

/// Outlining's prefix per function (txl-outline-kernels).
const char *symbolPrefix(const std::string &function) {
  return function == "prepare" ? "txl_p"
         : function == "step"  ? "txl_k"
                               : "txl_n";
}

std::string attributeText(mlir::Attribute attr) {
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return os.str();
}

} // namespace

StatusOr<ModelKernels> extractKernels(mlir::OwningOpRef<mlir::ModuleOp> module,
                                      const ModelSource &source) {
  mlir::MLIRContext *context = module->getContext();
  {
    mlir::PassManager pm(context);
    buildTxlLowerPipeline(pm, source.lowering);
    if (mlir::failed(pm.run(*module)))
      return Status::error("lowering failed");
  }
  ModelKernels result;
  result.outlined = module->clone();
  result.lowered = std::move(module);
  {
    mlir::PassManager pm(context);
    pm.addPass(createTxlOutlineKernels());
    if (mlir::failed(pm.run(*result.outlined)))
      return Status::error("outlining the kernels failed");
  }
  std::map<std::string, size_t> taskOf;
  std::map<std::string, size_t> indexInFunction;
  for (auto &[function, kernel] : kernelsInCallOrder(*result.lowered)) {
    size_t index = indexInFunction[function]++;
    ++result.kernelCount;
    WorkloadKey key = workloadKey(kernel);
    auto [it, added] = taskOf.emplace(key.hash, result.tasks.size());
    if (added) {
      KernelTask task;
      task.kernel = kernel;
      std::string symbol =
          kernelSymbol(index, kernel.getName(), symbolPrefix(function));
      task.outlined = result.outlined->lookupSymbol<mlir::func::FuncOp>(symbol);
      if (!task.outlined)
        return Status::error("kernel " + key.label + ": no outlined @" +
                             symbol);
      if (mlir::Attribute schedule = kernel->getAttr(attr::kSchedule))
        task.heuristicSchedule = attributeText(schedule);
      task.key = std::move(key);
      result.tasks.push_back(std::move(task));
    }
    KernelTask &task = result.tasks[it->second];
    if (function == "step") {
      ++task.stepCalls;
      task.weight += 1;
    } else if (function == "nll") {
      ++task.nllCalls;
      task.weight += 1.0 / double(std::max<int64_t>(1, source.scoreSegments));
    } else {
      ++task.prepareCalls;
    }
  }
  return result;
}

} // namespace txl::tuner
