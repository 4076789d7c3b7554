//===- RunOptions.h - the flags of txl-run and its executables --*- C++ -*-===//
//
// One set of flags for every way a model runs: `txl-run MODEL ...` and an
// executable built by `txlc --emit=exe` (whose model is linked in, so it has
// no MODEL argument). docs/RUN.md describes them.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_RUNOPTIONS_H
#define TXL_RUNNER_RUNOPTIONS_H

#include "txl/runner/Tokenizer.h"
#include "txl/support/Status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace txl {

class OptionParser;

/// What a run does.
enum class RunMode {
  Tokens,   // --tokens IN.safetensors: ids in, outputs to --out
  Text,     // --text FILE: bits per character / perplexity
  Prompt,   // --prompt TEXT without --generate: scores the prompt
  Generate, // --prompt TEXT --generate N
};

struct RunOptions {
  std::optional<std::string> model; // txl-run's positional MODEL
  std::optional<std::string> backend;
  std::optional<std::string> weights;
  std::optional<int64_t> tgtLen;
  std::optional<int64_t> threads;
  /// --no-step-variants: a compiled model runs every step through its
  /// T-token segment step.
  bool noStepVariants = false;
  // --tokens mode
  std::optional<std::string> tokens;
  std::optional<std::string> out;
  bool logProbs = false;
  /// --segments 5,1,1: the tokens of each step, cycled (set by
  /// checkRunOptions; empty: T each).
  std::optional<std::string> segments;
  std::vector<int64_t> segmentLengths;
  // text modes
  std::optional<std::string> text;
  std::optional<std::string> prompt;
  std::optional<std::string> vocab;
  std::optional<std::string> tokenizer;
  // generation
  std::optional<int64_t> generate;
  std::optional<double> temperature;
  std::optional<int64_t> topK;
  std::optional<int64_t> seed;

  /// Set by checkRunOptions.
  RunMode mode = RunMode::Tokens;
  TokenizerKind tokenizerKind = TokenizerKind::Auto;
};

/// Declares every flag in `parser`, bound to `options`; the positional MODEL
/// only when `takesModel` (txl-run, not an executable).
void declareRunOptions(OptionParser &parser, RunOptions &options,
                       bool takesModel);

/// Checks what the parser cannot: one mode, no flag of another mode, values
/// in range. Sets `mode` and `tokenizerKind`.
Status checkRunOptions(RunOptions &options);

} // namespace txl

#endif // TXL_RUNNER_RUNOPTIONS_H
