//===- Passes.td - txl's passes ----------------------------*- tablegen -*-===//
//
// Every pass of txl, with the reason it exists and a before/after example.
// Each runs alone from txl-opt (`txl-opt --<flag>`), and each has a lit test
// named after its flag in tests/lit/Passes/. The passes txlc runs, in its
// order and with its options, are the named pipeline `txl-lower`
// (txl/Passes/Pipeline.h; pipelines are not passes, so it is not declared
// here).
//
//===----------------------------------------------------------------------===//

#ifndef TXL_PASSES_TD
#define TXL_PASSES_TD

include "mlir/Pass/PassBase.td"

def TxlWindowMemory : Pass<"txl-window-memory", "mlir::ModuleOp"> {
  let summary = "Give the segment step fixed-capacity memory windows (the compiled ABI's form)";
  let description = [{
    At model level a step's memories are tensors of dynamic length
    (`tensor<B x ? x D>`) that grow from 0 rows to `mem_len` and are rebuilt
    by `txl.mem_update` every segment. Compiled code cannot allocate and
    concatenate like that on every step: it keeps each layer's memory in a
    buffer of fixed capacity `mem_len`, right-aligned, plus the number of rows
    held, and updates it in place (see runtime/include/txl/runtime/ModelABI.h).

    This pass rewrites the step into that form. The step gains two `index`
    arguments after the tokens, `n` (tokens in this segment, at most T: a
    stream's last segment may be shorter) and `M` (memory rows held);
    memories become windows `tensor<B x mem_len x D>`; attention reads its
    memory as `%window[%M]`; `txl.mem_update` becomes `txl.window_update`.
    Functions that scan the step (`txl.segment_scan`) are removed: in
    compiled form the runtime drives the recurrence, one step per call.

    Before:
    ```mlir
    func.func @step(%tok: tensor<1x4xi64>, %mem: tensor<1x?x8xf32>)
        -> (tensor<1x4x8xf32>, tensor<1x4x30xf32>, tensor<1x?x8xf32>) {
      %h = txl.embed %tok ...
      %a = txl.rel_attention %h, %mem, %pos, ... {mem_len = 6 : i64, ...}
      %m1 = txl.mem_update %mem, %h {mem_len = 6 : i64} : ...
      ...
    }
    ```
    After:
    ```mlir
    func.func @step(%tok: tensor<1x4xi64>, %n: index, %M: index,
                    %mem: tensor<1x6x8xf32>)
        -> (tensor<1x4x8xf32>, tensor<1x4x30xf32>, tensor<1x6x8xf32>) {
      %h = txl.embed %tok ...
      %a = txl.rel_attention %h, %mem[%M], %pos, ... {mem_len = 6 : i64, ...}
      %m1 = txl.window_update %mem[%M], %h[%n] {mem_len = 6 : i64} : ...
      ...
    }
    ```
  }];
  let options = [
    Option<"stepName", "step", "std::string", /*default=*/"\"step\"",
           "the segment step function to rewrite">
  ];
  let dependentDialects = ["txl::TxlDialect"];
}

def TxlKvCache : Pass<"txl-kv-cache", "mlir::ModuleOp"> {
  let summary = "Keep each layer's memory as projected keys and values (a KV cache)";
  let description = [{
    The original algorithm projects the keys and values of the whole
    `[memory; segment]` (`mem_len + T` rows) in every layer of every segment,
    although a memory row's key and value depend only on that row: they were
    computed, with the same weights, when the row was in the segment. This
    pass makes the compiled step see the recurrence: each layer keeps a
    **key cache** and a **value cache** (`[B, mem_len, n_head * d_head]`,
    right-aligned windows like the memories) instead of its hidden memory;
    the step projects only the `T` new rows (`txl.kv_projection`), attends
    over `[cache; new]` (`txl.rel_attention_cached`) and appends the new keys
    and values to the caches with the same `txl.window_update` that appended
    the rows to the memory. Per segment and layer this saves the projection
    of `mem_len` rows: for wt103-base (`mem_len` 640, T 64) ~8.5 of the 11.4
    GFLOP of `qkv_net`.

    **Equivalence.** The rewrite applies only when it is exact: the
    attention's input rows are the rows the update appends to the memory,
    under the same row-wise map (none for post-LN; the same LayerNorm, by
    weights and epsilon, for pre-LN, whose memory is normalised before the
    attention). Then cache row `r` holds `kv(f(m_r))`, the key and value the
    original computes for memory row `m_r` in every later segment, and the
    window updates keep the caches and the memories row-aligned (the same
    `memory_rows`, the same `segment_rows`). A memory that does not match is
    an error naming it, never a silent change.

    The hidden memories are not read any more and are dropped from the step,
    unless `keep-memories` keeps them (as state updated beside the caches)
    for users who read them (`txl-run --out` writes `mems`). Step arguments
    carry their role in a `txl.state` attribute (`memory`, `keys`,
    `values`); caches come after the memories, keys then values, layer by
    layer, in arguments and in results.

    Before:
    ```mlir
    %a = txl.rel_attention %h, %mem[%M], %pos, %wqkv, %wr, %wo, %u, %v {...}
    %next = txl.window_update %mem[%M], %h[%n] {mem_len = 6 : i64} : ...
    ```
    After:
    ```mlir
    %k, %v = txl.kv_projection %h, %wqkv {d_head = 8 : i64, n_head = 3 : i64} : ...
    %a = txl.rel_attention_cached %h, cache(%kc, %vc)[%M], segment(%k, %v),
        %pos, %wqkv, %wr, %wo, %u, %v {...}
    %kc1 = txl.window_update %kc[%M], %k[%n] {mem_len = 6 : i64} : ...
    %vc1 = txl.window_update %vc[%M], %v[%n] {mem_len = 6 : i64} : ...
    ```
  }];
  let options = [
    Option<"stepName", "step", "std::string", /*default=*/"\"step\"",
           "the segment step function to rewrite">,
    Option<"keepMemories", "keep-memories", "bool", /*default=*/"false",
           "keep the hidden memories as state beside the caches">
  ];
  let dependentDialects = ["txl::TxlDialect"];
}

def TxlHoistInvariants : Pass<"txl-hoist-invariants", "mlir::ModuleOp"> {
  let summary = "Move the step's weight-only computations into @prepare, run once at load";
  let description = [{
    Some of the step's work reads nothing but weights and constants, so it
    gives the same result in every segment of every stream: above all the
    relative positions (`pos_emb`) and their projection by each layer's
    `r_net` (`attention.r`: `mem_len + T` rows of `[d_model x d_model]` per
    layer and segment, 3.8 GFLOP per segment for wt103-base). The original
    algorithm recomputes them every segment. This pass sees the recurrence
    and moves them out of it: every kernel (or, before txl-fuse, every
    `linalg.generic`) whose operands and captured values are all invariant
    moves into a new function `@prepare` (no arguments), together with
    clones of the weights, slices and constants it reads. Each result that
    the step still reads becomes a `@prepare` result and a new step argument
    marked `txl.prepared = <result index>`, after the existing arguments.
    The runtime calls `@prepare` once per loaded model and passes its
    results to every step.

    The scoring function (`@nll`, option `scored`), when the module has
    one, is hoisted the same way into the same `@prepare`: above all the
    output layer's weights packed for its GEMMs. An op equal to one already
    in `@prepare` (the same weight slice packed the same way for the
    step's log-softmax) is not cloned twice: both functions receive the
    same result.

    **Equivalence.** Only pure computations move, and their inputs are the
    same in every segment, so every step sees the same values as before;
    the results are bit-identical (the same kernels compute them).

    Before:
    ```mlir
    func.func @step(%tok: tensor<1x4xi64>, ...) -> ... {
      %pos = txl.kernel "pos_emb"() : () -> tensor<12x24xf32> {...}
      %wr = txl.weight "transformer.layers.0.dec_attn.r_net.weight" : tensor<24x24xf32>
      %rk = txl.kernel "attention.r"(%pos, %wr) : (...) -> tensor<12x24xf32> {...}
      %a = txl.kernel "attention.core"(%q, ..., %rk, ...) ...
    }
    ```
    After:
    ```mlir
    func.func @prepare() -> tensor<12x24xf32> {
      %pos = txl.kernel "pos_emb"() : () -> tensor<12x24xf32> {...}
      %wr = txl.weight "transformer.layers.0.dec_attn.r_net.weight" : tensor<24x24xf32>
      %rk = txl.kernel "attention.r"(%pos, %wr) : (...) -> tensor<12x24xf32> {...}
      return %rk : tensor<12x24xf32>
    }
    func.func @step(%tok: tensor<1x4xi64>, ..., %rk: tensor<12x24xf32> {txl.prepared = 0 : i64}) -> ... {
      %a = txl.kernel "attention.core"(%q, ..., %rk, ...) ...
    }
    ```
  }];
  let options = [
    Option<"stepName", "step", "std::string", /*default=*/"\"step\"",
           "the segment step function">,
    Option<"scoredName", "scored", "std::string", /*default=*/"\"nll\"",
           "a function scoring the step's output (optional), hoisted the same way">,
    Option<"prepareName", "prepare", "std::string", /*default=*/"\"prepare\"",
           "the function to create">
  ];
  let dependentDialects = ["txl::TxlDialect", "mlir::func::FuncDialect"];
}

def TxlDecompose : Pass<"txl-decompose", "mlir::ModuleOp"> {
  let summary = "Lower model-level txl ops to linalg on tensors";
  let description = [{
    Replaces `txl.embed`, `txl.pos_emb`, `txl.rel_attention`,
    `txl.layer_norm`, `txl.ffn`, `txl.adaptive_logsoftmax` and tensor
    `arith.addf` by `linalg.generic` ops on static-shape tensors — the form
    kernels are generated from. `txl.window_update` stays: it is no kernel
    but the host's append of the segment's rows to a state window
    (docs/CODEGEN.md, "State windows"), so no step copies a memory. Every
    generic carries a `txl.name` attribute naming its role
    (`attention.scores`, `ffn.up`, ...), for schedules and for people.

    What is never materialised:
    * the **rel-shift**: the projected positions are laid out per head by
      distance (`attention.positions_by_distance`, `[H, N / 48, Dh, 48]`:
      the `K + T - 1` distances in blocks of 48, two blocks to spare, element
      `n = 48 * block + i` at distance `C + T - 1 - n`, so that a block of
      the position GEMM reads one contiguous run; weight-only, so hoisted
      with `attention.r`), the position scores are a product of the queries with
      them (`attention.position_scores`), and query `t` reads key `j`'s at
      `n = j + T - 1 - t`: an offset, no shifted copy. When the positions
      come from a `txl.pos_emb` with `clamp_len` (or the table ends before
      the longest distance), every distance from the clamp on has one
      position, so the columns `n <= K - 1 - clamp` repeat one column:
      `attention.clamped_position_scores` reads column `n` at
      `min(max(n, F + n mod 16), L + n mod 16)`, `F` the first column of
      the last whole run of 16 clamped columns, `L` the first run of 16
      columns at distances <= 0 (future keys, masked; the positions hold
      distance 0 there), so the GEMM computes from `F`'s block to `L`'s
      only (wt103-base: 304 of 767 columns clamped, 63 in the future) and
      every run of 16 is still contiguous;
    * the **mask**: a predicate on `(t, j, M)` inside the generic that scales
      the scores (future keys, memory rows not yet held, and with
      `same_length` distances `>= mem_len`);
    * the **concatenation** `[memory; segment]`: keys read either source by
      index. Keys
      and values are laid out per head (`attention.key_rows_by_head`, then
      `.keys_by_head` `[B, H, Dh, K]` transposed, `.values_by_head`
      `[B, H, K, Dh]`), so that both attention products are GEMMs
      contiguous along the loop vectors run over; their queries carry
      their term's bias, added once per element
      (`attention.content_queries` = q + `r_w_bias`,
      `.position_queries` = q + `r_r_bias`, `[B, H, T, Dh]`).

    The reductions over keys (`attention.max`, `.sum`, `.values`) take the
    memory rows held `M` as a scalar input and carry
    `txl.first_contributing = {loop, input, at = affine_map<()[M] -> (C - M)>}`:
    keys before `C - M` are masked, so their iterations leave the result
    unchanged, and a code generator may start the loop there (the Halide
    translator does: the attention's work then grows with the memory held
    instead of always covering the whole window). The mask keeps the
    numbers exact either way.

    Masked scores are `-1e30`, not `-inf`, and their softmax weight is
    selected to exactly 0, so no infinity reaches an exponential. Needs
    static shapes: run `txl-window-memory` first.

    Before:
    ```mlir
    %y = txl.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64}
        : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
    ```
    After (abridged):
    ```mlir
    %sum = linalg.generic {..., iterator_types = ["parallel", "parallel", "reduction"]}
        ins(%x : tensor<1x4x8xf32>) outs(%zeros : tensor<1x4xf32>) {txl.name = "layer_norm.sum"}
    %centered = linalg.generic ... {txl.name = "layer_norm.center"}
    ...
    %y = linalg.generic ... {txl.name = "layer_norm"}
    ```
  }];
  let options = [
    Option<"positionBlock", "position-block", "int64_t", /*default=*/"48",
           "distances per block of the attention's positions layout "
           "[H, N/B, Dh, B]: a multiple of the vector width (TileKnobs "
           "layout.position_block)">,
    Option<"clampRun", "clamp-run", "int64_t", /*default=*/"16",
           "columns read together where clamped distances repeat: a "
           "divisor of position-block (TileKnobs layout.clamp_run)">
  ];
  let dependentDialects = ["mlir::arith::ArithDialect",
                           "mlir::linalg::LinalgDialect",
                           "mlir::math::MathDialect",
                           "mlir::tensor::TensorDialect"];
}

def TxlPackWeights : Pass<"txl-pack-weights", "mlir::ModuleOp"> {
  let summary = "Read GEMM weights from panels packed once at load";
  let description = [{
    A projection reads its weight `W [N, K]` (a Hugging Face `nn.Linear`
    weight, `[out, in]`) as `W[n, k]`: for a fixed `k`, consecutive outputs
    `n` are `K` floats apart, so a kernel that vectorises over `n` gathers.
    This pass gives every contraction that reads a weight that way (`n` a
    parallel loop, `k` an expression of reduction loops) the weight in
    **panels** instead: `Wp [ceil(N/P), K, P]` with `Wp[p, k, j] = W[P*p +
    j, k]` (zero past row `N`), read through `(n floordiv P, k, n mod P)`;
    `P` consecutive outputs then read `P` consecutive floats, and a panel is
    streamed once per row tile. The packing is its own `linalg.generic`
    (`pack.<i>`, one per weight, shared by its readers) at the start of the
    function, reading only the weight: `txl-hoist-invariants` moves it into
    `@prepare`, so it runs once when the model is loaded.

    **Equivalence.** Every read `Wp[n floordiv P, k, n mod P]` is
    `W[n, k]` (for `n < N`, the only values the contraction reads).

    **Memory.** The panels are a copy: a weight read elsewhere unpacked
    (the output layer tied to the embedding table, which the lookup reads
    by row) is held twice (wt103-base: +439 MB at load for 267,735 x 410).
    The output layer is packed by default all the same: unpacked, the
    adaptive softmax's logits took ~23 s per wt103-base segment, packed
    ~0.2 s. `--pack-weights=0` turns all packing off.

    Before:
    ```mlir
    %w = txl.weight "transformer.layers.0.pos_ff.CoreNet.0.weight" : tensor<40x24xf32>
    %up = linalg.generic {indexing_maps = [(d0, d1, d2, d3) -> (d0, d1, d3),
                                           (d0, d1, d2, d3) -> (d2, d3), ...]}
        ins(%x, %w : tensor<1x4x24xf32>, tensor<40x24xf32>) ...
    ```
    After (P = 16):
    ```mlir
    %p = linalg.generic ... outs(%e : tensor<3x24x16xf32>) attrs = {txl.name = "pack.0"} {...}
    %up = linalg.generic {indexing_maps = [(d0, d1, d2, d3) -> (d0, d1, d3),
                           (d0, d1, d2, d3) -> (d2 floordiv 16, d3, d2 mod 16), ...]}
        ins(%x, %p : tensor<1x4x24xf32>, tensor<3x24x16xf32>) ...
    ```
  }];
  let options = [
    Option<"panel", "panel", "int", /*default=*/"16",
           "panel width P: the vector width of the kernels (16 for AVX-512)">,
    ListOption<"roles", "roles", "std::string",
               "txl.name prefixes of the contractions to pack (default: "
               "attention., ffn., logsoftmax., nll.)">
  ];
  let dependentDialects = ["mlir::linalg::LinalgDialect",
                           "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def TxlFuse : Pass<"txl-fuse", "mlir::ModuleOp"> {
  let summary = "Group linalg ops into txl.kernel regions, one per generated kernel";
  let description = [{
    Decides which decomposed ops become one kernel, then moves each group
    into an isolated `txl.kernel` region (operands in, `txl.yield` out).
    Deciding reads each generic's role (its `txl.name`) and data dependence;
    the default groups are:

    | kernel | what it fuses |
    |---|---|
    | `embed` | gather(s) + projection(s) + cluster select + scale |
    | `attention.kv` | projection GEMMs of keys, values and (when next to them) queries: they share their input rows |
    | `attention.q` | the query projection where it does not follow the keys and values |
    | `attention.r` | projected positions, laid out by distance per head (weight-only: hoisted) |
    | `attention.core` | per-head key/value layouts, content + position scores, scale, mask, softmax, value product: scores never leave the kernel |
    | `attention.output` | output projection + residual (+ LayerNorm when post-LN) |
    | `ffn.up` | GEMM + bias + ReLU |
    | `ffn.down` | GEMM + bias + residual (+ LayerNorm when post-LN) |
    | `layer_norm` | a LayerNorm that follows no kernel (pre-LN inputs, memories) |
    | `logsoftmax` | adaptive log-softmax: logits, log-sum-exps, assembly |
    | `pos_emb` | its own |

    A residual or LayerNorm joins the kernel before it only when it
    consumes that kernel's result. `mode=none` makes every linalg op its own
    kernel, so the two can be compared (same numbers, more memory traffic).
    Ops that only build inits or constants (`tensor.empty`, `linalg.fill`,
    `arith.constant`) are copied into the kernels that use them.

    Before (abridged):
    ```mlir
    %up = linalg.generic ... {txl.name = "ffn.up"}
    %relu = linalg.generic ins(%up ...) ... {txl.name = "ffn.relu"}
    ```
    After:
    ```mlir
    %relu = txl.kernel "ffn.up"(%x, %w1, %b1) : (...) -> tensor<1x4x16xf32> {
    ^bb0(...):
      ... the two generics ...
      txl.yield %r : tensor<1x4x16xf32>
    }
    ```
  }];
  let options = [
    Option<"mode", "mode", "std::string", /*default=*/"\"default\"",
           "'default' (fused kernels) or 'none' (one kernel per linalg op)">
  ];
  let dependentDialects = ["txl::TxlDialect"];
}

def TxlTile : Pass<"txl-tile", "mlir::ModuleOp"> {
  let summary = "Write a schedule (txl.schedule) on every kernel, for a target";
  let description = [{
    Scheduling is decided here and applied by codegen, which only reads the
    `txl.schedule` attribute (schema: docs/SCHEDULES.md); a tuner or a
    person can write the attribute instead, and an existing one is kept
    unless `overwrite` is set. The heuristic, per generic of a kernel:

    * an element-wise generic read by exactly one other generic of the
      kernel is inlined into it (ReLU, scaling, masking: no buffer);
    * every other generic is computed at root inside the kernel;
    * a reduction's update runs the reduction loops outside the innermost
      parallel loop, which is vectorized by the target's f32 width (16 for
      AVX-512; the default tail strategy guards widths such as 41, 410 and
      2100 that are not multiples of 16), and the outermost parallel loop
      with more than one iteration runs in parallel.

    A **packed GEMM** (a contraction reading its weight from the panels of
    `txl-pack-weights`, `(n floordiv P, k, n mod P)`, P read from the
    panels' type) gets a GEMM schedule instead: a register tile of rows x
    panels (8 x 3 preferred at 24 accumulator registers) with the reduction
    blocked and unrolled, the accumulator
    computed at the tile, and one of three layouts: the GEMM as the
    kernel's result (tiles in parallel), the GEMM inlined into an
    element-wise result (bias + ReLU), or every generic computed per block
    of rows with the GEMM tiled inside (residual + LayerNorm, log-softmax
    epilogues; row sums and maxima keep partial results in vector lanes
    with `rfactor`). docs/SCHEDULES.md has the details and the
    measurements.

    Generics are named by their `txl.name`, or by position (`#i`) where a
    kernel holds several of one name. The target is also recorded
    (`txl.target`), and codegen refuses to compile the kernel for a target
    whose vectors or registers differ.

    Every number above is a knob (`TileKnobs.h`: register tiles, L1/L2
    block bytes, tiles for the threads, attention query rows, ...), its
    default derived from the target's `TargetInfo` (vector width and
    registers; L1d and L2 sizes, from the machine for `host`, from
    `target-cache` or the documented defaults otherwise). One planner per
    kernel family builds the schedule (`passes/lib/Tiling/`:
    ElementwisePlanner, RowReductionPlanner, GemmPlanner,
    AttentionPlanner); `knobs` overrides any knob
    (`--txl-tile="knobs=gemm.l1_weight_bytes=16384"`), checked for legality.

    Example (an `ffn.up` kernel, target `x86-64-linux-avx512`):
    ```mlir
    txl.kernel "ffn.up"(...) {txl.schedule = {funcs = [
        {compute = "root", name = "ffn.up.bias"},
        {compute = "root", name = "ffn.up",
         update = {order = ["d0", "d1", "d3", "d2"], parallel = ["d1"],
                   vectorize = [ {loop = "d2", width = 16 : i64} ] } },
        {compute = "root", name = "ffn.relu"} ],
      vector_width = 16 : i64}, txl.target = "x86-64-linux-avx512"}
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"host\"",
           "Halide target string (host, x86-64-linux-avx512, host-cuda, ...)">,
    Option<"overwrite", "overwrite", "bool", /*default=*/"false",
           "replace schedules that are already there">,
    Option<"targetCache", "target-cache", "std::string", /*default=*/"\"\"",
           "cache sizes and cores of the target, overriding the machine's "
           "(host) or the defaults: l1d=32K,l2=1M,l3=32M,cores=2 "
           "(docs/TARGETS.md)">,
    Option<"knobs", "knobs", "std::string", /*default=*/"\"\"",
           "tiling knobs that replace the target's defaults: "
           "name=value,... (TileKnobs.h; e.g. attention.query_rows=16)">
  ];
}

def TxlOutlineKernels : Pass<"txl-outline-kernels", "mlir::ModuleOp"> {
  let summary = "Move each txl.kernel's body into a function of its own, for codegen";
  let description = [{
    Code generators compile one kernel at a time, as a function: the
    Halide backend translates a `func.func` whose arguments are the
    kernel's buffers and scalars. This pass makes those functions, so that
    what codegen compiles can be read (and compiled alone) with txl-opt:
    kernel `i` of `@step` named `attention.core` becomes
    `func.func @txl_k<i>_attention_core` (`txl_p` for `@prepare`'s
    kernels, `txl_n` for `@nll`'s; characters outside `[A-Za-z0-9_]`
    become `_`), added at the end of the module in that order, and the
    kernel keeps only a `func.call` of it. The host code generator
    (codegen/host, `analyzeStep`) reads the calls to plan memory and to
    call each function by its symbol.

    The function's arguments are the kernel's inputs in order, except
    constant inputs, which are cloned in; then every non-splat constant
    tensor of the body (the inverse frequencies of `pos_emb`): a Halide
    kernel holds only splat constants, so these stay in the kernel and are
    passed (the host binds them to globals). Its results are the kernel's
    yields. The kernel's `txl.schedule` and `txl.target` go with the body.
    Strides of state windows (`txl.strides`) are not known here: the
    memory planner adds them to the function's arguments.

    A pass in `passes/`, not in codegen: it only moves IR between two
    forms of the txl dialect, needs nothing of the ABI or of Halide, and so
    runs from txl-opt like every other pass. It runs after `txl-lower`
    (txlc runs it before planning memory, `--emit=plan`).

    Before:
    ```mlir
    func.func @step(...) {
      %y = txl.kernel "ffn.up"(%x, %w, %b) : (...) -> tensor<1x4x16xf32> {
      ^bb0(%x0: tensor<1x4x8xf32>, %w0: tensor<16x8xf32>, %b0: tensor<16xf32>):
        ... linalg.generic ops ...
        txl.yield %relu : tensor<1x4x16xf32>
      } {txl.schedule = {...}, txl.target = "x86-64-linux-avx512"}
      ...
    }
    ```
    After:
    ```mlir
    func.func @step(...) {
      %y = txl.kernel "ffn.up"(%x, %w, %b) : (...) -> tensor<1x4x16xf32> {
      ^bb0(%x0: tensor<1x4x8xf32>, %w0: tensor<16x8xf32>, %b0: tensor<16xf32>):
        %r = func.call @txl_k4_ffn_up(%x0, %w0, %b0) : (...) -> tensor<1x4x16xf32>
        txl.yield %r : tensor<1x4x16xf32>
      } {txl.schedule = {...}, txl.target = "x86-64-linux-avx512"}
      ...
    }
    func.func @txl_k4_ffn_up(%x0: tensor<1x4x8xf32>, %w0: tensor<16x8xf32>,
                             %b0: tensor<16xf32>) -> tensor<1x4x16xf32>
        attributes {txl.schedule = {...}, txl.target = "x86-64-linux-avx512"} {
      ... linalg.generic ops ...
      return %relu : tensor<1x4x16xf32>
    }
    ```
  }];
  let options = [
    Option<"stepName", "step", "std::string", /*default=*/"\"step\"",
           "the segment step function (kernels txl_k<i>_...)">,
    Option<"prepareName", "prepare", "std::string", /*default=*/"\"prepare\"",
           "the function run once at load (kernels txl_p<i>_...)">,
    Option<"scoredName", "scored", "std::string", /*default=*/"\"nll\"",
           "the scoring function (kernels txl_n<i>_...)">
  ];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

#endif // TXL_PASSES_TD
