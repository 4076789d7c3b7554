//===- KernelMeasurer.h - compile in a child, time in a worker --*- C++ -*-===//
//
// The real Measurer. Each candidate (and the heuristic) is compiled ahead of
// time exactly as txlc compiles a kernel (compileKernel for the same target
// string, linked with Halide's runtime), by `txl-tune compile-candidate` in a
// child process with a time limit, never while something is being timed;
// libraries are cached by the hash of the kernel's text and target. A batch
// is then timed by txl-tune-worker in a process of its own (see its file
// comment): validation against the heuristic, interleaved rounds, the
// heuristic as noise canary. A worker that dies is run again without the
// candidate it was validating, which is recorded as a crash (or timeout).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TUNER_KERNELMEASURER_H
#define TXL_TUNER_KERNELMEASURER_H

#include "txl/tuner/Search.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <string>
#include <vector>

namespace txl::tuner {

struct MeasureOptions {
  /// Halide target string as given to txlc (e.g. "host").
  std::string target = "host";
  int threads = 1;
  /// `txl-tune` (compile-candidate) and `txl-tune-worker`.
  std::string tunerPath, workerPath;
  /// Where libraries, specs and logs go.
  std::string workDir;
  double compileTimeout = 180, runTimeout = 120;
  int rounds = 9;
  double minSampleSeconds = 0.005;
  /// Bytes of input copies cycled through (beyond the last-level cache).
  int64_t coldBytes = 64 << 20;
  /// Value of every index/i64 scalar argument when timing (the memory
  /// length: the memory full, as in the steady state); validation also
  /// runs at half of it.
  int64_t scalarValue = 0;
  double tolerance = 1e-4;
  uint64_t seed = 1;
  const std::atomic<bool> *stop = nullptr;
};

class KernelMeasurer : public Measurer {
public:
  /// `kernels[t]` is task t's outlined function.
  KernelMeasurer(std::vector<mlir::func::FuncOp> kernels,
                 MeasureOptions options);
  std::vector<Measurement> measure(size_t task, const Candidate &heuristic,
                                   const std::vector<Candidate> &candidates,
                                   Measurement &baseline) override;
  /// Compiles Halide's runtime for the target once (before any timing).
  Status prepare();

private:
  /// The library of `candidate` for task t (compiled if not cached), or
  /// the measurement saying why there is none.
  std::string library(size_t task, const Candidate &candidate,
                      Measurement &failure);
  std::vector<mlir::func::FuncOp> kernels;
  MeasureOptions options;
  std::string runtimeObject;
  int batches = 0;
};

} // namespace txl::tuner

#endif // TXL_TUNER_KERNELMEASURER_H
