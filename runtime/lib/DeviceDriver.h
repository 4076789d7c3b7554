//===- DeviceDriver.h - is the GPU a model was compiled for there? --------===//
//
// A model whose kernels were compiled for CUDA or OpenCL (its descriptor's
// target names `cuda` or `opencl`) needs that driver: without it, its first
// kernel would fail with a list of missing driver functions. Loading checks
// it first and fails with one message. docs/GPU.md.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNTIME_LIB_DEVICEDRIVER_H
#define TXL_RUNTIME_LIB_DEVICEDRIVER_H

#include "txl/support/Status.h"

#include <string>

namespace txl {

/// "cuda", "opencl" or "" (a CPU target) for a Halide target string.
std::string gpuApiOf(const std::string &target);

/// OK for a CPU target, or when the driver of the target's GPU API loads
/// and reports at least one device; else an error naming `modelName`, the
/// target and what is missing.
Status checkDeviceDriver(const std::string &modelName,
                         const std::string &target);

} // namespace txl

#endif // TXL_RUNTIME_LIB_DEVICEDRIVER_H
