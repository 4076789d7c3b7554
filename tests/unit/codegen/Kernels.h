//===- Kernels.h - kernel IR shared by the codegen tests --------*- C++ -*-===//
//
// Kernels in the form the lead's passes produce (linalg on static tensors),
// with plain C++ references. Sizes are parameters so the same kernel runs at
// toy sizes and at Transformer-XL's awkward ones (41, 410).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TESTS_UNIT_CODEGEN_KERNELS_H
#define TXL_TESTS_UNIT_CODEGEN_KERNELS_H

#include <cstdint>
#include <string>
#include <vector>

namespace txl::codegen::halide::test {

/// Replaces every `{key}` in `text`.
inline std::string
substitute(std::string text,
           const std::vector<std::pair<std::string, std::string>> &values) {
  for (const auto &[key, value] : values) {
    std::string pattern = "{" + key + "}";
    for (size_t at = text.find(pattern); at != std::string::npos;
         at = text.find(pattern, at + value.size()))
      text.replace(at, pattern.size(), value);
  }
  return text;
}

/// y[b,t,n] = sum_k x[b,t,k] * w[n,k] + bias[n]: `x @ W^T + b`, as the
/// LinalgBuilder writes it (a bias broadcast generic, then the GEMM on it).
/// `attributes` goes into the func's attribute dictionary (a schedule).
inline std::string matmulBiasKernel(int64_t b, int64_t t, int64_t n, int64_t k,
                                    const std::string &attributes = "") {
  return substitute(
      R"mlir(
func.func @proj(%x: tensor<{B}x{T}x{K}xf32>, %w: tensor<{N}x{K}xf32>,
                %bias: tensor<{N}xf32>) -> tensor<{B}x{T}x{N}xf32>
    {ATTRS} {
  %e = tensor.empty() : tensor<{B}x{T}x{N}xf32>
  %init = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
      iterator_types = ["parallel", "parallel", "parallel"],
      txl.name = "proj.bias"}
      ins(%bias : tensor<{N}xf32>) outs(%e : tensor<{B}x{T}x{N}xf32>) {
  ^bb0(%bv: f32, %o: f32):
    linalg.yield %bv : f32
  } -> tensor<{B}x{T}x{N}xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>,
                       affine_map<(d0, d1, d2, d3) -> (d2, d3)>,
                       affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction"],
      txl.name = "proj"}
      ins(%x, %w : tensor<{B}x{T}x{K}xf32>, tensor<{N}x{K}xf32>)
      outs(%init : tensor<{B}x{T}x{N}xf32>) {
  ^bb0(%a: f32, %wv: f32, %acc: f32):
    %p = arith.mulf %a, %wv : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<{B}x{T}x{N}xf32>
  return %y : tensor<{B}x{T}x{N}xf32>
}
)mlir",
      {{"B", std::to_string(b)},
       {"T", std::to_string(t)},
       {"N", std::to_string(n)},
       {"K", std::to_string(k)},
       {"ATTRS", attributes.empty() ? "" : "attributes {" + attributes + "}"}});
}

inline std::vector<double> matmulBiasReference(const std::vector<float> &x,
                                               const std::vector<float> &w,
                                               const std::vector<float> &bias,
                                               int64_t rows, int64_t n,
                                               int64_t k) {
  std::vector<double> y(rows * n);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t j = 0; j < n; ++j) {
      double sum = bias[j];
      for (int64_t i = 0; i < k; ++i)
        sum += static_cast<double>(x[r * k + i]) * w[j * k + i];
      y[r * n + j] = sum;
    }
  return y;
}

/// Row softmax of x[R,C] with a causal-style mask: column j of row i is
/// -inf when j > i + m (m: an index argument). Max, exp, sum, divide.
inline std::string maskedSoftmaxKernel(int64_t rows, int64_t cols,
                                       const std::string &attributes = "") {
  return substitute(
      R"mlir(
func.func @softmax(%x: tensor<{R}x{C}xf32>, %m: index) -> tensor<{R}x{C}xf32>
    {ATTRS} {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<{R}x{C}xf32>
  %masked = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"], txl.name = "mask"}
      ins(%x : tensor<{R}x{C}xf32>) outs(%e : tensor<{R}x{C}xf32>) {
  ^bb0(%v: f32, %o: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %limit = arith.addi %i, %m : index
    %out = arith.cmpi sgt, %j, %limit : index
    %r = arith.select %out, %ninf, %v : f32
    linalg.yield %r : f32
  } -> tensor<{R}x{C}xf32>
  %e1 = tensor.empty() : tensor<{R}xf32>
  %minf = linalg.fill ins(%ninf : f32) outs(%e1 : tensor<{R}xf32>) -> tensor<{R}xf32>
  %max = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"], txl.name = "max"}
      ins(%masked : tensor<{R}x{C}xf32>) outs(%minf : tensor<{R}xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.maximumf %acc, %v : f32
    linalg.yield %r : f32
  } -> tensor<{R}xf32>
  %zf = linalg.fill ins(%zero : f32) outs(%e1 : tensor<{R}xf32>) -> tensor<{R}xf32>
  %sum = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"], txl.name = "sum"}
      ins(%masked, %max : tensor<{R}x{C}xf32>, tensor<{R}xf32>)
      outs(%zf : tensor<{R}xf32>) {
  ^bb0(%v: f32, %mx: f32, %acc: f32):
    %d = arith.subf %v, %mx : f32
    %ex = math.exp %d : f32
    %r = arith.addf %acc, %ex : f32
    linalg.yield %r : f32
  } -> tensor<{R}xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"], txl.name = "normalize"}
      ins(%masked, %max, %sum : tensor<{R}x{C}xf32>, tensor<{R}xf32>, tensor<{R}xf32>)
      outs(%e : tensor<{R}x{C}xf32>) {
  ^bb0(%v: f32, %mx: f32, %s: f32, %o: f32):
    %d = arith.subf %v, %mx : f32
    %ex = math.exp %d : f32
    %r = arith.divf %ex, %s : f32
    linalg.yield %r : f32
  } -> tensor<{R}x{C}xf32>
  return %y : tensor<{R}x{C}xf32>
}
)mlir",
      {{"R", std::to_string(rows)},
       {"C", std::to_string(cols)},
       {"ATTRS", attributes.empty() ? "" : "attributes {" + attributes + "}"}});
}

inline std::vector<double> maskedSoftmaxReference(const std::vector<float> &x,
                                                  int64_t rows, int64_t cols,
                                                  int64_t m) {
  std::vector<double> y(rows * cols, 0.0);
  for (int64_t i = 0; i < rows; ++i) {
    double max = -1e300;
    for (int64_t j = 0; j <= std::min(cols - 1, i + m); ++j)
      max = std::max(max, static_cast<double>(x[i * cols + j]));
    double sum = 0;
    for (int64_t j = 0; j <= std::min(cols - 1, i + m); ++j)
      sum += std::exp(x[i * cols + j] - max);
    for (int64_t j = 0; j <= std::min(cols - 1, i + m); ++j)
      y[i * cols + j] = std::exp(x[i * cols + j] - max) / sum;
  }
  return y;
}

} // namespace txl::codegen::halide::test

#endif // TXL_TESTS_UNIT_CODEGEN_KERNELS_H
