//===- TokenFileMode.cpp - --tokens: token ids in, outputs to safetensors -===//
//
// The original txl-run: each row of `tokens` (int64 [B, N]) is a stream cut
// into segments of T tokens (the last may be shorter), run in order with the
// memory carried. Prints the mean next-token loss and perplexity, writes
// `hidden` [B, N, D], `nll` [B, N-1], `mems` [L, M, B, D] (time-major, as the
// original code holds them) and, with --log-probs, `log_probs` [B, N, V].
//
//===----------------------------------------------------------------------===//

#include "txl/runner/Format.h"
#include "txl/runner/Modes.h"
#include "txl/runner/TokenFile.h"
#include "txl/support/NonFinite.h"
#include "txl/support/SafeTensors.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>

namespace txl {

Status runTokenFile(const RunContext &context) {
  const RunOptions &options = context.options;
  Backend &backend = context.backend;
  const std::string &path = *options.tokens;
  auto read = readTokens(path, backend.vocabSize());
  if (!read.ok())
    return read.status();
  const TokenTable &tokens = *read;
  int64_t B = tokens.batch, N = tokens.length, T = backend.maxSegmentLength(),
          D = backend.dModel(), V = backend.vocabSize();
  if (backend.compiledBatch() && B != backend.compiledBatch())
    return Status::error(path + ": tensor 'tokens': batch " +
                         std::to_string(B) + " does not match the batch " +
                         std::to_string(backend.compiledBatch()) + " that " +
                         backend.modelName() + " was compiled for");
  for (int64_t length : options.segmentLengths)
    if (length > T)
      return Status::error("--segments: " + std::to_string(length) +
                           " is more than the segment length " +
                           std::to_string(T) + " of " + backend.modelName());
  Status started = backend.start(B);
  if (!started.isOk())
    return started;
  backend.setSegmentLengths(options.segmentLengths);

  // Whole-stream outputs only when they are written. Each position's
  // target is the next token (-1 after the last).
  bool writeOutputs = options.out.has_value();
  bool keepLogProbs = writeOutputs && options.logProbs;
  std::vector<float> hidden(writeOutputs ? B * N * D : 0);
  std::vector<float> logProbs(keepLogProbs ? B * N * V : 0);
  std::vector<float> scored(B * N);
  std::vector<int64_t> targets(B * N);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < N; ++t)
      targets[b * N + t] = t + 1 < N ? tokens.ids[b * N + t + 1] : -1;

  // Without --log-probs the model scores the targets only (its @nll); with
  // them, the loss is read from the log-probabilities, segment by segment.
  auto start = std::chrono::steady_clock::now();
  if (!keepLogProbs) {
    Status status = backend.scoreStream(tokens.ids.data(), B, N, targets.data(),
                                        writeOutputs ? hidden.data() : nullptr,
                                        scored.data(), nullptr);
    if (!status.isOk())
      return status;
  } else {
    Status status = backend.stepStream(
        tokens.ids.data(), B, N, /*withLogProbs=*/true,
        [&](int64_t begin, int64_t n, const float *segmentHidden,
            const float *segmentLogProbs) {
          for (int64_t b = 0; b < B; ++b) {
            std::copy_n(segmentHidden + b * n * D, n * D,
                        &hidden[(b * N + begin) * D]);
            std::copy_n(segmentLogProbs + b * n * V, n * V,
                        &logProbs[(b * N + begin) * V]);
          }
          return Status::ok();
        });
    if (!status.isOk())
      return status;
    for (int64_t i = 0; i < B * N; ++i)
      scored[i] = targets[i] < 0 ? 0.0f : -logProbs[i * V + targets[i]];
  }
  // nll [B, N-1]: every position but the last predicts one.
  std::vector<float> nll(B * (N - 1));
  for (int64_t b = 0; b < B; ++b)
    std::copy_n(&scored[b * N], N - 1, &nll[b * (N - 1)]);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();

  // A NaN or infinity is never a result: refuse it rather than print it.
  const char *output = "nll";
  std::optional<std::string> bad = findNonFinite(nll.data(), {B, N - 1});
  if (!bad && writeOutputs) {
    output = "hidden";
    bad = findNonFinite(hidden.data(), {B, N, D});
  }
  if (bad)
    return Status::error(backend.modelName() + ": output '" + output +
                         "' is not finite: " + *bad + " (scoring " + path +
                         "); nothing written");
  double total = 0;
  for (float v : nll)
    total += v;
  int64_t predicted = B * (N - 1);
  double meanNll = predicted > 0 ? total / predicted : 0.0;
  int64_t segments = 0;
  for (int64_t begin = 0; begin < N; ++segments)
    begin +=
        options.segmentLengths.empty()
            ? T
            : options.segmentLengths[segments % options.segmentLengths.size()];
  std::string lengths =
      options.segments ? "--segments " + *options.segments : std::to_string(T);
  std::printf("%s: %lld x %lld tokens in %lld segment(s) of %s (%s "
              "backend, %s tokens/s)\n",
              context.program.c_str(), (long long)B, (long long)N,
              (long long)segments, lengths.c_str(), backend.name().c_str(),
              formatFixed(B * N / seconds, 1).c_str());
  if (predicted > 0)
    std::printf("mean next-token loss %s nats, perplexity %s, %s bits/token\n",
                formatFixed(meanNll, 6).c_str(),
                formatFixed(std::exp(meanNll), 4).c_str(),
                formatFixed(meanNll / std::log(2.0), 4).c_str());
  std::fflush(stdout);

  if (!writeOutputs)
    return Status::ok();
  int64_t M = backend.memoryRows();
  std::vector<float> mems = backend.memories();
  std::vector<TensorToWrite> outputs = {
      {"hidden", DType::F32, {B, N, D}, hidden.data()},
      {"nll", DType::F32, {B, N - 1}, nll.data()},
  };
  if (backend.keepsMemories())
    outputs.push_back(
        {"mems", DType::F32, {backend.numLayers(), M, B, D}, mems.data()});
  else
    std::fprintf(stderr,
                 "%s: note: no `mems` in %s: %s keeps key/value caches, not "
                 "hidden memories (compile it with txlc --keep-mems)\n",
                 context.program.c_str(), options.out->c_str(),
                 backend.modelName().c_str());
  if (keepLogProbs)
    outputs.push_back({"log_probs", DType::F32, {B, N, V}, logProbs.data()});
  return writeSafeTensors(*options.out, outputs);
}

} // namespace txl
