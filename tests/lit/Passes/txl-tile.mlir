// RUN: txl-opt %s --split-input-file --txl-decompose --txl-fuse --txl-tile=target=x86-64-linux-avx512 | FileCheck %s
// RUN: txl-opt %s --split-input-file --txl-decompose --txl-fuse --txl-tile=target=x86-64-linux-avx2 | FileCheck %s --check-prefix=AVX2
// RUN: txl-opt %s --split-input-file --pass-pipeline="builtin.module(txl-decompose, txl-fuse, txl-tile, txl-tile{target=x86-64-linux-avx2})" | FileCheck %s --check-prefix=KEEP
// RUN: txl-opt %s --split-input-file --pass-pipeline="builtin.module(txl-decompose, txl-fuse, txl-tile, txl-tile{target=x86-64-linux-avx2 overwrite=true})" | FileCheck %s --check-prefix=AVX2
// Kernels already in linalg form (packed weights) go to txl-tile directly.
// RUN: txl-opt %s --split-input-file --txl-tile=target=x86-64-linux-avx512 | FileCheck %s --check-prefix=PACKED
// RUN: txl-opt %s --split-input-file --txl-tile=target=x86-64-linux-avx2 | FileCheck %s --check-prefix=PACKED-AVX2

// The GEMM of ffn.up (loops b, t, n, k) runs k outside n, vectorizes n by the
// target's f32 width and parallelises t; its bias init is inlined; the ReLU
// is the kernel's output, computed at root, vectorized (too small for threads).
// CHECK: txl.kernel "ffn.up"
// CHECK-SAME: txl.schedule = {funcs = [{compute = "inline", name = "ffn.up.bias"}, {compute = "root", name = "ffn.up", update = {order = ["d0", "d1", "d3", "d2"], parallel = ["d1"], vectorize = [{loop = "d2", width = 16 : i64}]}}, {compute = "root", name = "ffn.relu", pure = {vectorize = [{loop = "d2", width = 16 : i64}]}}], vector_width = 16 : i64}
// CHECK-SAME: txl.target = "x86-64-linux-avx512"
// AVX2: txl.kernel "ffn.up"
// AVX2-SAME: vectorize = [{loop = "d2", width = 8 : i64}]
// AVX2-SAME: txl.target = "x86-64-linux-avx2"
// An existing schedule is kept unless overwrite is set.
// KEEP: txl.kernel "ffn.up"
// KEEP-SAME: txl.target = "host"

// Element-wise generics read by one other generic are inlined (the square of
// the LayerNorm variance); generics read twice are computed at root,
// vectorized along their innermost loop.
// CHECK: txl.kernel "ffn.down"
// CHECK-SAME: {compute = "root", name = "layer_norm.center", pure = {vectorize = [{loop = "d2", width = 16 : i64}]}}, {compute = "inline", name = "layer_norm.square"}
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

// -----

// A GEMM on a packed weight (wp [ceil(N/16), K, 16] read at (n floordiv 16,
// k, n mod 16): N = 40 is 3 panels, the last one partial) gets register
// tiles. The ReLU, the kernel's result, is tiled: n in 16-wide panels
// (guarded), blocks of 3 panels shifted inwards, rows in blocks of 16 (two
// register tiles, enough tiles for the threads), the tile loops fused with
// the batch loop, outermost the panel blocks, and run in parallel. The GEMM
// is inlined into it; its accumulator, computed at each tile, is updated in
// 8-row x 3-panel register tiles (rows and panels unrolled, lanes
// vectorized) with the reduction outermost.
// PACKED-LABEL: func.func @packed_ffn_up
// PACKED: txl.kernel "ffn.up"
// PACKED-SAME: {compute = "inline", name = "ffn.up.bias"}
// PACKED-SAME: {accumulator = {compute_at = {func = "ffn.relu", loop = "tile"}
// PACKED-SAME: update = {order = ["d0", "d1", "d3", "d1i", "d2", "d2i"], split = [{factor = 16 : i64, inner = "d2i", loop = "d2", tail = "round_up"}, {factor = 8 : i64, inner = "d1i", loop = "d1", tail = "guard"}], unroll = ["d2", "d1i"], vectorize = [{loop = "d2i", width = 16 : i64}]}}, compute = "inline", name = "ffn.up"}
// PACKED-SAME: {compute = "root", name = "ffn.relu", pure = {fuse = [{inner = "d0", into = "tile", outer = "d2"}, {inner = "d1", into = "tile", outer = "tile"}], order = ["d2", "d0", "d1", "d1i", "d2v", "d2i"], parallel = ["tile"], split = [{factor = 16 : i64, inner = "d2i", loop = "d2", tail = "guard"}, {factor = 3 : i64, inner = "d2v", loop = "d2", tail = "shift_inwards"}, {factor = 16 : i64, inner = "d1i", loop = "d1", tail = "shift_inwards"}], vectorize = [{loop = "d2i", width = 16 : i64}]}}
// With AVX2, a panel is two vectors of 8, both unrolled; tiles of 6 rows.
// PACKED-AVX2-LABEL: func.func @packed_ffn_up
// PACKED-AVX2: unroll = ["d2", "d1i", "d2i"], vectorize = [{loop = "d2i", width = 8 : i64}]
func.func @packed_ffn_up(%x: tensor<2x20x40xf32>, %w: tensor<3x40x16xf32>, %b: tensor<40xf32>) -> tensor<2x20x40xf32> {
  %r = txl.kernel "ffn.up"(%b, %x, %w) : (tensor<40xf32>, tensor<2x20x40xf32>, tensor<3x40x16xf32>) -> tensor<2x20x40xf32> {
  ^bb0(%bias: tensor<40xf32>, %in: tensor<2x20x40xf32>, %wp: tensor<3x40x16xf32>):
    %e0 = tensor.empty() : tensor<2x20x40xf32>
    %init = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%bias : tensor<40xf32>) outs(%e0 : tensor<2x20x40xf32>) attrs = {txl.name = "ffn.up.bias"} {
    ^bb0(%v: f32, %o: f32):
      linalg.yield %v : f32
    } -> tensor<2x20x40xf32>
    %mm = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d2 floordiv 16, d3, d2 mod 16)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%in, %wp : tensor<2x20x40xf32>, tensor<3x40x16xf32>) outs(%init : tensor<2x20x40xf32>) attrs = {txl.name = "ffn.up"} {
    ^bb0(%a: f32, %bw: f32, %acc: f32):
      %p = arith.mulf %a, %bw : f32
      %s = arith.addf %acc, %p : f32
      linalg.yield %s : f32
    } -> tensor<2x20x40xf32>
    %e1 = tensor.empty() : tensor<2x20x40xf32>
    %relu = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1, d2)>], iterator_types = ["parallel", "parallel", "parallel"]} ins(%mm : tensor<2x20x40xf32>) outs(%e1 : tensor<2x20x40xf32>) attrs = {txl.name = "ffn.relu"} {
    ^bb0(%v: f32, %o: f32):
      %c0 = arith.constant 0.0 : f32
      %m = arith.maximumf %v, %c0 : f32
      linalg.yield %m : f32
    } -> tensor<2x20x40xf32>
    txl.yield %relu : tensor<2x20x40xf32>
  }
  return %r : tensor<2x20x40xf32>
}
