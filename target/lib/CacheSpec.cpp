//===- CacheSpec.cpp - "l1d=32K,l2=1M,l3=32M,cores=2" overrides -----------===//
#include "CacheSpec.h"

#include <optional>
#include <set>

namespace txl::target {

namespace {

constexpr int64_t kLargestSize = int64_t(1) << 40; // 1 TiB: surely a typo
constexpr int64_t kMostCores = int64_t(1) << 20;

std::string trimSpaces(const std::string &text) {
  size_t first = text.find_first_not_of(' ');
  if (first == std::string::npos)
    return "";
  return text.substr(first, text.find_last_not_of(' ') - first + 1);
}

/// Digits only, else nullopt; saturates past kLargestSize (out of range
/// rather than overflow).
std::optional<int64_t> parseWholeNumber(const std::string &digits) {
  if (digits.empty())
    return std::nullopt;
  int64_t value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9')
      return std::nullopt;
    if (value <= kLargestSize)
      value = value * 10 + (c - '0');
  }
  return value;
}

class CacheSpecParser {
public:
  explicit CacheSpecParser(const std::string &spec) : spec(spec) {}

  Status apply(CacheSizes &caches, int64_t &cores) {
    CacheSizes newCaches = caches;
    int64_t newCores = cores;
    std::set<std::string> seen;
    size_t start = 0;
    while (true) {
      size_t comma = spec.find(',', start);
      std::string entry = trimSpaces(spec.substr(start, comma - start));
      if (entry.empty())
        return fail("empty entry; write key=value pairs separated by commas, "
                    "e.g. l1d=32K,l2=1M,l3=32M,cores=2");
      size_t equals = entry.find('=');
      if (equals == std::string::npos)
        return fail("'" + entry +
                    "' is not key=value; accepted keys: " + kKeys);
      std::string key = trimSpaces(entry.substr(0, equals));
      std::string value = trimSpaces(entry.substr(equals + 1));
      if (!seen.insert(key).second)
        return fail(key + " given twice");
      Status status = key == "cores" ? setCores(value, newCores)
                                     : setSize(key, value, newCaches);
      if (!status.isOk())
        return status;
      if (comma == std::string::npos)
        break;
      start = comma + 1;
    }
    caches = newCaches;
    cores = newCores;
    return Status::ok();
  }

private:
  static constexpr const char *kKeys = "l1d, l2, l3, cores";

  Status fail(const std::string &why) const {
    return Status::error("cache spec '" + spec + "': " + why);
  }

  Status setSize(const std::string &key, const std::string &value,
                 CacheSizes &caches) {
    int64_t *slot = key == "l1d"  ? &caches.l1d
                    : key == "l2" ? &caches.l2
                    : key == "l3" ? &caches.l3
                                  : nullptr;
    if (!slot)
      return fail("unknown key '" + key + "'; accepted: " + kKeys);
    std::optional<int64_t> bytes = parseSize(value);
    if (!bytes)
      return fail("size '" + value + "' of " + key +
                  " is not a number of bytes with an optional K, M or G "
                  "suffix (powers of 1024), e.g. 48K");
    if (*bytes <= 0 || *bytes > kLargestSize)
      return fail("size '" + value + "' of " + key +
                  " is out of range (1 to 1024G)");
    *slot = *bytes;
    return Status::ok();
  }

  Status setCores(const std::string &value, int64_t &cores) {
    std::optional<int64_t> count = parseWholeNumber(value);
    if (!count || *count <= 0 || *count > kMostCores)
      return fail("cores '" + value + "' is not a whole number from 1 to " +
                  std::to_string(kMostCores));
    cores = *count;
    return Status::ok();
  }

  static std::optional<int64_t> parseSize(const std::string &text) {
    int shift = 0;
    std::string digits = text;
    if (!text.empty()) {
      switch (text.back()) {
      case 'K':
      case 'k':
        shift = 10;
        break;
      case 'M':
      case 'm':
        shift = 20;
        break;
      case 'G':
      case 'g':
        shift = 30;
        break;
      default:
        break;
      }
      if (shift)
        digits.pop_back();
    }
    std::optional<int64_t> number = parseWholeNumber(digits);
    if (!number)
      return std::nullopt;
    if (*number > (kLargestSize >> shift))
      return kLargestSize + 1; // out of range, said by the caller
    return *number << shift;
  }

  const std::string &spec;
};

} // namespace

Status applyCacheSpec(const std::string &spec, CacheSizes &caches,
                      int64_t &cores) {
  if (spec.empty())
    return Status::ok();
  return CacheSpecParser(spec).apply(caches, cores);
}

} // namespace txl::target
