//===- TargetStringTest.cpp - Halide target strings, parsed and refused ---===//
#include "TargetTestSupport.h"

#include <gmock/gmock.h>

using namespace txl::target;
using ::testing::ElementsAre;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(TargetString, CrossAvx512) {
  TargetInfo info = parsed("x86-64-linux-avx512");
  EXPECT_EQ(info.name, "x86-64-linux-avx512");
  EXPECT_EQ(info.concrete, "x86-64-linux-avx512");
  EXPECT_EQ(info.arch, "x86-64");
  EXPECT_EQ(info.os, "linux");
  EXPECT_THAT(info.features, ElementsAre("avx512"));
  EXPECT_TRUE(info.hasFeature("avx512"));
  EXPECT_FALSE(info.hasFeature("avx2"));
  EXPECT_FALSE(info.isHost);
  EXPECT_FALSE(info.isGpu());
}

TEST(TargetString, CrossAvx2FmaFeaturesAreSorted) {
  TargetInfo info = parsed("x86-64-linux-fma-avx2");
  EXPECT_EQ(info.concrete, "x86-64-linux-fma-avx2"); // as given
  EXPECT_THAT(info.features, ElementsAre("avx2", "fma"));
}

TEST(TargetString, WordsInAnyOrderAsHalideTakesThem) {
  TargetInfo info = parsed("linux-x86-64-avx2");
  EXPECT_EQ(info.arch, "x86-64");
  EXPECT_EQ(info.os, "linux");
  EXPECT_THAT(info.features, ElementsAre("avx2"));
}

TEST(TargetString, OtherArchitectures) {
  EXPECT_EQ(parsed("arm-64-linux").arch, "arm-64");
  EXPECT_EQ(parsed("arm-64-osx-arm_dot_prod").os, "osx");
  EXPECT_EQ(parsed("wasm-32-wasmrt-wasm_simd128").arch, "wasm-32");
}

TEST(TargetString, TraceAllIsTheThreeTraceFeatures) {
  EXPECT_THAT(parsed("x86-64-linux-trace_all").features,
              ElementsAre("trace_loads", "trace_realizations", "trace_stores"));
}

TEST(TargetString, HostWithGpuFeatures) {
  TargetInfo cuda = parsed("host-cuda-cuda_capability_86");
  EXPECT_TRUE(cuda.isHost);
  EXPECT_TRUE(cuda.hasFeature("cuda"));
  EXPECT_TRUE(cuda.hasFeature("cuda_capability_86"));
  EXPECT_THAT(cuda.concrete, HasSubstr("-cuda-cuda_capability_86"));
  EXPECT_EQ(cuda.concrete.find("host"), std::string::npos);
  TargetInfo opencl = parsed("host-opencl");
  EXPECT_TRUE(opencl.hasFeature("opencl"));
  EXPECT_THAT(opencl.concrete, HasSubstr("-opencl"));
}

TEST(TargetString, UnknownArchitecture) {
  EXPECT_EQ(refusal("sparc-64-linux"),
            "target 'sparc-64-linux': unknown architecture 'sparc'; accepted: "
            "host, arm, hexagon, mips, powerpc, riscv, wasm, x86");
}

TEST(TargetString, UnknownOperatingSystem) {
  EXPECT_EQ(refusal("x86-64-freebsd"),
            "target 'x86-64-freebsd': unknown operating system 'freebsd'; "
            "accepted: android, fuchsia, ios, linux, noos, osx, qurt, wasmrt, "
            "windows");
}

TEST(TargetString, UnknownFeatureListsHalide14s) {
  std::string message = refusal("x86-64-linux-avx513");
  EXPECT_THAT(message, StartsWith("target 'x86-64-linux-avx513': unknown "
                                  "feature 'avx513'; accepted: arm_dot_prod, "
                                  "arm_fp16, armv7s, "));
  EXPECT_THAT(message, HasSubstr(", avx, avx2, avx512, avx512_cannonlake, "
                                 "avx512_knl, avx512_sapphirerapids, "
                                 "avx512_skylake, "));
  EXPECT_THAT(message, EndsWith(", wasm_threads, trace_all"));
}

TEST(TargetString, Avx512Zen4IsNotHalide14s) {
  EXPECT_THAT(refusal("x86-64-linux-avx512_zen4"),
              StartsWith("target 'x86-64-linux-avx512_zen4': unknown feature "
                         "'avx512_zen4'; accepted: "));
}

TEST(TargetString, MissingParts) {
  EXPECT_EQ(refusal("x86-64-avx2"),
            "target 'x86-64-avx2': no operating system; accepted: android, "
            "fuchsia, ios, linux, noos, osx, qurt, wasmrt, windows");
  EXPECT_EQ(refusal("x86-linux"),
            "target 'x86-linux': no bit width after 'x86'; accepted: 32, 64");
  EXPECT_EQ(refusal("64-linux"),
            "target '64-linux': no architecture; accepted: host, arm, hexagon, "
            "mips, powerpc, riscv, wasm, x86");
  EXPECT_EQ(refusal(""), "empty target; accepted: host, or "
                         "arch-bits-os[-feature...] such as x86-64-linux-avx2");
}

TEST(TargetString, MalformedWords) {
  EXPECT_EQ(refusal("x86-64-linux-"),
            "target 'x86-64-linux-': empty word between dashes");
  EXPECT_EQ(refusal("x86-64-linux-host"),
            "target 'x86-64-linux-host': 'host' may only come first");
  EXPECT_EQ(refusal("host-arm-64"), "target 'host-arm-64': 'arm' after "
                                    "'host': host already names the "
                                    "architecture");
  EXPECT_EQ(refusal("x86-64-linux-osx"),
            "target 'x86-64-linux-osx': operating system given twice ('linux' "
            "and 'osx')");
}
