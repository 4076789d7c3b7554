//===- TokenFile.cpp - a --tokens file: int64 [B, N] token ids ------------===//

#include "txl/runner/TokenFile.h"

#include "txl/support/Limits.h"
#include "txl/support/SafeTensors.h"

#include <cstring>

namespace txl {

StatusOr<TokenTable> readTokens(const std::string &path, int64_t vocab) {
  auto file = SafeTensorsFile::open(path);
  if (!file.ok())
    return file.status();
  const TensorInfo *info = (*file)->find("tokens");
  if (!info)
    return Status::error(path + ": no tensor named 'tokens'");
  if (info->dtype != DType::I64)
    return Status::error(path +
                         ": tensor 'tokens': expected dtype I64, found " +
                         dtypeName(info->dtype));
  if (info->shape.size() != 2 || info->shape[0] < 1 || info->shape[1] < 1)
    return Status::error(path + ": tensor 'tokens': expected a non-empty "
                                "[batch, length] tensor");
  if (info->shape[0] > limits::kMaxBatch)
    return Status::error(path +
                         ": tensor 'tokens': batch too large, expected "
                         "<= " +
                         std::to_string(limits::kMaxBatch) + ", found " +
                         std::to_string(info->shape[0]));
  if (info->numElements() > limits::kMaxTokens)
    return Status::error(path +
                         ": tensor 'tokens': too many tokens, expected "
                         "<= " +
                         std::to_string(limits::kMaxTokens) + ", found " +
                         std::to_string(info->numElements()));
  TokenTable tokens{info->shape[0], info->shape[1],
                    std::vector<int64_t>(info->numElements())};
  std::memcpy(tokens.ids.data(), info->data, info->nbytes);
  for (size_t i = 0; i < tokens.ids.size(); ++i)
    if (tokens.ids[i] < 0 || tokens.ids[i] >= vocab)
      return Status::error(
          path + ": tensor 'tokens': id " + std::to_string(tokens.ids[i]) +
          " at [" + std::to_string(i / info->shape[1]) + ", " +
          std::to_string(i % info->shape[1]) +
          "] is outside the vocabulary [0, " + std::to_string(vocab) + ")");
  return tokens;
}

} // namespace txl
