// RUN: txl-opt %s --txl-decompose --txl-fuse | FileCheck %s --check-prefix=NLL

// Scoring at targets: the head (with the tail's row table and count), the
// tail cluster as a kernel of its own that the host skips when its count
// (an index input) is 0, then the assembly.
// NLL-LABEL: func.func @nll
// NLL: txl.kernel "nll.head"
// NLL: txl.yield
// NLL: %[[COUNT:.*]] = arith.index_cast %{{.*}} : i64 to index
// NLL: txl.kernel "nll.tail.1"({{[^,]*}}, {{[^,]*}}, {{[^,]*}}, {{[^,]*}}, %[[COUNT]], {{.*}}) {skip_when_zero = 4 : i64}
// NLL: txl.kernel "nll.assemble"
// NLL-NOT: txl.kernel
func.func @nll(%h: tensor<1x2x8xf32>, %t: tensor<1x2xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) -> tensor<1x2xf32> {
  %nll = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 4>, div_val = 1 : i64, vocab_size = 10 : i64}
      : (tensor<1x2x8xf32>, tensor<1x2xi64>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x2xf32>
  return %nll : tensor<1x2xf32>
}
