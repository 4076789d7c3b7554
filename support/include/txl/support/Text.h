//===- Text.h - shapes and names as error messages write them ---*- C++ -*-===//
#ifndef TXL_SUPPORT_TEXT_H
#define TXL_SUPPORT_TEXT_H

#include <cstdint>
#include <string>
#include <vector>

namespace txl {

/// "[2, 3, 4]".
std::string shapeString(const std::vector<int64_t> &shape);

/// "'a', 'b', 'c'".
std::string quotedList(const std::vector<std::string> &names);

} // namespace txl

#endif // TXL_SUPPORT_TEXT_H
