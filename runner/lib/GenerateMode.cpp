//===- GenerateMode.cpp - --prompt TEXT --generate N: continue a text -----===//
//
// The prompt runs in segments of T tokens like any stream; then every new
// token is a step of one token. The memory (mem_len rows per layer) carries
// the context, so a model sees further back than one segment. Each token is
// printed (and flushed) as soon as it is sampled.
//
//===----------------------------------------------------------------------===//

#include "txl/runner/Format.h"
#include "txl/runner/Modes.h"
#include "txl/runner/Sampler.h"
#include "txl/runner/TextInput.h"
#include "txl/support/NonFinite.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

namespace txl {

namespace {

void print(const std::string &text) {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

/// A row of log-probabilities with a NaN or infinity cannot be sampled from
/// (the sampler would pick an arbitrary token): an error, never garbage text.
Status checkFinite(const Backend &backend, const float *row, int64_t V,
                   const std::string &when) {
  if (auto bad = findNonFinite(row, {V}))
    return Status::error(backend.modelName() +
                         ": output 'log_probs' is not finite: " + *bad + " (" +
                         when + "); generation stops");
  return Status::ok();
}

} // namespace

Status generateText(const RunContext &context) {
  const RunOptions &options = context.options;
  Backend &backend = context.backend;
  auto tokenizer = loadRunTokenizer(options, backend);
  if (!tokenizer.ok())
    return tokenizer.status();
  const std::string &prompt = *options.prompt;
  auto encoded = tokenizer->encode(prompt, "--prompt");
  if (!encoded.ok())
    return encoded.status();
  const std::vector<int64_t> &promptIds = *encoded;
  int64_t P = static_cast<int64_t>(promptIds.size());
  if (P == 0)
    return Status::error("--prompt: the prompt has no tokens; generation "
                         "continues a prompt of at least one token");

  SamplingOptions sampling;
  sampling.temperature = options.temperature.value_or(1.0);
  sampling.topK = options.topK.value_or(0);
  // Without --seed, a fresh seed, printed at the end to repeat the run.
  sampling.seed = options.seed ? uint64_t(*options.seed)
                               : std::random_device()() & 0x7fffffff;
  Sampler sampler(sampling);

  Status started = backend.start(1);
  if (!started.isOk())
    return started;
  print(prompt);
  int64_t T = backend.maxSegmentLength(), V = backend.vocabSize();
  std::vector<float> logProbs(T * V);
  const float *lastRow = nullptr;
  for (int64_t begin = 0; begin < P; begin += T) {
    int64_t n = std::min(T, P - begin);
    Status status =
        backend.step(&promptIds[begin], n, nullptr, logProbs.data());
    if (!status.isOk())
      return status;
    lastRow = &logProbs[(n - 1) * V];
  }
  if (Status finite = checkFinite(backend, lastRow, V, "after the prompt");
      !finite.isOk())
    return finite;

  Detokenizer detokenizer(*tokenizer, prompt);
  int64_t count = *options.generate;
  bool endsWithNewline = prompt.empty() || prompt.back() == '\n';
  auto start = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < count; ++i) {
    int64_t token = sampler.sample(lastRow, V);
    std::string text = detokenizer.next(token);
    print(text);
    if (!text.empty())
      endsWithNewline = text.back() == '\n';
    if (i + 1 == count)
      break; // the last token needs no prediction after it
    Status status = backend.step(&token, 1, nullptr, logProbs.data());
    if (!status.isOk())
      return status;
    lastRow = logProbs.data();
    if (Status finite =
            checkFinite(backend, lastRow, V,
                        "after generated token " + std::to_string(i + 1));
        !finite.isOk())
      return finite;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  if (!endsWithNewline)
    print("\n");

  std::string settings =
      sampling.temperature == 0
          ? std::string("greedy")
          : "temperature " + formatFixed(sampling.temperature, 2) +
                (sampling.topK ? ", top-k " + std::to_string(sampling.topK)
                               : std::string()) +
                ", seed " + std::to_string(sampling.seed);
  std::fprintf(stderr,
               "%s: generated %s tokens after a prompt of %s (%s backend, %s "
               "tokens/s; %s)\n",
               context.program.c_str(), withThousands(count).c_str(),
               withThousands(P).c_str(), backend.name().c_str(),
               formatRate(count / seconds).c_str(), settings.c_str());
  return Status::ok();
}

} // namespace txl
