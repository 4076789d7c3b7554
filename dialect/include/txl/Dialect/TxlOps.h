//===- TxlOps.h - the txl dialect's operations ------------------*- C++ -*-===//
#ifndef TXL_DIALECT_TXLOPS_H
#define TXL_DIALECT_TXLOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "txl/Dialect/TxlDialect.h"

#define GET_OP_CLASSES
#include "txl/Dialect/TxlOps.h.inc"

#endif // TXL_DIALECT_TXLOPS_H
