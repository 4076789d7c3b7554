//===- ExecutableMain.cpp - main() of an executable with a model linked in ===//
//
// `txlc --emit=exe` links a model's objects with libTxlExecutableSupport.a,
// whose main() is this: txl-run's flags (no MODEL argument) on the model
// whose txl_model_* functions are linked into the executable.
//
// Weights: --weights FILE, else the embedded weights, else model.safetensors
// beside the executable. Vocabulary: --vocab FILE, else the embedded one,
// else vocab.txt beside the executable.
//
//===----------------------------------------------------------------------===//

#include "txl/runner/CompiledBackend.h"
#include "txl/runner/RunMain.h"
#include "txl/runtime/ModelABI.h"
#include "txl/runtime/Runtime.h"

#include <filesystem>

// The model's exports are declared by ModelABI.h; the optional ones are
// declared again here as weak: null when the model does not define them.
extern "C" {
__attribute__((weak)) const unsigned char *
txl_model_embedded_weights(uint64_t *size);
__attribute__((weak)) const char *txl_model_vocabulary(uint64_t *size);
__attribute__((weak)) void
txl_model_set_error_handler(txl_model_error_handler handler);
__attribute__((weak)) int32_t txl_model_set_num_threads(int32_t n);
__attribute__((weak)) void txl_model_release_device(void);
__attribute__((weak)) int32_t txl_model_nll(const float *const *weights,
                                            const float *const *prepared,
                                            const float *hidden,
                                            const int64_t *targets, float *nll,
                                            void *scratch);
}

namespace {

/// The folder of this executable (/proc/self/exe; argv[0] if unreadable).
std::filesystem::path executableFolder(const char *argv0) {
  std::error_code error;
  std::filesystem::path self =
      std::filesystem::read_symlink("/proc/self/exe", error);
  if (error)
    self = argv0;
  return self.parent_path();
}

} // namespace

int main(int argc, char **argv) {
  using namespace txl;
  std::string name = argc > 0 && argv[0] ? argv[0] : "model";
  std::filesystem::path folder = executableFolder(name.c_str());

  RunnerHooks hooks;
  hooks.program = std::filesystem::path(name).filename().string();
  hooks.takesModel = false;
  hooks.about =
      "usage: " + hooks.program +
      " (--tokens FILE [--out FILE] | --text FILE | --prompt TEXT "
      "[--generate N]) [options]\n\n"
      "Runs the Transformer-XL model compiled into this executable (txlc "
      "--emit=exe):\nscores token ids or text, or generates text "
      "(docs/RUN.md).\nWeights: --weights FILE, else the embedded ones, "
      "else model.safetensors beside\nthe executable; vocabulary: --vocab "
      "FILE, else the embedded one, else vocab.txt\nbeside it.\n";
  hooks.openBackend =
      [&](const RunOptions &options) -> StatusOr<std::unique_ptr<Backend>> {
    Status flag = checkCompiledBackendFlag(options, name);
    if (!flag.isOk())
      return flag;
    ModelEntryPoints entryPoints;
    entryPoints.describe = txl_model_describe;
    entryPoints.step = txl_model_step;
    entryPoints.prepare = txl_model_prepare;
    entryPoints.nll = txl_model_nll;
    entryPoints.embeddedWeights = txl_model_embedded_weights;
    entryPoints.vocabulary = txl_model_vocabulary;
    entryPoints.setErrorHandler = txl_model_set_error_handler;
    entryPoints.setNumThreads = txl_model_set_num_threads;
    entryPoints.releaseDevice = txl_model_release_device;
    std::string weights = options.weights.value_or("");
    if (weights.empty() && !txl_model_embedded_weights)
      weights = (folder / "model.safetensors").string();
    auto model = CompiledModel::fromEntryPoints(entryPoints, weights, name);
    if (!model.ok())
      return model.status();
    return openCompiledBackend(std::move(*model), options,
                               (folder / "vocab.txt").string());
  };
  return runMain(argc, argv, hooks);
}
