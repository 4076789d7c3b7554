//===- KernelJitTest.cpp - kernels JIT-run through Halide vs plain C++ ----===//

#include "KernelTestSupport.h"
#include "Kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace txl::codegen::halide::test {
namespace {

TEST(HalideKernelJit, MatmulWithBias) {
  ParsedKernel parsed = parseKernel(matmulBiasKernel(2, 5, 40, 24));
  std::vector<float> x = randomFloats(2 * 5 * 24, 1);
  std::vector<float> w = randomFloats(40 * 24, 2);
  std::vector<float> bias = randomFloats(40, 3);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({2, 5, 24}, x), HostTensor::ofF32({40, 24}, w),
           HostTensor::ofF32({40}, bias)});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].shape, (std::vector<int64_t>{2, 5, 40}));
  expectNear(out[0].f32, matmulBiasReference(x, w, bias, 10, 40, 24));
}

TEST(HalideKernelJit, MatmulAtTransformerXlSizes) {
  // 41 rows and 410 columns: neither is a multiple of the vector width.
  ParsedKernel parsed = parseKernel(matmulBiasKernel(1, 41, 410, 64));
  std::vector<float> x = randomFloats(41 * 64, 4);
  std::vector<float> w = randomFloats(410 * 64, 5);
  std::vector<float> bias = randomFloats(410, 6);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({1, 41, 64}, x), HostTensor::ofF32({410, 64}, w),
           HostTensor::ofF32({410}, bias)});
  ASSERT_EQ(out.size(), 1u);
  expectNear(out[0].f32, matmulBiasReference(x, w, bias, 41, 410, 64));
}

TEST(HalideKernelJit, Elementwise) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @elementwise(%a: tensor<3x41xf32>, %b: tensor<3x41xf32>) -> tensor<3x41xf32> {
  %e = tensor.empty() : tensor<3x41xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0, d1)>,
                       affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%a, %b : tensor<3x41xf32>, tensor<3x41xf32>) outs(%e : tensor<3x41xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %t = math.tanh %x : f32
    %m = arith.mulf %t, %y : f32
    %ex = math.exp %x : f32
    %s = arith.addf %m, %ex : f32
    %mx = arith.maximumf %x, %y : f32
    %d = arith.subf %s, %mx : f32
    %ab = math.absf %y : f32
    %sq = math.sqrt %ab : f32
    %r1 = arith.addf %d, %sq : f32
    %neg = arith.negf %r1 : f32
    %c = arith.cmpf ogt, %x, %y : f32
    %sel = arith.select %c, %neg, %r1 : f32
    %two = arith.constant 2.0 : f32
    %p = math.powf %ab, %two : f32
    %l = math.log %p : f32
    %rs = math.rsqrt %ab : f32
    %q = arith.divf %l, %rs : f32
    %res = arith.addf %sel, %q : f32
    linalg.yield %res : f32
  } -> tensor<3x41xf32>
  return %r : tensor<3x41xf32>
}
)mlir");
  std::vector<float> a = randomFloats(3 * 41, 7), b = randomFloats(3 * 41, 8);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({3, 41}, a), HostTensor::ofF32({3, 41}, b)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> expected(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    double x = a[i], y = b[i];
    double r1 = std::tanh(x) * y + std::exp(x) - std::max(x, y) +
                std::sqrt(std::fabs(y));
    double sel = x > y ? -r1 : r1;
    double q = std::log(y * y) / (1.0 / std::sqrt(std::fabs(y)));
    expected[i] = sel + q;
  }
  expectNear(out[0].f32, expected, 1e-3);
}

TEST(HalideKernelJit, LayerNorm) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @layer_norm(%x: tensor<41x410xf32>, %gamma: tensor<410xf32>,
                      %beta: tensor<410xf32>) -> tensor<41x410xf32> {
  %zero = arith.constant 0.0 : f32
  %n = arith.constant 410.0 : f32
  %eps = arith.constant 1.0e-5 : f32
  %e1 = tensor.empty() : tensor<41xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e1 : tensor<41xf32>) -> tensor<41xf32>
  %sum = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"], txl.name = "ln.sum"}
      ins(%x : tensor<41x410xf32>) outs(%f : tensor<41xf32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  } -> tensor<41xf32>
  %var = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"], txl.name = "ln.var"}
      ins(%x, %sum : tensor<41x410xf32>, tensor<41xf32>) outs(%f : tensor<41xf32>) {
  ^bb0(%v: f32, %s: f32, %acc: f32):
    %mean = arith.divf %s, %n : f32
    %c = arith.subf %v, %mean : f32
    %sq = arith.mulf %c, %c : f32
    %r = arith.addf %acc, %sq : f32
    linalg.yield %r : f32
  } -> tensor<41xf32>
  %e2 = tensor.empty() : tensor<41x410xf32>
  %y = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d1)>,
                       affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"], txl.name = "ln.out"}
      ins(%x, %sum, %var, %gamma, %beta : tensor<41x410xf32>, tensor<41xf32>,
          tensor<41xf32>, tensor<410xf32>, tensor<410xf32>)
      outs(%e2 : tensor<41x410xf32>) {
  ^bb0(%v: f32, %s: f32, %q: f32, %g: f32, %b: f32, %o: f32):
    %mean = arith.divf %s, %n : f32
    %c = arith.subf %v, %mean : f32
    %variance = arith.divf %q, %n : f32
    %ve = arith.addf %variance, %eps : f32
    %inv = math.rsqrt %ve : f32
    %nrm = arith.mulf %c, %inv : f32
    %sc = arith.mulf %nrm, %g : f32
    %r = arith.addf %sc, %b : f32
    linalg.yield %r : f32
  } -> tensor<41x410xf32>
  return %y : tensor<41x410xf32>
}
)mlir");
  const int64_t rows = 41, cols = 410;
  std::vector<float> x = randomFloats(rows * cols, 9, -2.0f, 3.0f);
  std::vector<float> gamma = randomFloats(cols, 10, 0.5f, 1.5f);
  std::vector<float> beta = randomFloats(cols, 11);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({rows, cols}, x), HostTensor::ofF32({cols}, gamma),
           HostTensor::ofF32({cols}, beta)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> expected(rows * cols);
  for (int64_t i = 0; i < rows; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; ++j)
      mean += x[i * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; ++j)
      var += (x[i * cols + j] - mean) * (x[i * cols + j] - mean);
    var /= cols;
    for (int64_t j = 0; j < cols; ++j)
      expected[i * cols + j] =
          (x[i * cols + j] - mean) / std::sqrt(var + 1e-5) * gamma[j] + beta[j];
  }
  expectNear(out[0].f32, expected, 1e-4);
}

TEST(HalideKernelJit, MaskedSoftmaxWithIndexArgument) {
  const int64_t rows = 5, cols = 41, m = 2;
  ParsedKernel parsed = parseKernel(maskedSoftmaxKernel(rows, cols));
  std::vector<float> x = randomFloats(rows * cols, 12, -4.0f, 4.0f);
  std::vector<HostTensor> out =
      run(parsed.kernel(), {HostTensor::ofF32({rows, cols}, x)}, {m});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> expected = maskedSoftmaxReference(x, rows, cols, m);
  expectNear(out[0].f32, expected, 1e-5);
  // Masked entries are exactly zero (exp(-inf) = 0, no NaN).
  EXPECT_EQ(out[0].f32[cols - 1], 0.0f);
}

TEST(HalideKernelJit, ScalarArgumentInAMask) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @mask(%x: tensor<4x6xf32>, %m: index, %s: i64) -> tensor<4x6xf32> {
  %e = tensor.empty() : tensor<4x6xf32>
  %zero = arith.constant 0.0 : f32
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x6xf32>) outs(%e : tensor<4x6xf32>) {
  ^bb0(%v: f32, %o: f32):
    %j = linalg.index 1 : index
    %keep = arith.cmpi slt, %j, %m : index
    %sf = arith.sitofp %s : i64 to f32
    %scaled = arith.mulf %v, %sf : f32
    %r = arith.select %keep, %scaled, %zero : f32
    linalg.yield %r : f32
  } -> tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}
)mlir");
  std::vector<float> x = randomFloats(24, 13);
  for (int64_t m : {0, 3, 6}) {
    std::vector<HostTensor> out =
        run(parsed.kernel(), {HostTensor::ofF32({4, 6}, x)}, {m, 3});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> expected(24);
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 6; ++j)
        expected[i * 6 + j] = j < m ? 3.0 * x[i * 6 + j] : 0.0;
    expectNear(out[0].f32, expected);
  }
}

/// A row sum over j marked `txl.first_contributing` at 6 - m: the body adds
/// every element (no mask), so the result shows where the loop started.
std::string firstContributingKernel(const std::string &marker) {
  return R"mlir(
func.func @held(%x: tensor<4x6xf32>, %m: index) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>,
                       affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"]}
      ins(%x, %m : tensor<4x6xf32>, index) outs(%init : tensor<4xf32>) )mlir" +
         marker + R"mlir( {
  ^bb0(%v: f32, %rows: index, %o: f32):
    %s = arith.addf %o, %v : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
)mlir";
}

TEST(HalideKernelJit, ReductionStartsAtTheFirstContributingIteration) {
  ParsedKernel parsed = parseKernel(firstContributingKernel(
      "attrs = {txl.first_contributing = {loop = 1 : i64, input = 1 : i64, "
      "at = affine_map<()[s0] -> (-s0 + 6)>}}"));
  std::vector<float> x = randomFloats(24, 17);
  // m = 6: the whole range (the specialized kernel); m = 0: nothing.
  for (int64_t m : {0, 2, 5, 6}) {
    std::vector<HostTensor> out =
        run(parsed.kernel(), {HostTensor::ofF32({4, 6}, x)}, {m});
    ASSERT_EQ(out.size(), 1u);
    std::vector<double> expected(4, 0.0);
    for (int i = 0; i < 4; ++i)
      for (int j = 6 - m; j < 6; ++j)
        expected[i] += x[i * 6 + j];
    expectNear(out[0].f32, expected);
  }
}

TEST(HalideKernelJit, AMalformedFirstContributingIsAnError) {
  ParsedKernel parsed = parseKernel(firstContributingKernel(
      "attrs = {txl.first_contributing = {loop = 0 : i64, input = 1 : i64, "
      "at = affine_map<()[s0] -> (-s0 + 6)>}}"));
  StatusOr<std::vector<HostTensor>> out = jitRun(
      parsed.kernel(), {HostTensor::ofF32({4, 6}, randomFloats(24, 1))}, {2});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("malformed txl.first_contributing"),
            std::string::npos)
      << out.status().message();
}

TEST(HalideKernelJit, EmbeddingGather) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @embed(%table: tensor<50x16xf32>, %tokens: tensor<2x7xi64>) -> tensor<2x7x16xf32> {
  %scale = arith.constant 4.0 : f32
  %e = tensor.empty() : tensor<2x7x16xf32>
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1)>,
                       affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
      iterator_types = ["parallel", "parallel", "parallel"], txl.name = "embed"}
      ins(%tokens : tensor<2x7xi64>) outs(%e : tensor<2x7x16xf32>) {
  ^bb0(%tok: i64, %o: f32):
    %row = arith.index_cast %tok : i64 to index
    %col = linalg.index 2 : index
    %v = tensor.extract %table[%row, %col] : tensor<50x16xf32>
    %s = arith.mulf %v, %scale : f32
    linalg.yield %s : f32
  } -> tensor<2x7x16xf32>
  return %r : tensor<2x7x16xf32>
}
)mlir");
  std::vector<float> table = randomFloats(50 * 16, 14);
  std::vector<int64_t> tokens = {0, 49, 3,  3,  17, 25, 8,
                                 1, 2,  48, 30, 31, 0,  9};
  std::vector<HostTensor> out =
      run(parsed.kernel(), {HostTensor::ofF32({50, 16}, table),
                            HostTensor::ofI64({2, 7}, tokens)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> expected;
  for (int64_t token : tokens)
    for (int d = 0; d < 16; ++d)
      expected.push_back(4.0 * table[token * 16 + d]);
  expectNear(out[0].f32, expected);
}

TEST(HalideKernelJit, AffineIndexMaps) {
  // A rel-shift style index (d1 - d0 + 3), a constant, a folded reshape
  // (d0 * 3 + d1) and floordiv/mod.
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @maps(%x: tensor<4x9xf32>, %y: tensor<6x5xf32>)
    -> (tensor<4x6xf32>, tensor<2x3x5xf32>, tensor<30xf32>) {
  %ten = arith.constant 10.0 : f32
  %e0 = tensor.empty() : tensor<4x6xf32>
  %a = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1 - d0 + 3)>,
                       affine_map<(d0, d1) -> (2, d1 + 1)>,
                       affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"], txl.name = "shift"}
      ins(%x, %x : tensor<4x9xf32>, tensor<4x9xf32>) outs(%e0 : tensor<4x6xf32>) {
  ^bb0(%s: f32, %c: f32, %o: f32):
    %m = arith.mulf %c, %ten : f32
    %r = arith.addf %s, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x6xf32>
  %e1 = tensor.empty() : tensor<2x3x5xf32>
  %b = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0 * 3 + d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1, d2)>],
      iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%y : tensor<6x5xf32>) outs(%e1 : tensor<2x3x5xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<2x3x5xf32>
  %e2 = tensor.empty() : tensor<30xf32>
  %c = linalg.generic {
      indexing_maps = [affine_map<(d0) -> (d0 floordiv 5, d0 mod 5)>,
                       affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]}
      ins(%y : tensor<6x5xf32>) outs(%e2 : tensor<30xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<30xf32>
  return %a, %b, %c : tensor<4x6xf32>, tensor<2x3x5xf32>, tensor<30xf32>
}
)mlir");
  std::vector<float> x = randomFloats(36, 15), y = randomFloats(30, 16);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({4, 9}, x), HostTensor::ofF32({6, 5}, y)});
  ASSERT_EQ(out.size(), 3u);
  std::vector<double> shifted;
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 6; ++j)
      shifted.push_back(x[i * 9 + (j - i + 3)] + 10.0 * x[2 * 9 + j + 1]);
  expectNear(out[0].f32, shifted);
  std::vector<double> same(y.begin(), y.end());
  expectNear(out[1].f32, same);
  expectNear(out[2].f32, same);
}

TEST(HalideKernelJit, ReductionInitFromArgument) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @accumulate(%acc: tensor<3x8xf32>, %a: tensor<3x8x5xf32>) -> tensor<3x8xf32> {
  %r = linalg.generic {
      indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>,
                       affine_map<(d0, d1, d2) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a : tensor<3x8x5xf32>) outs(%acc : tensor<3x8xf32>) {
  ^bb0(%v: f32, %o: f32):
    %sq = arith.mulf %v, %v : f32
    %r = arith.addf %o, %sq : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  return %r : tensor<3x8xf32>
}
)mlir");
  std::vector<float> acc = randomFloats(24, 17), a = randomFloats(120, 18);
  std::vector<HostTensor> out =
      run(parsed.kernel(),
          {HostTensor::ofF32({3, 8}, acc), HostTensor::ofF32({3, 8, 5}, a)});
  ASSERT_EQ(out.size(), 1u);
  std::vector<double> expected(24);
  for (int i = 0; i < 24; ++i) {
    expected[i] = acc[i];
    for (int k = 0; k < 5; ++k)
      expected[i] += static_cast<double>(a[i * 5 + k]) * a[i * 5 + k];
  }
  expectNear(out[0].f32, expected);
}

TEST(HalideKernelJit, MultiOutputReductionAndConsumer) {
  // One generic computes max, argmax (i64) and sum of each row; a later
  // generic consumes the sum. Also a rank-0 total.
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @stats(%x: tensor<4x41xf32>)
    -> (tensor<4xf32>, tensor<4xi64>, tensor<4xf32>, tensor<4x41xf32>, tensor<f32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %izero = arith.constant 0 : i64
  %e = tensor.empty() : tensor<4xf32>
  %ei = tensor.empty() : tensor<4xi64>
  %fm = linalg.fill ins(%ninf : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %fi = linalg.fill ins(%izero : i64) outs(%ei : tensor<4xi64>) -> tensor<4xi64>
  %fs = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %max, %arg, %sum = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0)>],
      iterator_types = ["parallel", "reduction"], txl.name = "row.stats"}
      ins(%x : tensor<4x41xf32>) outs(%fm, %fi, %fs : tensor<4xf32>, tensor<4xi64>, tensor<4xf32>) {
  ^bb0(%v: f32, %mx: f32, %am: i64, %s: f32):
    %j = linalg.index 1 : index
    %ji = arith.index_cast %j : index to i64
    %gt = arith.cmpf ogt, %v, %mx : f32
    %nmx = arith.select %gt, %v, %mx : f32
    %nam = arith.select %gt, %ji, %am : i64
    %ns = arith.addf %s, %v : f32
    linalg.yield %nmx, %nam, %ns : f32, i64, f32
  } -> (tensor<4xf32>, tensor<4xi64>, tensor<4xf32>)
  %e2 = tensor.empty() : tensor<4x41xf32>
  %scaled = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                       affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x, %sum : tensor<4x41xf32>, tensor<4xf32>) outs(%e2 : tensor<4x41xf32>) {
  ^bb0(%v: f32, %s: f32, %o: f32):
    %r = arith.divf %v, %s : f32
    linalg.yield %r : f32
  } -> tensor<4x41xf32>
  %e0 = tensor.empty() : tensor<f32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %total = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> ()>],
      iterator_types = ["reduction", "reduction"]}
      ins(%x : tensor<4x41xf32>) outs(%f0 : tensor<f32>) {
  ^bb0(%v: f32, %acc: f32):
    %r = arith.addf %acc, %v : f32
    linalg.yield %r : f32
  } -> tensor<f32>
  return %max, %arg, %sum, %scaled, %total
      : tensor<4xf32>, tensor<4xi64>, tensor<4xf32>, tensor<4x41xf32>, tensor<f32>
}
)mlir");
  std::vector<float> x = randomFloats(4 * 41, 19, 0.1f, 2.0f);
  std::vector<HostTensor> out =
      run(parsed.kernel(), {HostTensor::ofF32({4, 41}, x)});
  ASSERT_EQ(out.size(), 5u);
  EXPECT_EQ(out[1].element, ElementKind::I64);
  EXPECT_TRUE(out[4].shape.empty());
  std::vector<double> max(4), sum(4), scaled(4 * 41), total(1, 0.0);
  for (int i = 0; i < 4; ++i) {
    max[i] = *std::max_element(x.begin() + i * 41, x.begin() + (i + 1) * 41);
    int64_t arg =
        std::max_element(x.begin() + i * 41, x.begin() + (i + 1) * 41) -
        (x.begin() + i * 41);
    EXPECT_EQ(out[1].i64[i], arg) << "row " << i;
    for (int j = 0; j < 41; ++j)
      sum[i] += x[i * 41 + j];
    for (int j = 0; j < 41; ++j)
      scaled[i * 41 + j] = x[i * 41 + j] / sum[i];
    total[0] += sum[i];
  }
  expectNear(out[0].f32, max);
  expectNear(out[2].f32, sum);
  expectNear(out[3].f32, scaled);
  expectNear(out[4].f32, total);
}

TEST(HalideKernelJit, IntegerArithmeticKeepsMlirSemantics) {
  // Signed division rounds toward zero (divsi, remsi) or down
  // (floordivsi), also for negative operands, unlike Halide's `/`.
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @integers(%a: tensor<8xi32>, %b: tensor<8xi64>)
    -> (tensor<8xi32>, tensor<8xi32>, tensor<8xi32>, tensor<8xi64>) {
  %e = tensor.empty() : tensor<8xi32>
  %el = tensor.empty() : tensor<8xi64>
  %q, %r, %f, %w = linalg.generic {
      indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                       affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                       affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]}
      ins(%a, %b : tensor<8xi32>, tensor<8xi64>)
      outs(%e, %e, %e, %el : tensor<8xi32>, tensor<8xi32>, tensor<8xi32>, tensor<8xi64>) {
  ^bb0(%x: i32, %y: i64, %o0: i32, %o1: i32, %o2: i32, %o3: i64):
    %yt = arith.trunci %y : i64 to i32
    %q = arith.divsi %x, %yt : i32
    %r = arith.remsi %x, %yt : i32
    %f = arith.floordivsi %x, %yt : i32
    %xw = arith.extsi %x : i32 to i64
    %m = arith.muli %xw, %y : i64
    %s = arith.subi %m, %y : i64
    %andv = arith.andi %s, %y : i64
    %orv = arith.ori %andv, %xw : i64
    %w = arith.xori %orv, %y : i64
    linalg.yield %q, %r, %f, %w : i32, i32, i32, i64
  } -> (tensor<8xi32>, tensor<8xi32>, tensor<8xi32>, tensor<8xi64>)
  return %q, %r, %f, %w : tensor<8xi32>, tensor<8xi32>, tensor<8xi32>, tensor<8xi64>
}
)mlir");
  std::vector<int32_t> a = {7, -7, 7, -7, 0, 13, -1, 100};
  std::vector<int64_t> b = {2, 2, -2, -2, 3, -5, 4, 7};
  std::vector<HostTensor> out = run(
      parsed.kernel(), {HostTensor::ofI32({8}, a), HostTensor::ofI64({8}, b)});
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 8; ++i) {
    int32_t x = a[i], y = static_cast<int32_t>(b[i]);
    int32_t floorQ = x / y - ((x % y != 0) && ((x < 0) != (y < 0)) ? 1 : 0);
    int64_t xw = x;
    int64_t w = ((((xw * b[i]) - b[i]) & b[i]) | xw) ^ b[i];
    EXPECT_EQ(out[0].i32[i], x / y) << i;
    EXPECT_EQ(out[1].i32[i], x % y) << i;
    EXPECT_EQ(out[2].i32[i], floorQ) << i;
    EXPECT_EQ(out[3].i64[i], w) << i;
  }
}

TEST(HalideKernelJit, DivisionByConstantsRoundsTowardZero) {
  // Constant divisors take another path in Halide than variable ones:
  // Halide 14's div_round_to_zero by a constant is wrong (1 / 5 gave -1),
  // which once sent the scoring tails to the wrong batch row.
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @by_constants(%a: tensor<16xi32>)
    -> (tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>) {
  %five = arith.constant 5 : i32
  %minus_three = arith.constant -3 : i32
  %e = tensor.empty() : tensor<16xi32>
  %q5, %r5, %qm3, %rm3 = linalg.generic {
      indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                       affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>,
                       affine_map<(d0) -> (d0)>],
      iterator_types = ["parallel"]}
      ins(%a : tensor<16xi32>) outs(%e, %e, %e, %e
          : tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>) {
  ^bb0(%x: i32, %o0: i32, %o1: i32, %o2: i32, %o3: i32):
    %q = arith.divsi %x, %five : i32
    %r = arith.remsi %x, %five : i32
    %qm = arith.divsi %x, %minus_three : i32
    %rm = arith.remsi %x, %minus_three : i32
    linalg.yield %q, %r, %qm, %rm : i32, i32, i32, i32
  } -> (tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>)
  return %q5, %r5, %qm3, %rm3
      : tensor<16xi32>, tensor<16xi32>, tensor<16xi32>, tensor<16xi32>
}
)mlir");
  std::vector<int32_t> a = {0, 1, 4, 5, 6, 9, 10, 99, -1, -4, -5, -6, -9, -10, -99, 7};
  std::vector<HostTensor> out = run(parsed.kernel(), {HostTensor::ofI32({16}, a)});
  ASSERT_EQ(out.size(), 4u);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(out[0].i32[i], a[i] / 5) << a[i];
    EXPECT_EQ(out[1].i32[i], a[i] % 5) << a[i];
    EXPECT_EQ(out[2].i32[i], a[i] / -3) << a[i];
    EXPECT_EQ(out[3].i32[i], a[i] % -3) << a[i];
  }
}

TEST(HalideKernelJit, ResultsThatAreArgumentsFillsOrRepeated) {
  ParsedKernel parsed = parseKernel(R"mlir(
func.func @passthrough(%x: tensor<3x5xf32>)
    -> (tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<2xf32>) {
  %one = arith.constant 1.5 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %d = linalg.generic {
      indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
      iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<3x5xf32>) outs(%e : tensor<3x5xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.addf %v, %v : f32
    linalg.yield %r : f32
  } -> tensor<3x5xf32>
  %e2 = tensor.empty() : tensor<2xf32>
  %f = linalg.fill ins(%one : f32) outs(%e2 : tensor<2xf32>) -> tensor<2xf32>
  return %x, %d, %d, %f : tensor<3x5xf32>, tensor<3x5xf32>, tensor<3x5xf32>, tensor<2xf32>
}
)mlir");
  std::vector<float> x = randomFloats(15, 20);
  std::vector<HostTensor> out =
      run(parsed.kernel(), {HostTensor::ofF32({3, 5}, x)});
  ASSERT_EQ(out.size(), 4u);
  std::vector<double> same(x.begin(), x.end()), twice;
  for (float v : x)
    twice.push_back(2.0 * v);
  expectNear(out[0].f32, same);
  expectNear(out[1].f32, twice);
  expectNear(out[2].f32, twice);
  expectNear(out[3].f32, {1.5, 1.5});
}

} // namespace
} // namespace txl::codegen::halide::test
