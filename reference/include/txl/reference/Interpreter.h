//===- Interpreter.h - runs txl IR on the reference kernels -----*- C++ -*-===//
//
// The reference executor: walks a function of a txl module op by op and runs
// each op with the plain, double-accumulating kernels of Kernels.h. It is the
// oracle every compiled backend is checked against, so it favours being
// obviously right over being fast.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_REFERENCE_INTERPRETER_H
#define TXL_REFERENCE_INTERPRETER_H

#include "txl/reference/Tensor.h"
#include "txl/support/Status.h"

#include "mlir/IR/BuiltinOps.h"

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace txl::reference {

/// Token ids, row-major.
struct TokenTensor {
  std::vector<int64_t> shape;
  std::vector<int64_t> data;
};

/// An `index` scalar (a count such as the memory rows held).
struct IndexScalar {
  int64_t value = 0;
  std::vector<int64_t> shape; // always empty: a scalar
};

/// A value flowing through the interpreter: activations it owns, weights it
/// borrows (never copied), token ids, or an index scalar.
using RuntimeValue =
    std::variant<Tensor, ConstTensorRef, TokenTensor, IndexScalar>;

/// Returns the tensor bound to a txl.weight name, or nullopt when unknown.
using WeightLookup =
    std::function<std::optional<ConstTensorRef>(const std::string &name)>;

class Interpreter {
public:
  /// `module` must outlive the interpreter.
  Interpreter(mlir::ModuleOp module, WeightLookup weights);

  /// Runs the function `name` on `arguments` and returns its results.
  /// Run-time inconsistencies (a shape that contradicts the IR, a token out of
  /// range, an unbound weight) are returned as errors naming the op.
  StatusOr<std::vector<RuntimeValue>> run(const std::string &name,
                                          std::vector<RuntimeValue> arguments);

private:
  mlir::ModuleOp module;
  WeightLookup weights;
};

} // namespace txl::reference

#endif // TXL_REFERENCE_INTERPRETER_H
