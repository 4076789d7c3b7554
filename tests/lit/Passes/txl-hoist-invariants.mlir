// RUN: txl-opt %s --split-input-file --txl-hoist-invariants | FileCheck %s

// Kernels that read only weights and constants ("pos", "proj") move into
// @prepare; the one result the step still reads becomes its last argument,
// marked with the @prepare result it receives. Kernels that read the step's
// inputs stay, and so does a weight the step still reads.

// CHECK-LABEL: func.func @prepare() -> tensor<4xf32>
// CHECK: %[[W:.*]] = txl.weight "w" : tensor<4xf32>
// CHECK: %[[POS:.*]] = txl.kernel "pos"() : () -> tensor<4xf32>
// CHECK: %[[PROJ:.*]] = txl.kernel "proj"(%[[POS]], %[[W]])
// CHECK: return %[[PROJ]] : tensor<4xf32>
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[X:[^:]*]]: tensor<4xf32>, %[[P:[^:]*]]: tensor<4xf32> {txl.prepared = 0 : i64}) -> tensor<4xf32>
// CHECK-NOT: txl.kernel "pos"
// CHECK-NOT: txl.kernel "proj"
// CHECK: %[[W2:.*]] = txl.weight "w"
// CHECK: txl.kernel "use"(%[[X]], %[[P]], %[[W2]])
func.func @step(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = txl.weight "w" : tensor<4xf32>
  %pos = txl.kernel "pos"() : () -> tensor<4xf32> {
    %c = arith.constant dense<1.0> : tensor<4xf32>
    txl.yield %c : tensor<4xf32>
  }
  %proj = txl.kernel "proj"(%pos, %w) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %s = arith.addf %a, %b : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  %y = txl.kernel "use"(%x, %proj, %w) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>):
    %s = arith.addf %a, %b : tensor<4xf32>
    %t = arith.addf %s, %c : tensor<4xf32>
    txl.yield %t : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// Nothing invariant to compute: no @prepare, the step is unchanged.
// CHECK-NOT: func.func @prepare
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{[^:]*}}: tensor<4xf32>) -> tensor<4xf32>
func.func @step(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = txl.weight "w" : tensor<4xf32>
  %y = txl.kernel "use"(%x, %w) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %s = arith.addf %a, %b : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// @nll is hoisted into the same @prepare; a computation equal to one of the
// step's (the same weight packed the same way) is computed once, and both
// functions receive it. What only @nll needs is a result of its own.
// CHECK-LABEL: func.func @prepare() -> (tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[W:.*]] = txl.weight "w" : tensor<4xf32>
// CHECK: %[[PACK:.*]] = txl.kernel "pack.0"(%[[W]])
// CHECK-NOT: txl.kernel "pack.0"
// CHECK: %[[V:.*]] = txl.weight "v" : tensor<4xf32>
// CHECK: %[[PACKV:.*]] = txl.kernel "pack.1"(%[[V]])
// CHECK: return %[[PACK]], %[[PACKV]] : tensor<4xf32>, tensor<4xf32>
// CHECK-LABEL: func.func @step
// CHECK-SAME: %{{[^:]*}}: tensor<4xf32> {txl.prepared = 0 : i64}) -> tensor<4xf32>
// CHECK-LABEL: func.func @nll
// CHECK-SAME: %{{[^:]*}}: tensor<4xf32> {txl.prepared = 0 : i64}, %{{[^:]*}}: tensor<4xf32> {txl.prepared = 1 : i64}) -> tensor<4xf32>
func.func @step(%x: tensor<4xf32>) -> tensor<4xf32> {
  %w = txl.weight "w" : tensor<4xf32>
  %p = txl.kernel "pack.0"(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %s = arith.addf %a, %a : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  %y = txl.kernel "use"(%x, %p) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>):
    %s = arith.addf %a, %b : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}
func.func @nll(%h: tensor<4xf32>) -> tensor<4xf32> {
  %w = txl.weight "w" : tensor<4xf32>
  %p = txl.kernel "pack.0"(%w) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %s = arith.addf %a, %a : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  %v = txl.weight "v" : tensor<4xf32>
  %q = txl.kernel "pack.1"(%v) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %s = arith.addf %a, %a : tensor<4xf32>
    txl.yield %s : tensor<4xf32>
  }
  %y = txl.kernel "score"(%h, %p, %q) : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: tensor<4xf32>, %c: tensor<4xf32>):
    %s = arith.addf %a, %b : tensor<4xf32>
    %t = arith.addf %s, %c : tensor<4xf32>
    txl.yield %t : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}
