// RUN: txl-opt %s --split-input-file --txl-kv-cache --verify-diagnostics | FileCheck %s
// RUN: txl-opt %s --split-input-file --txl-kv-cache=keep-memories=true --verify-diagnostics | FileCheck %s --check-prefix=KEEP

// Post-LN: the attention's input is the row appended to the memory. The
// memory becomes a key cache and a value cache; only the segment's rows are
// projected; the caches take the same window update as the memory did.

// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[TOK:[^:]*]]: tensor<2x4xi64>, %[[N:[^:]*]]: index, %[[M:[^:]*]]: index,
// CHECK-SAME: %[[KC:[^:]*]]: tensor<2x6x6xf32> {txl.state = "keys"}, %[[VC:[^:]*]]: tensor<2x6x6xf32> {txl.state = "values"})
// CHECK-SAME: -> (tensor<2x4x8xf32>, tensor<2x6x6xf32>, tensor<2x6x6xf32>)
// KEEP-LABEL: func.func @step
// KEEP-SAME: %{{[^:]*}}: tensor<2x6x8xf32> {txl.state = "memory"}, %{{[^:]*}}: tensor<2x6x6xf32> {txl.state = "keys"}, %{{[^:]*}}: tensor<2x6x6xf32> {txl.state = "values"}
// KEEP-SAME: -> (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<2x6x6xf32>, tensor<2x6x6xf32>)
func.func @step(%tokens: tensor<2x4xi64>, %n: index, %m: index,
                %mem: tensor<2x6x8xf32> {txl.state = "memory"})
    -> (tensor<2x4x8xf32>, tensor<2x6x8xf32>) {
  %t = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<30x8xf32>
  %h = txl.embed %tokens tables(%t) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 30 : i64}
      : (tensor<2x4xi64>, tensor<30x8xf32>) -> tensor<2x4x8xf32>
  %pos = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %wqkv = txl.weight "qkv" : tensor<18x8xf32>
  %wr = txl.weight "r" : tensor<6x8xf32>
  %wo = txl.weight "o" : tensor<8x6xf32>
  %u = txl.weight "u" : tensor<2x3xf32>
  // CHECK: %[[K:[^,]*]], %[[V:[^ ]*]] = txl.kv_projection %[[H:[^,]*]], %[[W:[^ ]*]] {d_head = 3 : i64, n_head = 2 : i64}
  // CHECK-SAME: : tensor<2x4x8xf32>, tensor<18x8xf32> -> tensor<2x4x6xf32>, tensor<2x4x6xf32>
  // CHECK: txl.rel_attention_cached %[[H]], cache(%[[KC]], %[[VC]]) [%[[M]]], segment(%[[K]], %[[V]]), %{{.*}}, %[[W]]
  // CHECK-SAME: mem_len = 6 : i64
  // CHECK-NOT: txl.rel_attention %
  %a = txl.rel_attention %h, %mem[%m], %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<2x4x8xf32>
  // KEEP: %[[NEXT:.*]] = txl.window_update %{{.*}}[%{{.*}}], %{{.*}}[%{{.*}}] {mem_len = 6 : i64} : tensor<2x6x8xf32>
  %next = txl.window_update %mem[%m], %h[%n] {mem_len = 6 : i64} : tensor<2x6x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  // CHECK: %[[NK:.*]] = txl.window_update %[[KC]][%[[M]]], %[[K]][%[[N]]] {mem_len = 6 : i64} : tensor<2x6x6xf32>, tensor<2x4x6xf32> -> tensor<2x6x6xf32>
  // CHECK: %[[NV:.*]] = txl.window_update %[[VC]][%[[M]]], %[[V]][%[[N]]] {mem_len = 6 : i64}
  // CHECK: return %{{.*}}, %[[NK]], %[[NV]] : tensor<2x4x8xf32>, tensor<2x6x6xf32>, tensor<2x6x6xf32>
  // KEEP: return %{{.*}}, %[[NEXT]], %{{.*}}, %{{.*}} :
  return %a, %next : tensor<2x4x8xf32>, tensor<2x6x8xf32>
}

// -----

// Pre-LN: memory and input go through the same LayerNorm (same weights by
// name), so the cached keys are those of the normalised rows; the memory's
// LayerNorm goes away with the memory.

// CHECK-LABEL: func.func @step
// CHECK: %[[HN:.*]] = txl.layer_norm %{{.*}} : tensor<2x4x8xf32>
// CHECK-NOT: txl.layer_norm
// CHECK: txl.kv_projection %[[HN]]
// CHECK: txl.rel_attention_cached %[[HN]]
func.func @step(%tokens: tensor<2x4xi64>, %n: index, %m: index,
                %mem: tensor<2x6x8xf32> {txl.state = "memory"})
    -> (tensor<2x4x8xf32>, tensor<2x6x8xf32>) {
  %t = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<30x8xf32>
  %h = txl.embed %tokens tables(%t) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 30 : i64}
      : (tensor<2x4xi64>, tensor<30x8xf32>) -> tensor<2x4x8xf32>
  %pos = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %g1 = txl.weight "ln.weight" : tensor<8xf32>
  %b1 = txl.weight "ln.bias" : tensor<8xf32>
  %hn = txl.layer_norm %h, %g1, %b1 {epsilon = 1.0e-05 : f64} : tensor<2x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  %g2 = txl.weight "ln.weight" : tensor<8xf32>
  %b2 = txl.weight "ln.bias" : tensor<8xf32>
  %mn = txl.layer_norm %mem, %g2, %b2 {epsilon = 1.0e-05 : f64} : tensor<2x6x8xf32>, tensor<8xf32>, tensor<8xf32>
  %wqkv = txl.weight "qkv" : tensor<18x8xf32>
  %wr = txl.weight "r" : tensor<6x8xf32>
  %wo = txl.weight "o" : tensor<8x6xf32>
  %u = txl.weight "u" : tensor<2x3xf32>
  %a = txl.rel_attention %hn, %mn[%m], %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = true}
      : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<2x4x8xf32>
  %next = txl.window_update %mem[%m], %h[%n] {mem_len = 6 : i64} : tensor<2x6x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  return %a, %next : tensor<2x4x8xf32>, tensor<2x6x8xf32>
}

// -----

// The attention reads the memory but its queries are not the rows the
// memory receives: caching keys would change the result, so the pass refuses.

func.func @step(%tokens: tensor<2x4xi64>, %n: index, %m: index,
                // expected-error @+1 {{txl-kv-cache: memory argument #3: the attention's input is not the rows appended to it}}
                %mem: tensor<2x6x8xf32> {txl.state = "memory"}, %other: tensor<2x4x8xf32>)
    -> (tensor<2x4x8xf32>, tensor<2x6x8xf32>) {
  %t = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<30x8xf32>
  %h = txl.embed %tokens tables(%t) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 30 : i64}
      : (tensor<2x4xi64>, tensor<30x8xf32>) -> tensor<2x4x8xf32>
  %pos = txl.pos_emb {clamp_len = 0 : i64} : tensor<10x8xf32>
  %wqkv = txl.weight "qkv" : tensor<18x8xf32>
  %wr = txl.weight "r" : tensor<6x8xf32>
  %wo = txl.weight "o" : tensor<8x6xf32>
  %u = txl.weight "u" : tensor<2x3xf32>
  %a = txl.rel_attention %other, %mem[%m], %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<2x4x8xf32>, tensor<2x6x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>,
         tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<2x4x8xf32>
  %next = txl.window_update %mem[%m], %h[%n] {mem_len = 6 : i64} : tensor<2x6x8xf32>, tensor<2x4x8xf32> -> tensor<2x6x8xf32>
  return %a, %next : tensor<2x4x8xf32>, tensor<2x6x8xf32>
}
