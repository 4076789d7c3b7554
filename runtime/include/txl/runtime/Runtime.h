//===- Runtime.h - load a compiled model, run it in sessions ----*- C++ -*-===//
//
// The C++ side of the runtime (docs/RUNTIME.md). A CompiledModel is the code
// of one compiled Transformer-XL (ModelABI.h) bound to its weights; a Session
// is one stream of segments through it, with the recurrent memory it carries.
//
// Thread safety: a CompiledModel is immutable once loaded (its code, its
// descriptor, its bound weights), and the ABI gives the model no mutable
// state of its own, so any number of Sessions of one model may step at the
// same time from different threads. One Session is not safe to use from two
// threads at once: it owns the memory state that every step updates.
//
// Errors: every function reports failure as a Status whose message names the
// file, tensor, batch row or argument; no exception leaves this API. A kernel
// that fails inside a step (a Halide error) is a Status of that step too:
// loading installs a handler in the model (txl_model_set_error_handler) that
// keeps the message per thread, instead of Halide's default, which aborts.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNTIME_RUNTIME_H
#define TXL_RUNTIME_RUNTIME_H

#include "txl/runtime/ModelABI.h"
#include "txl/support/Status.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace txl {

class ModelWeights;

/// The functions a compiled model exports (ModelABI.h).
struct ModelEntryPoints {
  const txl_model_desc *(*describe)(void) = nullptr;
  int32_t (*step)(const float *const *weights, const float *const *prepared,
                  const int64_t *tokens, int64_t n, int64_t memoryRows,
                  int64_t windowStart, float *const *states, float *hidden,
                  float *logProbs, void *scratch) = nullptr;
  /// Optional (`txlc --embed-weights`): the model's weights as a safetensors
  /// blob that lives as long as the code; stores the blob's size in `*size`.
  const unsigned char *(*embeddedWeights)(uint64_t *size) = nullptr;
  /// Optional: the bytes of the model directory's vocab.txt (not
  /// NUL-terminated); stores their size in `*size`; NULL for none.
  const char *(*vocabulary)(uint64_t *size) = nullptr;
  /// Optional (every txlc model has it): installs the handler of kernel
  /// errors. CompiledModel installs its own, which records the message for
  /// Session::step; without it a kernel error aborts the process.
  void (*setErrorHandler)(txl_model_error_handler handler) = nullptr;
  /// Optional (every txlc model has it): sets the kernels' thread count.
  int32_t (*setNumThreads)(int32_t n) = nullptr;
  /// Optional (txlc models for GPU targets): frees the model's device copies
  /// of weights and prepared tensors; called when the model is freed.
  void (*releaseDevice)(void) = nullptr;
  /// Computes the prepared tensors once at load (required).
  int32_t (*prepare)(const float *const *weights, float *const *prepared,
                     void *scratch) = nullptr;
  /// Scores hidden states at targets (every txlc model has it since ABI 4;
  /// without it Session::step refuses targets).
  int32_t (*nll)(const float *const *weights, const float *const *prepared,
                 const float *hidden, const int64_t *targets, float *nll,
                 void *scratch) = nullptr;
};

/// Names of the optional symbols (ModelABI.h).
inline constexpr const char *kEmbeddedWeightsSymbol =
    "txl_model_embedded_weights";
inline constexpr const char *kVocabularySymbol = "txl_model_vocabulary";
inline constexpr const char *kSetErrorHandlerSymbol =
    "txl_model_set_error_handler";
inline constexpr const char *kSetNumThreadsSymbol = "txl_model_set_num_threads";
inline constexpr const char *kReleaseDeviceSymbol = "txl_model_release_device";

/// A compiled model bound to its weights. Immutable after loading; shared by
/// the sessions that run it (they keep it alive).
class CompiledModel {
public:
  /// Loads `libraryPath` (dlopen, RTLD_LOCAL | RTLD_NOW), finds the ABI's
  /// functions (the optional ones too: embedded weights, vocabulary, error
  /// handler), installs the handler of kernel errors and binds its weights:
  /// `weightsPath` if given, else the model's embedded weights if it has
  /// some, else `model.safetensors` in the library's folder.
  static StatusOr<std::shared_ptr<const CompiledModel>>
  load(const std::string &libraryPath, const std::string &weightsPath = "");

  /// A model linked into this executable (a standalone executable built by
  /// txlc, which declares the optional functions weak and passes what it
  /// has). Weights: `weightsPath` if given, else the embedded weights;
  /// `name` stands for the model in messages.
  static StatusOr<std::shared_ptr<const CompiledModel>>
  fromEntryPoints(const ModelEntryPoints &entryPoints,
                  const std::string &weightsPath = "",
                  const std::string &name = "<linked model>");

  ~CompiledModel();
  CompiledModel(const CompiledModel &) = delete;
  CompiledModel &operator=(const CompiledModel &) = delete;

  /// The model's own description (shapes fixed at compile time).
  const txl_model_desc &desc() const { return *description; }
  /// The config.json it was compiled from, as the descriptor carries it.
  std::string configJson() const { return description->config_json; }
  int64_t batch() const { return description->batch; }
  int64_t tgtLen() const { return description->tgt_len; }
  int64_t memLen() const { return description->mem_len; }
  int64_t numLayers() const { return description->n_layer; }
  int64_t dModel() const { return description->d_model; }
  int64_t vocabSize() const { return description->vocab_size; }

  /// The library path, or the name given to fromEntryPoints.
  const std::string &name() const { return modelName; }
  /// The weights file, or "<name>:embedded-weights".
  const std::string &weightsSource() const { return weightsName; }
  /// True when the weights came from the model itself.
  bool usesEmbeddedWeights() const { return embedded; }
  /// True when the model exports embedded weights (used or not).
  bool hasEmbeddedWeights() const {
    return entryPoints.embeddedWeights != nullptr;
  }
  /// The vocabulary compiled into the model (its vocab.txt, one token per
  /// line); empty when it has none.
  std::string vocabulary() const;
  /// True when the model has a vocabulary (exports txl_model_vocabulary and
  /// it returns one).
  bool hasVocabulary() const;
  /// True when kernel errors come back as a Status from Session::step (the
  /// model exports txl_model_set_error_handler); else they abort.
  bool reportsKernelErrors() const {
    return entryPoints.setErrorHandler != nullptr;
  }
  const ModelEntryPoints &functions() const { return entryPoints; }
  /// One pointer per descriptor weight, in descriptor order.
  const std::vector<const float *> &weightPointers() const;
  /// One pointer per prepared tensor (computed at load by
  /// txl_model_prepare), in descriptor order.
  const std::vector<const float *> &preparedPointers() const {
    return preparedViews;
  }
  /// True when the sessions keep each layer's hidden memory (state role
  /// "memory"), so that Session::memories() has something to return.
  bool keepsMemories() const;
  /// Lets the model's kernels use `threads` threads (<= 0: one per core).
  /// The thread pool belongs to the model's code, so this applies to every
  /// session of this model (and of any other loaded from the same library)
  /// in the process. An error if the model cannot set it.
  Status setThreads(int threads) const;

private:
  struct Library;
  CompiledModel();
  /// Checks the descriptor, binds the weights it names and prepares.
  Status initialize(const std::string &weightsPath);
  /// Runs txl_model_prepare into preparedTensors.
  Status prepare();

  // Declared first, destroyed last: the weights may point into the library.
  std::unique_ptr<Library> library;
  ModelEntryPoints entryPoints;
  const txl_model_desc *description = nullptr;
  std::unique_ptr<ModelWeights> weights;
  /// What txl_model_prepare computed, owned (64-byte aligned).
  std::vector<std::unique_ptr<float[], void (*)(void *)>> preparedTensors;
  std::vector<const float *> preparedViews;
  std::string modelName;
  std::string weightsName;
  bool embedded = false;
};

/// Checks `rows` rows of `n` ids (row r at ids[r * stride]) against
/// [lowest, vocab). The first outside is the error "<context>: <what> <id>
/// at batch row <r>, position <t> is outside the vocabulary [0, vocab)",
/// with "(-1: no target)" where -1 is allowed. Shared by Session and the
/// runner's backends, which refuse bad ids before running anything.
Status checkIds(const std::string &context, const char *what,
                const int64_t *ids, int64_t rows, int64_t stride, int64_t n,
                int64_t lowest, int64_t vocab);

/// One stream of segments through a model: the state of every layer (its
/// memory or key/value caches: a window of mem_len rows, M of them held,
/// that slides along a longer buffer as steps append rows; ModelABI.h), a
/// scratch arena and the step's output buffers, all owned. Independent of
/// every other session.
class Session {
public:
  /// A session at the start of a stream (M = 0).
  static StatusOr<std::unique_ptr<Session>>
  create(std::shared_ptr<const CompiledModel> model);

  ~Session();
  Session(const Session &) = delete;
  Session &operator=(const Session &) = delete;

  /// Runs one segment of n tokens per batch row, 1 <= n <= T.
  ///   tokens         [B, n] int64, row-major, compact; ids in [0, V)
  ///   hiddenOut      [B, n, D] final hidden states, or nullptr
  ///   logProbsOut    [B, n, V] log-probabilities, or nullptr (the model then
  ///                  skips the adaptive softmax)
  /// Afterwards the memory holds min(mem_len, M + n) rows. Bad arguments are
  /// refused before the model runs, leaving the session as it was. If the
  /// model itself fails, the Status carries the kernel's message (Halide's,
  /// recorded for this thread by the model's error handler), the memory is
  /// undefined and the session refuses to step until reset().
  Status step(const int64_t *tokens, int64_t n, float *hiddenOut,
              float *logProbsOut);

  /// Scores streams at targets, as evaluation does, from the memory held:
  /// runs the segments of tokens [B, length] in order (T tokens each, the
  /// last may be shorter) and writes nllOut [B, length] = -log p(targets)
  /// (targets [B, length] int64: each position's next token, -1 for none,
  /// which scores 0), through the model's txl_model_nll, S = score_segments
  /// steps per call (so the output layer's tail weights stream once per S
  /// segments); no log-probabilities are formed. hiddenOut [B, length, D]
  /// or nullptr. `progress`, if given, gets the positions done per row
  /// after each segment. Ids are checked before the first step; a model
  /// failure stops the session as step() does.
  Status scoreStream(const int64_t *tokens, int64_t length,
                     const int64_t *targets, float *hiddenOut, float *nllOut,
                     const std::function<void(int64_t)> &progress = nullptr);

  /// Forgets the memory: the next step starts a fresh stream.
  void reset();

  /// Whether step() runs n tokens through the smallest step variant that
  /// holds them (ModelABI.h; the default) or always through the T-token
  /// segment step. Both compute the same function; switching is allowed at
  /// any token.
  void setUseStepVariants(bool use) { useStepVariants = use; }

  /// M, the memory rows held (0 .. mem_len).
  int64_t memoryRows() const { return rows; }
  /// The hidden memories as [L, M, B, D], time-major (the layout txl-run
  /// writes and the original code keeps); `out` holds L * M * B * D floats.
  /// Only for models that keep them (CompiledModel::keepsMemories(); a model
  /// compiled with its key/value cache keeps them only with txlc
  /// --keep-mems): otherwise memories() is empty and copyMemories writes
  /// nothing.
  void copyMemories(float *out) const;
  std::vector<float> memories() const;

  const CompiledModel &model() const { return *compiled; }

private:
  /// Frees what alignedAlloc returned.
  struct FreeDeleter {
    void operator()(void *pointer) const;
  };
  template <class T> using Aligned = std::unique_ptr<T[], FreeDeleter>;
  /// `count` zeroed elements, 64-byte aligned (never nullptr on success,
  /// also for count 0, so the model always gets a valid address).
  template <class T> static StatusOr<Aligned<T>> alignedAlloc(size_t count);

  explicit Session(std::shared_ptr<const CompiledModel> model);
  Status allocate();
  /// step(), through a step variant only when `variants` (scoreStream reads
  /// the segment step's [B, T, D] layout).
  Status runStep(const int64_t *tokens, int64_t n, float *hiddenOut,
                 float *logProbsOut, bool variants);

  std::shared_ptr<const CompiledModel> compiled;
  /// One window per descriptor state; memoryStates[l] is layer l's hidden
  /// memory (empty when the model keeps none).
  std::vector<Aligned<float>> stateWindows;
  std::vector<float *> statePointers;
  std::vector<const float *> memoryStates;
  Aligned<unsigned char> scratch;
  Aligned<int64_t> tokenBuffer;  // [B, T]
  Aligned<float> hiddenBuffer;   // [B, T, D]
  // scoreStream's S segments, allocated on its first call: hidden states
  // [S, B, T, D], targets and nll [S, B, T].
  Aligned<float> scoreHidden;
  Aligned<int64_t> scoreTargets;
  Aligned<float> scoreNll;
  Aligned<float> logProbsBuffer; // [B, T, V], on the first step asking
  int64_t rows = 0;
  bool useStepVariants = true;
  /// Where every state's window starts (ModelABI.h's window_start).
  int64_t windowStart = 0;
  /// Moves the held rows of every state to the front (window_start 0),
  /// when the next step's rows would not fit after the window.
  void slideBack();
  /// txl::checkIds of ids [B, n] (row stride `stride`) against [lowest, V),
  /// the message naming the model and `call`.
  Status checkIds(const char *call, const int64_t *ids, int64_t stride,
                  int64_t n, int64_t lowest, const char *what) const;
  /// A failure inside the model (`entry` returned `code`): the kernel's
  /// message, and the session stops until reset().
  Status modelFailed(const char *entry, int32_t code);
  bool failed = false;
};

} // namespace txl

#endif // TXL_RUNTIME_RUNTIME_H
