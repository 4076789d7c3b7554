/*===- txl.h - the C API of the txl runtime -----------------------*- C -*-===//
 *
 * Load a compiled Transformer-XL model (model.so from txlc), bind its
 * weights, and run token streams through it segment by segment, each stream
 * in its own session that carries the recurrent memory. Plain C99.
 *
 *   txl_model *model;
 *   txl_status *status = txl_model_load("model.so", NULL, &model);
 *   if (status) { fprintf(stderr, "%s\n", txl_status_message(status));
 *                 txl_status_free(status); return 1; }
 *   const txl_model_desc *desc = txl_model_get_desc(model);  // B, T, V, ...
 *   txl_session *session;
 *   status = txl_session_create(model, &session);
 *   // For each segment: tokens [B, n] int64 (1 <= n <= desc->tgt_len).
 *   status = txl_session_step(session, tokens, n, NULL, log_probs);
 *   ...
 *   txl_session_free(session);
 *   txl_model_free(model);
 *
 * Errors: every function that can fail returns a txl_status *: NULL on
 * success, else an error the caller reads with txl_status_message and frees
 * with txl_status_free. Messages name the file, tensor or argument at fault.
 *
 * Threads: a model is immutable once loaded; any number of sessions of one
 * model may step at the same time from different threads. A single session
 * must not be used from two threads at once. Freeing a model while sessions
 * of it are alive is allowed: they keep what they need until they are freed.
 *
 * Layouts (row-major, contiguous, float32 unless stated): tokens [B, n]
 * int64; hidden [B, n, D]; log_probs [B, n, V]; memories [L, M, B, D]
 * (time-major: memory row m of batch row b of layer l at ((l*M + m)*B + b)*D),
 * where M = txl_session_memory_rows, oldest row first.
 *
 *===----------------------------------------------------------------------===*/
#ifndef TXL_RUNTIME_TXL_H
#define TXL_RUNTIME_TXL_H

#include "txl/runtime/ModelABI.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A compiled model bound to its weights. */
typedef struct txl_model txl_model;
/* One stream through a model, with its own memory state. */
typedef struct txl_session txl_session;
/* An error; NULL stands for success. */
typedef struct txl_status txl_status;

/* The error's message ("" for NULL). Valid until txl_status_free. */
const char *txl_status_message(const txl_status *status);
/* Frees an error; NULL is allowed. */
void txl_status_free(txl_status *status);

/* Loads the compiled model at `library_path` and binds its weights:
 * `weights_path` (a safetensors file), or when it is NULL the weights
 * embedded in the model if it has some, else model.safetensors in the
 * library's folder. On success stores the model in *out. */
txl_status *txl_model_load(const char *library_path, const char *weights_path,
                           txl_model **out);
/* Frees a model; NULL is allowed. */
void txl_model_free(txl_model *model);
/* The model's description: batch, tgt_len, mem_len, n_layer, d_model,
 * vocab_size, ... Valid as long as the model or one of its sessions lives. */
const txl_model_desc *txl_model_get_desc(const txl_model *model);

/* The vocabulary compiled into the model (the bytes of its vocab.txt, one
 * token per line, NOT NUL-terminated), its size in *size; NULL (size 0) when
 * the model has none. Valid as long as the model or one of its sessions
 * lives. */
const char *txl_model_get_vocabulary(const txl_model *model, uint64_t *size);

/* A new session at the start of a stream (no memory). */
txl_status *txl_session_create(const txl_model *model, txl_session **out);
/* Frees a session; NULL is allowed. */
void txl_session_free(txl_session *session);
/* Forgets the memory: the next step starts a fresh stream. */
void txl_session_reset(txl_session *session);
/* M: memory rows held (0 .. mem_len); grows by n per step up to mem_len. */
int64_t txl_session_memory_rows(const txl_session *session);

/* Runs one segment of n tokens per batch row (1 <= n <= tgt_len).
 *   tokens         [B, n] int64 ids in [0, V)
 *   hidden_out     [B, n, D] final hidden states, or NULL
 *   log_probs_out  [B, n, V] log-probabilities, or NULL (skips the softmax)
 * Bad arguments are refused before anything runs and leave the session as it
 * was. If the model itself fails, the session must be reset. */
txl_status *txl_session_step(txl_session *session, const int64_t *tokens,
                             int64_t n, float *hidden_out,
                             float *log_probs_out);

/* Copies the memories into `out`, [L, M, B, D] time-major (see above);
 * `out` holds n_layer * M * batch * d_model floats (nothing when M = 0). */
txl_status *txl_session_memories(const txl_session *session, float *out);

#ifdef __cplusplus
}
#endif

#endif /* TXL_RUNTIME_TXL_H */
