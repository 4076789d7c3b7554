//===- TextInput.h - the text modes' vocabulary and input -------*- C++ -*-===//
#ifndef TXL_RUNNER_TEXTINPUT_H
#define TXL_RUNNER_TEXTINPUT_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"
#include "txl/runner/Tokenizer.h"

#include <string>

namespace txl {

/// The tokenizer of a run: --vocab FILE, else the backend's vocabulary
/// (embedded, or vocab.txt beside the model), checked against the model's
/// vocab_size.
StatusOr<Tokenizer> loadRunTokenizer(const RunOptions &options,
                                     const Backend &backend);

/// The whole file at `path`.
StatusOr<std::string> readTextFile(const std::string &path);

/// The text modes run one stream: fails unless the backend can run batch 1.
Status checkSingleStream(const Backend &backend);

} // namespace txl

#endif // TXL_RUNNER_TEXTINPUT_H
