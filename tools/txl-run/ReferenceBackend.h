//===- ReferenceBackend.h - the reference executor as a backend -*- C++ -*-===//
//
// The run backend of txl-run for model directories: the model's @step
// (GraphBuilder.h) run by reference::Interpreter, one call per segment, with
// the memories passed in and out explicitly, exactly as the @score scan runs
// it. Any batch, any segment length up to --tgt-len.
//
//===----------------------------------------------------------------------===//
#ifndef TXL_TOOLS_TXLRUN_REFERENCEBACKEND_H
#define TXL_TOOLS_TXLRUN_REFERENCEBACKEND_H

#include "txl/runner/Backend.h"
#include "txl/runner/RunOptions.h"

#include <memory>
#include <string>

namespace txl {

/// Loads `directory` (config.json, model.safetensors) for --backend (only
/// "reference") with segments of --tgt-len (default: the config's tgt_len,
/// else 128); refuses --weights.
StatusOr<std::unique_ptr<Backend>>
openReferenceBackend(const std::string &directory, const RunOptions &options);

} // namespace txl

#endif // TXL_TOOLS_TXLRUN_REFERENCEBACKEND_H
