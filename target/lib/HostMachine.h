//===- HostMachine.h - what "host" means on this machine --------*- C++ -*-===//
#ifndef TXL_TARGET_LIB_HOSTMACHINE_H
#define TXL_TARGET_LIB_HOSTMACHINE_H

#include "txl/support/Status.h"
#include "txl/target/TargetInfo.h"

#include <string>
#include <vector>

namespace txl::target {

/// The machine this process runs on, as a "host" target needs it.
struct HostMachine {
  std::string architecture; // Halide's word: "x86"
  std::string bits;         // "64"
  std::string os;           // "linux"
  /// The vector ISA features Halide 14's get_host_target() reports, sorted.
  std::vector<std::string> features;
  /// From sysfs, else CPUID, else the defaults (TargetInfo.h).
  CacheSizes caches;
  int64_t cores = 1;
};

/// Detected once per process (the machine does not change under it).
const StatusOr<HostMachine> &hostMachine();

/// The parts, one file each.
std::vector<std::string> detectHostVectorFeatures(); // HostFeatures.cpp
CacheSizes detectHostCaches();                       // HostCaches.cpp

} // namespace txl::target

#endif // TXL_TARGET_LIB_HOSTMACHINE_H
