//===- WorkloadKey.cpp - structural hashes of kernels ---------------------===//

#include "txl/tuner/WorkloadKey.h"
#include "txl/tuner/ContentHash.h"

#include "txl/Dialect/AttrNames.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/OperationSupport.h"

#include "llvm/Support/raw_ostream.h"

namespace txl::tuner {

WorkloadKey workloadKey(KernelOp kernel) {
  WorkloadKey key;
  key.label = kernel.getName().str();
  mlir::OpPrintingFlags flags;
  flags.useLocalScope().printGenericOpForm().enableDebugInfo(false);
  llvm::raw_string_ostream os(key.canonical);
  // Constant inputs are cloned into the outlined kernel: their values are
  // part of what it computes. Other inputs are only their types.
  for (mlir::Value input : kernel.getInputs()) {
    if (auto constant = input.getDefiningOp<mlir::arith::ConstantOp>())
      constant->print(os, flags);
    else
      os << "input " << input.getType();
    os << "\n";
  }
  // A clone without the attributes that are not the kernel's structure.
  mlir::Operation *clone = kernel->clone();
  clone->removeAttr(attr::kSchedule);
  clone->removeAttr(attr::kTarget);
  llvm::cast<KernelOp>(clone).setName("kernel");
  clone->print(os, flags);
  clone->destroy();
  os.flush();
  key.hash = contentHash(key.canonical);

  llvm::raw_string_ostream sig(key.signature);
  sig << "(";
  llvm::interleaveComma(kernel.getInputs().getTypes(), sig);
  sig << ") -> (";
  llvm::interleaveComma(kernel->getResultTypes(), sig);
  sig << ")";
  sig.flush();
  return key;
}

std::string targetKey(const target::TargetInfo &target) {
  return target.concrete;
}

} // namespace txl::tuner
