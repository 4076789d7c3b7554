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
 * Memory state. Each of the L layers keeps a memory buffer [B, mem_len, D]
 * owned by the caller (a session). The M rows currently held (0 at the start
 * of a stream, at most mem_len) are RIGHT-ALIGNED: rows mem_len-M .. mem_len-1
 * hold the layer's inputs from earlier segments, oldest first; rows before
 * them are ignored. txl_model_step reads the memories and updates them in
 * place: afterwards they hold the last min(mem_len, M + n) rows of
 * [old memory; this segment's n layer inputs], right-aligned again.
 *
 *===----------------------------------------------------------------------===*/
#ifndef TXL_RUNTIME_MODELABI_H
#define TXL_RUNTIME_MODELABI_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TXL_MODEL_ABI_VERSION 1

/* One parameter the model reads, by its Hugging Face state_dict name. */
typedef struct txl_weight_desc {
  const char *name;
  int32_t rank;
  const int64_t *shape;
} txl_weight_desc;

typedef struct txl_model_desc {
  int32_t abi_version;        /* TXL_MODEL_ABI_VERSION */
  const char *target;         /* Halide target string it was compiled for */
  const char *config_json;    /* the config.json it was compiled from */
  int64_t batch;              /* B */
  int64_t tgt_len;            /* T: most tokens per step */
  int64_t mem_len;            /* memory capacity per layer */
  int64_t n_layer;            /* L */
  int64_t d_model;            /* D */
  int64_t vocab_size;         /* V */
  int32_t num_weights;
  const txl_weight_desc *weights; /* the order of `weights` in txl_model_step */
  int64_t scratch_bytes;      /* size of the scratch arena a step needs */
} txl_model_desc;

/* Static description of the compiled model. */
const txl_model_desc *txl_model_describe(void);

/* Runs one segment of n <= T tokens per batch row.
 *   weights      num_weights pointers, in txl_model_desc.weights order
 *   tokens       [B, T] int64; only the first n of each row are read
 *   n            tokens in this segment (1..T)
 *   memory_rows  M, rows held in each memory before this step (0..mem_len)
 *   memories     L pointers to [B, mem_len, D]; updated in place
 *   hidden       out: [B, T, D] final hidden states (rows >= n undefined)
 *   log_probs    out: [B, T, V] log-probabilities, or NULL to skip the
 *                adaptive softmax (rows >= n undefined)
 *   scratch      scratch_bytes of memory, 64-byte aligned
 * Returns 0 on success, non-zero on failure (a kernel error). */
int32_t txl_model_step(const float *const *weights, const int64_t *tokens,
                       int64_t n, int64_t memory_rows, float *const *memories,
                       float *hidden, float *log_probs, void *scratch);

#ifdef __cplusplus
}
#endif

#endif /* TXL_RUNTIME_MODELABI_H */
