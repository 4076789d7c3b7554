// RUN: txl-opt %s --txl-window-memory | FileCheck %s
// RUN: not txl-opt %s --txl-window-memory=step=other 2>&1 | FileCheck %s --check-prefix=NOSTEP

// A pre-LN step: the memory is normalised before attention, so the LayerNorm
// follows the window's type; the mem_update becomes a window_update; the scan
// that drove the step is gone.

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[TOK:.*]]: tensor<2x4xi64>, %[[N:.*]]: index, %[[M:.*]]: index, %[[MEM:.*]]: tensor<2x6x8xf32> {txl.state = "memory"})
// CHECK-SAME: -> (tensor<2x4x8xf32>, tensor<2x6x8xf32>)
func.func @step(%tokens: tensor<2x4xi64>, %mem: tensor<2x?x8xf32>) -> (tensor<2x4x8xf32>, tensor<2x?x8xf32>) {
  %t = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<30x8xf32>
  %h = txl.embed %tokens tables(%t) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 30 : i64}
      : (tensor<2x4xi64>, tensor<30x8xf32>) -> tensor<2x4x8xf32>
  %pos = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %g = txl.weight "g" : tensor<8xf32>
  // CHECK: %[[MN:.*]] = txl.layer_norm %[[MEM]], {{.*}} : tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>
  %mn = txl.layer_norm %mem, %g, %g {epsilon = 1.0e-05 : f64} : tensor<2x?x8xf32>, tensor<8xf32>, tensor<8xf32>
  %wqkv = txl.weight "qkv" : tensor<18x8xf32>
  %wr = txl.weight "r" : tensor<6x8xf32>
  %wo = txl.weight "o" : tensor<8x6xf32>
  %u = txl.weight "u" : tensor<2x3xf32>
  // CHECK: txl.rel_attention %{{.*}}, %[[MN]][%[[M]]], %{{.*}} {d_head = 3 : i64, mem_len = 6 : i64
  %a = txl.rel_attention %h, %mn, %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<2x4x8xf32>, tensor<2x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x4x8xf32>
  // CHECK: %[[NEXT:.*]] = txl.window_update %[[MEM]][%[[M]]], %{{.*}}[%[[N]]] {mem_len = 6 : i64} : tensor<2x6x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  %next = txl.mem_update %mem, %h {mem_len = 6 : i64} : tensor<2x?x8xf32>, tensor<2x4x8xf32> -> tensor<2x?x8xf32>
  // CHECK: return %{{.*}}, %[[NEXT]] : tensor<2x4x8xf32>, tensor<2x6x8xf32>
  return %a, %next : tensor<2x4x8xf32>, tensor<2x?x8xf32>
}

// CHECK-NOT: func.func @score
// CHECK-NOT: txl.segment_scan
func.func @score(%tokens: tensor<2x?xi64>) -> (tensor<2x?x8xf32>, tensor<2x?x8xf32>) {
  %e = tensor.empty() : tensor<2x0x8xf32>
  %m = tensor.cast %e : tensor<2x0x8xf32> to tensor<2x?x8xf32>
  %h, %last = txl.segment_scan @step(%tokens) memories(%m) {segment_length = 4 : i64}
      : (tensor<2x?xi64>, tensor<2x?x8xf32>) -> (tensor<2x?x8xf32>, tensor<2x?x8xf32>)
  return %h, %last : tensor<2x?x8xf32>, tensor<2x?x8xf32>
}

// NOSTEP: error: txl-window-memory: no function named 'other'
