//===- RejectedIrTest.cpp - IR outside the kernel contract, bad inputs ----===//

#include "KernelTestSupport.h"
#include "Kernels.h"

namespace txl::codegen::halide::test {
namespace {

/// Translating (through jitRun) must fail with a message holding `fragment`.
void expectRejected(const std::string &source, const std::string &fragment,
                    const std::vector<HostTensor> &inputs = {}) {
  ParsedKernel parsed = parseKernel(source);
  ASSERT_TRUE(parsed.module);
  StatusOr<KernelSignature> signature = kernelSignature(parsed.kernel());
  ASSERT_FALSE(signature.ok()) << source;
  EXPECT_NE(signature.status().message().find(fragment), std::string::npos)
      << signature.status().message();
  StatusOr<std::vector<HostTensor>> out = jitRun(parsed.kernel(), inputs);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find(fragment), std::string::npos)
      << out.status().message();
}

TEST(HalideRejectedIr, NamedOpOutsideTheContract) {
  expectRejected(R"mlir(
func.func @named(%a: tensor<4x8xf32>, %b: tensor<8x3xf32>) -> tensor<4x3xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4x3xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4x3xf32>) -> tensor<4x3xf32>
  %r = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x3xf32>)
                     outs(%f : tensor<4x3xf32>) -> tensor<4x3xf32>
  return %r : tensor<4x3xf32>
}
)mlir",
                 "kernel 'named': 'linalg.matmul' at");
}

TEST(HalideRejectedIr, UnsupportedBodyOp) {
  expectRejected(R"mlir(
func.func @body(%a: tensor<4xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                       iterator_types = ["parallel"]}
      ins(%a : tensor<4xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = math.atan %v : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
)mlir",
                 "unsupported 'math.atan'");
}

TEST(HalideRejectedIr, DynamicShape) {
  expectRejected(R"mlir(
func.func @dynamic(%a: tensor<?x4xf32>) -> tensor<4xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  return %f : tensor<4xf32>
}
)mlir",
                 "argument #0 has the dynamic shape tensor<?x4xf32>");
}

TEST(HalideRejectedIr, UnsupportedElementType) {
  expectRejected(R"mlir(
func.func @half(%a: tensor<4xf16>) -> tensor<4xf16> {
  return %a : tensor<4xf16>
}
)mlir",
                 "argument #0 has element type f16");
}

TEST(HalideRejectedIr, ReductionIntoAnUninitialisedTensor) {
  expectRejected(R"mlir(
func.func @uninit(%a: tensor<4x5xf32>) -> tensor<4xf32> {
  %e = tensor.empty() : tensor<4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<4x5xf32>) outs(%e : tensor<4xf32>) {
  ^bb0(%v: f32, %o: f32):
    %r = arith.addf %o, %v : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %r : tensor<4xf32>
}
)mlir",
                 "reads a tensor.empty");
}

TEST(HalideRejectedIr, OutputMapThatIsNotAPermutation) {
  expectRejected(R"mlir(
func.func @diagonal(%a: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %e = tensor.empty() : tensor<4x4xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d0)>],
                       iterator_types = ["parallel", "parallel"]}
      ins(%a : tensor<4x4xf32>) outs(%e : tensor<4x4xf32>) {
  ^bb0(%v: f32, %o: f32):
    linalg.yield %v : f32
  } -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
)mlir",
                 "the output indexing map must be a permutation");
}

TEST(HalideRejectedIr, BadInputsToJitRun) {
  ParsedKernel parsed = parseKernel(matmulBiasKernel(2, 5, 40, 24));
  std::vector<float> x(2 * 5 * 24), w(40 * 24), bias(40);
  StatusOr<std::vector<HostTensor>> missing =
      jitRun(parsed.kernel(), {HostTensor::ofF32({2, 5, 24}, x)});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("takes 3 tensors and 0 scalars; "
                                            "got 1 and 0"),
            std::string::npos)
      << missing.status().message();
  StatusOr<std::vector<HostTensor>> wrongShape =
      jitRun(parsed.kernel(),
             {HostTensor::ofF32({2, 5, 24}, x), HostTensor::ofF32({24, 40}, w),
              HostTensor::ofF32({40}, bias)});
  ASSERT_FALSE(wrongShape.ok());
  EXPECT_NE(wrongShape.status().message().find(
                "tensor input #1 is f32[24,40]; expected f32[40,24]"),
            std::string::npos)
      << wrongShape.status().message();
  StatusOr<std::vector<HostTensor>> shortData =
      jitRun(parsed.kernel(),
             {HostTensor::ofF32({2, 5, 24}, x), HostTensor::ofF32({40, 24}, w),
              HostTensor::ofF32({40}, {1.0f})});
  ASSERT_FALSE(shortData.ok());
  EXPECT_NE(shortData.status().message().find("holds 1 elements"),
            std::string::npos)
      << shortData.status().message();
}

TEST(HalideRejectedIr, BadTargetAndSymbolName) {
  ParsedKernel parsed = parseKernel(matmulBiasKernel(2, 5, 40, 24));
  StatusOr<CompiledKernel> badTarget =
      compileKernel(parsed.kernel(), "x86-64-plan9-quantum", "/tmp/unused");
  ASSERT_FALSE(badTarget.ok());
  EXPECT_NE(badTarget.status().message().find(
                "invalid Halide target 'x86-64-plan9-quantum'"),
            std::string::npos)
      << badTarget.status().message();
  EXPECT_FALSE(compileHalideRuntime("not-a-target", "/tmp/unused.o").isOk());

  ParsedKernel dotted = parseKernel(R"mlir(
func.func @"layer.0"(%a: tensor<4xf32>) -> tensor<4xf32> {
  return %a : tensor<4xf32>
}
)mlir");
  StatusOr<CompiledKernel> badName =
      compileKernel(dotted.kernel(), "host", "/tmp/unused");
  ASSERT_FALSE(badName.ok());
  EXPECT_NE(badName.status().message().find("must be a C identifier"),
            std::string::npos)
      << badName.status().message();
}

} // namespace
} // namespace txl::codegen::halide::test
