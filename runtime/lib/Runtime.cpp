//===- Runtime.cpp - load a compiled model, run it in sessions ------------===//
//
// Loading checks everything the generated code will trust: the descriptor's
// ABI version and shapes, their agreement with the config it carries, and
// every weight it reads (present in the weights under its name or an
// alternate one, with the shape it was compiled for). The descriptor alone
// says what to bind, so the runtime needs no model spec (models/). A step
// checks its arguments before the model runs, so a refused step changes
// nothing.
//
//===----------------------------------------------------------------------===//

#include "txl/runtime/Runtime.h"

#include "DeviceDriver.h"
#include "ModelWeights.h"

#include "txl/support/SafeTensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include <dlfcn.h>

namespace txl {
namespace {

constexpr size_t kAlignment = 64;

std::string shapeString(const int64_t *dims, int64_t rank) {
  std::string text = "[";
  for (int64_t i = 0; i < rank; ++i)
    text += (i ? ", " : "") + std::to_string(dims[i]);
  return text + "]";
}

/// The folder of `path` ("." for a bare file name), with a trailing '/'.
std::string folderOf(const std::string &path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? "./" : path.substr(0, slash + 1);
}

bool isAligned(const void *pointer) {
  return reinterpret_cast<uintptr_t>(pointer) % kAlignment == 0;
}

/// The kernel errors reported on this thread during the current step (see
/// recordKernelError). Per thread because sessions step concurrently and the
/// model's error handler is process-wide.
thread_local std::string kernelErrors;

/// The handler CompiledModel installs in every model (ModelABI.h,
/// txl_model_set_error_handler): Halide calls it on the thread whose kernel
/// failed, and the kernel then returns an error code instead of aborting.
void recordKernelError(void * /*userContext*/, const char *message) {
  std::string text = message ? message : "(no message)";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  if (!kernelErrors.empty())
    kernelErrors += "; ";
  kernelErrors += text;
}

/// Checks what the descriptor says about itself, before anything uses it.
Status checkDescriptor(const std::string &name, const txl_model_desc &desc) {
  auto fail = [&](const std::string &what) {
    return Status::error(name + ": invalid model descriptor: " + what);
  };
  if (desc.abi_version != TXL_MODEL_ABI_VERSION)
    return Status::error(name + ": compiled for model ABI version " +
                         std::to_string(desc.abi_version) +
                         ", this runtime implements version " +
                         std::to_string(TXL_MODEL_ABI_VERSION) +
                         " (recompile the model with a matching txlc)");
  struct Field {
    const char *name;
    int64_t value, least;
  };
  for (Field field :
       {Field{"batch", desc.batch, 1}, Field{"tgt_len", desc.tgt_len, 1},
        Field{"mem_len", desc.mem_len, 0}, Field{"n_layer", desc.n_layer, 1},
        Field{"d_model", desc.d_model, 1},
        Field{"vocab_size", desc.vocab_size, 1},
        Field{"num_weights", desc.num_weights, 0},
        Field{"scratch_bytes", desc.scratch_bytes, 0}})
    if (field.value < field.least)
      return fail(std::string("field '") + field.name +
                  "' expected >= " + std::to_string(field.least) + ", found " +
                  std::to_string(field.value));
  if (!desc.config_json)
    return fail("config_json is NULL");
  if (desc.num_weights > 0 && !desc.weights)
    return fail("weights is NULL, expected " +
                std::to_string(desc.num_weights) + " entries");
  if (desc.num_states < 0 || (desc.num_states > 0 && !desc.states))
    return fail("states is NULL, expected " + std::to_string(desc.num_states) +
                " entries");
  for (int32_t i = 0; i < desc.num_states; ++i) {
    const txl_state_desc &state = desc.states[i];
    std::string which = "state #" + std::to_string(i);
    if (!state.role || state.rank != 3 || !state.shape ||
        state.shape[0] != desc.batch || state.shape[1] != desc.mem_len ||
        state.shape[2] < 1 || state.layer < 0 || state.layer >= desc.n_layer)
      return fail(which + " is not a [batch, mem_len, width] window of a "
                          "layer");
  }
  if (desc.score_segments < 0)
    return fail("field 'score_segments' expected >= 0, found " +
                std::to_string(desc.score_segments));
  int64_t leastCapacity = desc.mem_len ? desc.mem_len + desc.tgt_len : 0;
  if (desc.num_states > 0 && desc.state_capacity < leastCapacity)
    return fail("field 'state_capacity' expected >= mem_len + tgt_len = " +
                std::to_string(leastCapacity) + ", found " +
                std::to_string(desc.state_capacity));
  if (desc.num_step_variants < 0 ||
      (desc.num_step_variants > 0 && !desc.step_variants))
    return fail("step_variants is NULL, expected " +
                std::to_string(desc.num_step_variants) + " entries");
  for (int32_t i = 0; i < desc.num_step_variants; ++i) {
    const txl_step_variant_desc &variant = desc.step_variants[i];
    int64_t least = i ? desc.step_variants[i - 1].tgt_len + 1 : 1;
    if (!variant.step || variant.tgt_len < least ||
        variant.tgt_len >= desc.tgt_len)
      return fail("step variant #" + std::to_string(i) +
                  " has no step function or a tgt_len outside [" +
                  std::to_string(least) +
                  ", tgt_len) (by increasing "
                  "tgt_len)");
  }
  if (desc.num_prepared < 0 || (desc.num_prepared > 0 && !desc.prepared) ||
      desc.prepare_scratch_bytes < 0)
    return fail("invalid prepared tensors");
  for (int32_t i = 0; i < desc.num_prepared; ++i) {
    const txl_weight_desc &tensor = desc.prepared[i];
    if (tensor.rank < 0 || (tensor.rank > 0 && !tensor.shape))
      return fail("prepared tensor #" + std::to_string(i) +
                  " has no valid shape");
    for (int32_t d = 0; d < tensor.rank; ++d)
      if (tensor.shape[d] < 0)
        return fail("prepared tensor #" + std::to_string(i) +
                    " has a negative dimension");
  }
  for (int32_t i = 0; i < desc.num_weights; ++i) {
    const txl_weight_desc &weight = desc.weights[i];
    std::string which = "weight #" + std::to_string(i);
    if (!weight.name)
      return fail(which + " has no name");
    which += " '" + std::string(weight.name) + "'";
    if (weight.rank < 0 || (weight.rank > 0 && !weight.shape))
      return fail(which + " has no valid shape");
    for (int32_t d = 0; d < weight.rank; ++d)
      if (weight.shape[d] < 0)
        return fail(which + " has a negative dimension in shape " +
                    shapeString(weight.shape, weight.rank));
    if (weight.num_alternate_names < 0 ||
        (weight.num_alternate_names > 0 && !weight.alternate_names))
      return fail(which + " has no valid alternate names");
    for (int32_t k = 0; k < weight.num_alternate_names; ++k)
      if (!weight.alternate_names[k])
        return fail(which + " has a NULL alternate name");
  }
  return Status::ok();
}

/// The shapes the descriptor repeats against the config_json it carries.
/// Both come from the compiler, so a disagreement means a broken descriptor.
/// Only what the file states is compared (under Hugging Face's name or its
/// alias): a field it leaves out took the compiler's default, which the
/// descriptor holds; validating the config is the compiler's job.
Status checkConfigAgreement(const std::string &name,
                            const txl_model_desc &desc) {
  nlohmann::json config = nlohmann::json::parse(desc.config_json, nullptr,
                                                /*allow_exceptions=*/false);
  if (!config.is_object())
    return Status::error(name + ": config_json: not a JSON object");
  struct Agreement {
    const char *field, *alias;
    int64_t compiled;
  };
  for (Agreement agreement :
       {Agreement{"n_layer", "num_hidden_layers", desc.n_layer},
        Agreement{"d_model", "hidden_size", desc.d_model},
        Agreement{"vocab_size", "n_token", desc.vocab_size}}) {
    auto stated = config.find(agreement.field);
    if (stated == config.end())
      stated = config.find(agreement.alias);
    if (stated == config.end() || !stated->is_number_integer())
      continue;
    int64_t configured = stated->get<int64_t>();
    if (configured != agreement.compiled)
      return Status::error(name + ": descriptor field '" + agreement.field +
                           "' is " + std::to_string(agreement.compiled) +
                           " but its config_json says " +
                           std::to_string(configured));
  }
  return Status::ok();
}

} // namespace

//===----------------------------------------------------------------------===//
// CompiledModel
//===----------------------------------------------------------------------===//

struct CompiledModel::Library {
  void *handle = nullptr;
  ~Library() {
    if (handle)
      ::dlclose(handle);
  }
};

CompiledModel::CompiledModel() = default;
CompiledModel::~CompiledModel() {
  // Before the library is closed (a member, destroyed after this body).
  if (entryPoints.releaseDevice)
    entryPoints.releaseDevice();
}

StatusOr<std::shared_ptr<const CompiledModel>>
CompiledModel::load(const std::string &libraryPath,
                    const std::string &weightsPath) {
  try {
    std::shared_ptr<CompiledModel> model(new CompiledModel());
    model->modelName = libraryPath;
    model->library = std::make_unique<Library>();
    // dlopen searches the library path for a name without '/'; a user who
    // names a file means that file.
    std::string openPath = libraryPath.find('/') == std::string::npos
                               ? "./" + libraryPath
                               : libraryPath;
    ::dlerror();
    model->library->handle = ::dlopen(openPath.c_str(), RTLD_LOCAL | RTLD_NOW);
    if (!model->library->handle) {
      const char *why = ::dlerror();
      return Status::error(libraryPath + ": cannot load the compiled model: " +
                           (why ? why : "unknown dlopen error"));
    }
    auto symbol = [&](const char *symbolName) {
      ::dlerror();
      return ::dlsym(model->library->handle, symbolName);
    };
    ModelEntryPoints &functions = model->entryPoints;
    functions.describe = reinterpret_cast<decltype(functions.describe)>(
        symbol("txl_model_describe"));
    functions.step =
        reinterpret_cast<decltype(functions.step)>(symbol("txl_model_step"));
    functions.prepare = reinterpret_cast<decltype(functions.prepare)>(
        symbol("txl_model_prepare"));
    functions.nll =
        reinterpret_cast<decltype(functions.nll)>(symbol("txl_model_nll"));
    functions.embeddedWeights =
        reinterpret_cast<decltype(functions.embeddedWeights)>(
            symbol(kEmbeddedWeightsSymbol));
    functions.vocabulary = reinterpret_cast<decltype(functions.vocabulary)>(
        symbol(kVocabularySymbol));
    functions.setErrorHandler =
        reinterpret_cast<decltype(functions.setErrorHandler)>(
            symbol(kSetErrorHandlerSymbol));
    functions.setNumThreads =
        reinterpret_cast<decltype(functions.setNumThreads)>(
            symbol(kSetNumThreadsSymbol));
    functions.releaseDevice =
        reinterpret_cast<decltype(functions.releaseDevice)>(
            symbol(kReleaseDeviceSymbol));
    for (auto [present, symbolName] :
         {std::pair<bool, const char *>{functions.describe != nullptr,
                                        "txl_model_describe"},
          {functions.step != nullptr, "txl_model_step"},
          {functions.prepare != nullptr, "txl_model_prepare"}})
      if (!present)
        return Status::error(libraryPath +
                             ": not a compiled txl model: it exports no '" +
                             symbolName + "'");
    Status status = model->initialize(weightsPath);
    if (!status.isOk())
      return status;
    return std::shared_ptr<const CompiledModel>(std::move(model));
  } catch (const std::exception &error) {
    return Status::error(libraryPath + ": cannot load: " + error.what());
  }
}

StatusOr<std::shared_ptr<const CompiledModel>>
CompiledModel::fromEntryPoints(const ModelEntryPoints &entryPoints,
                               const std::string &weightsPath,
                               const std::string &name) {
  try {
    if (!entryPoints.describe || !entryPoints.step || !entryPoints.prepare)
      return Status::error(name + ": a linked model needs "
                                  "txl_model_describe, txl_model_prepare and "
                                  "txl_model_step");
    std::shared_ptr<CompiledModel> model(new CompiledModel());
    model->modelName = name;
    model->entryPoints = entryPoints;
    Status status = model->initialize(weightsPath);
    if (!status.isOk())
      return status;
    return std::shared_ptr<const CompiledModel>(std::move(model));
  } catch (const std::exception &error) {
    return Status::error(name + ": cannot load: " + error.what());
  }
}

std::string CompiledModel::vocabulary() const {
  if (!entryPoints.vocabulary)
    return {};
  uint64_t size = 0;
  const char *bytes = entryPoints.vocabulary(&size);
  return bytes ? std::string(bytes, size) : std::string();
}

const std::vector<const float *> &CompiledModel::weightPointers() const {
  return weights->pointers();
}

bool CompiledModel::hasVocabulary() const {
  uint64_t size = 0;
  return entryPoints.vocabulary && entryPoints.vocabulary(&size) != nullptr;
}

Status CompiledModel::initialize(const std::string &weightsPath) {
  // Before anything can run a kernel: errors become statuses, not aborts.
  if (entryPoints.setErrorHandler)
    entryPoints.setErrorHandler(&recordKernelError);
  description = entryPoints.describe();
  if (!description)
    return Status::error(modelName +
                         ": txl_model_describe returned NULL (the model "
                         "could not describe itself)");
  const txl_model_desc &desc = *description;
  Status status = checkDescriptor(modelName, desc);
  if (!status.isOk())
    return status;
  if (entryPoints.nll && desc.score_segments < 1)
    return Status::error(modelName +
                         ": invalid model descriptor: field 'score_segments' "
                         "expected >= 1 for a model with txl_model_nll, "
                         "found " +
                         std::to_string(desc.score_segments));

  status = checkConfigAgreement(modelName, desc);
  if (!status.isOk())
    return status;
  // Kernels compiled for a GPU: its driver, before any kernel runs.
  status = checkDeviceDriver(modelName, desc.target ? desc.target : "");
  if (!status.isOk())
    return status;

  // Where the weights come from.
  std::unique_ptr<SafeTensorsFile> file;
  if (weightsPath.empty() && entryPoints.embeddedWeights) {
    uint64_t size = 0;
    const unsigned char *blob = entryPoints.embeddedWeights(&size);
    weightsName = modelName + ":embedded-weights";
    embedded = true;
    auto opened = SafeTensorsFile::fromMemory(weightsName, blob, size);
    if (!opened.ok())
      return opened.status();
    file = std::move(*opened);
  } else {
    if (!weightsPath.empty())
      weightsName = weightsPath;
    else if (library)
      weightsName = folderOf(modelName) + "model.safetensors";
    else
      return Status::error(modelName +
                           ": no weights: the model has no embedded weights "
                           "and no weights file was given");
    auto opened = SafeTensorsFile::open(weightsName);
    if (!opened.ok() && weightsPath.empty())
      return Status::error(opened.status().message() +
                           " (the weights beside the model by default: give "
                           "them with --weights FILE, or compile them in "
                           "with txlc --embed-weights)");
    if (!opened.ok())
      return opened.status();
    file = std::move(*opened);
  }

  auto bound = ModelWeights::bind(
      desc, std::shared_ptr<const SafeTensorsFile>(std::move(file)), modelName);
  if (!bound.ok())
    return bound.status();
  weights = std::make_unique<ModelWeights>(std::move(*bound));
  return prepare();
}

Status CompiledModel::prepare() {
  const txl_model_desc &desc = *description;
  auto allocate = [](size_t bytes) -> void * {
    bytes = std::max(kAlignment,
                     (bytes + kAlignment - 1) / kAlignment * kAlignment);
    void *memory = std::aligned_alloc(kAlignment, bytes);
    if (memory)
      std::memset(memory, 0, bytes);
    return memory;
  };
  std::vector<float *> outputs;
  for (int32_t i = 0; i < desc.num_prepared; ++i) {
    const txl_weight_desc &tensor = desc.prepared[i];
    size_t count = 1;
    for (int32_t d = 0; d < tensor.rank; ++d)
      count *= tensor.shape[d];
    auto *memory = static_cast<float *>(allocate(count * sizeof(float)));
    if (!memory)
      return Status::error(modelName + ": out of memory for prepared tensor " +
                           std::to_string(i));
    preparedTensors.emplace_back(memory, std::free);
    preparedViews.push_back(memory);
    outputs.push_back(memory);
  }
  std::unique_ptr<void, void (*)(void *)> scratch(
      allocate(desc.prepare_scratch_bytes), std::free);
  if (!scratch)
    return Status::error(modelName + ": out of memory for prepare's scratch");
  kernelErrors.clear();
  int32_t code = entryPoints.prepare(weights->pointers().data(), outputs.data(),
                                     scratch.get());
  if (code != 0)
    return Status::error(modelName + ": txl_model_prepare failed (code " +
                         std::to_string(code) + ")" +
                         (kernelErrors.empty()
                              ? std::string()
                              : ": " + std::exchange(kernelErrors, {})));
  return Status::ok();
}

Status CompiledModel::setThreads(int threads) const {
  if (!entryPoints.setNumThreads)
    return Status::error(modelName + ": cannot set the number of threads: "
                                     "the model exports no "
                                     "txl_model_set_num_threads (recompile "
                                     "it with this txlc)");
  entryPoints.setNumThreads(threads);
  return Status::ok();
}

bool CompiledModel::keepsMemories() const {
  int32_t memories = 0;
  for (int32_t i = 0; i < description->num_states; ++i)
    memories += std::string(description->states[i].role) == "memory";
  return memories == description->n_layer;
}

//===----------------------------------------------------------------------===//
// Session
//===----------------------------------------------------------------------===//

void Session::FreeDeleter::operator()(void *pointer) const {
  std::free(pointer);
}

template <class T>
StatusOr<Session::Aligned<T>> Session::alignedAlloc(size_t count) {
  size_t bytes;
  if (__builtin_mul_overflow(count, sizeof(T), &bytes) ||
      bytes > SIZE_MAX - kAlignment)
    return Status::error("cannot allocate " + std::to_string(count) +
                         " elements of " + std::to_string(sizeof(T)) +
                         " bytes: too large");
  bytes =
      std::max(kAlignment, (bytes + kAlignment - 1) / kAlignment * kAlignment);
  void *memory = std::aligned_alloc(kAlignment, bytes);
  if (!memory)
    return Status::error("cannot allocate " + std::to_string(bytes) +
                         " bytes: out of memory");
  std::memset(memory, 0, bytes);
  return Aligned<T>(static_cast<T *>(memory));
}

Session::Session(std::shared_ptr<const CompiledModel> model)
    : compiled(std::move(model)) {}

Session::~Session() = default;

StatusOr<std::unique_ptr<Session>>
Session::create(std::shared_ptr<const CompiledModel> model) {
  if (!model)
    return Status::error("Session::create: no model");
  try {
    std::unique_ptr<Session> session(new Session(std::move(model)));
    Status status = session->allocate();
    if (!status.isOk())
      return status;
    return session;
  } catch (const std::exception &error) {
    return Status::error("cannot create a session: " +
                         std::string(error.what()));
  }
}

Status Session::allocate() {
  const txl_model_desc &desc = compiled->desc();
  auto fail = [&](const Status &status) {
    return Status::error(compiled->name() +
                         ": cannot create a session: " + status.message());
  };
  size_t B = desc.batch, T = desc.tgt_len, D = desc.d_model;
  memoryStates.assign(compiled->keepsMemories() ? desc.n_layer : 0, nullptr);
  for (int32_t i = 0; i < desc.num_states; ++i) {
    const txl_state_desc &state = desc.states[i];
    auto window = alignedAlloc<float>(B * desc.state_capacity * state.shape[2]);
    if (!window.ok())
      return fail(window.status());
    statePointers.push_back(window->get());
    if (!memoryStates.empty() && std::string(state.role) == "memory")
      memoryStates[state.layer] = window->get();
    stateWindows.push_back(std::move(*window));
  }
  auto arena = alignedAlloc<unsigned char>(desc.scratch_bytes);
  auto tokens = alignedAlloc<int64_t>(B * T);
  auto hidden = alignedAlloc<float>(B * T * D);
  for (const Status *status :
       {&arena.status(), &tokens.status(), &hidden.status()})
    if (!status->isOk())
      return fail(*status);
  scratch = std::move(*arena);
  tokenBuffer = std::move(*tokens);
  hiddenBuffer = std::move(*hidden);
  return Status::ok();
}

Status Session::step(const int64_t *tokens, int64_t n, float *hiddenOut,
                     float *logProbsOut) {
  return runStep(tokens, n, hiddenOut, logProbsOut, useStepVariants);
}

Status Session::runStep(const int64_t *tokens, int64_t n, float *hiddenOut,
                        float *logProbsOut, bool variants) {
  const txl_model_desc &desc = compiled->desc();
  const int64_t B = desc.batch, T = desc.tgt_len, D = desc.d_model,
                V = desc.vocab_size;
  if (failed)
    return Status::error(compiled->name() +
                         ": step refused: an earlier step failed inside the "
                         "model and left the memory undefined; reset the "
                         "session first");
  if (n < 1 || n > T)
    return Status::error(compiled->name() + ": step: n = " + std::to_string(n) +
                         " tokens per batch row, expected 1 <= n <= " +
                         std::to_string(T) + " (the compiled segment length)");
  if (!tokens)
    return Status::error(compiled->name() + ": step: tokens is NULL");
  if (Status status = checkIds("step", tokens, n, n, 0, "token id");
      !status.isOk())
    return status;

  // The model writes [B, T, ...]: straight into the caller's buffer when that
  // is the same layout (n == T) and aligned like ours, else into ours.
  bool hiddenDirect = hiddenOut && n == T && isAligned(hiddenOut);
  bool logProbsDirect = logProbsOut && n == T && isAligned(logProbsOut);
  if (logProbsOut && !logProbsDirect && !logProbsBuffer) {
    auto buffer = alignedAlloc<float>(size_t(B) * T * V);
    if (!buffer.ok())
      return Status::error(compiled->name() +
                           ": step: no room for log-probabilities: " +
                           buffer.status().message());
    logProbsBuffer = std::move(*buffer);
  }
  float *hiddenTarget = hiddenDirect ? hiddenOut : hiddenBuffer.get();
  float *logProbsTarget = !logProbsOut     ? nullptr
                          : logProbsDirect ? logProbsOut
                                           : logProbsBuffer.get();

  // The smallest step that holds n tokens (ModelABI.h, "Step variants"):
  // it computes Tv rows, not T. Its outputs are [B, Tv, ...] (a variant has
  // Tv < T, so n < T and they go through our buffers, never direct).
  txl_model_step_fn stepFunction = compiled->functions().step;
  int64_t Tv = T;
  if (variants)
    for (int32_t i = 0; i < desc.num_step_variants; ++i)
      if (desc.step_variants[i].tgt_len >= n) {
        stepFunction = desc.step_variants[i].step;
        Tv = desc.step_variants[i].tgt_len;
        break;
      }
  for (int64_t b = 0; b < B; ++b) {
    std::copy_n(tokens + b * n, n, tokenBuffer.get() + b * Tv);
    std::fill_n(tokenBuffer.get() + b * Tv + n, Tv - n, int64_t(0));
  }
  // Room for T rows after the window, whichever step runs (ModelABI.h).
  if (desc.mem_len && windowStart + desc.mem_len + T > desc.state_capacity)
    slideBack();
  kernelErrors.clear();
  int32_t code = stepFunction(
      compiled->weightPointers().data(), compiled->preparedPointers().data(),
      tokenBuffer.get(), n, rows, windowStart, statePointers.data(),
      hiddenTarget, logProbsTarget, scratch.get());
  if (code != 0)
    return modelFailed(Tv == T
                           ? "txl_model_step"
                           : "txl_model_step (its variant for fewer tokens)",
                       code);
  for (int64_t b = 0; b < B; ++b) {
    if (hiddenOut && !hiddenDirect)
      std::copy_n(hiddenTarget + b * Tv * D, n * D, hiddenOut + b * n * D);
    if (logProbsOut && !logProbsDirect)
      std::copy_n(logProbsTarget + b * Tv * V, n * V, logProbsOut + b * n * V);
  }
  rows = std::min(desc.mem_len, rows + n);
  if (desc.mem_len)
    windowStart += n; // the model appended n rows after the window
  return Status::ok();
}

Status checkIds(const std::string &context, const char *what,
                const int64_t *ids, int64_t rows, int64_t stride, int64_t n,
                int64_t lowest, int64_t vocab) {
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t t = 0; t < n; ++t) {
      int64_t id = ids[r * stride + t];
      if (id < lowest || id >= vocab)
        return Status::error(context + ": " + what + " " + std::to_string(id) +
                             " at batch row " + std::to_string(r) +
                             ", position " + std::to_string(t) +
                             " is outside the vocabulary [0, " +
                             std::to_string(vocab) + ")" +
                             (lowest < 0 ? " (-1: no target)" : ""));
    }
  return Status::ok();
}

Status Session::checkIds(const char *call, const int64_t *ids, int64_t stride,
                         int64_t n, int64_t lowest, const char *what) const {
  return txl::checkIds(compiled->name() + ": " + call, what, ids,
                       compiled->desc().batch, stride, n, lowest,
                       compiled->desc().vocab_size);
}

Status Session::modelFailed(const char *entry, int32_t code) {
  failed = true;
  std::string why = kernelErrors.empty()
                        ? std::string()
                        : ": " + std::exchange(kernelErrors, std::string());
  return Status::error(compiled->name() + ": " + entry + " failed (code " +
                       std::to_string(code) + ")" + why +
                       "; the session's memory is undefined until reset");
}

Status Session::scoreStream(const int64_t *tokens, int64_t length,
                            const int64_t *targets, float *hiddenOut,
                            float *nllOut,
                            const std::function<void(int64_t)> &progress) {
  const txl_model_desc &desc = compiled->desc();
  const int64_t B = desc.batch, T = desc.tgt_len, D = desc.d_model,
                S = desc.score_segments;
  if (!compiled->functions().nll)
    return Status::error(compiled->name() +
                         ": scoreStream: the model exports no txl_model_nll");
  if (length < 1 || !tokens || !targets || !nllOut)
    return Status::error(compiled->name() +
                         ": scoreStream: expected tokens, targets and nll "
                         "of at least one position per batch row");
  // Everything is checked before the first step: a refused call changes
  // nothing.
  if (Status status =
          checkIds("scoreStream", tokens, length, length, 0, "token id");
      !status.isOk())
    return status;
  if (Status status =
          checkIds("scoreStream", targets, length, length, -1, "target");
      !status.isOk())
    return status;
  if (!scoreHidden) {
    auto hidden = alignedAlloc<float>(size_t(S) * B * T * D);
    auto slots = alignedAlloc<int64_t>(size_t(S) * B * T);
    auto scored = alignedAlloc<float>(size_t(S) * B * T);
    if (!hidden.ok() || !slots.ok() || !scored.ok())
      return Status::error(compiled->name() +
                           ": scoreStream: no room for S = " +
                           std::to_string(S) + " segments of hidden states");
    scoreHidden = std::move(*hidden);
    scoreTargets = std::move(*slots);
    scoreNll = std::move(*scored);
  }

  // Up to S segments run, their hidden states kept in slots [S, B, T, D],
  // then one txl_model_nll scores them all; slots not run have no targets.
  std::vector<int64_t> segmentTokens(B * T);
  int64_t groupBegin = 0;
  for (int64_t begin = 0; begin < length;) {
    int64_t slot = 0;
    std::fill_n(scoreTargets.get(), S * B * T, int64_t(-1));
    for (; slot < S && begin < length; ++slot) {
      int64_t n = std::min(T, length - begin);
      for (int64_t b = 0; b < B; ++b) {
        std::copy_n(tokens + b * length + begin, n, &segmentTokens[b * n]);
        std::copy_n(targets + b * length + begin, n,
                    scoreTargets.get() + (slot * B + b) * T);
      }
      // The segment step (not a variant): its [B, T, D] hidden states are
      // the slot's layout (rows >= n are not scored).
      if (Status status = runStep(segmentTokens.data(), n, nullptr, nullptr,
                                  /*variants=*/false);
          !status.isOk())
        return status;
      std::copy_n(hiddenBuffer.get(), B * T * D,
                  scoreHidden.get() + slot * B * T * D);
      if (hiddenOut)
        for (int64_t b = 0; b < B; ++b)
          std::copy_n(hiddenBuffer.get() + b * T * D, n * D,
                      hiddenOut + (b * length + begin) * D);
      begin += n;
      if (progress)
        progress(begin);
    }
    kernelErrors.clear();
    int32_t code = compiled->functions().nll(
        compiled->weightPointers().data(), compiled->preparedPointers().data(),
        scoreHidden.get(), scoreTargets.get(), scoreNll.get(), scratch.get());
    if (code != 0)
      return modelFailed("txl_model_nll", code);
    for (int64_t k = 0, at = groupBegin; k < slot; ++k) {
      int64_t n = std::min(T, length - at);
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(scoreNll.get() + (k * B + b) * T, n,
                    nllOut + b * length + at);
      at += n;
    }
    groupBegin = begin;
  }
  return Status::ok();
}

void Session::slideBack() {
  const txl_model_desc &desc = compiled->desc();
  const int64_t C = desc.mem_len, capacity = desc.state_capacity;
  for (int32_t i = 0; i < desc.num_states; ++i) {
    const int64_t width = desc.states[i].shape[2];
    for (int64_t b = 0; b < desc.batch; ++b) {
      float *row = statePointers[i] + b * capacity * width;
      // The held rows end the window; rows before them are never read.
      std::memmove(row + (C - rows) * width,
                   row + (windowStart + C - rows) * width,
                   rows * width * sizeof(float));
    }
  }
  windowStart = 0;
}

void Session::reset() {
  const txl_model_desc &desc = compiled->desc();
  for (int32_t i = 0; i < desc.num_states; ++i)
    std::fill_n(statePointers[i],
                desc.batch * desc.state_capacity * desc.states[i].shape[2],
                0.0f);
  rows = 0;
  windowStart = 0;
  failed = false;
}

void Session::copyMemories(float *out) const {
  const txl_model_desc &desc = compiled->desc();
  const int64_t B = desc.batch, D = desc.d_model, C = desc.mem_len,
                capacity = desc.state_capacity;
  for (size_t l = 0; l < memoryStates.size(); ++l)
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t b = 0; b < B; ++b)
        std::copy_n(memoryStates[l] +
                        (b * capacity + windowStart + C - rows + m) * D,
                    D, out + ((l * rows + m) * B + b) * D);
}

std::vector<float> Session::memories() const {
  const txl_model_desc &desc = compiled->desc();
  std::vector<float> out(memoryStates.size() * rows * desc.batch *
                         desc.d_model);
  copyMemories(out.data());
  return out;
}

} // namespace txl
