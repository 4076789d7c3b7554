//===- txl-run.cpp - runs a Transformer-XL model on tokens or text --------===//
//
//   txl-run MODEL --tokens IN.safetensors [--out OUT.safetensors]
//   txl-run MODEL --text FILE
//   txl-run MODEL --prompt TEXT [--generate N]
//
// MODEL is a model directory, run by the reference executor
// (ReferenceBackend.h), or a compiled model (model.so from txlc), run through
// the runtime. The command line itself is the runner library's (RunMain.h),
// shared with the executables txlc links; docs/RUN.md describes it.
//
//===----------------------------------------------------------------------===//

#include "ReferenceBackend.h"

#include "txl/runner/CompiledBackend.h"
#include "txl/runner/RunMain.h"

#include <filesystem>

int main(int argc, char **argv) {
  using namespace txl;
  RunnerHooks hooks;
  hooks.program = "txl-run";
  hooks.takesModel = true;
  hooks.about =
      "usage: txl-run MODEL (--tokens FILE [--out FILE] | --text FILE | "
      "--prompt TEXT [--generate N]) [options]\n\n"
      "Runs a Transformer-XL model over token streams or text, segment by "
      "segment,\ncarrying the memory: scores token ids (--tokens), scores "
      "text in bits per\ncharacter or perplexity (--text, --prompt), or "
      "continues a prompt (--generate).\n\n"
      "The model is a directory (config.json + model.safetensors, and "
      "vocab.txt for\ntext), run by --backend, or a compiled model (model.so "
      "from txlc), run through\nthe runtime with the batch and segment length "
      "it was compiled for.\nSee docs/RUN.md.\n";
  hooks.openBackend =
      [](const RunOptions &options) -> StatusOr<std::unique_ptr<Backend>> {
    std::error_code error;
    if (!std::filesystem::exists(*options.model, error))
      return Status::error(*options.model +
                           ": does not exist (expected a model directory "
                           "or a compiled model.so)");
    if (std::filesystem::is_regular_file(*options.model, error))
      return openCompiledLibrary(*options.model, options);
    return openReferenceBackend(*options.model, options);
  };
  return runMain(argc, argv, hooks);
}
