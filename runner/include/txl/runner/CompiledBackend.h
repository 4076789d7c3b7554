//===- CompiledBackend.h - a compiled model as a run backend ----*- C++ -*-===//
//
// Runs a CompiledModel (a model.so, or a model linked into an executable)
// through one runtime Session: the batch and segment length are the
// compiled ones.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_RUNNER_COMPILEDBACKEND_H
#define TXL_RUNNER_COMPILEDBACKEND_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"
#include "txl/runtime/Runtime.h"

#include <memory>
#include <string>

namespace txl {

/// Checks the flags that concern a compiled model (--backend, --tgt-len)
/// against `model`; `vocabularyBeside` is the vocab.txt to use when the model
/// embeds none.
StatusOr<std::unique_ptr<Backend>>
openCompiledBackend(std::shared_ptr<const CompiledModel> model,
                    const RunOptions &options, std::string vocabularyBeside);

/// Loads the model.so at `path` (weights from --weights, else embedded, else
/// model.safetensors beside it) and opens it as above, with vocab.txt beside
/// it as the fallback vocabulary.
StatusOr<std::unique_ptr<Backend>>
openCompiledLibrary(const std::string &path, const RunOptions &options);

/// Refuses --backend=NAME unless NAME is "compiled": `modelName` is a
/// compiled model. Checked before loading, so that the flag is what the
/// message is about.
Status checkCompiledBackendFlag(const RunOptions &options,
                                const std::string &modelName);

} // namespace txl

#endif // TXL_RUNNER_COMPILEDBACKEND_H
