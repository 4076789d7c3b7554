//===- Text.cpp - shapes and names as error messages write them -----------===//

#include "txl/support/Text.h"

namespace txl {

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string text = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    text += (i ? ", " : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string quotedList(const std::vector<std::string> &names) {
  std::string text;
  for (size_t i = 0; i < names.size(); ++i)
    text += (i ? ", '" : "'") + names[i] + "'";
  return text;
}

Status problemsError(const std::vector<std::string> &problems,
                     const std::string &prefix, size_t maxReported) {
  if (problems.empty())
    return Status::ok();
  std::string message;
  for (size_t i = 0; i < problems.size() && i < maxReported; ++i)
    message += (i ? "\n" : "") + problems[i];
  if (problems.size() > maxReported)
    message += "\n" + prefix + "... and " +
               std::to_string(problems.size() - maxReported) + " more problems";
  return Status::error(message);
}

} // namespace txl
