//===- CacheSpecTest.cpp - --target-cache specs, good and bad -------------===//
#include "TargetTestSupport.h"

using namespace txl::target;

TEST(TargetCacheSpec, AllKeys) {
  TargetInfo info =
      parsed("x86-64-linux-avx512", "l1d=32K,l2=1M,l3=32M,cores=2");
  EXPECT_EQ(info.caches.l1d, 32 << 10);
  EXPECT_EQ(info.caches.l2, 1 << 20);
  EXPECT_EQ(info.caches.l3, 32 << 20);
  EXPECT_EQ(info.cores, 2);
}

TEST(TargetCacheSpec, ASubsetKeepsTheRest) {
  TargetInfo info = parsed("x86-64-linux-avx2", "l2=1280K");
  EXPECT_EQ(info.caches.l1d, kDefaultL1dBytes);
  EXPECT_EQ(info.caches.l2, 1280 << 10);
  EXPECT_EQ(info.caches.l3, kDefaultL3Bytes);
  EXPECT_EQ(info.cores, kDefaultCores);
}

TEST(TargetCacheSpec, SuffixesSpacesAndOrder) {
  TargetInfo info = parsed("x86-64-linux", "cores=8, l3=1g ,l1d=49152,l2=2m");
  EXPECT_EQ(info.caches.l1d, 49152);
  EXPECT_EQ(info.caches.l2, 2 << 20);
  EXPECT_EQ(info.caches.l3, int64_t(1) << 30);
  EXPECT_EQ(info.cores, 8);
}

TEST(TargetCacheSpec, OverridesTheHost) {
  TargetInfo info = parsed("host", "l1d=16K,cores=3");
  EXPECT_EQ(info.caches.l1d, 16 << 10);
  EXPECT_EQ(info.cores, 3);
}

TEST(TargetCacheSpec, Refusals) {
  const std::string target = "x86-64-linux-avx2";
  EXPECT_EQ(refusal(target, "l4=1M"),
            "cache spec 'l4=1M': unknown key 'l4'; accepted: l1d, l2, l3, "
            "cores");
  EXPECT_EQ(refusal(target, "l1d"), "cache spec 'l1d': 'l1d' is not "
                                    "key=value; accepted keys: l1d, l2, l3, "
                                    "cores");
  EXPECT_EQ(refusal(target, "l1d=32K,"),
            "cache spec 'l1d=32K,': empty entry; write key=value pairs "
            "separated by commas, e.g. l1d=32K,l2=1M,l3=32M,cores=2");
  EXPECT_EQ(refusal(target, "l2=1M,l2=2M"),
            "cache spec 'l2=1M,l2=2M': l2 given twice");
  EXPECT_EQ(refusal(target, "l1d=32KB"),
            "cache spec 'l1d=32KB': size '32KB' of l1d is not a number of "
            "bytes with an optional K, M or G suffix (powers of 1024), e.g. "
            "48K");
  EXPECT_EQ(refusal(target, "l1d=-1"),
            "cache spec 'l1d=-1': size '-1' of l1d is not a number of bytes "
            "with an optional K, M or G suffix (powers of 1024), e.g. 48K");
  EXPECT_EQ(refusal(target, "l2="),
            "cache spec 'l2=': size '' of l2 is not a number of bytes with an "
            "optional K, M or G suffix (powers of 1024), e.g. 48K");
  EXPECT_EQ(refusal(target, "l3=0"),
            "cache spec 'l3=0': size '0' of l3 is out of range (1 to 1024G)");
  EXPECT_EQ(refusal(target, "l3=2048G"), "cache spec 'l3=2048G': size '2048G' "
                                         "of l3 is out of range (1 to 1024G)");
  EXPECT_EQ(refusal(target, "l3=99999999999999999999999"),
            "cache spec 'l3=99999999999999999999999': size "
            "'99999999999999999999999' of l3 is out of range (1 to 1024G)");
  EXPECT_EQ(refusal(target, "cores=0"),
            "cache spec 'cores=0': cores '0' is not a whole number from 1 to "
            "1048576");
  EXPECT_EQ(refusal(target, "cores=2K"),
            "cache spec 'cores=2K': cores '2K' is not a whole number from 1 "
            "to 1048576");
}
