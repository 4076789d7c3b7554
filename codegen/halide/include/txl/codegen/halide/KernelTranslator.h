//===- KernelTranslator.h - linalg kernels as Halide pipelines --*- C++ -*-===//
//
// The kernel IR contract. A kernel is a func.func whose arguments are ranked
// static-shape tensors (f32, i64, i32) and scalars (index, i64), returning
// static-shape tensors. Its body holds only
//   - tensor.empty, linalg.fill (a scalar into a tensor),
//   - linalg.generic: any number of inputs (tensors or scalars), one or more
//     outputs sharing one indexing map that is a permutation of the parallel
//     loops; input maps are any affine maps without symbols (d0 + d1,
//     d2 - d3 + 640, d1 * 41 + d3, constants). Its body: linalg.yield,
//     linalg.index, arith and math ops on scalars, tensor.extract from a
//     tensor of the kernel (a gather; the indices are clamped to the shape),
//   - scalar arith/math ops and constants, func.return.
// Anything else is rejected with an error naming the op.
//
// The translation. Tensor arguments become ImageParams and scalar arguments
// Param<int64_t> (an `index` scalar is used as Int(32), the type of all index
// values here). MLIR tensor dimension k is Halide dimension rank-1-k, for
// buffers and Funcs alike, so a dense row-major buffer passes straight through.
// Each generic becomes one Func over its parallel loops (a Tuple-valued Func
// when it has several outputs), named after its `txl.name`; its reduction
// loops become an RDom (innermost reduction loop = RDom dimension 0), its init
// is the value of its `outs` operand and its update the body evaluated at the
// indexing maps. linalg.fill results are not Funcs but splat values. Affine
// maps become index expressions (floordiv and mod by a constant: `/` and `%`,
// which for a packed weight read at (n floordiv 16, k, n mod 16) with n split
// by 16 simplify to dense vector loads). A generic staged into an
// accumulator (FuncSchedule::accumulator) whose body is a sum (`out + x`)
// accumulates from zero and adds its init when copied out.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HALIDE_KERNELTRANSLATOR_H
#define TXL_CODEGEN_HALIDE_KERNELTRANSLATOR_H

#include "txl/codegen/halide/KernelCompiler.h"
#include "txl/codegen/halide/Schedule.h"
#include "txl/support/Status.h"

#include "Halide.h"

#include <string>
#include <vector>

namespace mlir::func {
class FuncOp;
} // namespace mlir::func

namespace txl::codegen::halide {

/// One loop of a generic.
struct GenericLoop {
  std::string name; // "d<i>"
  int64_t extent = 0;
  bool reduction = false;
  /// How well this loop suits the innermost position: +1 for each operand
  /// whose contiguous (last) dimension it indexes with unit stride, -1 for
  /// each operand it indexes in another dimension. Used by the default
  /// schedule to pick the loop to vectorize.
  int contiguity = 0;
};

/// A linalg.generic, translated.
struct TranslatedGeneric {
  /// `txl.name`, or "#<position>".
  std::string name;
  /// Index among the kernel's generics, in program order.
  unsigned position = 0;
  /// The Func holding the generic's outputs (Tuple-valued if several).
  Halide::Func func;
  /// When the schedule asks for one: the Func that performs the reduction,
  /// which `func` then copies (see FuncSchedule::accumulator).
  Halide::Func accumulator;
  bool staged = false;
  std::vector<GenericLoop> loops;
  /// The loop of each output tensor dimension, row-major.
  std::vector<unsigned> outputLoops;
  /// Vars of `func` (and `accumulator`), per loop; undefined for reductions.
  std::vector<Halide::Var> vars;
  /// The reduction loops, and the RDom dimension of each loop (-1 if none).
  Halide::RDom rdom;
  std::vector<int> rdomDim;
  bool hasUpdate = false;
  /// `func` is one of the pipeline's outputs (so it is computed at root).
  bool isOutput = false;
};

/// A result that is not a generic's Func of its own (an argument, a fill, one
/// output of a multi-output generic, a value returned twice) is copied into
/// a Func named `result<k>`.
struct ResultCopy {
  Halide::Func func;
  std::vector<int64_t> shape;
};

/// A kernel as a set of scheduled-or-not Halide Funcs.
struct TranslatedKernel {
  KernelSignature signature;
  /// Pipeline arguments, in kernel-argument order.
  std::vector<Halide::Argument> arguments;
  /// One Func per kernel result, in order.
  std::vector<Halide::Func> outputs;
  std::vector<TranslatedGeneric> generics;
  std::vector<ResultCopy> copies;
  /// The kernel's tensor arguments and scalar arguments, each in order.
  std::vector<Halide::ImageParam> images;
  std::vector<Halide::Param<int64_t>> scalars;
  /// When each of these holds, every reduction marked txl.first_contributing
  /// runs over its whole static range: the outputs are specialized on it,
  /// so that case keeps constant bounds (and register-tiled accumulators).
  std::vector<Halide::Expr> fullRangeWhen;

  Halide::Pipeline pipeline() const { return Halide::Pipeline(outputs); }
};

struct TranslateOptions {
  /// Generics with an accumulator entry in it are staged; fastExp is read.
  const KernelSchedule *schedule = nullptr;
};

/// Builds the (unscheduled) Halide Funcs of a kernel. Never throws.
StatusOr<TranslatedKernel> translateKernel(mlir::func::FuncOp kernel,
                                           const TranslateOptions &options);

/// Halide's target for a target string, with `features` added; an error for
/// an invalid string.
StatusOr<Halide::Target>
parseHalideTarget(const std::string &target,
                  const std::vector<Halide::Target::Feature> &features = {});

/// Translates, schedules (options.schedule, else the kernel's attribute, else
/// the default) for `target`. Never throws.
StatusOr<TranslatedKernel> buildScheduledKernel(mlir::func::FuncOp kernel,
                                                const Halide::Target &target,
                                                const CodegenOptions &options);

/// The Halide type of a kernel element kind.
Halide::Type halideTypeOf(ElementKind kind);

} // namespace txl::codegen::halide

#endif // TXL_CODEGEN_HALIDE_KERNELTRANSLATOR_H
