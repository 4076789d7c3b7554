//===- TokenFile.h - a --tokens file: int64 [B, N] token ids ----*- C++ -*-===//
//
// The input of txl-run --tokens: a safetensors file whose tensor `tokens` is
// int64 [B, N], one stream per row. Read and checked (dtype, shape, limits,
// every id inside the vocabulary) before anything runs.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_TOKENFILE_H
#define TXL_RUNNER_TOKENFILE_H

#include "txl/support/Status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace txl {

struct TokenTable {
  int64_t batch = 0, length = 0;
  std::vector<int64_t> ids; // [batch, length]
};

/// Reads `tokens` (int64 [B, N]) of the file `path` and checks every id
/// against the vocabulary [0, vocab). Errors name the file and the tensor.
StatusOr<TokenTable> readTokens(const std::string &path, int64_t vocab);

} // namespace txl

#endif // TXL_RUNNER_TOKENFILE_H
