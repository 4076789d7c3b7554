//===- DeviceDriver.cpp - is the GPU a model was compiled for there? ------===//

#include "DeviceDriver.h"

#include <dlfcn.h>

#include <cstdint>
#include <sstream>

namespace txl {
namespace {

/// The first of `names` that dlopen opens, or null; `tried` lists them with
/// the loader's reasons.
void *openFirst(std::initializer_list<const char *> names, std::string &tried) {
  for (const char *name : names) {
    if (void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL))
      return handle;
    const char *reason = dlerror();
    tried += std::string(tried.empty() ? "" : "; ") +
             (reason ? reason : std::string(name) + ": not found");
  }
  return nullptr;
}

/// Devices the CUDA driver reports, or an error.
Status cudaDevices(void *driver, int &count) {
  using Init = int (*)(unsigned);
  using GetCount = int (*)(int *);
  auto init = reinterpret_cast<Init>(dlsym(driver, "cuInit"));
  auto getCount = reinterpret_cast<GetCount>(dlsym(driver, "cuDeviceGetCount"));
  if (!init || !getCount)
    return Status::error("the CUDA driver lacks cuInit/cuDeviceGetCount");
  if (int code = init(0))
    return Status::error("cuInit failed with CUDA error " +
                         std::to_string(code));
  if (int code = getCount(&count))
    return Status::error("cuDeviceGetCount failed with CUDA error " +
                         std::to_string(code));
  return Status::ok();
}

/// OpenCL devices of every platform the ICD loader finds, or an error.
Status openclDevices(void *loader, int &count) {
  using GetPlatforms = int32_t (*)(uint32_t, void **, uint32_t *);
  using GetDevices = int32_t (*)(void *, uint64_t, uint32_t, void **,
                                 uint32_t *);
  auto getPlatforms =
      reinterpret_cast<GetPlatforms>(dlsym(loader, "clGetPlatformIDs"));
  auto getDevices =
      reinterpret_cast<GetDevices>(dlsym(loader, "clGetDeviceIDs"));
  if (!getPlatforms || !getDevices)
    return Status::error("the OpenCL library lacks clGetPlatformIDs");
  uint32_t platforms = 0;
  if (getPlatforms(0, nullptr, &platforms) != 0 || platforms == 0) {
    count = 0;
    return Status::ok();
  }
  void *ids[16];
  platforms = platforms > 16 ? 16 : platforms;
  if (getPlatforms(platforms, ids, nullptr) != 0)
    return Status::error("clGetPlatformIDs failed");
  const uint64_t allDevices = 0xFFFFFFFF; // CL_DEVICE_TYPE_ALL
  count = 0;
  for (uint32_t p = 0; p < platforms; ++p) {
    uint32_t devices = 0;
    if (getDevices(ids[p], allDevices, 0, nullptr, &devices) == 0)
      count += static_cast<int>(devices);
  }
  return Status::ok();
}

} // namespace

std::string gpuApiOf(const std::string &target) {
  std::stringstream words(target);
  std::string word;
  while (std::getline(words, word, '-'))
    if (word == "cuda" || word == "opencl")
      return word;
  return "";
}

Status checkDeviceDriver(const std::string &modelName,
                         const std::string &target) {
  std::string api = gpuApiOf(target);
  if (api.empty())
    return Status::ok();
  bool cuda = api == "cuda";
  std::string what = modelName + ": compiled for " + target +
                     (cuda ? " (kernels on a CUDA GPU)"
                           : " (kernels on an OpenCL device)");
  std::string tried;
  void *driver = cuda ? openFirst({"libcuda.so.1", "libcuda.so"}, tried)
                      : openFirst({"libOpenCL.so.1", "libOpenCL.so"}, tried);
  if (!driver)
    return Status::error(what + ", but this machine has no " +
                         (cuda ? "CUDA driver" : "OpenCL library") + " (" +
                         tried + "); run it where " +
                         (cuda ? "an NVIDIA driver" : "an OpenCL driver") +
                         " is installed, or compile it for a CPU target");
  int devices = 0;
  Status status =
      cuda ? cudaDevices(driver, devices) : openclDevices(driver, devices);
  dlclose(driver);
  if (!status.isOk())
    return Status::error(what + ", but the driver does not work: " +
                         status.message());
  if (devices == 0)
    return Status::error(what + ", but the " +
                         (cuda ? "CUDA driver" : "OpenCL library") +
                         " reports no device");
  return Status::ok();
}

} // namespace txl
