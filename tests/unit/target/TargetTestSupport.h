//===- TargetTestSupport.h - parse a target or fail the test ----*- C++ -*-===//
#ifndef TXL_TESTS_UNIT_TARGET_TARGETTESTSUPPORT_H
#define TXL_TESTS_UNIT_TARGET_TARGETTESTSUPPORT_H

#include "txl/target/TargetInfo.h"

#include <gtest/gtest.h>

namespace txl::target {

/// The parsed target; an error fails the calling test with its message.
inline TargetInfo parsed(const std::string &target,
                         const std::string &cacheSpec = "") {
  StatusOr<TargetInfo> info = parseTarget(target, cacheSpec);
  EXPECT_TRUE(info.ok()) << target << ": " << info.status().message();
  return info.ok() ? *info : TargetInfo();
}

/// The error message of a target that must be refused.
inline std::string refusal(const std::string &target,
                           const std::string &cacheSpec = "") {
  StatusOr<TargetInfo> info = parseTarget(target, cacheSpec);
  EXPECT_FALSE(info.ok()) << target << " was accepted";
  return info.ok() ? "" : info.status().message();
}

} // namespace txl::target

#endif // TXL_TESTS_UNIT_TARGET_TARGETTESTSUPPORT_H
