//===- AttrNames.h - the names of txl's discardable attributes --*- C++ -*-===//
//
// Every `txl.*` attribute that one layer writes and another reads, named
// once. Header-only, free of MLIR, so that any library (passes, codegen, the
// schedule library, tests) can spell them without linking the dialect.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_DIALECT_ATTRNAMES_H
#define TXL_DIALECT_ATTRNAMES_H

namespace txl::attr {

/// On a txl.kernel (and the kernel func outlined from it): how its generics
/// are scheduled (docs/SCHEDULES.md).
inline constexpr const char *kSchedule = "txl.schedule";
/// On a txl.kernel (and the kernel func outlined from it): the Halide target
/// string its schedule was planned for.
inline constexpr const char *kTarget = "txl.target";
/// On a linalg.generic: its role in the model ("attention.scores", ...), the
/// name schedules refer to it by (txl/Dialect/KernelRoles.h).
inline constexpr const char *kGenericName = "txl.name";
/// On a @step / @nll argument: the index of the @prepare result it receives.
inline constexpr const char *kPrepared = "txl.prepared";
/// On a @step argument: the state window it holds ("memory", "keys",
/// "values").
inline constexpr const char *kState = "txl.state";
/// On an outlined kernel's argument: the strides of a strided buffer.
inline constexpr const char *kStrides = "txl.strides";
/// On a generic of the attention: where the keys that contribute start.
inline constexpr const char *kFirstContributing = "txl.first_contributing";

} // namespace txl::attr

#endif // TXL_DIALECT_ATTRNAMES_H
