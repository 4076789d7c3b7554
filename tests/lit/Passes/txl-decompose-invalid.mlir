// txl-decompose needs static shapes and window-form memories.
// RUN: txl-opt %s --txl-decompose --split-input-file --verify-diagnostics

func.func @dynamic_memory(%m: tensor<1x?x8xf32>, %h: tensor<1x4x8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{'txl.mem_update' op has no decomposition: run txl-window-memory first}}
  %n = txl.mem_update %m, %h {mem_len = 6 : i64} : tensor<1x?x8xf32>, tensor<1x4x8xf32> -> tensor<1x?x8xf32>
  return %n : tensor<1x?x8xf32>
}

// -----

func.func @dynamic_segment(%x: tensor<1x?x8xf32>, %g: tensor<8xf32>) -> tensor<1x?x8xf32> {
  // expected-error @+1 {{txl-decompose needs static shapes, found 'tensor<1x?x8xf32>' (run txl-window-memory first, with a static segment length)}}
  %y = txl.layer_norm %x, %g, %g {epsilon = 1.0e-05 : f64} : tensor<1x?x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %y : tensor<1x?x8xf32>
}
