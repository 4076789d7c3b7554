//===- TargetInfo.h - the machine facts every decision asks -----*- C++ -*-===//
//
// Every machine-dependent decision (vector width, register tiles, block bytes
// sized to a cache, tiles for threads, CPU or GPU schedules) asks one
// TargetInfo instead of matching target strings. It is built from a Halide
// target string; "host" is resolved from the machine itself, exactly as
// Halide 14's get_host_target() reports it, plus its caches and cores. A
// cross target takes its caches and cores from a cache spec (txlc's
// --target-cache) or from the defaults below. docs/TARGETS.md says which
// decision comes from which field.
//
// Plain C++17: linked by passes, codegen and tools, no MLIR or Halide here.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TARGET_TARGETINFO_H
#define TXL_TARGET_TARGETINFO_H

#include "txl/support/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace txl::target {

/// The API a GPU target's kernels are compiled for.
enum class GpuApi { None, Cuda, OpenCL };

/// Bytes; l1d and l2 per core, l3 as the machine lists it (shared).
struct CacheSizes {
  int64_t l1d = 0, l2 = 0, l3 = 0;
};

/// Defaults for a cross target without a cache spec: the Intel Xeon the
/// heuristic was tuned on, so a cross compile for x86-64-linux-avx512 keeps
/// the decisions made before TargetInfo existed. Used for every architecture
/// (there is no better guess) and for a host whose caches cannot be read.
inline constexpr int64_t kDefaultL1dBytes = 48 << 10;
inline constexpr int64_t kDefaultL2Bytes = 2 << 20;
inline constexpr int64_t kDefaultL3Bytes = 32 << 20;
inline constexpr int64_t kDefaultCores = 1;

/// What a GPU schedule may use per block. Defaults, never probed: CUDA's
/// 48 KiB of static shared memory, 1024 threads and warps of 32 hold on every
/// capability Halide 14 knows; for OpenCL, the 32 KiB of local memory the
/// standard guarantees, 256 work items (common to current GPUs) and no warp
/// (Halide's OpenCL backend refuses gpu_lanes).
struct GpuLimits {
  int64_t sharedMemoryBytes = 0;
  int64_t maxThreadsPerBlock = 0;
  int64_t warpSize = 0;
};

struct TargetInfo {
  /// The target string as given: "host", "x86-64-linux-avx512",
  /// "host-cuda-cuda_capability_86", ...
  std::string name;
  /// The string Halide compiles for: a target starting with "host" resolved
  /// to the machine's arch, OS and features, in Halide's own spelling and
  /// order (what Halide::Target::to_string() prints), e.g.
  /// "x86-64-linux-avx-avx2-f16c-fma-sse41"; other targets as given.
  std::string concrete;
  /// Architecture and bits: "x86-64", "arm-64", ...
  std::string arch;
  /// "linux", "osx", "windows", ...
  std::string os;
  /// Halide feature names present, sorted (avx, avx2, avx512, cuda,
  /// cuda_capability_86, f16c, fma, opencl, sse41, ...).
  std::vector<std::string> features;
  bool hasFeature(const std::string &feature) const;

  /// f32 lanes of a vector: 16 with avx512, 8 with avx or avx2, 4 otherwise;
  /// 1 on GPU targets (GPU schedules tile instead).
  int64_t vectorWidthF32 = 4;
  /// Vector registers: 32 with avx512 (x86-64) and on arm-64, 8 on x86-32,
  /// 16 otherwise.
  int64_t vectorRegisters = 16;
  GpuApi gpu = GpuApi::None;
  /// Set for GPU targets only.
  GpuLimits gpuLimits;
  /// host: the machine's (sysfs, else CPUID, else the defaults); cross
  /// targets: the defaults; either overridden by the cache spec.
  CacheSizes caches;
  /// host: the CPUs this process may run on; cross: kDefaultCores; either
  /// overridden by the cache spec.
  int64_t cores = 1;
  /// Whether `name` was "host" or started with "host-".
  bool isHost = false;

  bool isGpu() const { return gpu != GpuApi::None; }
};

/// Parses a Halide target string ("host", "x86-64-linux-avx512",
/// "x86-64-linux-avx2-fma", "host-cuda-cuda_capability_86", "host-opencl",
/// ...) and an optional cache spec "l1d=32K,l2=1M,l3=32M,cores=2" (sizes in
/// bytes with an optional K, M or G suffix, powers of 1024; any subset, in any
/// order; overrides what was detected or defaulted). Accepts what Halide 14
/// accepts except an architecture, bit width or OS after "host", GPU APIs
/// other than cuda and opencl, both of those at once, and "" (docs/TARGETS.md).
/// Errors (unknown architecture, unknown feature, missing OS or bits,
/// malformed cache spec) name the offending word and list what is accepted.
StatusOr<TargetInfo> parseTarget(const std::string &target,
                                 const std::string &cacheSpec = "");

/// Whether a kernel scheduled for `scheduled` may be compiled for `compile`:
/// both must have the same ISA class (architecture, f32 lanes, vector
/// registers and GPU API). An x86-64-linux-avx512 schedule (16 lanes, 32
/// registers) compiled for x86-64-linux-avx2 is refused, and so is the
/// reverse; a CPU schedule compiled for a GPU target and the reverse are
/// refused; "host" compares by its resolved features. Caches and cores only
/// tune sizes, never legality: they are not compared. The error names both
/// targets.
Status checkScheduleTarget(const TargetInfo &scheduled,
                           const TargetInfo &compile);

/// One line for --help, -v and reports, e.g. "x86-64-linux-avx512: 16 f32
/// lanes, 32 vector registers, L1d 48 KiB, L2 2 MiB, L3 32 MiB, 1 core";
/// "host" is followed by its concrete string in parentheses.
std::string describe(const TargetInfo &target);

} // namespace txl::target

#endif // TXL_TARGET_TARGETINFO_H
