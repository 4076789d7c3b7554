// Round trip of every txl op, in the custom and in the generic form.
// RUN: txl-opt %s | txl-opt | FileCheck %s
// RUN: txl-opt %s --mlir-print-op-generic | txl-opt | FileCheck %s
// The bundled example (a whole wt103-base layer and its scan) round-trips too.
// RUN: txl-opt %txl_src_root/models/examples/wt103_base_layer.mlir | txl-opt | FileCheck %s --check-prefix=EXAMPLE

// EXAMPLE-LABEL: func.func @step
// EXAMPLE: txl.embed
// EXAMPLE: txl.pos_emb {clamp_len = 400 : i64} : tensor<704x410xf32>
// EXAMPLE: txl.rel_attention {{.*}} same_length = true
// EXAMPLE: txl.layer_norm
// EXAMPLE: txl.ffn
// EXAMPLE: txl.mem_update {{.*}} {mem_len = 640 : i64}
// EXAMPLE: txl.adaptive_logsoftmax {{.*}} clusters(
// EXAMPLE-LABEL: func.func @score
// EXAMPLE: txl.segment_scan @step

// A pre-LN layer with per-cluster embedding and softmax (div_val 2), memory
// of static length, shared position table.
// CHECK-LABEL: func.func @pre_ln_step
// CHECK-SAME: (%[[TOK:.*]]: tensor<2x4xi64>, %[[MEM:.*]]: tensor<2x3x8xf32>)
func.func @pre_ln_step(%tokens: tensor<2x4xi64>, %mem: tensor<2x3x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x4x30xf32>, tensor<2x6x8xf32>) {
  // CHECK: %[[T0:.*]] = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<10x8xf32>
  %t0 = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<10x8xf32>
  %t1 = txl.weight "transformer.word_emb.emb_layers.1.weight" : tensor<20x4xf32>
  %p0 = txl.weight "transformer.word_emb.emb_projs.0" : tensor<8x8xf32>
  %p1 = txl.weight "transformer.word_emb.emb_projs.1" : tensor<8x4xf32>
  // CHECK: %[[H0:.*]] = txl.embed %[[TOK]] tables(%[[T0]], %{{[a-z0-9_]+}}) projections(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}})
  // CHECK-SAME: {cutoffs = array<i64: 10>, div_val = 2 : i64, vocab_size = 30 : i64}
  %h0 = txl.embed %tokens tables(%t0, %t1) projections(%p0, %p1)
      {cutoffs = array<i64: 10>, div_val = 2 : i64, vocab_size = 30 : i64}
      : (tensor<2x4xi64>, tensor<10x8xf32>, tensor<20x4xf32>, tensor<8x8xf32>, tensor<8x4xf32>) -> tensor<2x4x8xf32>
  // CHECK: %[[POS:.*]] = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %pos = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %g = txl.weight "transformer.layers.0.dec_attn.layer_norm.weight" : tensor<8xf32>
  %b = txl.weight "transformer.layers.0.dec_attn.layer_norm.bias" : tensor<8xf32>
  // CHECK: %[[XN:.*]] = txl.layer_norm %[[H0]], %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {epsilon = 1.000000e-05 : f64}
  %xn = txl.layer_norm %h0, %g, %b {epsilon = 1.0e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  // CHECK: %[[MN:.*]] = txl.layer_norm %[[MEM]]
  %mn = txl.layer_norm %mem, %g, %b {epsilon = 1.0e-05 : f64} : tensor<2x3x8xf32>, tensor<8xf32>, tensor<8xf32>
  %wqkv = txl.weight "transformer.layers.0.dec_attn.qkv_net.weight" : tensor<18x8xf32>
  %wr = txl.weight "transformer.layers.0.dec_attn.r_net.weight" : tensor<6x8xf32>
  %wo = txl.weight "transformer.layers.0.dec_attn.o_net.weight" : tensor<8x6xf32>
  %u = txl.weight "transformer.r_w_bias" : tensor<2x3xf32>
  %v = txl.weight "transformer.r_r_bias" : tensor<2x3xf32>
  // CHECK: txl.rel_attention %[[XN]], %[[MN]], %[[POS]], {{.*}} {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
  %a = txl.rel_attention %xn, %mn, %pos, %wqkv, %wr, %wo, %u, %v
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<2x4x8xf32>, tensor<2x3x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4x8xf32>
  %y = arith.addf %h0, %a : tensor<2x4x8xf32>
  %w1 = txl.weight "transformer.layers.0.pos_ff.CoreNet.0.weight" : tensor<16x8xf32>
  %c1 = txl.weight "transformer.layers.0.pos_ff.CoreNet.0.bias" : tensor<16xf32>
  %w3 = txl.weight "transformer.layers.0.pos_ff.CoreNet.3.weight" : tensor<8x16xf32>
  %c3 = txl.weight "transformer.layers.0.pos_ff.CoreNet.3.bias" : tensor<8xf32>
  // CHECK: txl.ffn %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} : tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>
  %f = txl.ffn %y, %w1, %c1, %w3, %c3
      : tensor<2x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>
  %out = arith.addf %y, %f : tensor<2x4x8xf32>
  // CHECK: txl.mem_update %[[MEM]], %[[H0]] {mem_len = 6 : i64} : tensor<2x3x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  %new = txl.mem_update %mem, %h0 {mem_len = 6 : i64} : tensor<2x3x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  %ow0 = txl.weight "crit.out_layers.0.weight" : tensor<10x8xf32>
  %ow1 = txl.weight "crit.out_layers.1.weight" : tensor<20x4xf32>
  %ob0 = txl.weight "crit.out_layers.0.bias" : tensor<10xf32>
  %ob1 = txl.weight "crit.out_layers.1.bias" : tensor<20xf32>
  %op0 = txl.weight "crit.out_projs.0" : tensor<8x8xf32>
  %cw = txl.weight "crit.cluster_weight" : tensor<1x8xf32>
  %cb = txl.weight "crit.cluster_bias" : tensor<1xf32>
  // CHECK: txl.adaptive_logsoftmax %{{[a-z0-9_]+}} weights(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) biases(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) projections(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) clusters(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}})
  // CHECK-SAME: -> tensor<2x4x30xf32>
  %lp = txl.adaptive_logsoftmax %out weights(%ow0, %ow1) biases(%ob0, %ob1) projections(%op0, %p1) clusters(%cw, %cb)
      {cutoffs = array<i64: 10>, div_val = 2 : i64}
      : (tensor<2x4x8xf32>, tensor<10x8xf32>, tensor<20x4xf32>, tensor<10xf32>, tensor<20xf32>, tensor<8x8xf32>,
         tensor<8x4xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<2x4x30xf32>
  return %out, %lp, %new : tensor<2x4x8xf32>, tensor<2x4x30xf32>, tensor<2x6x8xf32>
}

// Scoring at targets, with the same output layer operands.
// CHECK-LABEL: func.func @nll
// CHECK: txl.adaptive_nll %{{[a-z0-9_]+}} targets(%{{[a-z0-9_]+}}) weights(%{{[a-z0-9_]+}}) biases(%{{[a-z0-9_]+}}) clusters(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}})
// CHECK-SAME: vocab_size = 10 : i64
// CHECK-SAME: -> tensor<1x2xf32>
func.func @nll(%h: tensor<1x2x8xf32>, %t: tensor<1x2xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) -> tensor<1x2xf32> {
  %nll = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 4>, div_val = 1 : i64, vocab_size = 10 : i64}
      : (tensor<1x2x8xf32>, tensor<1x2xi64>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x2xf32>
  return %nll : tensor<1x2xf32>
}

// A step with a dynamic segment length: the stream may end in a partial segment.
func.func @dynamic_step(%tokens: tensor<1x?xi64>, %mem: tensor<1x?x8xf32>)
    -> (tensor<1x?x8xf32>, tensor<1x?x8xf32>) {
  %t = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<30x8xf32>
  %h = txl.embed %tokens tables(%t) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 30 : i64}
      : (tensor<1x?xi64>, tensor<30x8xf32>) -> tensor<1x?x8xf32>
  %new = txl.mem_update %mem, %h {mem_len = 5 : i64} : tensor<1x?x8xf32>, tensor<1x?x8xf32> -> tensor<1x?x8xf32>
  return %h, %new : tensor<1x?x8xf32>, tensor<1x?x8xf32>
}

// CHECK-LABEL: func.func @stream
func.func @stream(%tokens: tensor<1x10xi64>, %mem: tensor<1x?x8xf32>) -> (tensor<1x10x8xf32>, tensor<1x?x8xf32>) {
  // CHECK: %{{[a-z0-9_]+}}:2 = txl.segment_scan @dynamic_step(%{{[a-z0-9_]+}}) memories(%{{[a-z0-9_]+}}) {segment_length = 4 : i64}
  %h, %m = txl.segment_scan @dynamic_step(%tokens) memories(%mem) {segment_length = 4 : i64}
      : (tensor<1x10xi64>, tensor<1x?x8xf32>) -> (tensor<1x10x8xf32>, tensor<1x?x8xf32>)
  return %h, %m : tensor<1x10x8xf32>, tensor<1x?x8xf32>
}

// The window form used by compiled steps: fixed-capacity memories with a row count.
// CHECK-LABEL: func.func @window_form
func.func @window_form(%x: tensor<1x4x8xf32>, %win: tensor<1x6x8xf32>, %m: index, %n: index,
                       %pos: tensor<10x8xf32>, %wqkv: tensor<18x8xf32>, %wr: tensor<6x8xf32>,
                       %wo: tensor<8x6xf32>, %u: tensor<2x3xf32>) -> (tensor<1x4x8xf32>, tensor<1x6x8xf32>) {
  // CHECK: txl.rel_attention %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}[%{{[a-z0-9_]+}}], %{{[a-z0-9_]+}},
  %a = txl.rel_attention %x, %win[%m], %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = true}
      : (tensor<1x4x8xf32>, tensor<1x6x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<1x4x8xf32>
  // CHECK: txl.window_update %{{[a-z0-9_]+}}[%{{[a-z0-9_]+}}], %{{[a-z0-9_]+}}[%{{[a-z0-9_]+}}] {mem_len = 6 : i64} : tensor<1x6x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x8xf32>
  %next = txl.window_update %win[%m], %x[%n] {mem_len = 6 : i64} : tensor<1x6x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x8xf32>
  return %a, %next : tensor<1x4x8xf32>, tensor<1x6x8xf32>
}

// The cached form (txl-kv-cache): projected keys and values of the memory
// in caches, the segment's own from txl.kv_projection.
// CHECK-LABEL: func.func @cached_form
func.func @cached_form(%x: tensor<1x4x8xf32>, %kc: tensor<1x6x6xf32>, %vc: tensor<1x6x6xf32>, %m: index,
                       %pos: tensor<10x8xf32>, %wqkv: tensor<18x8xf32>, %wr: tensor<6x8xf32>,
                       %wo: tensor<8x6xf32>, %u: tensor<2x3xf32>) -> tensor<1x4x8xf32> {
  // CHECK: %[[K:[a-z0-9_]+]], %[[V:[a-z0-9_]+]] = txl.kv_projection %{{[a-z0-9_]+}}, %{{[a-z0-9_]+}} {d_head = 3 : i64, n_head = 2 : i64} : tensor<1x4x8xf32>, tensor<18x8xf32> -> tensor<1x4x6xf32>, tensor<1x4x6xf32>
  %k, %v = txl.kv_projection %x, %wqkv {d_head = 3 : i64, n_head = 2 : i64}
      : tensor<1x4x8xf32>, tensor<18x8xf32> -> tensor<1x4x6xf32>, tensor<1x4x6xf32>
  // CHECK: txl.rel_attention_cached %{{[a-z0-9_]+}}, cache(%{{[a-z0-9_]+}}, %{{[a-z0-9_]+}}) [%{{[a-z0-9_]+}}], segment(%[[K]], %[[V]]),
  %a = txl.rel_attention_cached %x, cache(%kc, %vc)[%m], segment(%k, %v), %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = true}
      : (tensor<1x4x8xf32>, tensor<1x6x6xf32>, tensor<1x6x6xf32>, index, tensor<1x4x6xf32>, tensor<1x4x6xf32>,
         tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
      -> tensor<1x4x8xf32>
  return %a : tensor<1x4x8xf32>
}

// A kernel region round-trips.
// CHECK-LABEL: func.func @kernel
// CHECK: txl.kernel "scale"(%{{[a-z0-9_]+}}) : (tensor<4xf32>) -> tensor<4xf32> {
// CHECK: txl.yield %{{[a-z0-9_]+}} : tensor<4xf32>
func.func @kernel(%x: tensor<4xf32>) -> tensor<4xf32> {
  %y = txl.kernel "scale"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %s = arith.addf %a, %a : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}
