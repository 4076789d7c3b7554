//===- HostCaches.cpp - the host's cache sizes: sysfs, CPUID, defaults ----===//
//
// sysfs lists what the kernel was told about cpu0's caches; a container or an
// old kernel may not have it, so CPUID's deterministic cache leaves (Intel's
// 4, AMD's 0x8000001D, same layout) come next, and the documented defaults
// last. Each level is taken from the first source that has it; an L3 that no
// source lists stays 0 (the machine has none), unless no source answered.
//
//===----------------------------------------------------------------------===//
#include "HostMachine.h"

#include <cstdlib>
#include <fstream>
#include <optional>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

namespace txl::target {

namespace {

std::optional<std::string> readLine(const std::string &path) {
  std::ifstream file(path);
  std::string line;
  if (!file || !std::getline(file, line))
    return std::nullopt;
  return line;
}

/// "32K", "512K", "32768K", "1M": sysfs's sizes.
int64_t parseSysfsSize(const std::string &text) {
  size_t digits = 0;
  int64_t value = 0;
  while (digits < text.size() && text[digits] >= '0' && text[digits] <= '9' &&
         value < (int64_t(1) << 40))
    value = value * 10 + (text[digits++] - '0');
  if (digits == 0)
    return 0;
  std::string suffix = text.substr(digits);
  if (suffix.empty())
    return value;
  if (suffix == "K")
    return value << 10;
  if (suffix == "M")
    return value << 20;
  if (suffix == "G")
    return value << 30;
  return 0;
}

/// Records a data or unified cache of `level` (1, 2, 3) if none is yet.
void record(CacheSizes &caches, int level, int64_t bytes) {
  int64_t *slot = level == 1   ? &caches.l1d
                  : level == 2 ? &caches.l2
                  : level == 3 ? &caches.l3
                               : nullptr;
  if (slot && *slot == 0 && bytes > 0)
    *slot = bytes;
}

void readSysfs(CacheSizes &caches) {
  const std::string cpu0 = "/sys/devices/system/cpu/cpu0/cache/index";
  for (int index = 0; index < 16; ++index) {
    std::string dir = cpu0 + std::to_string(index) + "/";
    std::optional<std::string> level = readLine(dir + "level");
    std::optional<std::string> type = readLine(dir + "type");
    std::optional<std::string> size = readLine(dir + "size");
    if (!level || !type || !size)
      continue; // indices may have gaps
    if (*type != "Data" && *type != "Unified")
      continue;
    record(caches, std::atoi(level->c_str()), parseSysfsSize(*size));
  }
}

#if defined(__x86_64__) || defined(__i386__)
/// Walks a deterministic cache parameters leaf (4 or 0x8000001D).
void readCpuidCacheLeaf(CacheSizes &caches, unsigned leaf) {
  for (unsigned subleaf = 0; subleaf < 16; ++subleaf) {
    unsigned eax, ebx, ecx, edx;
    __cpuid_count(leaf, subleaf, eax, ebx, ecx, edx);
    unsigned type = eax & 0x1f; // 0 none left, 1 data, 2 instruction, 3 unified
    if (type == 0)
      return;
    if (type == 2)
      continue;
    int level = (eax >> 5) & 0x7;
    int64_t ways = ((ebx >> 22) & 0x3ff) + 1;
    int64_t partitions = ((ebx >> 12) & 0x3ff) + 1;
    int64_t lineBytes = (ebx & 0xfff) + 1;
    int64_t sets = int64_t(ecx) + 1;
    record(caches, level, ways * partitions * lineBytes * sets);
  }
}

void readCpuid(CacheSizes &caches) {
  unsigned maxLeaf = __get_cpuid_max(0, nullptr);
  unsigned maxExtendedLeaf = __get_cpuid_max(0x80000000, nullptr);
  unsigned eax, ebx, ecx, edx;
  bool amdTopology = maxExtendedLeaf >= 0x8000001D &&
                     __get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx) &&
                     (ecx & (1u << 22));
  if (amdTopology)
    readCpuidCacheLeaf(caches, 0x8000001D);
  else if (maxLeaf >= 4)
    readCpuidCacheLeaf(caches, 4);
}
#endif

} // namespace

CacheSizes detectHostCaches() {
  CacheSizes caches;
  readSysfs(caches);
#if defined(__x86_64__) || defined(__i386__)
  if (caches.l1d == 0 || caches.l2 == 0 || caches.l3 == 0)
    readCpuid(caches);
#endif
  bool nothingListed = caches.l1d == 0 && caches.l2 == 0 && caches.l3 == 0;
  record(caches, 1, kDefaultL1dBytes);
  record(caches, 2, kDefaultL2Bytes);
  if (nothingListed)
    record(caches, 3, kDefaultL3Bytes);
  return caches;
}

} // namespace txl::target
