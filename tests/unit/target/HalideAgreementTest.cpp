//===- HalideAgreementTest.cpp - targets read as Halide 14 reads them -----===//
//
// The library repeats what Halide 14 decides (host features, accepted words,
// its spelling of a target) without linking it; this test links Halide and
// checks that the two agree.
//
//===----------------------------------------------------------------------===//
#include "HalideNames.h"
#include "TargetTestSupport.h"

#include <Halide.h>

#include <algorithm>

using namespace txl::target;

TEST(TargetHalideAgreement, HostResolvesToHalidesHostTarget) {
  EXPECT_EQ(parsed("host").concrete, Halide::get_host_target().to_string());
}

TEST(TargetHalideAgreement, HostWithFeaturesIsSpelledAsHalideSpellsIt) {
  for (const char *target :
       {"host-opencl", "host-cuda-cuda_capability_86", "host-avx2",
        "host-no_asserts-trace_all", "host-trace_loads-trace_pipeline"})
    EXPECT_EQ(parsed(target).concrete, Halide::Target(target).to_string())
        << target;
}

TEST(TargetHalideAgreement, AcceptedAndRefusedAlike) {
  // host-arm-64 and "" are the deliberate differences (TargetInfo.h).
  for (const char *target :
       {"host", "x86-64-linux-avx512", "x86-64-linux-avx2-fma",
        "host-cuda-cuda_capability_86", "host-opencl", "linux-x86-64",
        "arm-64-osx-arm_dot_prod", "x86-64", "x86-linux", "x86-64-freebsd",
        "sparc-64-linux", "x86-64-linux-avx513", "x86-64-linux-avx512_zen4",
        "x86-64-linux-", "x86-64-linux-host", "x86-64-linux-osx",
        "x86-64-linux-trace_all", "x86-64-linux-cuda_capability_90"}) {
    bool halide = Halide::Target::validate_target_string(target);
    EXPECT_EQ(parseTarget(target).ok(), halide) << target;
  }
}

TEST(TargetHalideAgreement, TheWordListsAreHalides) {
  std::vector<std::string> features;
  for (int f = 0; f < Halide::Target::FeatureEnd; ++f)
    features.push_back(Halide::Target::feature_to_name(
        static_cast<Halide::Target::Feature>(f)));
  std::sort(features.begin(), features.end());
  EXPECT_EQ(halideFeatures(), features);
  for (const std::string &architecture : halideArchitectures())
    EXPECT_TRUE(
        Halide::Target::validate_target_string(architecture + "-64-linux"))
        << architecture;
  for (const std::string &os : halideOperatingSystems())
    EXPECT_TRUE(Halide::Target::validate_target_string("x86-64-" + os)) << os;
}
