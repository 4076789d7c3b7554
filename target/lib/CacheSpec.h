//===- CacheSpec.h - "l1d=32K,l2=1M,l3=32M,cores=2" overrides ---*- C++ -*-===//
#ifndef TXL_TARGET_LIB_CACHESPEC_H
#define TXL_TARGET_LIB_CACHESPEC_H

#include "txl/support/Status.h"
#include "txl/target/TargetInfo.h"

#include <string>

namespace txl::target {

/// Applies a cache spec (txlc's --target-cache; syntax in TargetInfo.h and
/// docs/TARGETS.md) to `caches` and `cores`. An empty spec changes nothing;
/// on an error nothing is changed.
Status applyCacheSpec(const std::string &spec, CacheSizes &caches,
                      int64_t &cores);

} // namespace txl::target

#endif // TXL_TARGET_LIB_CACHESPEC_H
