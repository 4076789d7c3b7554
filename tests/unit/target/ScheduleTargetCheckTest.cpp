//===- ScheduleTargetCheckTest.cpp - schedules and the targets they fit ---===//
#include "TargetTestSupport.h"

#include <gmock/gmock.h>

using namespace txl::target;
using ::testing::HasSubstr;

namespace {

txl::Status check(const std::string &scheduled, const std::string &compile) {
  return checkScheduleTarget(parsed(scheduled), parsed(compile));
}

} // namespace

TEST(TargetScheduleCheck, SameIsaClassIsFine) {
  EXPECT_TRUE(check("x86-64-linux-avx512", "x86-64-linux-avx512").isOk());
  // Different spellings, same class: lanes and registers match.
  EXPECT_TRUE(check("x86-64-linux-avx512",
                    "x86-64-linux-avx-avx2-avx512-avx512_skylake-f16c-fma")
                  .isOk());
  EXPECT_TRUE(check("x86-64-linux-avx2-fma", "x86-64-linux-avx").isOk());
  EXPECT_TRUE(check("x86-64-linux-avx2", "x86-64-windows-avx2").isOk());
  // Caches and cores never matter.
  EXPECT_TRUE(checkScheduleTarget(parsed("x86-64-linux-avx2", "l2=512K"),
                                  parsed("x86-64-linux-avx2", "cores=8"))
                  .isOk());
  EXPECT_TRUE(check("host-cuda-cuda_capability_86",
                    "x86-64-linux-cuda-cuda_capability_61")
                  .isOk());
}

TEST(TargetScheduleCheck, WiderScheduleOnANarrowerIsa) {
  EXPECT_EQ(check("x86-64-linux-avx512", "x86-64-linux-avx2").message(),
            "a schedule planned for x86-64-linux-avx512 [x86-64, 16 f32 lanes, "
            "32 vector registers] cannot be compiled for x86-64-linux-avx2 "
            "[x86-64, 8 f32 lanes, 16 vector registers]: plan it again for "
            "x86-64-linux-avx2");
}

TEST(TargetScheduleCheck, NarrowerScheduleOnAWiderIsa) {
  EXPECT_EQ(check("x86-64-linux-avx2", "x86-64-linux-avx512").message(),
            "a schedule planned for x86-64-linux-avx2 [x86-64, 8 f32 lanes, 16 "
            "vector registers] cannot be compiled for x86-64-linux-avx512 "
            "[x86-64, 16 f32 lanes, 32 vector registers]: plan it again for "
            "x86-64-linux-avx512");
}

TEST(TargetScheduleCheck, OtherArchitecture) {
  EXPECT_EQ(check("x86-64-linux-sse41", "arm-64-linux").message(),
            "a schedule planned for x86-64-linux-sse41 [x86-64, 4 f32 lanes, "
            "16 vector registers] cannot be compiled for arm-64-linux [arm-64, "
            "4 f32 lanes, 32 vector registers]: plan it again for "
            "arm-64-linux");
}

TEST(TargetScheduleCheck, CpuAndGpuNeverMix) {
  EXPECT_EQ(check("x86-64-linux-avx512", "x86-64-linux-avx512-cuda").message(),
            "a schedule planned for x86-64-linux-avx512 [x86-64, 16 f32 lanes, "
            "32 vector registers] cannot be compiled for "
            "x86-64-linux-avx512-cuda [CUDA GPU]: plan it again for "
            "x86-64-linux-avx512-cuda");
  EXPECT_EQ(check("x86-64-linux-cuda", "x86-64-linux").message(),
            "a schedule planned for x86-64-linux-cuda [CUDA GPU] cannot be "
            "compiled for x86-64-linux [x86-64, 4 f32 lanes, 16 vector "
            "registers]: plan it again for x86-64-linux");
  EXPECT_EQ(check("x86-64-linux-cuda", "x86-64-linux-opencl").message(),
            "a schedule planned for x86-64-linux-cuda [CUDA GPU] cannot be "
            "compiled for x86-64-linux-opencl [OpenCL GPU]: plan it again for "
            "x86-64-linux-opencl");
}

TEST(TargetScheduleCheck, HostComparesByItsResolvedFeatures) {
  TargetInfo host = parsed("host");
  // The concrete string is the same ISA class as "host" itself.
  EXPECT_TRUE(checkScheduleTarget(host, parsed(host.concrete)).isOk());
  EXPECT_TRUE(checkScheduleTarget(parsed(host.concrete), host).isOk());
  // And a class the host is not is refused with the resolved string named.
  const char *other =
      host.vectorWidthF32 == 16 ? "x86-64-linux-avx2" : "x86-64-linux-avx512";
  txl::Status status = checkScheduleTarget(host, parsed(other));
  ASSERT_FALSE(status.isOk());
  EXPECT_THAT(status.message(),
              HasSubstr("planned for host (" + host.concrete + ") ["));
  EXPECT_THAT(status.message(), HasSubstr(other));
}
