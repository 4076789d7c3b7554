// RUN: txl-opt %s --split-input-file --txl-decompose --txl-fuse --txl-tile=target=x86-64-linux-avx512 | FileCheck %s
// RUN: txl-opt %s --split-input-file --txl-decompose --txl-fuse --txl-tile=target=x86-64-linux-avx2 | FileCheck %s --check-prefix=AVX2
// RUN: txl-opt %s --split-input-file --pass-pipeline="builtin.module(txl-decompose, txl-fuse, txl-tile, txl-tile{target=x86-64-linux-avx2})" | FileCheck %s --check-prefix=KEEP
// RUN: txl-opt %s --split-input-file --pass-pipeline="builtin.module(txl-decompose, txl-fuse, txl-tile, txl-tile{target=x86-64-linux-avx2 overwrite=true})" | FileCheck %s --check-prefix=AVX2

// The GEMM of ffn.up (loops b, t, n, k) runs k outside n, vectorizes n by the
// target's f32 width and parallelises t; its bias init is inlined; the ReLU
// is the kernel's output, computed at root.
// CHECK: txl.kernel "ffn.up"
// CHECK-SAME: txl.schedule = {funcs = [{compute = "inline", name = "ffn.up.bias"}, {compute = "root", name = "ffn.up", update = {order = ["d0", "d1", "d3", "d2"], parallel = ["d1"], vectorize = [{loop = "d2", width = 16 : i64}]}}, {compute = "root", name = "ffn.relu"}], vector_width = 16 : i64}
// CHECK-SAME: txl.target = "x86-64-linux-avx512"
// AVX2: txl.kernel "ffn.up"
// AVX2-SAME: vectorize = [{loop = "d2", width = 8 : i64}]
// AVX2-SAME: txl.target = "x86-64-linux-avx2"
// An existing schedule is kept unless overwrite is set.
// KEEP: txl.kernel "ffn.up"
// KEEP-SAME: txl.target = "host"

// Element-wise generics read by one other generic are inlined (the square of
// the LayerNorm variance); generics read twice are computed at root.
// CHECK: txl.kernel "ffn.down"
// CHECK-SAME: {compute = "root", name = "layer_norm.center"}, {compute = "inline", name = "layer_norm.square"}
func.func @ffn_block(%x: tensor<1x4x32xf32>, %w1: tensor<64x32xf32>, %b1: tensor<64xf32>,
                     %w2: tensor<32x64xf32>, %b2: tensor<32xf32>, %g: tensor<32xf32>) -> tensor<1x4x32xf32> {
  %f = txl.ffn %x, %w1, %b1, %w2, %b2 : tensor<1x4x32xf32>, tensor<64x32xf32>, tensor<64xf32>, tensor<32x64xf32>, tensor<32xf32>
  %r = arith.addf %x, %f : tensor<1x4x32xf32>
  %y = txl.layer_norm %r, %g, %g {epsilon = 1.0e-05 : f64} : tensor<1x4x32xf32>, tensor<32xf32>, tensor<32xf32>
  return %y : tensor<1x4x32xf32>
}

// -----

// Generics that share a name in one kernel are named by position.
// CHECK-LABEL: func.func @logsoftmax
// CHECK: txl.kernel "logsoftmax"
// CHECK-SAME: name = "#0"
func.func @logsoftmax(%h: tensor<1x2x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) -> tensor<1x2x10xf32> {
  %lp = txl.adaptive_logsoftmax %h weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 4>, div_val = 1 : i64}
      : (tensor<1x2x8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x2x10xf32>
  return %lp : tensor<1x2x10xf32>
}
