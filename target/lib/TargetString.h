//===- TargetString.h - a Halide target string split into words -*- C++ -*-===//
#ifndef TXL_TARGET_LIB_TARGETSTRING_H
#define TXL_TARGET_LIB_TARGETSTRING_H

#include "txl/support/Status.h"

#include <string>
#include <vector>

namespace txl::target {

/// The words of a target string by role. For "host..." the architecture,
/// bits and OS are left empty: the machine supplies them.
struct TargetWords {
  bool host = false;
  std::string architecture;          // "x86"
  std::string bits;                  // "64"
  std::string os;                    // "linux"
  std::vector<std::string> features; // sorted, unique
};

/// Splits `target` as Halide 14's Target(string) does (words between '-' in
/// any order, "host" first only, "trace_all" for the three trace features),
/// and refuses what Halide would refuse, naming the word.
StatusOr<TargetWords> splitTargetString(const std::string &target);

} // namespace txl::target

#endif // TXL_TARGET_LIB_TARGETSTRING_H
