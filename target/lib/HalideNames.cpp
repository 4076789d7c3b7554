//===- HalideNames.cpp - the words of a Halide 14 target string -----------===//
#include "HalideNames.h"

#include <algorithm>

namespace txl::target {

namespace {

bool containsSorted(const std::vector<std::string> &words,
                    const std::string &word) {
  return std::binary_search(words.begin(), words.end(), word);
}

} // namespace

const std::vector<std::string> &halideArchitectures() {
  static const std::vector<std::string> words = {
      "arm", "hexagon", "mips", "powerpc", "riscv", "wasm", "x86"};
  return words;
}

const std::vector<std::string> &halideOperatingSystems() {
  static const std::vector<std::string> words = {
      "android", "fuchsia", "ios",    "linux",  "noos",
      "osx",     "qurt",    "wasmrt", "windows"};
  return words;
}

const std::vector<std::string> &halideFeatures() {
  // Halide 14's Target::Feature names, sorted ("trace_all" is not one: the
  // parser expands it).
  static const std::vector<std::string> words = {
      "arm_dot_prod",
      "arm_fp16",
      "armv7s",
      "armv81a",
      "asan",
      "avx",
      "avx2",
      "avx512",
      "avx512_cannonlake",
      "avx512_knl",
      "avx512_sapphirerapids",
      "avx512_skylake",
      "c_plus_plus_name_mangling",
      "check_unsafe_promises",
      "cl_atomics64",
      "cl_doubles",
      "cl_half",
      "cuda",
      "cuda_capability_30",
      "cuda_capability_32",
      "cuda_capability_35",
      "cuda_capability_50",
      "cuda_capability_61",
      "cuda_capability_70",
      "cuda_capability_75",
      "cuda_capability_80",
      "cuda_capability_86",
      "d3d12compute",
      "debug",
      "disable_llvm_loop_opt",
      "egl",
      "embed_bitcode",
      "enable_llvm_loop_opt",
      "f16c",
      "fma",
      "fma4",
      "fuzz_float_stores",
      "hexagon_dma",
      "hvx",
      "hvx_shared_object",
      "hvx_v62",
      "hvx_v65",
      "hvx_v66",
      "jit",
      "large_buffers",
      "llvm_large_code_model",
      "matlab",
      "metal",
      "msan",
      "no_asserts",
      "no_bounds_query",
      "no_neon",
      "no_runtime",
      "opencl",
      "openglcompute",
      "power_arch_2_07",
      "profile",
      "profile_by_timer",
      "rvv",
      "sanitizer_coverage",
      "soft_float_abi",
      "sse41",
      "strict_float",
      "sve",
      "sve2",
      "trace_loads",
      "trace_pipeline",
      "trace_realizations",
      "trace_stores",
      "tsan",
      "user_context",
      "vsx",
      "wasm_bulk_memory",
      "wasm_sat_float_to_int",
      "wasm_signext",
      "wasm_simd128",
      "wasm_threads",
  };
  return words;
}

bool isHalideArchitecture(const std::string &word) {
  return containsSorted(halideArchitectures(), word);
}

bool isHalideOperatingSystem(const std::string &word) {
  return containsSorted(halideOperatingSystems(), word);
}

bool isHalideFeature(const std::string &word) {
  return containsSorted(halideFeatures(), word);
}

std::string joinWords(const std::vector<std::string> &words) {
  std::string joined;
  for (const std::string &word : words)
    joined += (joined.empty() ? "" : ", ") + word;
  return joined;
}

} // namespace txl::target
