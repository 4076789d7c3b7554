//===- DeviceSupport.h - host-side glue for kernels compiled for a GPU ----===//
//
// What a model whose kernels run on a GPU (a `host-cuda...` or `host-opencl`
// target) needs besides the kernels and Halide's runtime: a buffer's device
// copy brought back after every kernel call, and the driver library found
// under its versioned name. docs/GPU.md.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_CODEGEN_HOST_LIB_DEVICESUPPORT_H
#define TXL_CODEGEN_HOST_LIB_DEVICESUPPORT_H

#include <string>

namespace llvm {
class Module;
} // namespace llvm

namespace txl::codegen::host {

/// The GPU API a Halide target string's kernels use: "cuda", "opencl" or ""
/// (a CPU target, or a string TargetInfo does not accept: txlc checked it).
std::string gpuApiOfTarget(const std::string &target);

/// The name of the function the step calls after each kernel on a GPU
/// target: `int32_t txl_device_sync(halide_buffer_t *buffers, int32_t count,
/// int32_t first_result)`.
inline constexpr const char *kDeviceSyncFunction = "txl_device_sync";

/// Defines txl_device_sync: for buffers[first_result..count) (the kernel's
/// results) halide_copy_to_host, then for every buffer halide_device_free,
/// so the host memory the next kernel (or the caller) reads is current and no
/// device allocation outlives the call. Returns the first non-zero status.
void addDeviceSync(llvm::Module &module);

/// `int32_t txl_device_mirror(halide_buffer_t *mirror, halide_buffer_t *view)`:
/// lends `view` (a weight or prepared tensor, read-only while the model is
/// loaded) the device copy held in the global `mirror`, uploading it first
/// when the mirror holds none or one of other host memory (another model's
/// weights). The step clears the view's device fields after the kernel.
inline constexpr const char *kDeviceMirrorFunction = "txl_device_mirror";
/// The mirrors' global names: this prefix and a number.
inline constexpr const char *kDeviceMirrorPrefix = "txl_mirror_";

/// Defines txl_device_mirror for `api` ("cuda" or "opencl").
void addDeviceMirror(llvm::Module &module, const std::string &api);

/// Defines `void txl_model_release_device(void)` (ModelABI.h): frees every
/// mirror's device copy; the runtime calls it when a model is freed.
void addReleaseDevice(llvm::Module &module);

/// Defines `halide_<api>_get_symbol` (overriding the runtime's weak one):
/// Halide 14 opens only the unversioned `libcuda.so` / `libOpenCL.so`, which
/// machines without the development packages lack; this opens `.so.1` first.
void addDeviceLibraryLookup(llvm::Module &module, const std::string &api);

} // namespace txl::codegen::host

#endif // TXL_CODEGEN_HOST_LIB_DEVICESUPPORT_H
