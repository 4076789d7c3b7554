//===- GemmKernels.h - the benchmark's GEMM-shaped kernels ------*- C++ -*-===//
//
// Each kernel is written once as a linalg body (the form txl-fuse leaves a
// kernel in, with the weight already packed: [ceil(N/16), K, 16] read at
// (n floordiv 16, k, n mod 16)) and wrapped two ways: as a txl.kernel in a
// func.func @step, for txl-tile to schedule, and as the outlined func.func
// that codegen compiles.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_BENCH_GEMM_GEMMKERNELS_H
#define TXL_BENCH_GEMM_GEMMKERNELS_H

#include <cstdint>
#include <string>
#include <vector>

namespace txl::bench {

/// What follows the GEMM in the kernel.
enum class Epilogue {
  None,                  // y = x W^T (q, kv, qkv, r_net)
  Bias,                  // y = x W^T + b (logits)
  BiasRelu,              // y = relu(x W^T + b) (FFN up)
  BiasResidualLayerNorm, // y = LN(res + x W^T + b) (FFN down)
  ResidualLayerNorm,     // y = LN(res + x W^T), x [B,T,H,Dh] (o_net)
  BiasLogSoftmax,        // y = log_softmax(x W^T + b) (a softmax cluster)
};

struct GemmShape {
  std::string name;             // "wt103.ffn_up"
  int64_t batch = 1, rows = 64; // M = batch * rows
  int64_t n = 0, k = 0;
  Epilogue epilogue = Epilogue::None;
  /// x is [rows, K] (no batch dimension), as r_net's positions.
  bool twoD = false;
  /// For ResidualLayerNorm: x is [B, T, heads, K / heads].
  int64_t heads = 1;

  int64_t m() const { return batch * rows; }
  int64_t panels() const { return (n + 15) / 16; }
};

/// A kernel argument: its name in the IR and its row-major shape.
struct KernelArgument {
  std::string name;
  std::vector<int64_t> shape;
};

struct GemmKernelIR {
  std::string symbol; // the compiled function's name
  std::vector<KernelArgument> arguments;
  std::vector<int64_t> resultShape;
  /// The body without its terminator, over %<argument name>, ending in
  /// %result.
  std::string body;

  /// func.func @step(...) { txl.kernel "<symbol>"(...) {...} return }.
  std::string stepModule() const;
  /// func.func @<symbol>(...) -> ... { body; return %result }.
  std::string kernelModule() const;
};

GemmKernelIR gemmKernelIR(const GemmShape &shape);

const char *epilogueName(Epilogue epilogue);

/// Elements of a row-major tensor of `shape`.
int64_t elementCount(const std::vector<int64_t> &shape);

/// Packs `w` [N, K] (row-major) into `wp` [ceil(N/16), K, 16] as the kernels
/// read it, the packing contract of txl-pack-weights: wp[p][k][j] =
/// w[16p + j][k], and 0 past N.
void packPanels(const float *w, const GemmShape &shape, float *wp);

} // namespace txl::bench

#endif // TXL_BENCH_GEMM_GEMMKERNELS_H
