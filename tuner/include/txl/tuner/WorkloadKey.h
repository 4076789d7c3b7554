//===- WorkloadKey.h - what a tuning record is about -----------*- C++ -*-===//
//
// A tuning record applies to a kernel wherever it occurs: the key is a hash
// of the kernel's canonical text (MLIR's generic form, printed in a local
// scope, without the kernel's name, schedule, target or locations), so the
// 16 layers of a model, or two models that share a shape, share one key,
// while another shape or another body is another key. The target key is the
// concrete Halide target (ISA features, never "host") with the thread count
// the kernel was measured at. Hashes are SHA-256 of text, never MLIR's
// in-memory hashes (which change between runs and versions).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_WORKLOADKEY_H
#define TXL_TUNER_WORKLOADKEY_H

#include "txl/Dialect/TxlOps.h"
#include "txl/target/TargetInfo.h"

#include <string>

namespace txl::tuner {

struct WorkloadKey {
  /// Hex SHA-256 of `canonical` (first 32 digits).
  std::string hash;
  /// The text hashed: the kernel's constant inputs and its op in generic
  /// form, with schedule, target and name removed.
  std::string canonical;
  /// The kernel's name (`ffn.up`, `attention.core`, ...): shown, not keyed.
  std::string label;
  /// Input and result types, for reports: `(tensor<..>, ..) -> (..)`.
  std::string signature;
};

/// The key of a kernel (before or after txl-tile: the schedule is ignored).
WorkloadKey workloadKey(KernelOp kernel);

/// The target part of the key: the concrete target string (what Halide
/// compiles for: "host" resolved to the machine's features).
std::string targetKey(const target::TargetInfo &target);

} // namespace txl::tuner

#endif // TXL_TUNER_WORKLOADKEY_H
