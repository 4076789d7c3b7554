//===- Text.h - shapes and names as error messages write them ---*- C++ -*-===//
#ifndef TXL_SUPPORT_TEXT_H
#define TXL_SUPPORT_TEXT_H

#include "txl/support/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace txl {

/// "[2, 3, 4]".
std::string shapeString(const std::vector<int64_t> &shape);

/// "'a', 'b', 'c'".
std::string quotedList(const std::vector<std::string> &names);

/// OK when `problems` is empty; else one error listing them a line each, at
/// most `maxReported`, then how many more (`prefix` opens that line as it
/// opens each problem: the file they are about).
Status problemsError(const std::vector<std::string> &problems,
                     const std::string &prefix, size_t maxReported = 20);

} // namespace txl

#endif // TXL_SUPPORT_TEXT_H
