//===- DescribeTest.cpp - the one-line description of a target ------------===//
#include "TargetTestSupport.h"

#include <gmock/gmock.h>

using namespace txl::target;
using ::testing::MatchesRegex;

TEST(TargetDescribe, CrossTarget) {
  EXPECT_EQ(describe(parsed("x86-64-linux-avx512")),
            "x86-64-linux-avx512: 16 f32 lanes, 32 vector registers, L1d 48 "
            "KiB, L2 2 MiB, L3 32 MiB, 1 core");
}

TEST(TargetDescribe, CacheSpecSizes) {
  EXPECT_EQ(
      describe(parsed("x86-64-linux-avx2", "l1d=32K,l2=1280K,l3=1G,cores=2")),
      "x86-64-linux-avx2: 8 f32 lanes, 16 vector registers, L1d 32 KiB, "
      "L2 1280 KiB, L3 1 GiB, 2 cores");
  EXPECT_EQ(describe(parsed("arm-64-linux", "l1d=1000")),
            "arm-64-linux: 4 f32 lanes, 32 vector registers, L1d 1000 B, L2 2 "
            "MiB, L3 32 MiB, 1 core");
}

TEST(TargetDescribe, GpuTargets) {
  EXPECT_EQ(describe(parsed("x86-64-linux-avx2-cuda-cuda_capability_86")),
            "x86-64-linux-avx2-cuda-cuda_capability_86: CUDA kernels, 48 KiB "
            "shared memory and 1024 threads per block, warps of 32; CPU side "
            "16 vector registers, L1d 48 KiB, L2 2 MiB, L3 32 MiB, 1 core");
  EXPECT_EQ(describe(parsed("x86-64-linux-opencl")),
            "x86-64-linux-opencl: OpenCL kernels, 32 KiB shared memory and 256 "
            "threads per block; CPU side 16 vector registers, L1d 48 KiB, L2 2 "
            "MiB, L3 32 MiB, 1 core");
}

TEST(TargetDescribe, HostShowsWhatItResolvedTo) {
  TargetInfo host = parsed("host");
  EXPECT_THAT(describe(host),
              MatchesRegex("host \\(" + host.concrete +
                           "\\): [0-9]+ f32 lanes, [0-9]+ vector registers, "
                           "L1d [0-9]+ [KM]iB, L2 [0-9]+ [KM]iB, "
                           "(L3 [0-9]+ [KMG]iB|no L3), [0-9]+ cores?"));
}
