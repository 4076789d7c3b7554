//===- TxlDialect.cpp - registers the txl dialect's operations -----------===//
#include "txl/Dialect/TxlDialect.h"
#include "txl/Dialect/TxlOps.h"

using namespace mlir;
using namespace txl;

#include "txl/Dialect/TxlOpsDialect.cpp.inc"

void TxlDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "txl/Dialect/TxlOps.cpp.inc"
      >();
}
