//===- TargetInfo.cpp - a target string to the facts decisions ask --------===//
//
// Splits the string, resolves "host" from the machine, then derives the ISA
// facts (lanes, registers, GPU API), the caches and cores, and last applies
// the cache spec, which overrides whatever came before it.
//
//===----------------------------------------------------------------------===//
#include "txl/target/TargetInfo.h"

#include "CacheSpec.h"
#include "HalideNames.h"
#include "HostMachine.h"
#include "TargetString.h"

#include <algorithm>

namespace txl::target {

namespace {

bool hasAvx512(const TargetInfo &info) {
  for (const char *family : {"avx512", "avx512_knl", "avx512_skylake",
                             "avx512_cannonlake", "avx512_sapphirerapids"})
    if (info.hasFeature(family))
      return true;
  return false;
}

int64_t vectorWidthF32Of(const TargetInfo &info) {
  if (info.isGpu())
    return 1; // GPU schedules tile instead
  bool x86 = info.arch == "x86-64" || info.arch == "x86-32";
  if (x86 && hasAvx512(info))
    return 16;
  if (x86 && (info.hasFeature("avx2") || info.hasFeature("avx")))
    return 8;
  return 4; // SSE, NEON, VSX, wasm_simd128, ...
}

int64_t vectorRegistersOf(const TargetInfo &info) {
  if (info.arch == "x86-64")
    return hasAvx512(info) ? 32 : 16;
  if (info.arch == "x86-32")
    return 8;
  if (info.arch == "arm-64")
    return 32;
  return 16;
}

Status setGpuApi(TargetInfo &info) {
  for (const char *unsupported : {"metal", "d3d12compute", "openglcompute"})
    if (info.hasFeature(unsupported))
      return Status::error("target '" + info.name + "': GPU API '" +
                           unsupported +
                           "' is not one txl compiles for; accepted: cuda, "
                           "opencl");
  bool cuda = info.hasFeature("cuda"), opencl = info.hasFeature("opencl");
  if (cuda && opencl)
    return Status::error("target '" + info.name +
                         "': both cuda and opencl; txl compiles a model's "
                         "kernels for one GPU API, choose one");
  if (cuda) {
    info.gpu = GpuApi::Cuda;
    info.gpuLimits = {48 << 10, 1024, 32};
  } else if (opencl) {
    info.gpu = GpuApi::OpenCL;
    info.gpuLimits = {32 << 10, 256, 1};
  }
  return Status::ok();
}

/// Halide's Target::to_string(): arch-bits-os, then the features in name
/// order, the three trace features written as trace_all.
std::string halideSpelling(const TargetInfo &info) {
  std::string spelling = info.arch + "-" + info.os;
  for (const std::string &feature : info.features)
    spelling += "-" + feature;
  const std::string allTraces = "trace_loads-trace_realizations-trace_stores";
  size_t traces = spelling.find(allTraces);
  if (traces != std::string::npos)
    spelling.replace(traces, allTraces.size(), "trace_all");
  return spelling;
}

} // namespace

bool TargetInfo::hasFeature(const std::string &feature) const {
  return std::binary_search(features.begin(), features.end(), feature);
}

StatusOr<TargetInfo> parseTarget(const std::string &target,
                                 const std::string &cacheSpec) {
  StatusOr<TargetWords> words = splitTargetString(target);
  if (!words.ok())
    return words.status();

  TargetInfo info;
  info.name = target;
  info.isHost = words->host;
  info.caches = {kDefaultL1dBytes, kDefaultL2Bytes, kDefaultL3Bytes};
  info.cores = kDefaultCores;
  info.features = words->features;
  if (words->host) {
    const StatusOr<HostMachine> &host = hostMachine();
    if (!host.ok())
      return host.status();
    info.arch = host->architecture + "-" + host->bits;
    info.os = host->os;
    info.features.insert(info.features.end(), host->features.begin(),
                         host->features.end());
    std::sort(info.features.begin(), info.features.end());
    info.features.erase(std::unique(info.features.begin(), info.features.end()),
                        info.features.end());
    info.caches = host->caches;
    info.cores = host->cores;
    info.concrete = halideSpelling(info);
  } else {
    info.arch = words->architecture + "-" + words->bits;
    info.os = words->os;
    info.concrete = target;
  }

  Status gpu = setGpuApi(info);
  if (!gpu.isOk())
    return gpu;
  info.vectorWidthF32 = vectorWidthF32Of(info);
  info.vectorRegisters = vectorRegistersOf(info);

  Status spec = applyCacheSpec(cacheSpec, info.caches, info.cores);
  if (!spec.isOk())
    return spec;
  return info;
}

} // namespace txl::target
