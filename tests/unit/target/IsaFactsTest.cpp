//===- IsaFactsTest.cpp - lanes, registers and GPU API per target ---------===//
#include "TargetTestSupport.h"

using namespace txl::target;

namespace {

struct IsaCase {
  const char *target;
  int64_t lanes;
  int64_t registers;
};

} // namespace

TEST(TargetIsa, LanesAndRegistersPerIsa) {
  const IsaCase cases[] = {
      {"x86-64-linux-avx512", 16, 32},
      {"x86-64-linux-avx512_skylake", 16, 32}, // implies avx512 in Halide
      {"x86-64-linux-avx-avx2-avx512-avx512_sapphirerapids-f16c-fma-sse41", 16,
       32},
      {"x86-64-linux-avx2-fma", 8, 16},
      {"x86-64-linux-avx", 8, 16},
      {"x86-64-linux-sse41", 4, 16},
      {"x86-64-linux", 4, 16},
      {"x86-32-linux-sse41", 4, 8},
      {"arm-64-linux", 4, 32},
      {"arm-32-android", 4, 16},
      {"wasm-32-wasmrt-wasm_simd128", 4, 16},
  };
  for (const IsaCase &c : cases) {
    TargetInfo info = parsed(c.target);
    EXPECT_EQ(info.vectorWidthF32, c.lanes) << c.target;
    EXPECT_EQ(info.vectorRegisters, c.registers) << c.target;
  }
}

TEST(TargetIsa, CudaTarget) {
  TargetInfo info = parsed("x86-64-linux-avx512-cuda-cuda_capability_86");
  EXPECT_EQ(info.gpu, GpuApi::Cuda);
  EXPECT_TRUE(info.isGpu());
  EXPECT_EQ(info.vectorWidthF32, 1);   // GPU schedules tile instead
  EXPECT_EQ(info.vectorRegisters, 32); // the CPU side's
  EXPECT_EQ(info.gpuLimits.sharedMemoryBytes, 48 << 10);
  EXPECT_EQ(info.gpuLimits.maxThreadsPerBlock, 1024);
  EXPECT_EQ(info.gpuLimits.warpSize, 32);
}

TEST(TargetIsa, OpenClTarget) {
  TargetInfo info = parsed("host-opencl");
  EXPECT_EQ(info.gpu, GpuApi::OpenCL);
  EXPECT_EQ(info.vectorWidthF32, 1);
  EXPECT_EQ(info.gpuLimits.sharedMemoryBytes, 32 << 10);
  EXPECT_EQ(info.gpuLimits.maxThreadsPerBlock, 256);
  EXPECT_EQ(info.gpuLimits.warpSize, 1);
}

TEST(TargetIsa, CpuTargetHasNoGpuLimits) {
  TargetInfo info = parsed("x86-64-linux-avx2");
  EXPECT_EQ(info.gpu, GpuApi::None);
  EXPECT_EQ(info.gpuLimits.sharedMemoryBytes, 0);
  EXPECT_EQ(info.gpuLimits.maxThreadsPerBlock, 0);
}

TEST(TargetIsa, GpuApisTxlDoesNotCompileFor) {
  EXPECT_EQ(refusal("x86-64-osx-metal"),
            "target 'x86-64-osx-metal': GPU API 'metal' is not one txl "
            "compiles for; accepted: cuda, opencl");
  EXPECT_EQ(refusal("host-cuda-opencl"),
            "target 'host-cuda-opencl': both cuda and opencl; txl compiles a "
            "model's kernels for one GPU API, choose one");
}

TEST(TargetIsa, CrossTargetsGetTheDocumentedDefaults) {
  for (const char *target : {"x86-64-linux-avx512", "x86-64-linux-avx2",
                             "arm-64-linux", "x86-64-linux-cuda"}) {
    TargetInfo info = parsed(target);
    EXPECT_EQ(info.caches.l1d, 48 << 10) << target;
    EXPECT_EQ(info.caches.l2, 2 << 20) << target;
    EXPECT_EQ(info.caches.l3, 32 << 20) << target;
    EXPECT_EQ(info.cores, 1) << target;
  }
}
