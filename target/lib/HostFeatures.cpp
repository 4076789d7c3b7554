//===- HostFeatures.cpp - the host's vector ISA, as Halide 14 sees it -----===//
//
// "host" must resolve to the features Halide 14's get_host_target() reports,
// or a schedule planned for "host" would not be the one Halide compiles. So
// this repeats its CPUID tests, conditions included (AVX2 and AVX-512 only
// with 64 bits, AVX, F16C and RDRAND; each AVX-512 family is a superset of
// the one before). Halide 14 detects nothing on other architectures.
//
//===----------------------------------------------------------------------===//
#include "HostMachine.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace txl::target {

namespace {

#if defined(__x86_64__) || defined(__i386__)
struct CpuidRegisters {
  unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
};

CpuidRegisters cpuid(unsigned leaf, unsigned subleaf = 0) {
  CpuidRegisters r;
  __cpuid_count(leaf, subleaf, r.eax, r.ebx, r.ecx, r.edx);
  return r;
}

bool hasAll(unsigned bits, unsigned mask) { return (bits & mask) == mask; }

std::vector<std::string> x86VectorFeatures() {
  std::vector<std::string> features;
  CpuidRegisters leaf1 = cpuid(1);
  bool sse41 = leaf1.ecx & (1u << 19);
  bool avx = leaf1.ecx & (1u << 28);
  bool f16c = leaf1.ecx & (1u << 29);
  bool rdrand = leaf1.ecx & (1u << 30);
  bool fma = leaf1.ecx & (1u << 12);
  if (sse41)
    features.push_back("sse41");
  if (avx)
    features.push_back("avx");
  if (f16c)
    features.push_back("f16c");
  if (fma)
    features.push_back("fma");

  bool is64Bits = sizeof(void *) == 8;
  if (!(is64Bits && avx && f16c && rdrand))
    return features;
  CpuidRegisters leaf7 = cpuid(7, 0);
  const unsigned avx2 = 1u << 5, avx512f = 1u << 16, avx512dq = 1u << 17,
                 avx512ifma = 1u << 21, avx512pf = 1u << 26,
                 avx512er = 1u << 27, avx512cd = 1u << 28, avx512bw = 1u << 30,
                 avx512vl = 1u << 31;
  const unsigned avx512 = avx512f | avx512cd;
  const unsigned knl = avx512 | avx512pf | avx512er;
  const unsigned skylake = avx512 | avx512vl | avx512bw | avx512dq;
  const unsigned cannonlake = skylake | avx512ifma; // Halide: ifma => vbmi
  if (hasAll(leaf7.ebx, avx2))
    features.push_back("avx2");
  if (!hasAll(leaf7.ebx, avx512))
    return features;
  features.push_back("avx512");
  if (hasAll(leaf7.ebx, knl))
    features.push_back("avx512_knl");
  if (hasAll(leaf7.ebx, skylake))
    features.push_back("avx512_skylake");
  if (!hasAll(leaf7.ebx, cannonlake))
    return features;
  features.push_back("avx512_cannonlake");
  // Sapphire Rapids adds VNNI (leaf 7 ecx) and BF16 (leaf 7 subleaf 1 eax);
  // Zen 4 has both and is reported the same way (Halide 14 has no zen4).
  const unsigned avx512vnni = 1u << 11, avx512bf16 = 1u << 5;
  if (hasAll(leaf7.ecx, avx512vnni) && hasAll(cpuid(7, 1).eax, avx512bf16))
    features.push_back("avx512_sapphirerapids");
  return features;
}
#endif

} // namespace

std::vector<std::string> detectHostVectorFeatures() {
  std::vector<std::string> features;
#if defined(__x86_64__) || defined(__i386__)
  features = x86VectorFeatures();
#endif
  std::sort(features.begin(), features.end());
  return features;
}

} // namespace txl::target
