// RUN: txl-opt %s --txl-decompose --txl-fuse | FileCheck %s
// RUN: txl-opt %s --txl-decompose --txl-fuse=mode=none | FileCheck %s --check-prefix=NONE
// RUN: not txl-opt %s --txl-fuse=mode=some 2>&1 | FileCheck %s --check-prefix=BADMODE

// A post-LN layer's FFN half: up-projection + bias + ReLU is one kernel; the
// down-projection + bias + residual + LayerNorm is another; the inits they
// need are copied in, the weights come in as operands.

// CHECK-LABEL: func.func @ffn_block
// CHECK-SAME: (%[[X:.*]]: tensor<1x4x8xf32>, %[[W1:.*]]: tensor<16x8xf32>, %[[B1:.*]]: tensor<16xf32>, %[[W2:.*]]: tensor<8x16xf32>, %[[B2:.*]]: tensor<8xf32>, %[[G:.*]]: tensor<8xf32>)
// CHECK: %[[UP:.*]] = txl.kernel "ffn.up"(%[[B1]], %[[X]], %[[W1]]) : (tensor<16xf32>, tensor<1x4x8xf32>, tensor<16x8xf32>) -> tensor<1x4x16xf32>
// CHECK: tensor.empty
// CHECK: {txl.name = "ffn.up.bias"}
// CHECK: {txl.name = "ffn.up"}
// CHECK: {txl.name = "ffn.relu"}
// CHECK: txl.yield %{{.*}} : tensor<1x4x16xf32>
// CHECK: %[[DOWN:.*]] = txl.kernel "ffn.down"(%[[B2]], %[[UP]], %[[W2]], %[[X]], %[[G]])
// CHECK: {txl.name = "ffn.down"}
// CHECK: {txl.name = "residual"}
// CHECK: {txl.name = "layer_norm"}
// CHECK: txl.yield
// CHECK: return %[[DOWN]]
// CHECK-NOT: txl.kernel

// With mode=none every linalg op is a kernel of its own.
// NONE-LABEL: func.func @ffn_block
// NONE-COUNT-11: txl.kernel
// NONE-NOT: txl.kernel

// BADMODE: txl-fuse: mode must be 'default' or 'none', found 'some'
func.func @ffn_block(%x: tensor<1x4x8xf32>, %w1: tensor<16x8xf32>, %b1: tensor<16xf32>,
                     %w2: tensor<8x16xf32>, %b2: tensor<8xf32>, %g: tensor<8xf32>) -> tensor<1x4x8xf32> {
  %f = txl.ffn %x, %w1, %b1, %w2, %b2 : tensor<1x4x8xf32>, tensor<16x8xf32>, tensor<16xf32>, tensor<8x16xf32>, tensor<8xf32>
  %r = arith.addf %x, %f : tensor<1x4x8xf32>
  %y = txl.layer_norm %r, %g, %g {epsilon = 1.0e-05 : f64} : tensor<1x4x8xf32>, tensor<8xf32>, tensor<8xf32>
  return %y : tensor<1x4x8xf32>
}
