//===- OutlineKernels.cpp - each txl.kernel's body into its own function --===//
//
// txl-outline-kernels (Passes.td): the body of every kernel of @prepare,
// @step and @nll becomes a func.func that code generators compile alone;
// the kernel keeps only a call of it.
//
//===----------------------------------------------------------------------===//

#include "txl/Dialect/AttrNames.h"
#include "txl/Dialect/TxlOps.h"
#include "txl/Passes/KernelSymbols.h"
#include "txl/Passes/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

#include <cctype>

namespace txl {
#define GEN_PASS_DEF_TXLOUTLINEKERNELS
#include "txl/Passes/Passes.h.inc"
} // namespace txl

using namespace mlir;
using namespace txl;

std::string txl::kernelSymbol(size_t index, llvm::StringRef name,
                              llvm::StringRef prefix) {
  std::string symbol = prefix.str() + std::to_string(index) + "_";
  for (char c : name)
    symbol +=
        (std::isalnum(static_cast<unsigned char>(c)) || c == '_') ? c : '_';
  return symbol;
}

namespace {

/// A constant tensor that a Halide kernel cannot hold (only splats can be
/// inlined): it becomes an argument, bound by the caller.
bool isPassedConstant(Operation &op) {
  auto constant = dyn_cast<arith::ConstantOp>(op);
  if (!constant || !isa<RankedTensorType>(constant.getType()))
    return false;
  auto dense = dyn_cast<DenseElementsAttr>(constant.getValue());
  return dense && !dense.isSplat();
}

/// Moves the body of `kernel` into a new function `symbol` at the end of
/// `module` and leaves a call of it in the kernel.
void outlineKernel(KernelOp kernel, const std::string &symbol,
                   ModuleOp module) {
  Block &body = kernel.getBody().front();
  // Arguments: the inputs that are not constants (those are cloned in), then
  // the constants that must be passed.
  SmallVector<Value> operands;
  SmallVector<Type> argumentTypes;
  for (auto [k, input] : llvm::enumerate(kernel.getInputs()))
    if (!input.getDefiningOp<arith::ConstantOp>()) {
      operands.push_back(body.getArgument(k));
      argumentTypes.push_back(input.getType());
    }
  SmallVector<Operation *> passedConstants;
  for (Operation &op : body)
    if (isPassedConstant(op)) {
      passedConstants.push_back(&op);
      operands.push_back(op.getResult(0));
      argumentTypes.push_back(op.getResult(0).getType());
    }

  OpBuilder builder = OpBuilder::atBlockEnd(module.getBody());
  auto func = builder.create<func::FuncOp>(
      kernel.getLoc(), symbol,
      builder.getFunctionType(argumentTypes, kernel->getResultTypes()));
  for (const char *name : {attr::kSchedule, attr::kTarget})
    if (Attribute value = kernel->getAttr(name))
      func->setAttr(name, value);
  Block *entry = func.addEntryBlock();
  OpBuilder inner = OpBuilder::atBlockBegin(entry);
  IRMapping mapping;
  for (auto [a, operand] : llvm::enumerate(operands))
    mapping.map(operand, entry->getArgument(a));
  for (auto [k, input] : llvm::enumerate(kernel.getInputs()))
    if (auto constant = input.getDefiningOp<arith::ConstantOp>())
      mapping.map(body.getArgument(k), inner.clone(*constant)->getResult(0));
  SmallVector<Operation *> moved;
  for (Operation &op : body) {
    if (llvm::is_contained(passedConstants, &op))
      continue;
    moved.push_back(&op);
    if (auto yield = dyn_cast<YieldOp>(op)) {
      SmallVector<Value> values;
      for (Value value : yield.getValues())
        values.push_back(mapping.lookupOrDefault(value));
      inner.create<func::ReturnOp>(yield.getLoc(), values);
      continue;
    }
    inner.clone(op, mapping);
  }

  // The kernel keeps the passed constants and the call.
  for (Operation *op : llvm::reverse(moved))
    op->erase();
  OpBuilder caller = OpBuilder::atBlockEnd(&body);
  auto call = caller.create<func::CallOp>(kernel.getLoc(), func, operands);
  caller.create<YieldOp>(kernel.getLoc(), call.getResults());
}

struct TxlOutlineKernels
    : public txl::impl::TxlOutlineKernelsBase<TxlOutlineKernels> {
  using TxlOutlineKernelsBase::TxlOutlineKernelsBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // @prepare's kernels first, then the step's, then the scoring's: the
    // order in which the functions are added (and listed).
    std::pair<const std::string &, const char *> functions[] = {
        {prepareName, "txl_p"}, {stepName, "txl_k"}, {scoredName, "txl_n"}};
    for (auto [name, prefix] : functions) {
      auto function = module.lookupSymbol<func::FuncOp>(name);
      if (!function || function.isExternal())
        continue;
      SmallVector<KernelOp> kernels(
          function.getBody().front().getOps<KernelOp>());
      for (auto [i, kernel] : llvm::enumerate(kernels)) {
        std::string symbol = kernelSymbol(i, kernel.getName(), prefix);
        if (module.lookupSymbol(symbol)) {
          kernel.emitError() << "txl-outline-kernels: @" << symbol
                             << " exists already (outlined twice?)";
          return signalPassFailure();
        }
        outlineKernel(kernel, symbol, module);
      }
    }
  }
};

} // namespace
