/*===- CApiFromC.c - txl.h used from plain C99 --------------------*- C -*-===//
 *
 * Compiled as C99 with -pedantic-errors, so txl.h stays a C header. Runs the
 * first segment of a stream through the C API and reports what happened.
 *
 *===----------------------------------------------------------------------===*/

#include "txl/runtime/txl.h"

#include <stdio.h>

int txl_test_c_api_first_segment(const char *library, const char *weights,
                                 const int64_t *tokens, int64_t n,
                                 float *hidden, char *error, size_t error_size);

/* Returns 0 and fills hidden [B, n, D] on success; else 1 and the message. */
int txl_test_c_api_first_segment(const char *library, const char *weights,
                                 const int64_t *tokens, int64_t n,
                                 float *hidden, char *error,
                                 size_t error_size) {
  txl_model *model = NULL;
  txl_session *session = NULL;
  int failed;
  txl_status *status = txl_model_load(library, weights, &model);
  if (!status)
    status = txl_session_create(model, &session);
  if (!status)
    status = txl_session_step(session, tokens, n, hidden, NULL);
  failed = status != NULL;
  if (failed) {
    snprintf(error, error_size, "%s", txl_status_message(status));
    txl_status_free(status);
  }
  txl_session_free(session);
  txl_model_free(model);
  return failed;
}
