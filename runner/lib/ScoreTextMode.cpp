//===- ScoreTextMode.cpp - --text, --prompt: how well a model predicts ----===//
//
// The text is one stream: tokenized, cut into segments of T tokens, run in
// order with the memory carried. The score is the mean next-token loss over
// the predicted tokens (all but the first), in bits per character for a
// character-level vocabulary and as perplexity for a word-level one.
//
//===----------------------------------------------------------------------===//

#include "txl/runner/Format.h"
#include "txl/runner/Modes.h"
#include "txl/runner/Progress.h"
#include "txl/runner/TextInput.h"
#include "txl/support/NonFinite.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>

namespace txl {

Status scoreText(const RunContext &context) {
  const RunOptions &options = context.options;
  Backend &backend = context.backend;
  auto tokenizer = loadRunTokenizer(options, backend);
  if (!tokenizer.ok())
    return tokenizer.status();

  // Errors point at the flag; the result line names the text.
  std::string name = options.text ? *options.text : "--prompt";
  std::string label = options.text ? *options.text : "prompt";
  std::string text;
  if (options.text) {
    auto read = readTextFile(*options.text);
    if (!read.ok())
      return read.status();
    text = std::move(*read);
  } else {
    text = *options.prompt;
  }
  int64_t unknowns = 0;
  auto encoded = tokenizer->encode(text, name, &unknowns);
  if (!encoded.ok())
    return encoded.status();
  const std::vector<int64_t> &ids = *encoded;
  int64_t N = static_cast<int64_t>(ids.size());
  if (N < 2)
    return Status::error(name + ": " + std::to_string(N) +
                         " token(s); scoring needs at least 2 (the first "
                         "token is not predicted)");

  Status started = backend.start(1);
  if (!started.isOk())
    return started;
  int64_t T = backend.maxSegmentLength();
  int64_t segments = (N + T - 1) / T;
  bool characters = tokenizer->isCharacterLevel();
  std::string unit = characters ? "characters" : "tokens";
  // Row t predicts the token after it, also across segment boundaries: the
  // model scores those targets only (-1 after the text's last token).
  std::vector<int64_t> targets(N);
  for (int64_t t = 0; t < N; ++t)
    targets[t] = t + 1 < N ? ids[t + 1] : -1;
  std::vector<float> nll(N);
  ProgressBar progress(N, unit, segments);
  auto start = std::chrono::steady_clock::now();
  Status status =
      backend.scoreStream(ids.data(), 1, N, targets.data(), nullptr, nll.data(),
                          [&](int64_t done) { progress.update(done); });
  if (!status.isOk())
    return status;
  // A NaN or infinity is never a result: refuse it rather than print it.
  if (auto bad = findNonFinite(nll.data(), {N - 1}))
    return Status::error(backend.modelName() +
                         ": output 'nll' is not finite: " + *bad +
                         " (scoring " + name + ")");
  double totalNll = 0;
  for (float value : nll)
    totalNll += value;
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  progress.finish();

  if (unknowns)
    std::fprintf(stderr,
                 "%s: note: %s %s of %s %s not in the vocabulary, "
                 "scored as <unk>\n",
                 context.program.c_str(), withThousands(unknowns).c_str(),
                 characters ? (unknowns == 1 ? "character" : "characters")
                            : (unknowns == 1 ? "word" : "words"),
                 name.c_str(), unknowns == 1 ? "is" : "are");
  double meanNll = totalNll / double(N - 1);
  double bits = meanNll / std::log(2.0);
  std::printf("%s: scored %s %s in %s segment%s of %lld (%s backend, %s "
              "tokens/s)\n",
              context.program.c_str(), withThousands(N).c_str(), unit.c_str(),
              withThousands(segments).c_str(), segments == 1 ? "" : "s",
              (long long)T, backend.name().c_str(),
              formatRate(N / seconds).c_str());
  if (characters)
    std::printf("%s: %s bits/char (loss %s nats/char)\n", label.c_str(),
                formatFixed(bits, 4).c_str(), formatFixed(meanNll, 4).c_str());
  else
    std::printf("%s: perplexity %s, %s bits/token (loss %s nats/token)\n",
                label.c_str(), formatFixed(std::exp(meanNll), 2).c_str(),
                formatFixed(bits, 4).c_str(), formatFixed(meanNll, 4).c_str());
  std::fflush(stdout);
  return Status::ok();
}

} // namespace txl
