//===- TxlDialect.h - the txl dialect declaration ---------------*- C++ -*-===//
#ifndef TXL_DIALECT_TXLDIALECT_H
#define TXL_DIALECT_TXLDIALECT_H

#include "mlir/IR/Dialect.h"

#include "txl/Dialect/TxlOpsDialect.h.inc"

#endif // TXL_DIALECT_TXLDIALECT_H
