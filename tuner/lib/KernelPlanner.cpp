//===- KernelPlanner.cpp - txl-tile on a copy of one kernel ---------------===//

#include "txl/tuner/KernelPlanner.h"

#include "txl/Dialect/AttrNames.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/PassManager.h"

#include <map>

namespace txl::tuner {

StatusOr<std::unique_ptr<KernelPlanner>>
KernelPlanner::create(KernelOp kernel, const std::string &target,
                      const std::string &targetCache) {
  auto info = target::parseTarget(target, targetCache);
  if (!info.ok())
    return info.status();
  std::unique_ptr<KernelPlanner> planner(new KernelPlanner());
  planner->target = target;
  planner->targetCache = targetCache;
  planner->info = *info;
  // The knobs' defaults, by name.
  std::map<std::string, int64_t> values;
  std::string text = tiling::printKnobs(tiling::defaultKnobs(*info));
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find(',', start);
    if (end == std::string::npos)
      end = text.size();
    std::string item = text.substr(start, end - start);
    size_t eq = item.find('=');
    values[item.substr(0, eq)] =
        std::strtoll(item.c_str() + eq + 1, nullptr, 10);
    start = end + 1;
  }
  for (const tiling::KnobRange &range : tiling::tileKnobRanges(*info)) {
    if (llvm::StringRef(range.name).starts_with("layout."))
      continue;
    planner->searched.push_back(range);
    planner->defaults.push_back(values[range.name]);
  }

  // func @plan(inputs...) { txl.kernel ...; return }
  mlir::MLIRContext *context = kernel->getContext();
  mlir::OpBuilder builder(context);
  planner->module = mlir::ModuleOp::create(kernel.getLoc());
  builder.setInsertionPointToEnd(planner->module->getBody());
  llvm::SmallVector<mlir::Type> inputs(kernel.getInputs().getTypes());
  auto func = builder.create<mlir::func::FuncOp>(
      kernel.getLoc(), "plan",
      builder.getFunctionType(inputs, kernel->getResultTypes()));
  mlir::Block *entry = func.addEntryBlock();
  builder.setInsertionPointToEnd(entry);
  mlir::IRMapping mapping;
  for (auto [input, arg] : llvm::zip(kernel.getInputs(), entry->getArguments()))
    mapping.map(input, arg);
  planner->copy = llvm::cast<KernelOp>(builder.clone(*kernel, mapping));
  builder.create<mlir::func::ReturnOp>(kernel.getLoc(),
                                       planner->copy->getResults());
  return planner;
}

std::optional<std::string> KernelPlanner::schedule(const KnobPoint &point) {
  std::string knobs = knobText(searched, point);
  tiling::TileKnobs values = tiling::defaultKnobs(info);
  if (!tiling::setKnobs(values, knobs).isOk() ||
      !tiling::checkKnobs(values, info).isOk())
    return std::nullopt;
  mlir::PassManager pm(module->getContext());
  TxlTileOptions options;
  options.target = target;
  options.targetCache = targetCache;
  options.knobs = knobs;
  options.overwrite = true;
  pm.addPass(createTxlTile(options));
  // txl-tile reports nothing for a legal point; keep stray diagnostics out.
  mlir::ScopedDiagnosticHandler quiet(
      module->getContext(), [](mlir::Diagnostic &) { return mlir::success(); });
  if (mlir::failed(pm.run(*module)))
    return std::nullopt;
  mlir::Attribute attr = copy->getAttr(attr::kSchedule);
  if (!attr)
    return std::nullopt;
  std::string text;
  llvm::raw_string_ostream os(text);
  attr.print(os);
  return os.str();
}

} // namespace txl::tuner
