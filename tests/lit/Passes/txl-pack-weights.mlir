// RUN: txl-opt %s --txl-decompose --txl-pack-weights | FileCheck %s
// RUN: txl-opt %s --txl-decompose --txl-pack-weights=panel=8 | FileCheck %s --check-prefix=P8

// The FFN's two weights ([40, 24] and [24, 40], nn.Linear [out, in]) are
// read from panels of 16 output rows, zero-padded (40 -> 3 panels, 24 -> 2),
// packed at the start of the function; the contractions read them through
// (n floordiv 16, k, n mod 16). The bias vectors are not contractions' right
// matrices and stay as they are.

// CHECK-DAG: #[[PANEL:map[0-9]*]] = affine_map<(d0, d1, d2, d3) -> (d2 floordiv 16, d3, d2 mod 16)>
// CHECK-LABEL: func.func @ffn
// CHECK: %[[W1:.*]] = txl.weight "up" : tensor<40x24xf32>
// CHECK: %[[P1:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3x24x16xf32>) attrs =  {txl.name = "pack.0"}
// CHECK: arith.cmpi slt, %{{.*}}, %c40
// CHECK: tensor.extract %[[W1]]
// CHECK: %[[W2:.*]] = txl.weight "down" : tensor<24x40xf32>
// CHECK: %[[P2:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x40x16xf32>) attrs =  {txl.name = "pack.1"}
// CHECK: linalg.generic {indexing_maps = [#{{map[0-9]*}}, #[[PANEL]], #{{map[0-9]*}}]{{.*}} ins(%{{.*}}, %[[P1]] : tensor<1x4x24xf32>, tensor<3x24x16xf32>) {{.*}} {txl.name = "ffn.up"}
// CHECK: ins(%{{.*}}, %[[P2]] : tensor<1x4x40xf32>, tensor<2x40x16xf32>) {{.*}} {txl.name = "ffn.down"}
// P8: outs(%{{.*}} : tensor<5x24x8xf32>) attrs =  {txl.name = "pack.0"}
// P8: outs(%{{.*}} : tensor<3x40x8xf32>) attrs =  {txl.name = "pack.1"}
func.func @ffn(%x: tensor<1x4x24xf32>) -> tensor<1x4x24xf32> {
  %w1 = txl.weight "up" : tensor<40x24xf32>
  %b1 = txl.weight "up.bias" : tensor<40xf32>
  %w2 = txl.weight "down" : tensor<24x40xf32>
  %b2 = txl.weight "down.bias" : tensor<24xf32>
  %y = txl.ffn %x, %w1, %b1, %w2, %b2
      : tensor<1x4x24xf32>, tensor<40x24xf32>, tensor<40xf32>, tensor<24x40xf32>, tensor<24xf32>
  return %y : tensor<1x4x24xf32>
}
