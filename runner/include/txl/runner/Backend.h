//===- Backend.h - what runs a model's segments -----------------*- C++ -*-===//
//
// The run modes (token files, text scoring, generation) step a model segment
// by segment with its memory carried; they do not care what executes it. Two
// implementations: CompiledBackend.h (a compiled model through the runtime's
// Session, in this library) and the reference executor on a model directory
// (tools/txl-run, which links MLIR).
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_BACKEND_H
#define TXL_RUNNER_BACKEND_H

#include "txl/support/Status.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace txl {

/// Where a model's vocabulary is when --vocab does not say.
struct VocabularySource {
  /// A file path, or a name for the embedded text ("model.so:vocabulary").
  std::string name;
  /// The embedded vocab.txt text; nullopt: read the file `name`.
  std::optional<std::string> text;
};

class Backend {
public:
  virtual ~Backend() = default;

  /// "reference" or "compiled", as the summaries print it.
  virtual std::string name() const = 0;
  /// The model as messages name it (a directory, a model.so, an executable).
  virtual const std::string &modelName() const = 0;
  /// The batch the model was compiled for; 0 when it runs any batch.
  virtual int64_t compiledBatch() const = 0;
  /// The most tokens one step takes (T): the segment length of the runs.
  virtual int64_t maxSegmentLength() const = 0;
  virtual int64_t vocabSize() const = 0;
  virtual int64_t dModel() const = 0;
  virtual int64_t numLayers() const = 0;
  virtual int64_t memLen() const = 0;
  virtual VocabularySource vocabulary() const = 0;

  /// Begins `batch` streams with empty memories; call before the first step.
  /// A compiled model takes only its compiled batch.
  virtual Status start(int64_t batch) = 0;
  /// One segment of n tokens per stream, 1 <= n <= maxSegmentLength():
  ///   tokens [B, n] int64, hidden [B, n, D] or nullptr, logProbs [B, n, V]
  ///   or nullptr (then the model may skip its softmax).
  virtual Status step(const int64_t *tokens, int64_t n, float *hidden,
                      float *logProbs) = 0;
  /// Scores `batch` streams at targets, as evaluation does, from the
  /// memories held: runs tokens [B, length] segment by segment and writes
  /// nll [B, length] = -log p(target) for targets [B, length] (each
  /// position's next token; -1 where there is none, e.g. after a stream's
  /// last token, which scores 0), and hidden [B, length, D] unless nullptr.
  /// `progress` gets the positions done per row as segments finish. This
  /// default reads the targets' entries of each step's log-probabilities; a
  /// compiled model with txl_model_nll scores the targets only, several
  /// segments per call (Session::scoreStream).
  virtual Status scoreStream(const int64_t *tokens, int64_t batch,
                             int64_t length, const int64_t *targets,
                             float *hidden, float *nll,
                             const std::function<void(int64_t)> &progress);
  /// What stepStream shows of each segment: its first position, its length
  /// n, hidden [B, n, D] and log-probabilities [B, n, V] (nullptr unless
  /// asked for).
  using SegmentVisitor = std::function<Status(
      int64_t begin, int64_t n, const float *hidden, const float *logProbs)>;
  /// Steps tokens [B, length] segment by segment from the memories held and
  /// shows each segment's outputs to `visit` (a failed visit stops it).
  Status stepStream(const int64_t *tokens, int64_t batch, int64_t length,
                    bool withLogProbs, const SegmentVisitor &visit);
  /// The tokens per step of stepStream and of the default scoreStream,
  /// cycled (txl-run --segments; each 1..maxSegmentLength()); empty:
  /// maxSegmentLength() each.
  void setSegmentLengths(std::vector<int64_t> lengths) {
    segmentLengths = std::move(lengths);
  }
  /// Forgets the memories: the next step begins new streams.
  virtual void reset() = 0;
  /// M, the memory rows held (0 .. memLen()).
  virtual int64_t memoryRows() const = 0;
  /// The memories as [L, M, B, D], time-major (the layout txl-run writes).
  virtual std::vector<float> memories() const = 0;
  /// False when the model keeps no hidden memories (a compiled model with
  /// its key/value cache and without txlc --keep-mems): memories() is empty.
  virtual bool keepsMemories() const { return true; }

protected:
  std::vector<int64_t> segmentLengths;
};

} // namespace txl

#endif // TXL_RUNNER_BACKEND_H
