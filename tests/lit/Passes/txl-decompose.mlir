// RUN: txl-opt %s --txl-decompose --split-input-file | FileCheck %s

// LayerNorm: two row reductions (sum, sum of squares) and element-wise maps.
// CHECK-LABEL: func.func @layer_norm
// CHECK-NOT: txl.layer_norm
// CHECK: linalg.generic {{.*}}iterator_types = ["parallel", "parallel", "reduction"]{{.*}} {txl.name = "layer_norm.sum"}
// CHECK: {txl.name = "layer_norm"}
// CHECK: math.rsqrt
func.func @layer_norm(%x: tensor<1x4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %y = txl.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %y : tensor<1x4x8xf32>
}

// -----

// Attention in window form: q/k/v are row blocks of one weight (slices, not
// copies); the projected positions are laid out by distance, in blocks of 48
// (element n = 48 * block + i at distance C + T - 1 - n, here 9 - n; two
// blocks to spare), so the mask stage reads query t's
// position score for key j at n = j - t + T - 1 (the rel-shift as an index
// map); the mask is a predicate on indices and M: no mask tensor, no shifted
// copy, no concatenation. Keys and values are laid out per head for the
// two attention GEMMs, whose queries carry their term's bias (r_w_bias for
// the content term, r_r_bias for the position term), added once per element.
// The reductions over keys (max, sum, values) read the memory rows held and
// say that keys before C - M contribute nothing (code generators start there).
// CHECK: affine_map<(d0, d1, d2, d3, d4) -> (d1, d3 floordiv 48, d4, d3 mod 48)>
// CHECK: affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 - d2 + 3)>
// CHECK: #[[FIRST:.*]] = affine_map<()[s0] -> (-s0 + 6)>
// CHECK-LABEL: func.func @attention
// CHECK-SAME: %[[M:[a-z0-9]+]]: index
// CHECK-SAME: %[[U:[a-z0-9]+]]: tensor<2x3xf32>, %[[V:[a-z0-9]+]]: tensor<2x3xf32>
// CHECK: {txl.name = "attention.keys_input"}
// CHECK-DAG: tensor.extract_slice %{{.*}}[6, 0] [6, 8] [1, 1] : tensor<18x8xf32> to tensor<6x8xf32>
// CHECK-DAG: tensor.extract_slice %{{.*}}[12, 0] [6, 8] [1, 1] : tensor<18x8xf32> to tensor<6x8xf32>
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [6, 8] [1, 1] : tensor<18x8xf32> to tensor<6x8xf32>
// CHECK: {txl.name = "attention.q"}
// CHECK: {txl.name = "attention.r"}
// CHECK: outs(%{{.*}} : tensor<2x3x3x48xf32>) {{.*}} {txl.name = "attention.positions_by_distance"}
// CHECK: %[[I:.*]] = linalg.index 3 : index
// CHECK: %[[BLOCK:.*]] = linalg.index 1 : index
// CHECK: %[[START:.*]] = arith.muli %[[BLOCK]], %c48 : index
// CHECK: %[[N:.*]] = arith.addi %[[START]], %[[I]] : index
// CHECK: arith.subi %c9, %[[N]] : index
// CHECK: tensor.extract %{{.*}}[%{{.*}}, %{{.*}}] : tensor<10x6xf32>
// CHECK: {txl.name = "attention.key_rows_by_head"}
// CHECK: {txl.name = "attention.keys_by_head"}
// CHECK: {txl.name = "attention.values_by_head"}
// CHECK: %[[QU:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[U]] : tensor<1x4x6xf32>, tensor<2x3xf32>) {{.*}} {txl.name = "attention.content_queries"}
// CHECK: %[[QV:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[V]] : tensor<1x4x6xf32>, tensor<2x3xf32>) {{.*}} {txl.name = "attention.position_queries"}
// CHECK: ins(%[[QU]], %{{.*}} : tensor<1x2x4x3xf32>, tensor<1x2x3x10xf32>) {{.*}} {txl.name = "attention.scores"}
// CHECK: ins(%[[QV]], %{{.*}} : tensor<1x2x4x3xf32>, tensor<2x3x3x48xf32>) outs(%{{.*}} : tensor<1x2x4x144xf32>) {{.*}} {txl.name = "attention.position_scores"}
// CHECK: ins(%{{.*}}, %{{.*}} : tensor<1x2x4x10xf32>, tensor<1x2x4x144xf32>)
// CHECK-SAME: {txl.name = "attention.mask"}
// CHECK: %[[T:.*]] = linalg.index 2 : index
// CHECK: %[[QPOS:.*]] = arith.addi %[[T]], %c6
// CHECK: %[[J:.*]] = linalg.index 3 : index
// CHECK: arith.subi %[[QPOS]], %[[J]] : index
// CHECK: arith.subi %c6{{.*}}, %[[M]] : index
// CHECK: ins(%{{.*}}, %[[M]] : tensor<1x2x4x10xf32>, index)
// CHECK-SAME: {txl.first_contributing = {at = #[[FIRST]], input = 1 : i64, loop = 3 : i64}, txl.name = "attention.max"}
// CHECK: {txl.name = "attention.output"}
// CHECK-NOT: tensor.concat
// CHECK-NOT: txl.rel_attention
func.func @attention(%x: tensor<1x4x8xf32>, %win: tensor<1x6x8xf32>, %m: index, %pos: tensor<10x8xf32>,
                     %wqkv: tensor<18x8xf32>, %wr: tensor<6x8xf32>, %wo: tensor<8x6xf32>,
                     %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) -> tensor<1x4x8xf32> {
  %a = txl.rel_attention %x, %win[%m], %pos, %wqkv, %wr, %wo, %u, %v
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = true}
      : (tensor<1x4x8xf32>, tensor<1x6x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}

// -----

// The window update is no kernel but the host's append of the segment's rows
// after a state's window (StepProgram.h): it stays, and nothing copies it.
// CHECK-LABEL: func.func @window_update
// CHECK-NOT: linalg.generic
// CHECK: txl.window_update %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}] {mem_len = 6 : i64}
// CHECK-NOT: tensor.concat
func.func @window_update(%win: tensor<1x6x8xf32>, %h: tensor<1x4x8xf32>, %m: index, %n: index) -> tensor<1x6x8xf32> {
  %next = txl.window_update %win[%m], %h[%n] {mem_len = 6 : i64} : tensor<1x6x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x8xf32>
  return %next : tensor<1x6x8xf32>
}

// -----

// Positions: frequencies are a constant (the exact float32 values), angles a
// single float multiply, clamped distances.
// CHECK-LABEL: func.func @positions
// CHECK: arith.constant dense<{{.*}}> : tensor<8xf32>
// CHECK: {txl.name = "pos_emb"}
// CHECK: arith.minsi %{{.*}}, %c3
// CHECK: math.sin
// CHECK: math.cos
func.func @positions() -> tensor<10x8xf32> {
  %p = txl.pos_emb {clamp_len = 3 : i64} : tensor<10x8xf32>
  return %p : tensor<10x8xf32>
}

// -----

// Adaptive log-softmax with two clusters: per-cluster logits on row blocks of
// the one weight, a head log-sum-exp over both parts, assembly by index.
// CHECK-LABEL: func.func @adaptive
// CHECK: tensor.extract_slice %{{.*}}[0, 0] [4, 8]
// CHECK: tensor.extract_slice %{{.*}}[4, 0] [6, 8]
// CHECK: {txl.name = "logsoftmax.cluster_logits"}
// CHECK: {txl.name = "logsoftmax.head_lse"}
// CHECK: {txl.name = "logsoftmax.assemble"}
func.func @adaptive(%h: tensor<1x2x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) -> tensor<1x2x10xf32> {
  %lp = txl.adaptive_logsoftmax %h weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 4>, div_val = 1 : i64}
      : (tensor<1x2x8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x2x10xf32>
  return %lp : tensor<1x2x10xf32>
}

// -----

// Scoring at targets with two clusters: the head for every row; the tail's
// rows are gathered by slot (rank among the rows in the cluster), and its
// per-slot results are read at min(slot, count - 1), the count crossing
// between the two kernels as an index scalar.
// CHECK-LABEL: func.func @nll
// CHECK-NOT: txl.adaptive_nll
// CHECK: {txl.name = "nll.head.cluster_logits"}
// CHECK: {txl.name = "nll.head.head_lse"}
// CHECK: {txl.name = "nll.head.target"}
// CHECK: {txl.name = "nll.rows.rank"}
// CHECK: {txl.name = "nll.rows.table"}
// CHECK: {txl.name = "nll.rows.count"}
// CHECK: %[[COUNT:.*]] = tensor.extract %{{.*}}[%{{.*}}] : tensor<1xi64>
// CHECK: %[[N:.*]] = arith.index_cast %[[COUNT]] : i64 to index
// CHECK: {txl.name = "nll.tail.1.gather"}
// CHECK: tensor.extract_slice %{{.*}}[4, 0] [6, 8]
// CHECK: {txl.name = "nll.tail.1.logits"}
// CHECK: {txl.name = "nll.tail.1.target"}
// CHECK: arith.subi %[[N]], %c1
// CHECK: {txl.name = "nll.assemble"}
// CHECK: arith.negf
func.func @nll(%h: tensor<1x2x8xf32>, %t: tensor<1x2xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) -> tensor<1x2xf32> {
  %nll = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 4>, div_val = 1 : i64, vocab_size = 10 : i64}
      : (tensor<1x2x8xf32>, tensor<1x2xi64>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x2xf32>
  return %nll : tensor<1x2xf32>
}

// -----

// The cached form: only the segment's rows are projected (k and v blocks of
// the weight); the per-head layouts read key j from the cache (j < C) or the
// segment (j - C) by index, so nothing is concatenated and no key is
// projected again.
// CHECK-LABEL: func.func @cached
// CHECK: tensor.extract_slice %{{.*}}[6, 0] [6, 8] [1, 1] : tensor<18x8xf32> to tensor<6x8xf32>
// CHECK: ins(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : tensor<1x4x8xf32>, tensor<6x8xf32>) outs(%{{.*}} : tensor<1x4x6xf32>) attrs =  {txl.name = "attention.k"}
// CHECK: tensor.extract_slice %{{.*}}[12, 0] [6, 8] [1, 1] : tensor<18x8xf32> to tensor<6x8xf32>
// CHECK: {txl.name = "attention.v"}
// CHECK-NOT: attention.keys_input
// CHECK: {txl.name = "attention.q"}
// CHECK: {txl.name = "attention.key_rows_by_head"}
// CHECK: arith.cmpi slt, %{{.*}}, %c6
// CHECK: tensor.extract %arg1[{{.*}}] : tensor<1x6x6xf32>
// CHECK: tensor.extract %{{.*}}[{{.*}}] : tensor<1x4x6xf32>
// CHECK: arith.select
// CHECK: {txl.name = "attention.values_by_head"}
// CHECK: tensor.extract %arg2[{{.*}}] : tensor<1x6x6xf32>
// CHECK: {txl.name = "attention.scores"}
// CHECK: txl.name = "attention.values"
func.func @cached(%x: tensor<1x4x8xf32>, %kc: tensor<1x6x6xf32>, %vc: tensor<1x6x6xf32>, %m: index,
                  %pos: tensor<10x8xf32>, %wqkv: tensor<18x8xf32>, %wr: tensor<6x8xf32>,
                  %wo: tensor<8x6xf32>, %u: tensor<2x3xf32>) -> tensor<1x4x8xf32> {
  %k, %v = txl.kv_projection %x, %wqkv {d_head = 3 : i64, n_head = 2 : i64}
      : tensor<1x4x8xf32>, tensor<18x8xf32> -> tensor<1x4x6xf32>, tensor<1x4x6xf32>
  %a = txl.rel_attention_cached %x, cache(%kc, %vc)[%m], segment(%k, %v), %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<1x4x8xf32>, tensor<1x6x6xf32>, tensor<1x6x6xf32>, index, tensor<1x4x6xf32>, tensor<1x4x6xf32>,
         tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
      -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}
