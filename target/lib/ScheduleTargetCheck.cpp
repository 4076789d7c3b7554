//===- ScheduleTargetCheck.cpp - may a schedule compile for a target? -----===//
//
// A schedule's vector widths and register tiles are planned for one ISA
// class; compiled for another, it would be legal Halide but a different
// program than the one planned (too wide: split vectors and spills; too
// narrow: half the machine idle), and a CPU schedule has no meaning on a GPU.
// So the class must match exactly; caches and cores only tune sizes.
//
//===----------------------------------------------------------------------===//
#include "txl/target/TargetInfo.h"

namespace txl::target {

namespace {

const char *gpuApiName(GpuApi api) {
  switch (api) {
  case GpuApi::Cuda:
    return "CUDA";
  case GpuApi::OpenCL:
    return "OpenCL";
  case GpuApi::None:
    break;
  }
  return "CPU";
}

/// What a schedule depends on, in words: "x86-64, 16 f32 lanes, 32 vector
/// registers" or "CUDA GPU".
std::string isaClass(const TargetInfo &info) {
  if (info.isGpu())
    return std::string(gpuApiName(info.gpu)) + " GPU";
  return info.arch + ", " + std::to_string(info.vectorWidthF32) +
         " f32 lanes, " + std::to_string(info.vectorRegisters) +
         " vector registers";
}

/// "host (x86-64-linux-avx-...)" for a resolved target, else the name.
std::string label(const TargetInfo &info) {
  if (info.concrete == info.name)
    return info.name;
  return info.name + " (" + info.concrete + ")";
}

bool sameIsaClass(const TargetInfo &a, const TargetInfo &b) {
  if (a.gpu != b.gpu)
    return false;
  if (a.isGpu())
    return true; // GPU schedules tile; the CPU side runs no kernel
  return a.arch == b.arch && a.vectorWidthF32 == b.vectorWidthF32 &&
         a.vectorRegisters == b.vectorRegisters;
}

} // namespace

Status checkScheduleTarget(const TargetInfo &scheduled,
                           const TargetInfo &compile) {
  if (sameIsaClass(scheduled, compile))
    return Status::ok();
  return Status::error("a schedule planned for " + label(scheduled) + " [" +
                       isaClass(scheduled) + "] cannot be compiled for " +
                       label(compile) + " [" + isaClass(compile) +
                       "]: plan it again for " + compile.name);
}

} // namespace txl::target
