/*===- ModelABI.h - the C interface of a compiled txl model -------*- C -*-===//
 *
 * What a compiled model (model.so, or the object linked into an executable)
 * exports, and what the runtime calls. Generated host code implements it; the
 * runtime (runtime/) is its only caller. Plain C so that both sides can be
 * written in anything.
 *
 * Shapes are fixed when the model is compiled: batch B, segment length T,
 * memory capacity mem_len. Everything is f32 row-major and contiguous unless
 * stated otherwise.
 *
 * State. A session keeps the model's recurrent state in state buffers
 * [B, state_capacity, width] that it owns, one per txl_model_desc.states
 * entry: a layer's hidden memory (role "memory", width D: the layer's inputs
 * from earlier segments) and/or, when the model was compiled with its
 * key/value cache (txl-kv-cache, the default), the layer's projected keys and
 * values (roles "keys" and "values", width n_head * d_head).
 *
 * A step sees a WINDOW of each buffer: rows [S, S + mem_len) of every batch
 * row, S = window_start (the same for all states). The M rows currently held
 * (0 at the start of a stream, at most mem_len) are right-aligned in the
 * window: rows S + mem_len - M .. S + mem_len - 1, oldest first; rows before
 * them are ignored. txl_model_step reads the windows and APPENDS this
 * segment's n rows right after them (rows S + mem_len .. S + mem_len + n - 1;
 * nothing else is written, no memory is copied): the next step's window
 * starts at S + n and holds the last min(mem_len, M + n) rows of [old rows;
 * this segment's rows], right-aligned again. The caller keeps
 * S + mem_len + T <= state_capacity: when the room runs out it moves the M
 * held rows of every batch row to the end of rows [0, mem_len) and starts
 * again at S = 0 (with state_capacity = mem_len + ~mem_len, once every
 * ~mem_len / T steps: amortised, T rows per step, as the appends).
 *
 * Prepared tensors. What the model computes from its weights alone (the
 * projected relative positions, txl-hoist-invariants) is computed once, by
 * txl_model_prepare, into caller-owned buffers passed to every step.
 *
 * Step variants. Besides txl_model_step (T tokens per call), a model may
 * carry steps compiled for fewer tokens (txl_model_desc.step_variants, e.g.
 * T_v = 1 for generation: matrix-vector products, attention over
 * mem_len + 1 keys). A variant is called exactly like txl_model_step, with
 * T_v in place of T in the shapes of tokens, hidden and log_probs; it reads
 * the same weights, the same prepared tensors (the list holds what every
 * variant needs) and the same state buffers and windows, in the same scratch
 * arena (scratch_bytes covers every step), and the caller keeps
 * S + mem_len + T <= state_capacity with the segment's T for every step. So
 * a session may switch between the steps at any token: the caller picks,
 * for n new tokens, the smallest T_v >= n, else txl_model_step.
 *
 *===----------------------------------------------------------------------===*/
#ifndef TXL_RUNTIME_MODELABI_H
#define TXL_RUNTIME_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TXL_MODEL_ABI_VERSION 7

/* One parameter the model reads, by its Hugging Face state_dict name. A
 * weights file may hold it under one of its alternate names instead (a tied
 * copy: crit.out_layers.i.weight for the embedding table it is tied to, the
 * per-layer aliases of a shared r_w_bias): the runtime binds the weights
 * from this list alone, it knows no config. Prepared tensors have none. */
typedef struct txl_weight_desc {
  const char *name;
  int32_t rank;
  const int64_t *shape;
  int32_t num_alternate_names;
  const char *const *alternate_names;
} txl_weight_desc;

/* One recurrent state of a session: its window [B, mem_len, width] (the
 * buffer is [B, state_capacity, width]). */
typedef struct txl_state_desc {
  const char *role;     /* "memory", "keys" or "values" */
  int32_t layer;        /* the layer it belongs to (0..L-1) */
  int32_t rank;         /* 3 */
  const int64_t *shape; /* [B, mem_len, width] */
} txl_state_desc;

/* txl_model_step and its variants. */
typedef int32_t (*txl_model_step_fn)(const float *const *weights,
                                     const float *const *prepared,
                                     const int64_t *tokens, int64_t n,
                                     int64_t memory_rows, int64_t window_start,
                                     float *const *states, float *hidden,
                                     float *log_probs, void *scratch);

/* A step for at most tgt_len < T tokens per batch row (see "Step variants"
 * above): tokens [B, tgt_len], hidden [B, tgt_len, D], log_probs
 * [B, tgt_len, V]; everything else as txl_model_step. */
typedef struct txl_step_variant_desc {
  int64_t tgt_len;        /* T_v: most tokens per call, 1 <= T_v < T */
  txl_model_step_fn step; /* the variant's step function */
} txl_step_variant_desc;

typedef struct txl_model_desc {
  int32_t abi_version;     /* TXL_MODEL_ABI_VERSION */
  const char *target;      /* Halide target string it was compiled for */
  const char *config_json; /* the config.json it was compiled from */
  int64_t batch;           /* B */
  int64_t tgt_len;         /* T: most tokens per step */
  int64_t mem_len;         /* memory capacity per layer */
  int64_t n_layer;         /* L */
  int64_t d_model;         /* D */
  int64_t vocab_size;      /* V */
  int32_t num_weights;
  const txl_weight_desc *weights; /* the order of `weights` in txl_model_step */
  int64_t scratch_bytes;          /* the scratch arena of a step (or an nll) */
  int32_t num_states;
  const txl_state_desc *states;    /* the order of `states` in txl_model_step */
  int32_t num_prepared;            /* tensors txl_model_prepare computes */
  const txl_weight_desc *prepared; /* named after the kernel computing each */
  int64_t prepare_scratch_bytes;   /* scratch txl_model_prepare needs */
  int64_t state_capacity;          /* rows per batch row of every state buffer:
                                      >= mem_len + T, or 0 when mem_len is 0 */
  int64_t score_segments;          /* S: steps txl_model_nll scores per call
                                      (0 without txl_model_nll) */
  int32_t num_step_variants;       /* steps for fewer tokens (0: none) */
  const txl_step_variant_desc *step_variants; /* by increasing tgt_len */
} txl_model_desc;

/* Static description of the compiled model. */
const txl_model_desc *txl_model_describe(void);

/* Computes the prepared tensors from the weights; called once per set of
 * weights, before any step (with num_prepared 0 it does nothing).
 *   weights      num_weights pointers, in txl_model_desc.weights order
 *   prepared     num_prepared pointers, out, 64-byte aligned
 *   scratch      prepare_scratch_bytes of memory, 64-byte aligned
 * Returns 0 on success, non-zero on failure (a kernel error). */
int32_t txl_model_prepare(const float *const *weights, float *const *prepared,
                          void *scratch);

/* Runs one segment of n <= T tokens per batch row.
 *   weights      num_weights pointers, in txl_model_desc.weights order
 *   prepared     num_prepared pointers filled by txl_model_prepare
 *   tokens       [B, T] int64; only the first n of each row are read
 *   n            tokens in this segment (1..T)
 *   memory_rows  M, rows held in each state window before this step
 *                (0..mem_len)
 *   window_start S, the first row of every state's window; S + mem_len + T
 *                <= state_capacity
 *   states       num_states pointers to [B, state_capacity, width], 64-byte
 *                aligned; the n new rows are appended after the window
 *   hidden       out: [B, T, D] final hidden states (rows >= n undefined)
 *   log_probs    out: [B, T, V] log-probabilities, or NULL to skip the
 *                adaptive softmax (rows >= n undefined)
 *   scratch      scratch_bytes of memory, 64-byte aligned
 * Returns 0 on success, non-zero on failure (a kernel error). */
int32_t txl_model_step(const float *const *weights,
                       const float *const *prepared, const int64_t *tokens,
                       int64_t n, int64_t memory_rows, int64_t window_start,
                       float *const *states, float *hidden, float *log_probs,
                       void *scratch);

/* Scores the hidden states of S = score_segments steps at targets: nll[k, b,
 * t] = -log p(targets[k, b, t] | hidden[k, b, t]) under the model's adaptive
 * softmax, as the original evaluation computes it (the head for every row; a
 * tail cluster's logits only for the rows whose target is in it, and none
 * at all for a cluster without such rows), without forming log_probs.
 * Scoring is outside the recurrence, so S steps are scored in one call: a
 * tail cluster's weights then stream from memory once per S segments.
 *   weights      num_weights pointers, in txl_model_desc.weights order
 *   prepared     num_prepared pointers filled by txl_model_prepare
 *   hidden       [S, B, T, D]: S outputs of txl_model_step back to back
 *   targets      [S, B, T] int64: the next token of each row, or -1 for none
 *                (rows past a segment's n, the stream's last token, slots
 *                of segments not run); anything else outside [0, V) is the
 *                caller's error
 *   nll          out: [S, B, T]; 0 where the target is -1
 *   scratch      scratch_bytes of memory, 64-byte aligned (the step's)
 * Returns 0 on success, non-zero on failure (a kernel error). */
int32_t txl_model_nll(const float *const *weights, const float *const *prepared,
                      const float *hidden, const int64_t *targets, float *nll,
                      void *scratch);

/*===--- Optional exports ------------------------------------------------===//
 *
 * A loader looks these up by name (dlsym) and works without them. A model
 * linked into an executable passes them in ModelEntryPoints (Runtime.h); the
 * executable declares them weak.
 *
 *===----------------------------------------------------------------------===*/

/* txlc --embed-weights: the model's weights, a safetensors file's bytes
 * inside the binary (read-only, 64-byte aligned, as long as the code is
 * loaded). Stores the size in bytes in *size. */
const unsigned char *txl_model_embedded_weights(uint64_t *size);

/* The vocabulary the model was compiled with: the bytes of the model
 * directory's vocab.txt (one token per line, line i is token id i), as they
 * were; NOT NUL-terminated. Stores the size in bytes in *size. txlc emits it
 * whenever the model directory has a vocab.txt (or with --vocab FILE). */
const char *txl_model_vocabulary(uint64_t *size);

/* Receives the message of a failed kernel (a Halide error: a bad buffer, an
 * out-of-bounds access, an allocation failure) on the thread that ran the
 * step; txl_model_step then returns non-zero. `user_context` is NULL. */
typedef void (*txl_model_error_handler)(void *user_context,
                                        const char *message);

/* Installs `handler` for the kernel errors of this model (process-wide for
 * this copy of the model's code; NULL restores the default). Without a
 * handler a kernel error prints the message and aborts the process (Halide's
 * default), so a loader installs one before the first step. Every model txlc
 * compiles exports it (a thin wrapper over the halide_set_error_handler of
 * the Halide runtime linked into the model). The handler must be reentrant:
 * steps of different sessions run on different threads. */
void txl_model_set_error_handler(txl_model_error_handler handler);

/* Every txlc model: the number of threads its kernels may use (Halide's
 * thread pool, shared by all sessions of the model in this process). n <= 0
 * means one per core (the default, or HL_NUM_THREADS when set). With n = 1
 * the kernels' parallel loops run as plain loops on the calling thread, not
 * through the pool. Returns the previous number. */
int32_t txl_model_set_num_threads(int32_t n);

/* Optional, models compiled for a GPU target (docs/GPU.md): frees the device
 * copies of weights and prepared tensors the model's steps made (each is
 * uploaded on its first use and reused while the same host memory is passed).
 * A loader calls it when it frees the model; the next step uploads again.
 * Not concurrently with a step. */
void txl_model_release_device(void);

#ifdef __cplusplus
}
#endif

#endif /* TXL_RUNTIME_MODELABI_H */
