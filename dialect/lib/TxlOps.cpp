//===- TxlOps.cpp - generated op definitions of the txl dialect ----------===//
// Verifiers live in TxlVerifiers.cpp.
#include "txl/Dialect/TxlOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

using namespace mlir;
using namespace txl;

#define GET_OP_CLASSES
#include "txl/Dialect/TxlOps.cpp.inc"
