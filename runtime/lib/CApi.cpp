//===- CApi.cpp - the C API (txl.h) over CompiledModel and Session --------===//
//
// Thin: each handle wraps its C++ object, each error becomes a heap-allocated
// txl_status, and nothing throws across the C boundary.
//
//===----------------------------------------------------------------------===//

#include "txl/runtime/txl.h"

#include "txl/runtime/Runtime.h"

#include <exception>
#include <new>
#include <string>

struct txl_model {
  std::shared_ptr<const txl::CompiledModel> model;
};

struct txl_session {
  std::unique_ptr<txl::Session> session;
};

struct txl_status {
  std::string message;
};

namespace {

/// Stands in for an error that cannot be allocated (nullptr would read as
/// success); txl_status_free leaves it alone.
txl_status outOfMemory{"txl: out of memory"};

/// A new error.
txl_status *makeError(const std::string &message) {
  txl_status *status = new (std::nothrow) txl_status;
  if (!status)
    return &outOfMemory;
  try {
    status->message = message;
  } catch (...) {
    delete status;
    return &outOfMemory;
  }
  return status;
}

txl_status *fromStatus(const txl::Status &status) {
  return status.isOk() ? nullptr : makeError(status.message());
}

txl_status *nullArgument(const char *function, const char *argument) {
  return makeError(std::string(function) + ": " + argument + " is NULL");
}

/// Runs `body`, turning any exception into an error.
template <class Body> txl_status *guarded(const char *function, Body body) {
  try {
    return body();
  } catch (const std::exception &error) {
    return makeError(std::string(function) + ": " + error.what());
  } catch (...) {
    return makeError(std::string(function) + ": unknown error");
  }
}

} // namespace

extern "C" {

const char *txl_status_message(const txl_status *status) {
  return status ? status->message.c_str() : "";
}

void txl_status_free(txl_status *status) {
  if (status != &outOfMemory)
    delete status;
}

txl_status *txl_model_load(const char *library_path, const char *weights_path,
                           txl_model **out) {
  return guarded("txl_model_load", [&]() -> txl_status * {
    if (!out)
      return nullArgument("txl_model_load", "out");
    *out = nullptr;
    if (!library_path)
      return nullArgument("txl_model_load", "library_path");
    auto model = txl::CompiledModel::load(library_path,
                                          weights_path ? weights_path : "");
    if (!model.ok())
      return fromStatus(model.status());
    *out = new txl_model{std::move(*model)};
    return nullptr;
  });
}

void txl_model_free(txl_model *model) { delete model; }

const txl_model_desc *txl_model_get_desc(const txl_model *model) {
  return model ? &model->model->desc() : nullptr;
}

const char *txl_model_get_vocabulary(const txl_model *model, uint64_t *size) {
  uint64_t bytes = 0;
  const char *text = nullptr;
  if (model && model->model->functions().vocabulary)
    text = model->model->functions().vocabulary(&bytes);
  if (size)
    *size = text ? bytes : 0;
  return text;
}

txl_status *txl_session_create(const txl_model *model, txl_session **out) {
  return guarded("txl_session_create", [&]() -> txl_status * {
    if (!out)
      return nullArgument("txl_session_create", "out");
    *out = nullptr;
    if (!model)
      return nullArgument("txl_session_create", "model");
    auto session = txl::Session::create(model->model);
    if (!session.ok())
      return fromStatus(session.status());
    *out = new txl_session{std::move(*session)};
    return nullptr;
  });
}

void txl_session_free(txl_session *session) { delete session; }

void txl_session_reset(txl_session *session) {
  if (session)
    session->session->reset();
}

int64_t txl_session_memory_rows(const txl_session *session) {
  return session ? session->session->memoryRows() : 0;
}

txl_status *txl_session_step(txl_session *session, const int64_t *tokens,
                             int64_t n, float *hidden_out,
                             float *log_probs_out) {
  return guarded("txl_session_step", [&]() -> txl_status * {
    if (!session)
      return nullArgument("txl_session_step", "session");
    return fromStatus(
        session->session->step(tokens, n, hidden_out, log_probs_out));
  });
}

txl_status *txl_session_memories(const txl_session *session, float *out) {
  return guarded("txl_session_memories", [&]() -> txl_status * {
    if (!session)
      return nullArgument("txl_session_memories", "session");
    if (!out && session->session->memoryRows() > 0)
      return nullArgument("txl_session_memories", "out");
    session->session->copyMemories(out);
    return nullptr;
  });
}

} // extern "C"
