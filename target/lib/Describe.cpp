//===- Describe.cpp - one line about a target for --help, -v, reports -----===//
#include "txl/target/TargetInfo.h"

namespace txl::target {

namespace {

/// 49152 -> "48 KiB"; sizes that are not whole KiB stay in bytes.
std::string formatBytes(int64_t bytes) {
  struct Unit {
    int shift;
    const char *name;
  };
  for (Unit unit : {Unit{30, "GiB"}, Unit{20, "MiB"}, Unit{10, "KiB"}})
    if (bytes >= (int64_t(1) << unit.shift) &&
        bytes % (int64_t(1) << unit.shift) == 0)
      return std::to_string(bytes >> unit.shift) + " " + unit.name;
  return std::to_string(bytes) + " B";
}

std::string describeCaches(const TargetInfo &target) {
  const CacheSizes &caches = target.caches;
  std::string text = "L1d " + formatBytes(caches.l1d) + ", L2 " +
                     formatBytes(caches.l2) + ", ";
  text += caches.l3 > 0 ? "L3 " + formatBytes(caches.l3) : "no L3";
  text += ", " + std::to_string(target.cores) +
          (target.cores == 1 ? " core" : " cores");
  return text;
}

std::string describeGpu(const TargetInfo &target) {
  const GpuLimits &limits = target.gpuLimits;
  std::string text = target.gpu == GpuApi::Cuda ? "CUDA" : "OpenCL";
  text += " kernels, " + formatBytes(limits.sharedMemoryBytes) +
          " shared memory and " + std::to_string(limits.maxThreadsPerBlock) +
          " threads per block";
  if (limits.warpSize > 1)
    text += ", warps of " + std::to_string(limits.warpSize);
  return text;
}

} // namespace

std::string describe(const TargetInfo &target) {
  std::string text = target.name;
  if (target.concrete != target.name)
    text += " (" + target.concrete + ")";
  text += ": ";
  if (target.isGpu())
    return text + describeGpu(target) + "; CPU side " +
           std::to_string(target.vectorRegisters) + " vector registers, " +
           describeCaches(target);
  return text + std::to_string(target.vectorWidthF32) + " f32 lanes, " +
         std::to_string(target.vectorRegisters) + " vector registers, " +
         describeCaches(target);
}

} // namespace txl::target
