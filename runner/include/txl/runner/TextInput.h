//===- TextInput.h - the text modes' vocabulary and input -------*- C++ -*-===//
#ifndef TXL_RUNNER_TEXTINPUT_H
#define TXL_RUNNER_TEXTINPUT_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"
#include "txl/runner/Tokenizer.h"

#include <string>

namespace txl {

/// The tokenizer of a text run (--text, --prompt: one stream, so the
/// backend must run batch 1): --vocab FILE, else the backend's vocabulary
/// (embedded, or vocab.txt beside the model), checked against the model's
/// vocab_size.
StatusOr<Tokenizer> loadRunTokenizer(const RunOptions &options,
                                     const Backend &backend);

/// The whole file at `path`.
StatusOr<std::string> readTextFile(const std::string &path);

} // namespace txl

#endif // TXL_RUNNER_TEXTINPUT_H
