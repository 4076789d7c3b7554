//===- HostMachine.cpp - what "host" means on this machine ----------------===//
#include "HostMachine.h"

#include <thread>

#if defined(__linux__)
#include <sched.h>
#endif
#include <unistd.h>

namespace txl::target {

namespace {

/// Halide's architecture word for the machine this was compiled for.
const char *hostArchitecture() {
#if defined(__x86_64__) || defined(__i386__)
  return "x86";
#elif defined(__aarch64__) || defined(__arm__)
  return "arm";
#elif defined(__powerpc__)
  return "powerpc";
#elif defined(__riscv)
  return "riscv";
#else
  return nullptr;
#endif
}

/// Halide's OS word; Android before Linux, which it also defines.
const char *hostOperatingSystem() {
#if defined(__ANDROID__)
  return "android";
#elif defined(__linux__)
  return "linux";
#elif defined(__APPLE__)
  return "osx";
#elif defined(_WIN32)
  return "windows";
#elif defined(__Fuchsia__)
  return "fuchsia";
#else
  return nullptr;
#endif
}

/// The CPUs this process may run on (taskset and cgroup cpusets shrink it),
/// else the CPUs online.
int64_t hostCores() {
#if defined(__linux__)
  cpu_set_t allowed;
  if (sched_getaffinity(0, sizeof(allowed), &allowed) == 0 &&
      CPU_COUNT(&allowed) > 0)
    return CPU_COUNT(&allowed);
#endif
  if (unsigned count = std::thread::hardware_concurrency())
    return count;
  long online = sysconf(_SC_NPROCESSORS_ONLN);
  return online > 0 ? online : 1;
}

StatusOr<HostMachine> detectHostMachine() {
  const char *architecture = hostArchitecture();
  const char *os = hostOperatingSystem();
  if (!architecture || !os)
    return Status::error("target 'host': this machine's architecture or "
                         "operating system is not one Halide 14 knows; give "
                         "the target explicitly, e.g. x86-64-linux-avx2");
  HostMachine host;
  host.architecture = architecture;
  host.bits = sizeof(void *) == 8 ? "64" : "32";
  host.os = os;
  host.features = detectHostVectorFeatures();
  host.caches = detectHostCaches();
  host.cores = hostCores();
  return host;
}

} // namespace

const StatusOr<HostMachine> &hostMachine() {
  static const StatusOr<HostMachine> host = detectHostMachine();
  return host;
}

} // namespace txl::target
