//===- InterpreterSupport.h - helpers shared by the handlers ----*- C++ -*-===//
//
// Internal to the reference executor: the value map, the error type handlers
// throw, and accessors that check what kind of value an SSA value holds.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_REFERENCE_INTERPRETERSUPPORT_H
#define TXL_REFERENCE_INTERPRETERSUPPORT_H

#include "txl/reference/Interpreter.h"

#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"

#include <stdexcept>

namespace txl::reference {

/// Thrown by handlers; caught once in Interpreter::run and turned into a
/// Status that names the op.
struct ExecutionError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

using ValueMap = llvm::DenseMap<mlir::Value, RuntimeValue>;

/// A float tensor value, owned or borrowed, as a read-only view.
inline ConstTensorRef refOf(const ValueMap &values, mlir::Value value) {
  const RuntimeValue &v = values.at(value);
  if (auto *owned = std::get_if<Tensor>(&v))
    return ConstTensorRef(*owned);
  if (auto *borrowed = std::get_if<ConstTensorRef>(&v))
    return *borrowed;
  throw ExecutionError("expected a float tensor");
}

inline int64_t scalarOf(const ValueMap &values, mlir::Value value) {
  if (auto *index = std::get_if<IndexScalar>(&values.at(value)))
    return index->value;
  throw ExecutionError("expected an index scalar");
}

/// Runs a linalg op, tensor.extract_slice or a dense arith.constant.
std::vector<RuntimeValue> runStructuredOp(mlir::Operation *op,
                                          const ValueMap &values);

} // namespace txl::reference

#endif // TXL_REFERENCE_INTERPRETERSUPPORT_H
