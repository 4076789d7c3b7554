//===- RunOptions.cpp - the flags of txl-run and of txlc's executables ----===//

#include "txl/runner/RunOptions.h"
#include "txl/runner/OptionParser.h"
#include "txl/runner/Sampler.h"
#include "txl/support/Limits.h"
#include "txl/support/SafeTensors.h"

#include <algorithm>
#include <cstdlib>

namespace txl {

void declareRunOptions(OptionParser &parser, RunOptions &options,
                       bool takesModel) {
  if (takesModel)
    parser.positional("MODEL", &options.model,
                      "a model directory (config.json + model.safetensors, "
                      "run by the reference executor) or a compiled model "
                      "(model.so from txlc, run through the runtime)");

  parser.section("Model");
  parser.text("backend", "NAME", &options.backend,
              "executor of a model directory: reference (plain C++, double "
              "accumulation); a compiled model runs as compiled");
  parser.text("weights", "FILE", &options.weights,
              "weights of a compiled model (default: its embedded weights, "
              "else model.safetensors beside it)");
  parser.integer("threads", "N", &options.threads,
                 "threads of a compiled model's kernels (default: one per "
                 "core, or HL_NUM_THREADS)");
  parser.flag("no-step-variants", &options.noStepVariants,
              "a compiled model runs every step, also of one token, through "
              "its T-token segment step instead of the smallest step variant "
              "that holds the tokens (txlc --step-variants; for comparisons)");
  parser.integer("tgt-len", "N", &options.tgtLen,
                 "tokens per segment (default: the config's tgt_len, which "
                 "a directory without one needs; a compiled model's is "
                 "fixed)");

  parser.section("Token ids (one of --tokens, --text, --prompt)");
  parser.text("tokens", "FILE", &options.tokens,
              "score a safetensors file with `tokens`: int64 [batch, "
              "length], one stream per row");
  parser.text("out", "FILE", &options.out,
              "with --tokens: write hidden, nll, mems (and log_probs) to "
              "this safetensors file");
  parser.text("segments", "N,N,...", &options.segments,
              "with --tokens: the tokens of each step, cycled (e.g. 5,1,1: "
              "a segment of 5, then two single tokens, again and again), "
              "each 1..T; default: T each");
  parser.flag("log-probs", &options.logProbs,
              "with --out: also write log_probs [batch, length, vocab] "
              "(large for big vocabularies)");

  parser.section("Text");
  parser.text("text", "FILE", &options.text,
              "score a UTF-8 text file: bits per character (character-level "
              "vocabulary) or perplexity (word-level)");
  parser.text("prompt", "TEXT", &options.prompt,
              "score TEXT, or with --generate continue it");
  parser.text("vocab", "FILE", &options.vocab,
              "the vocabulary, one token per line (default: vocab.txt in a "
              "model directory; a compiled model's embedded vocabulary, "
              "else vocab.txt beside it)");
  parser.text("tokenizer", "KIND", &options.tokenizer,
              "auto (default: char when every entry is one character), "
              "char or word");

  parser.section("Generation");
  parser.integer("generate", "N", &options.generate,
                 "after --prompt, generate N tokens one at a time, printing "
                 "them as they come");
  parser.number("temperature", "T", &options.temperature,
                "divide the log-probabilities by T before sampling (default "
                "1; 0 = always the most likely token)");
  parser.integer("top-k", "K", &options.topK,
                 "sample only among the K most likely tokens (default 0 = "
                 "all)");
  parser.integer("seed", "S", &options.seed,
                 "seed of the sampler (default: a random one, printed at the "
                 "end)");
}

Status checkRunOptions(RunOptions &options) {
  int modes = options.tokens.has_value() + options.text.has_value() +
              options.prompt.has_value();
  if (modes == 0)
    return Status::error("nothing to run: give --tokens FILE, --text FILE or "
                         "--prompt TEXT (see --help)");
  if (modes > 1)
    return Status::error("--tokens, --text and --prompt are exclusive: give "
                         "one of them");
  options.mode = options.tokens     ? RunMode::Tokens
                 : options.text     ? RunMode::Text
                 : options.generate ? RunMode::Generate
                                    : RunMode::Prompt;

  // An empty FILE would only fail later, after the run (`--out ''` once
  // scored everything, then could not rename ".tmp").
  for (auto [name, value] : {std::pair{"weights", &options.weights},
                             {"tokens", &options.tokens},
                             {"out", &options.out},
                             {"text", &options.text},
                             {"vocab", &options.vocab}})
    if (*value && (*value)->empty())
      return Status::error(std::string("--") + name +
                           " needs a file name, found an empty one");

  if (options.tgtLen && *options.tgtLen <= 0)
    return Status::error("--tgt-len must be positive, found " +
                         std::to_string(*options.tgtLen));
  if (options.tgtLen && *options.tgtLen > limits::kMaxSegmentLength)
    return Status::error("--tgt-len too large, expected <= " +
                         std::to_string(limits::kMaxSegmentLength) +
                         ", found " + std::to_string(*options.tgtLen));

  if (options.segments) {
    if (options.mode != RunMode::Tokens)
      return Status::error("--segments is for --tokens");
    std::string list = *options.segments;
    size_t begin = 0;
    while (begin <= list.size()) {
      size_t end = std::min(list.find(',', begin), list.size());
      std::string item = list.substr(begin, end - begin);
      char *rest = nullptr;
      long long value = std::strtoll(item.c_str(), &rest, 10);
      if (item.empty() || *rest || value < 1 ||
          value > limits::kMaxSegmentLength)
        return Status::error("--segments: '" + item +
                             "' is not a length from 1 to " +
                             std::to_string(limits::kMaxSegmentLength) +
                             " (expected a list like 5,1,1)");
      options.segmentLengths.push_back(value);
      begin = end + 1;
    }
  }

  if (options.mode != RunMode::Tokens) {
    if (options.out)
      return Status::error("--out is for --tokens (text modes print their "
                           "results)");
    if (options.logProbs)
      return Status::error("--log-probs is for --tokens with --out");
  } else {
    if (options.vocab)
      return Status::error("--vocab is for --text and --prompt (a tokens "
                           "file holds ids already)");
    if (options.tokenizer)
      return Status::error("--tokenizer is for --text and --prompt (a "
                           "tokens file holds ids already)");
  }

  // Before the run: refusing --out /dev/full afterwards would waste it.
  if (options.out)
    if (Status replaceable = checkReplaceableOutput(*options.out);
        !replaceable.isOk())
      return replaceable;
  if (options.generate && !options.prompt)
    return Status::error("--generate needs --prompt TEXT to continue");
  if (options.mode != RunMode::Generate) {
    for (auto [given, name] :
         {std::pair{options.temperature.has_value(), "--temperature"},
          {options.topK.has_value(), "--top-k"},
          {options.seed.has_value(), "--seed"}})
      if (given)
        return Status::error(std::string(name) +
                             " is for generation (--prompt TEXT "
                             "--generate N)");
  } else {
    if (*options.generate < 0)
      return Status::error("--generate must be >= 0, found " +
                           std::to_string(*options.generate));
    if (options.seed && *options.seed < 0)
      return Status::error("--seed must be >= 0, found " +
                           std::to_string(*options.seed));
    SamplingOptions sampling;
    sampling.temperature = options.temperature.value_or(1.0);
    sampling.topK = options.topK.value_or(0);
    Status valid = Sampler::check(sampling);
    if (!valid.isOk())
      return valid;
  }

  if (options.tokenizer) {
    std::optional<TokenizerKind> kind =
        tokenizerKindFromName(*options.tokenizer);
    if (!kind)
      return Status::error("--tokenizer must be auto, char or word, found '" +
                           *options.tokenizer + "'");
    options.tokenizerKind = *kind;
  }
  return Status::ok();
}

} // namespace txl
