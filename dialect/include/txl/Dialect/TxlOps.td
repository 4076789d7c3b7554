//===- TxlOps.td - the txl dialect, Transformer-XL ops -----*- tablegen -*-===//
//
// Ops that name what makes Transformer-XL what it is: relative positional
// attention over [memory; segment], the memory update, and the segment
// recurrence. Tensors are batch-major ([B, T, D]); memories are [B, M, D] with
// M the number of rows currently held (0 at the start of a stream, at most
// `mem_len`). Exact semantics: docs/SEMANTICS.md.
//
//===----------------------------------------------------------------------===//

#ifndef TXL_DIALECT_TXLOPS_TD
#define TXL_DIALECT_TXLOPS_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/BuiltinAttributes.td"
include "mlir/IR/SymbolInterfaces.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"

//===----------------------------------------------------------------------===//
// Dialect
//===----------------------------------------------------------------------===//

def Txl_Dialect : Dialect {
  let name = "txl";
  let cppNamespace = "::txl";
  let summary = "Transformer-XL at model level: relative attention, memory, recurrence";
  let description = [{
    The `txl` dialect expresses a Transformer-XL language model (Dai et al.
    2019) in the terms of the model itself, so that passes can see the
    structure a generic tensor graph hides: relative positional attention
    over `[memory; segment]` with the learned biases `r_w_bias`/`r_r_bias`,
    the memory update after every segment, and the segment-level recurrence
    that carries the memories from one segment to the next.

    Conventions:
    * Activations are batch-major: tokens `tensor<B x T x i64>`, hidden states
      `tensor<B x T x D x f32>`.
    * A layer's memory is `tensor<B x M x D x f32>` where `M` (usually
      dynamic, `?`) is the number of rows held: 0 at the start of a stream,
      growing by `T` each segment, truncated to `mem_len`. Memory rows are
      the *inputs* of the layer (the embedding output for layer 0).
    * Parameters are `txl.weight` ops named with Hugging Face Transformer-XL
      `state_dict` names and bound to a checkpoint tensor at load time.
    * Residual additions are plain `arith.addf` on tensors.

    One segment step is a `func.func` whose memory state is explicit: memories
    in, new memories out. `txl.segment_scan` iterates such a step over the
    segments of a token stream.
  }];
  let usePropertiesForAttributes = 1;
}

class Txl_Op<string mnemonic, list<Trait> traits = []>
    : Op<Txl_Dialect, mnemonic, traits>;

def Txl_F32Tensor : RankedTensorOf<[F32]>;
def Txl_TokenTensor : RankedTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

def Txl_WeightOp : Txl_Op<"weight", [Pure]> {
  let summary = "a named model parameter, bound to a checkpoint tensor at load time";
  let description = [{
    Refers to the checkpoint tensor `name` (a Hugging Face Transformer-XL
    `state_dict` name). The result type must be a static f32 tensor whose
    shape the loader checks against the checkpoint. Tied weights (e.g. the
    output layer tied to the embedding) are expressed by using one name
    twice.

    ```mlir
    %w = txl.weight "transformer.layers.0.dec_attn.qkv_net.weight" : tensor<1230x410xf32>
    ```
  }];
  let arguments = (ins StrAttr:$name);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = "$name attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Embedding and positions
//===----------------------------------------------------------------------===//

def Txl_EmbedOp : Txl_Op<"embed", [Pure, AttrSizedOperandSegments]> {
  let summary = "adaptive input embedding, scaled by sqrt(d_model)";
  let description = [{
    Looks tokens up in the adaptive embedding and multiplies by
    `sqrt(d_model)` (after the projection). With `div_val == 1` there is one
    table `[V, E]` and, when `E != d_model`, one projection `[d_model, E]`
    (`e @ P^T`). With `div_val > 1` cluster `i` (tokens
    `ends[i] <= t < ends[i+1]`, `ends = [0, cutoffs..., V]`) has a table
    `[ends[i+1] - ends[i], E / div_val^i]` and a projection
    `[d_model, E / div_val^i]`. `V` is the `vocab_size` attribute. A token
    outside `[0, V)` is a run-time error.

    ```mlir
    %h = txl.embed %tokens tables(%t0) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 204 : i64}
        : (tensor<1x80xi64>, tensor<204x512xf32>) -> tensor<1x80x512xf32>
    ```
  }];
  let arguments = (ins Txl_TokenTensor:$tokens,
                       Variadic<Txl_F32Tensor>:$tables,
                       Variadic<Txl_F32Tensor>:$projections,
                       DenseI64ArrayAttr:$cutoffs,
                       I64Attr:$div_val,
                       I64Attr:$vocab_size);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $tokens `tables` `(` $tables `)` (`projections` `(` $projections^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Txl_PosEmbOp : Txl_Op<"pos_emb", [Pure]> {
  let summary = "sinusoidal relative position embedding, indexed by distance";
  let description = [{
    Row `d` of the result is the embedding of the relative distance `d`:
    `concat(sin(a), cos(a))` with `a[k] = min(d, clamp_len) * inv_freq[k]`,
    `inv_freq[k] = 1 / 10000^(2k / D)` (f32), sines in the first `D/2`
    columns. `clamp_len <= 0` means no clamping. The number of rows is the
    number of distances needed (`mem_len + T` for a step); an attention over
    `K` keys reads rows `0..K-1`.

    Note the order: the original code's row `p` encodes distance `K-1-p`;
    here row `d` encodes distance `d`, which makes the rel-shift an index
    (`d = M + i - j`) and the table independent of `K`.

    ```mlir
    %pos = txl.pos_emb {clamp_len = 400 : i64} : tensor<704x410xf32>
    ```
  }];
  let arguments = (ins I64Attr:$clamp_len);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Layer pieces
//===----------------------------------------------------------------------===//

def Txl_RelAttentionOp : Txl_Op<"rel_attention", [Pure]> {
  let summary = "relative partial-learnable multi-head attention over [memory; segment]";
  let description = [{
    Queries come from `input` (`[B, T, D]`), keys and values from
    `concat(memory, input)` along time (`K = M + T` rows, memory first):
    `q, k, v = split(c @ qkv_weight^T)`, heads of width `d_head`. With
    `Rk[d] = positions[d] @ r_weight^T`, query `i` and key `j` at distance
    `d = M + i - j` score

        ((q_i + r_w_bias) . k_j + (q_i + r_r_bias) . Rk[d]) / sqrt(d_head)

    and key `j` is allowed iff `d >= 0` (causal), and also `d < mem_len` when
    `same_length` is set. The softmax over allowed keys weighs `v`; the heads
    are concatenated and projected by `o_weight` (`[D, H*Dh]`). The result
    is the attention output before the residual and LayerNorm (for pre-LN
    models the caller normalises `input` and `memory` first).

    This closed form is exactly the original `_rel_shift` + mask on every
    allowed pair (docs/DESIGN-DECISIONS.md).

    **Window form.** With a `memory_rows` operand `M`, `memory` is a window of
    fixed capacity `mem_len` (`[B, mem_len, D]`) whose last `M` rows are the
    memory and whose other rows are ignored; this is how compiled steps keep
    memories (txl-window-memory). Written `%mem[%M]`.

    ```mlir
    %a = txl.rel_attention %x, %mem, %pos, %wqkv, %wr, %wo, %u, %v
        {d_head = 41 : i64, mem_len = 640 : i64, n_head = 10 : i64, same_length = true}
        : (tensor<1x64x410xf32>, tensor<1x?x410xf32>, tensor<704x410xf32>,
           tensor<1230x410xf32>, tensor<410x410xf32>, tensor<410x410xf32>,
           tensor<10x41xf32>, tensor<10x41xf32>) -> tensor<1x64x410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input,
                       Txl_F32Tensor:$memory,
                       Txl_F32Tensor:$positions,
                       Txl_F32Tensor:$qkv_weight,
                       Txl_F32Tensor:$r_weight,
                       Txl_F32Tensor:$o_weight,
                       Txl_F32Tensor:$r_w_bias,
                       Txl_F32Tensor:$r_r_bias,
                       Optional<Index>:$memory_rows,
                       I64Attr:$n_head,
                       I64Attr:$d_head,
                       I64Attr:$mem_len,
                       BoolAttr:$same_length);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $memory (`[` $memory_rows^ `]`)? `,` $positions `,`
    $qkv_weight `,` $r_weight `,` $o_weight `,` $r_w_bias `,` $r_r_bias
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Txl_KvProjectionOp : Txl_Op<"kv_projection", [Pure]> {
  let summary = "the keys and values of a segment's rows (the k and v blocks of qkv_net)";
  let description = [{
    `k = input @ Wk^T`, `v = input @ Wv^T` where `Wk`, `Wv` are the second
    and third `[n_head * d_head, d_model]` row blocks of `qkv_weight`. A row's
    key and value depend on that row alone, so the rows of a memory need not
    be projected again in later segments: `txl-kv-cache` projects each row
    once, when it is in the segment, and keeps the result in a cache.

    ```mlir
    %k, %v = txl.kv_projection %x, %wqkv {d_head = 41 : i64, n_head = 10 : i64}
        : tensor<1x64x410xf32>, tensor<1230x410xf32>
        -> tensor<1x64x410xf32>, tensor<1x64x410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input, Txl_F32Tensor:$qkv_weight,
                       I64Attr:$n_head, I64Attr:$d_head);
  let results = (outs Txl_F32Tensor:$keys, Txl_F32Tensor:$values);
  let assemblyFormat = [{
    $input `,` $qkv_weight attr-dict `:` type($input) `,` type($qkv_weight)
    `->` type($keys) `,` type($values)
  }];
  let hasVerifier = 1;
}

def Txl_CachedRelAttentionOp : Txl_Op<"rel_attention_cached", [Pure]> {
  let summary = "relative attention over cached keys/values of the memory and the segment's own";
  let description = [{
    `txl.rel_attention` in window form, with the memory's keys and values
    read from caches instead of projected again. `key_cache` and
    `value_cache` (`[B, mem_len, n_head * d_head]`) hold in their last
    `memory_rows` rows the projected keys and values of the memory rows
    (oldest first); `keys` and `values` (`[B, T, n_head * d_head]`, from
    `txl.kv_projection`) are the segment's. Key `j` of `K = mem_len + T` is
    cache row `j` for `j < mem_len`, else segment row `j - mem_len`; query
    `t` sits at key position `mem_len + t`. Everything else (queries from the
    q block of `qkv_weight`, the position term, `r_w_bias`, `r_r_bias`, the
    mask, `same_length`, the output projection) is exactly
    `txl.rel_attention`'s, so the result equals it on the same memory.

    ```mlir
    %a = txl.rel_attention_cached %x, cache(%kc, %vc)[%m], segment(%k, %v),
        %pos, %wqkv, %wr, %wo, %u, %v
        {d_head = 41 : i64, mem_len = 640 : i64, n_head = 10 : i64, same_length = true}
        : (...) -> tensor<1x64x410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input,
                       Txl_F32Tensor:$key_cache,
                       Txl_F32Tensor:$value_cache,
                       Index:$memory_rows,
                       Txl_F32Tensor:$keys,
                       Txl_F32Tensor:$values,
                       Txl_F32Tensor:$positions,
                       Txl_F32Tensor:$qkv_weight,
                       Txl_F32Tensor:$r_weight,
                       Txl_F32Tensor:$o_weight,
                       Txl_F32Tensor:$r_w_bias,
                       Txl_F32Tensor:$r_r_bias,
                       I64Attr:$n_head,
                       I64Attr:$d_head,
                       I64Attr:$mem_len,
                       BoolAttr:$same_length);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` `cache` `(` $key_cache `,` $value_cache `)` `[` $memory_rows `]`
    `,` `segment` `(` $keys `,` $values `)` `,` $positions `,`
    $qkv_weight `,` $r_weight `,` $o_weight `,` $r_w_bias `,` $r_r_bias
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Txl_LayerNormOp : Txl_Op<"layer_norm", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "LayerNorm over the last dimension (biased variance, affine)";
  let description = [{
    `(x - mean) / sqrt(var + epsilon) * weight + bias` over the last
    dimension, with the biased variance.

    ```mlir
    %y = txl.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64}
        : tensor<1x64x410xf32>, tensor<410xf32>, tensor<410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input, Txl_F32Tensor:$weight,
                       Txl_F32Tensor:$bias, F64Attr:$epsilon);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $weight `,` $bias attr-dict `:` type($input) `,` type($weight)
    `,` type($bias)
  }];
  let hasVerifier = 1;
}

def Txl_FfnOp : Txl_Op<"ffn", [Pure, AllTypesMatch<["input", "result"]>]> {
  let summary = "position-wise feed-forward: relu(x W1^T + b1) W2^T + b2";
  let description = [{
    The `pos_ff.CoreNet` of a layer, without its residual and LayerNorm.
    `up_weight` is `[F, D]`, `down_weight` `[D, F]`.

    ```mlir
    %f = txl.ffn %x, %w1, %b1, %w2, %b2
        : tensor<1x64x410xf32>, tensor<2100x410xf32>, tensor<2100xf32>,
          tensor<410x2100xf32>, tensor<410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input, Txl_F32Tensor:$up_weight,
                       Txl_F32Tensor:$up_bias, Txl_F32Tensor:$down_weight,
                       Txl_F32Tensor:$down_bias);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `,` $up_weight `,` $up_bias `,` $down_weight `,` $down_bias
    attr-dict `:` type($input) `,` type($up_weight) `,` type($up_bias) `,`
    type($down_weight) `,` type($down_bias)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

def Txl_MemUpdateOp : Txl_Op<"mem_update", [Pure]> {
  let summary = "the next memory: the last mem_len rows of [memory; hidden]";
  let description = [{
    `concat(memory, hidden)` along time, truncated to its last
    `min(mem_len, M + T)` rows. `hidden` is the layer's *input* for this
    segment (memories hold layer inputs, as in the original code).

    ```mlir
    %m1 = txl.mem_update %m0, %h {mem_len = 640 : i64}
        : tensor<1x?x410xf32>, tensor<1x64x410xf32> -> tensor<1x?x410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$memory, Txl_F32Tensor:$hidden,
                       I64Attr:$mem_len);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $memory `,` $hidden attr-dict `:` type($memory) `,` type($hidden) `->`
    type($result)
  }];
  let hasVerifier = 1;
}

def Txl_WindowUpdateOp : Txl_Op<"window_update", [Pure]> {
  let summary = "the next memory window: the last rows of [window; hidden] in a fixed-capacity window";
  let description = [{
    The window form of `txl.mem_update`. `window` (`[B, C, D]`, C = `mem_len`)
    holds the memory in its last `memory_rows` rows; `hidden` (`[B, T, D]`)
    holds this segment's layer inputs in its first `segment_rows` rows. The
    result is the window whose last `min(C, memory_rows + segment_rows)` rows
    are the last rows of `[memory; hidden rows]`, right-aligned again; rows
    before them are unspecified. It needs no concatenated copy: row `r` of the
    result is row `r + segment_rows` of `[window; hidden]`.

    ```mlir
    %next = txl.window_update %window[%m], %h[%n] {mem_len = 640 : i64}
        : tensor<1x640x410xf32>, tensor<1x64x410xf32> -> tensor<1x640x410xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$window, Index:$memory_rows,
                       Txl_F32Tensor:$hidden, Index:$segment_rows,
                       I64Attr:$mem_len);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $window `[` $memory_rows `]` `,` $hidden `[` $segment_rows `]` attr-dict
    `:` type($window) `,` type($hidden) `->` type($result)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Output
//===----------------------------------------------------------------------===//

def Txl_AdaptiveLogSoftmaxOp
    : Txl_Op<"adaptive_logsoftmax", [Pure, AttrSizedOperandSegments]> {
  let summary = "projected adaptive log-softmax: full log-probabilities [B, T, V]";
  let description = [{
    `logit_i(h) = (h @ P_i) @ W_i^T + b_i` (no transpose on `P_i : [D, E_i]`;
    no projection means `h @ W_i^T + b_i`). With no cutoffs it is
    `log_softmax(logit_0)`. With `n` clusters the head is
    `log_softmax([logit_0 ; (h @ P_0) @ cluster_weight^T + cluster_bias])`
    (width `cutoffs[0] + n`); a token of cluster `i >= 1` gets
    `head[cutoffs[0] + i - 1] + log_softmax(logit_i)[t - ends[i]]` (the
    Hugging Face / TF ascending cluster order). `V` is the result's last
    dimension.

    With `div_val == 1` there is one weight `[V, E]` and bias `[V]`, whose row
    slices are the clusters, and either no projection or one per cluster.
    With `div_val > 1` every cluster has its own weight, bias and projection.

    ```mlir
    %lp = txl.adaptive_logsoftmax %h weights(%w0) biases(%b0)
        {cutoffs = array<i64>, div_val = 1 : i64}
        : (tensor<1x80x512xf32>, tensor<204x512xf32>, tensor<204xf32>) -> tensor<1x80x204xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input,
                       Variadic<Txl_F32Tensor>:$weights,
                       Variadic<Txl_F32Tensor>:$biases,
                       Variadic<Txl_F32Tensor>:$projections,
                       Optional<Txl_F32Tensor>:$cluster_weight,
                       Optional<Txl_F32Tensor>:$cluster_bias,
                       DenseI64ArrayAttr:$cutoffs,
                       I64Attr:$div_val);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `weights` `(` $weights `)` `biases` `(` $biases `)`
    (`projections` `(` $projections^ `)`)?
    (`clusters` `(` $cluster_weight^ `,` $cluster_bias `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def Txl_AdaptiveNllOp
    : Txl_Op<"adaptive_nll", [Pure, AttrSizedOperandSegments]> {
  let summary = "projected adaptive log-softmax scored at targets: nll [B, T]";
  let description = [{
    `nll[b, t] = -log p(targets[b, t] | input[b, t])` under the same
    distribution as `txl.adaptive_logsoftmax` (same operands, same cluster
    order); a target of -1 means "no target" and gives 0. `V` is the
    `vocab_size` attribute; targets must lie in [-1, V).

    It computes what the original evaluation computes (the `target` path of
    ProjectedAdaptiveLogSoftmax): the head for every row, and a tail
    cluster's logits only for the rows whose target is in that cluster. The
    `[B, T, V]` log-probabilities are never formed.

    ```mlir
    %nll = txl.adaptive_nll %h targets(%t) weights(%w0) biases(%b0)
        {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 204 : i64}
        : (tensor<1x80x512xf32>, tensor<1x80xi64>, tensor<204x512xf32>,
           tensor<204xf32>) -> tensor<1x80xf32>
    ```
  }];
  let arguments = (ins Txl_F32Tensor:$input,
                       Txl_TokenTensor:$targets,
                       Variadic<Txl_F32Tensor>:$weights,
                       Variadic<Txl_F32Tensor>:$biases,
                       Variadic<Txl_F32Tensor>:$projections,
                       Optional<Txl_F32Tensor>:$cluster_weight,
                       Optional<Txl_F32Tensor>:$cluster_bias,
                       DenseI64ArrayAttr:$cutoffs,
                       I64Attr:$div_val,
                       I64Attr:$vocab_size);
  let results = (outs Txl_F32Tensor:$result);
  let assemblyFormat = [{
    $input `targets` `(` $targets `)` `weights` `(` $weights `)`
    `biases` `(` $biases `)`
    (`projections` `(` $projections^ `)`)?
    (`clusters` `(` $cluster_weight^ `,` $cluster_bias `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

def Txl_KernelOp : Txl_Op<"kernel", [IsolatedFromAbove,
    SingleBlockImplicitTerminator<"YieldOp">]> {
  let summary = "one generated kernel: a fused group of linalg ops";
  let description = [{
    Marks the ops that become one generated kernel (a Halide pipeline, or a
    loop nest). The region is isolated from above: everything it reads comes
    in as an operand (block arguments in the same order), everything used
    after it goes out through `txl.yield`. `name` says what the kernel
    computes (`attention.core`, `ffn.down`, ...); `txl-tile` adds a
    `txl.schedule` attribute that codegen reads.

    `skip_when_zero = i` (optional) names an `index` input: when it is 0 at
    run time, nothing reads the kernel's results, so the caller may skip the
    kernel (they are then undefined). txl-fuse sets it on a scoring tail
    (`nll.tail.<i>`, whose input is its cluster's row count); the host
    checks the value before the call, an interpreter may ignore it.

    ```mlir
    %y = txl.kernel "ffn.up"(%x, %w, %b) : (tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<1x4x16xf32> {
    ^bb0(%x0: tensor<1x4x8xf32>, %w0: tensor<16x8xf32>, %b0: tensor<16xf32>):
      ...
      txl.yield %relu : tensor<1x4x16xf32>
    }
    ```
  }];
  let arguments = (ins StrAttr:$name, Variadic<AnyType>:$inputs,
                       OptionalAttr<I64Attr>:$skip_when_zero);
  let results = (outs Variadic<AnyType>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $name `(` $inputs `)` attr-dict `:` functional-type($inputs, $results)
    $body
  }];
  let hasVerifier = 1;
}

def Txl_YieldOp : Txl_Op<"yield", [Pure, Terminator, HasParent<"KernelOp">,
    ReturnLike]> {
  let summary = "the results of a txl.kernel";
  let description = [{
    Ends a `txl.kernel` region; its operands are the kernel's results.
  }];
  let arguments = (ins Variadic<AnyType>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
  let builders = [OpBuilder<(ins), [{ /* empty */ }]>];
}

//===----------------------------------------------------------------------===//
// Recurrence
//===----------------------------------------------------------------------===//

def Txl_SegmentScanOp : Txl_Op<"segment_scan",
    [DeclareOpInterfaceMethods<SymbolUserOpInterface>]> {
  let summary = "runs a step function over the segments of a token stream, carrying memories";
  let description = [{
    Cuts `tokens` (`[B, N]`) into consecutive segments of `segment_length`
    tokens along dimension 1 and calls `step` on each, in order:

        step(tokens_s, mems...) -> (outputs_s..., new_mems...)

    The memories returned by one call are passed to the next; the first call
    gets `initial_memories` (usually `[B, 0, D]`: an empty memory, as the
    original code starts a stream). The per-segment outputs (each
    `[B, segment_length, ...]`) are concatenated along dimension 1 into the
    op's first results (`[B, N, ...]`); the last results are the memories
    after the last segment. A shorter last segment is allowed only when the
    step's segment dimension is dynamic.

    The step's memory state is explicit, which is what lets passes reason
    about the recurrence (e.g. hoist what is invariant across segments).

    ```mlir
    %hid, %lp, %m0, %m1 = txl.segment_scan @step(%tokens) memories(%e0, %e1)
        {segment_length = 64 : i64}
        : (tensor<1x640xi64>, tensor<1x0x410xf32>, tensor<1x0x410xf32>)
        -> (tensor<1x640x410xf32>, tensor<1x640x267735xf32>,
            tensor<1x?x410xf32>, tensor<1x?x410xf32>)
    ```
  }];
  let arguments = (ins FlatSymbolRefAttr:$step,
                       Txl_TokenTensor:$tokens,
                       Variadic<Txl_F32Tensor>:$initial_memories,
                       I64Attr:$segment_length);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let assemblyFormat = [{
    $step `(` $tokens `)` `memories` `(` $initial_memories `)` attr-dict `:`
    functional-type(operands, results)
  }];
  let extraClassDeclaration = [{
    /// Results concatenated over segments (all but the final memories).
    ::mlir::ResultRange getSegmentOutputs() {
      return getResults().drop_back(getInitialMemories().size());
    }
    /// The memories after the last segment.
    ::mlir::ResultRange getFinalMemories() {
      return getResults().take_back(getInitialMemories().size());
    }
  }];
  let hasVerifier = 1;
}

#endif // TXL_DIALECT_TXLOPS_TD
