//===- KernelSymbols.h - the symbols of outlined kernels --------*- C++ -*-===//
//
// txl-outline-kernels names the function of each kernel, and the host code
// generator calls it by that name and names its buffers after it: one
// spelling for both.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_PASSES_KERNELSYMBOLS_H
#define TXL_PASSES_KERNELSYMBOLS_H

#include "llvm/ADT/StringRef.h"

#include <string>

namespace txl {

/// The symbol of kernel `index` named `name`: `<prefix><index>_<name>` with
/// every character outside [A-Za-z0-9_] replaced by '_' (prefix `txl_k` for
/// the step's kernels, `txl_p` for @prepare's, `txl_n` for @nll's).
std::string kernelSymbol(size_t index, llvm::StringRef name,
                         llvm::StringRef prefix = "txl_k");

} // namespace txl

#endif // TXL_PASSES_KERNELSYMBOLS_H
