//===- HostTargetTest.cpp - "host" resolved from this machine -------------===//
//
// Checks against the CPU itself (__builtin_cpu_supports) and sysfs, never
// against one machine's numbers.
//
//===----------------------------------------------------------------------===//
#include "TargetTestSupport.h"

#include <gmock/gmock.h>

#include <fstream>
#include <thread>

using namespace txl::target;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(TargetHost, ConcreteHasNoHost) {
  TargetInfo host = parsed("host");
  EXPECT_EQ(host.name, "host");
  EXPECT_TRUE(host.isHost);
  EXPECT_THAT(host.concrete, Not(HasSubstr("host")));
  EXPECT_EQ(host.concrete.rfind(host.arch + "-" + host.os, 0), 0u)
      << host.concrete;
  // The concrete string parses to the same facts.
  TargetInfo again = parsed(host.concrete);
  EXPECT_EQ(again.features, host.features);
  EXPECT_EQ(again.vectorWidthF32, host.vectorWidthF32);
  EXPECT_EQ(again.vectorRegisters, host.vectorRegisters);
}

#if defined(__x86_64__)
TEST(TargetHost, FeaturesMatchTheCpu) {
  __builtin_cpu_init();
  TargetInfo host = parsed("host");
  EXPECT_EQ(host.arch, "x86-64");
  EXPECT_EQ(host.hasFeature("sse41"), bool(__builtin_cpu_supports("sse4.1")));
  EXPECT_EQ(host.hasFeature("avx"), bool(__builtin_cpu_supports("avx")));
  EXPECT_EQ(host.hasFeature("fma"), bool(__builtin_cpu_supports("fma")));
  EXPECT_EQ(host.hasFeature("avx2"), bool(__builtin_cpu_supports("avx2")));
  bool avx512 =
      __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512cd");
  EXPECT_EQ(host.hasFeature("avx512"), avx512);
  bool skylake = avx512 && __builtin_cpu_supports("avx512vl") &&
                 __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq");
  EXPECT_EQ(host.hasFeature("avx512_skylake"), skylake);
  EXPECT_EQ(host.hasFeature("avx512_cannonlake"),
            skylake && __builtin_cpu_supports("avx512ifma"));

  int64_t lanes = avx512 ? 16 : __builtin_cpu_supports("avx") ? 8 : 4;
  EXPECT_EQ(host.vectorWidthF32, lanes);
  EXPECT_EQ(host.vectorRegisters, avx512 ? 32 : 16);
}
#endif

TEST(TargetHost, CachesAndCoresAreSane) {
  TargetInfo host = parsed("host");
  EXPECT_GE(host.caches.l1d, 4 << 10);
  EXPECT_LE(host.caches.l1d, 4 << 20);
  EXPECT_GE(host.caches.l2, host.caches.l1d);
  EXPECT_GE(host.caches.l3, 0);
  EXPECT_GE(host.cores, 1);
  if (unsigned online = std::thread::hardware_concurrency()) {
    EXPECT_LE(host.cores, int64_t(online));
  }
}

TEST(TargetHost, L1dIsSysfsWhereListed) {
  std::ifstream level("/sys/devices/system/cpu/cpu0/cache/index0/level");
  std::ifstream type("/sys/devices/system/cpu/cpu0/cache/index0/type");
  std::ifstream size("/sys/devices/system/cpu/cpu0/cache/index0/size");
  std::string levelText, typeText, sizeText;
  if (!(level >> levelText) || !(type >> typeText) || !(size >> sizeText) ||
      levelText != "1" || typeText != "Data" || sizeText.back() != 'K')
    GTEST_SKIP() << "no sysfs L1d at index0";
  sizeText.pop_back();
  EXPECT_EQ(parsed("host").caches.l1d, std::stoll(sizeText) << 10);
}

TEST(TargetHost, GpuTargetsKeepTheHostsCpuSide) {
  TargetInfo host = parsed("host");
  TargetInfo cuda = parsed("host-cuda-cuda_capability_86");
  EXPECT_EQ(cuda.concrete.rfind(host.concrete.substr(0, host.arch.size()), 0),
            0u);
  EXPECT_EQ(cuda.caches.l1d, host.caches.l1d);
  EXPECT_EQ(cuda.caches.l2, host.caches.l2);
  EXPECT_EQ(cuda.cores, host.cores);
  EXPECT_EQ(cuda.vectorRegisters, host.vectorRegisters);
  EXPECT_EQ(cuda.vectorWidthF32, 1);
}
