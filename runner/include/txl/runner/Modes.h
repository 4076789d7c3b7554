//===- Modes.h - token files, text scoring, generation ----------*- C++ -*-===//
//
// Each mode drives a Backend (started here) and prints its results; errors
// come back as a Status for the caller to print. docs/RUN.md shows the
// output of each.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_MODES_H
#define TXL_RUNNER_MODES_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"
#include "txl/support/Status.h"

#include <string>

namespace txl {

/// What every mode needs.
struct RunContext {
  /// Opens the summary lines ("txl-run", or an executable's name).
  std::string program;
  const RunOptions &options;
  Backend &backend;
};

/// --tokens IN.safetensors [--out OUT.safetensors [--log-probs]]: runs each
/// row as a stream; prints the mean next-token loss, writes hidden, nll,
/// mems (and log_probs).
Status runTokenFile(const RunContext &context);

/// --text FILE, or --prompt TEXT alone: one stream, scored; prints bits per
/// character (character-level) or perplexity and bits per token.
Status scoreText(const RunContext &context);

/// --prompt TEXT --generate N: feeds the prompt, then samples N tokens one
/// step at a time, printing each as it comes.
Status generateText(const RunContext &context);

} // namespace txl

#endif // TXL_RUNNER_MODES_H
