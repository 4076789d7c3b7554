// Every verifier rule of the txl dialect gives a located error, never a crash.
// RUN: txl-opt %s -split-input-file -verify-diagnostics

// === txl.weight ===
func.func @weight_empty_name() {
  // expected-error @+1 {{needs a non-empty parameter name}}
  %w = txl.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_dynamic() {
  // expected-error @+1 {{parameter 'w' must have a static shape, found 'tensor<?x4xf32>'}}
  %w = txl.weight "w" : tensor<?x4xf32>
  return
}

// -----

func.func @weight_not_f32() {
  // expected-error @+1 {{result #0 must be ranked tensor of 32-bit float values}}
  %w = txl.weight "w" : tensor<4xi32>
  return
}

// -----

// === txl.embed ===

func.func @embed_vocab(%t: tensor<1x4xi64>, %e: tensor<0x8xf32>) {
  // expected-error @+1 {{vocab_size must be positive, found 0}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 0 : i64} : (tensor<1x4xi64>, tensor<0x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_div_val(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{div_val must be >= 1, found 0}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 0 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_cutoffs_order(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{cutoffs must be strictly increasing and positive, found [5, 3]}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64: 5, 3>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_cutoffs_vocab(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{cutoffs must be below the vocabulary size 10, found [4, 10]}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64: 4, 10>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_tokens_rank(%t: tensor<4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{tokens must be a rank-2 tensor [batch, length], found 'tensor<4xi64>'}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<4xi64>, tensor<10x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_result_rank(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{result must be a rank-3 tensor [batch, length, d_model], found 'tensor<4x8xf32>'}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @embed_dynamic_width(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{result must have a static d_model (dimension 2)}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

func.func @embed_result_shape(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{result must have shape [batch, length, d_model] = [1, 4, 8], found 'tensor<1x5x8xf32>'}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>) -> tensor<1x5x8xf32>
  return
}

// -----

func.func @embed_one_table(%t: tensor<1x4xi64>, %e: tensor<10x8xf32>) {
  // expected-error @+1 {{expects 1 embedding tables (div_val == 1 uses one table), found 2}}
  %h = txl.embed %t tables(%e, %e) {cutoffs = array<i64: 5>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x8xf32>, tensor<10x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_table_vocab(%t: tensor<1x4xi64>, %e: tensor<9x8xf32>) {
  // expected-error @+1 {{table 0 must have shape [vocab_size, d_embed] = [10, 8], found 'tensor<9x8xf32>'}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<9x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_missing_projection(%t: tensor<1x4xi64>, %e: tensor<10x6xf32>) {
  // expected-error @+1 {{expects 1 projections (div_val == 1 projects iff d_embed != d_model), found 0}}
  %h = txl.embed %t tables(%e) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x6xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_projection_shape(%t: tensor<1x4xi64>, %e: tensor<10x6xf32>, %p: tensor<6x8xf32>) {
  // expected-error @+1 {{projection 0 must have shape [d_model, d_embed] = [8, 6], found 'tensor<6x8xf32>'}}
  %h = txl.embed %t tables(%e) projections(%p) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<10x6xf32>, tensor<6x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_tables_per_cluster(%t: tensor<1x4xi64>, %e: tensor<5x8xf32>, %p: tensor<8x8xf32>) {
  // expected-error @+1 {{expects 2 embedding tables (one per cluster), found 1}}
  %h = txl.embed %t tables(%e) projections(%p) {cutoffs = array<i64: 5>, div_val = 2 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<5x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_projections_per_cluster(%t: tensor<1x4xi64>, %e0: tensor<5x8xf32>, %e1: tensor<5x4xf32>, %p: tensor<8x8xf32>) {
  // expected-error @+1 {{expects 2 projections (div_val > 1 projects every cluster), found 1}}
  %h = txl.embed %t tables(%e0, %e1) projections(%p) {cutoffs = array<i64: 5>, div_val = 2 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<5x8xf32>, tensor<5x4xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_cluster_too_narrow(%t: tensor<1x4xi64>, %e0: tensor<5x2xf32>, %e1: tensor<5x1xf32>, %p0: tensor<8x2xf32>, %p1: tensor<8x1xf32>) {
  // expected-error @+1 {{cluster 1 has width 2 / div_val^1 = 0; d_embed is too small for div_val 4}}
  %h = txl.embed %t tables(%e0, %e1) projections(%p0, %p1) {cutoffs = array<i64: 5>, div_val = 4 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<5x2xf32>, tensor<5x1xf32>, tensor<8x2xf32>, tensor<8x1xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_cluster_table(%t: tensor<1x4xi64>, %e0: tensor<5x8xf32>, %e1: tensor<5x8xf32>, %p0: tensor<8x8xf32>, %p1: tensor<8x4xf32>) {
  // expected-error @+1 {{table 1 must have shape [ends[i+1] - ends[i], d_embed / div_val^i] = [5, 4], found 'tensor<5x8xf32>'}}
  %h = txl.embed %t tables(%e0, %e1) projections(%p0, %p1) {cutoffs = array<i64: 5>, div_val = 2 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<5x8xf32>, tensor<5x8xf32>, tensor<8x8xf32>, tensor<8x4xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @embed_cluster_projection(%t: tensor<1x4xi64>, %e0: tensor<5x8xf32>, %e1: tensor<5x4xf32>, %p0: tensor<8x8xf32>, %p1: tensor<8x8xf32>) {
  // expected-error @+1 {{projection 1 must have shape [d_model, d_embed / div_val^i] = [8, 4], found 'tensor<8x8xf32>'}}
  %h = txl.embed %t tables(%e0, %e1) projections(%p0, %p1) {cutoffs = array<i64: 5>, div_val = 2 : i64, vocab_size = 10 : i64} : (tensor<1x4xi64>, tensor<5x8xf32>, tensor<5x4xf32>, tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

// === txl.pos_emb ===

func.func @pos_emb_rank() {
  // expected-error @+1 {{result must be a static [distances, d_model] tensor, found 'tensor<8xf32>'}}
  %p = txl.pos_emb {clamp_len = 0 : i64} : tensor<8xf32>
  return
}

// -----

func.func @pos_emb_no_rows() {
  // expected-error @+1 {{needs at least one distance, found 'tensor<0x8xf32>'}}
  %p = txl.pos_emb {clamp_len = 0 : i64} : tensor<0x8xf32>
  return
}

// -----

func.func @pos_emb_odd() {
  // expected-error @+1 {{d_model must be even and positive (sines and cosines fill one half each), found 7}}
  %p = txl.pos_emb {clamp_len = 0 : i64} : tensor<4x7xf32>
  return
}

// -----

// === txl.rel_attention ===
func.func @attn_heads(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{n_head must be positive, found 0}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 0 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_head_width(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{d_head must be positive, found 0}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 0 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_mem_len(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{mem_len must be >= 0, found -1}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = -1 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_same_length_no_memory(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{same_length with mem_len = 0 masks every key}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 0 : i64, n_head = 2 : i64, same_length = true} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_input_rank(%x: tensor<4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{input must be a rank-3 tensor [batch, length, d_model], found 'tensor<4x8xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @attn_input_width(%x: tensor<1x4x?xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{input must have a static d_model (dimension 2), found 'tensor<1x4x?xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x?xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

func.func @attn_memory_shape(%x: tensor<1x4x8xf32>, %mem: tensor<1x3x6xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{memory must have shape [batch, memory rows, d_model] = [1, ?, 8], found 'tensor<1x3x6xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x3x6xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_memory_rows(%x: tensor<1x4x8xf32>, %mem: tensor<1x7x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{memory holds 7 rows, more than mem_len = 6}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x7x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_positions_shape(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x6xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{positions must have shape [distances, d_model] = [?, 8], found 'tensor<10x6xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x6xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_positions_too_few(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<9x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{positions has 9 distances, but up to 10 keys (memory rows + length) are attended}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<9x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_qkv(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<12x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{qkv_weight must have shape [3 * n_head * d_head, d_model] = [18, 8], found 'tensor<12x8xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<12x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_r(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<8x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{r_weight must have shape [n_head * d_head, d_model] = [6, 8], found 'tensor<8x8xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<8x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_o(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<6x8xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{o_weight must have shape [d_model, n_head * d_head] = [8, 6], found 'tensor<6x8xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<6x8xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_r_w_bias(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<3x2xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{r_w_bias must have shape [n_head, d_head] = [2, 3], found 'tensor<3x2xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<3x2xf32>, tensor<2x3xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_r_r_bias(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<6xf32>) {
  // expected-error @+1 {{r_r_bias must have shape [n_head, d_head] = [2, 3], found 'tensor<6xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<6xf32>) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @attn_result(%x: tensor<1x4x8xf32>, %mem: tensor<1x?x8xf32>, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>, %v: tensor<2x3xf32>) {
  // expected-error @+1 {{result type 'tensor<1x4x6xf32>' must equal the input type 'tensor<1x4x8xf32>'}}
  %a = txl.rel_attention %x, %mem, %pos, %qkv, %r, %o, %u, %v {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x?x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<1x4x6xf32>
  return
}

// -----

// === txl.layer_norm ===

func.func @ln_scalar(%x: tensor<f32>, %g: tensor<f32>) {
  // expected-error @+1 {{input must have at least one dimension}}
  %y = txl.layer_norm %x, %g, %g {epsilon = 1.0e-05 : f64} : tensor<f32>, tensor<f32>, tensor<f32>
  return
}

// -----

func.func @ln_weight(%x: tensor<2x8xf32>, %g: tensor<6xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{weight must have shape [last dim of input] = [8], found 'tensor<6xf32>'}}
  %y = txl.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64} : tensor<2x8xf32>, tensor<6xf32>, tensor<8xf32>
  return
}

// -----

func.func @ln_bias(%x: tensor<2x8xf32>, %g: tensor<8xf32>, %b: tensor<1x8xf32>) {
  // expected-error @+1 {{bias must have shape [last dim of input] = [8], found 'tensor<1x8xf32>'}}
  %y = txl.layer_norm %x, %g, %b {epsilon = 1.0e-05 : f64} : tensor<2x8xf32>, tensor<8xf32>, tensor<1x8xf32>
  return
}

// -----

func.func @ln_epsilon(%x: tensor<2x8xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{epsilon must be positive, found 0}}
  %y = txl.layer_norm %x, %g, %g {epsilon = 0.0 : f64} : tensor<2x8xf32>, tensor<8xf32>, tensor<8xf32>
  return
}

// -----

// === txl.ffn ===

func.func @ffn_scalar(%x: tensor<f32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>, %w2: tensor<8x4xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{input must have at least one dimension}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<f32>, tensor<4x8xf32>, tensor<4xf32>, tensor<8x4xf32>, tensor<8xf32>
  return
}

// -----

func.func @ffn_up_rank(%x: tensor<2x8xf32>, %w: tensor<32xf32>, %b: tensor<4xf32>, %w2: tensor<8x4xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{up_weight must be a rank-2 tensor [d_inner, d_model], found 'tensor<32xf32>'}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<2x8xf32>, tensor<32xf32>, tensor<4xf32>, tensor<8x4xf32>, tensor<8xf32>
  return
}

// -----

func.func @ffn_up(%x: tensor<2x8xf32>, %w: tensor<4x6xf32>, %b: tensor<4xf32>, %w2: tensor<8x4xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{up_weight must have shape [d_inner, d_model] = [4, 8], found 'tensor<4x6xf32>'}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<2x8xf32>, tensor<4x6xf32>, tensor<4xf32>, tensor<8x4xf32>, tensor<8xf32>
  return
}

// -----

func.func @ffn_up_bias(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>, %w2: tensor<8x4xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{up_bias must have shape [d_inner] = [4], found 'tensor<8xf32>'}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<2x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8x4xf32>, tensor<8xf32>
  return
}

// -----

func.func @ffn_down(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>, %w2: tensor<4x8xf32>, %b2: tensor<8xf32>) {
  // expected-error @+1 {{down_weight must have shape [d_model, d_inner] = [8, 4], found 'tensor<4x8xf32>'}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<2x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>, tensor<8xf32>
  return
}

// -----

func.func @ffn_down_bias(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %b: tensor<4xf32>, %w2: tensor<8x4xf32>, %b2: tensor<4xf32>) {
  // expected-error @+1 {{down_bias must have shape [d_model] = [8], found 'tensor<4xf32>'}}
  %y = txl.ffn %x, %w, %b, %w2, %b2 : tensor<2x8xf32>, tensor<4x8xf32>, tensor<4xf32>, tensor<8x4xf32>, tensor<4xf32>
  return
}

// -----

// === txl.mem_update ===

func.func @mem_len_negative(%m: tensor<1x?x8xf32>, %h: tensor<1x4x8xf32>) {
  // expected-error @+1 {{mem_len must be >= 0, found -2}}
  %n = txl.mem_update %m, %h {mem_len = -2 : i64} : tensor<1x?x8xf32>, tensor<1x4x8xf32> -> tensor<1x?x8xf32>
  return
}

// -----

func.func @mem_hidden_rank(%m: tensor<1x?x8xf32>, %h: tensor<4x8xf32>) {
  // expected-error @+1 {{hidden must be a rank-3 tensor [batch, length, d_model], found 'tensor<4x8xf32>'}}
  %n = txl.mem_update %m, %h {mem_len = 6 : i64} : tensor<1x?x8xf32>, tensor<4x8xf32> -> tensor<1x?x8xf32>
  return
}

// -----

func.func @mem_memory_shape(%m: tensor<2x?x8xf32>, %h: tensor<1x4x8xf32>) {
  // expected-error @+1 {{memory must have shape [batch, memory rows, d_model] = [1, ?, 8], found 'tensor<2x?x8xf32>'}}
  %n = txl.mem_update %m, %h {mem_len = 6 : i64} : tensor<2x?x8xf32>, tensor<1x4x8xf32> -> tensor<1x?x8xf32>
  return
}

// -----

func.func @mem_too_long(%m: tensor<1x7x8xf32>, %h: tensor<1x4x8xf32>) {
  // expected-error @+1 {{memory holds 7 rows, more than mem_len = 6}}
  %n = txl.mem_update %m, %h {mem_len = 6 : i64} : tensor<1x7x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x8xf32>
  return
}

// -----

func.func @mem_result(%m: tensor<1x3x8xf32>, %h: tensor<1x4x8xf32>) {
  // expected-error @+1 {{result must have shape [batch, min(mem_len, memory rows + length), d_model] = [1, 6, 8], found 'tensor<1x7x8xf32>'}}
  %n = txl.mem_update %m, %h {mem_len = 6 : i64} : tensor<1x3x8xf32>, tensor<1x4x8xf32> -> tensor<1x7x8xf32>
  return
}

// -----

// === txl.adaptive_nll ===

func.func @nll_targets_shape(%h: tensor<1x4x8xf32>, %t: tensor<1x3xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{targets must have shape [batch, length] = [1, 4], found 'tensor<1x3xi64>'}}
  %l = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4x8xf32>, tensor<1x3xi64>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @nll_vocab(%h: tensor<1x4x8xf32>, %t: tensor<1x4xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{weight 0 must have shape [vocab, d_embed] = [12, 8], found 'tensor<10x8xf32>'}}
  %l = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 12 : i64} : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4xf32>
  return
}

// -----

func.func @nll_result(%h: tensor<1x4x8xf32>, %t: tensor<1x4xi64>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{result must have shape [batch, length] = [1, 4], found 'tensor<1x4x10xf32>'}}
  %l = txl.adaptive_nll %h targets(%t) weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64, vocab_size = 10 : i64} : (tensor<1x4x8xf32>, tensor<1x4xi64>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

// === txl.adaptive_logsoftmax ===

func.func @als_div_val(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{div_val must be >= 1, found 0}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 0 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_input_rank(%h: tensor<4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{input must be a rank-3 tensor [batch, length, d_model], found 'tensor<4x8xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_dynamic_vocab(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{result must have a static vocab (dimension 2)}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x?xf32>
  return
}

// -----

func.func @als_result_shape(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{result must have shape [batch, length, vocab] = [1, 4, 10], found 'tensor<2x4x10xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<2x4x10xf32>
  return
}

// -----

func.func @als_cutoffs(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{cutoffs must be strictly increasing and positive, found [0]}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64: 0>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_weights_count(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{expects 1 output weights (div_val == 1 uses one output layer), found 2}}
  %l = txl.adaptive_logsoftmax %h weights(%w, %w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_biases_count(%h: tensor<1x4x8xf32>, %w0: tensor<5x8xf32>, %w1: tensor<5x4xf32>, %b: tensor<5xf32>, %p0: tensor<8x8xf32>, %p1: tensor<8x4xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{expects 2 output biases (one per cluster), found 1}}
  %l = txl.adaptive_logsoftmax %h weights(%w0, %w1) biases(%b) projections(%p0, %p1) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 2 : i64} : (tensor<1x4x8xf32>, tensor<5x8xf32>, tensor<5x4xf32>, tensor<5xf32>, tensor<8x8xf32>, tensor<8x4xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_projection_count(%h: tensor<1x4x8xf32>, %w: tensor<10x6xf32>, %b: tensor<10xf32>, %p: tensor<8x6xf32>, %cw: tensor<1x6xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{expects 2 projections (none, or one per cluster), found 1}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) projections(%p) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x6xf32>, tensor<10xf32>, tensor<8x6xf32>, tensor<1x6xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_div_val_unprojected(%h: tensor<1x4x8xf32>, %w0: tensor<5x8xf32>, %w1: tensor<5x4xf32>, %b0: tensor<5xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{div_val > 1 needs one projection per cluster}}
  %l = txl.adaptive_logsoftmax %h weights(%w0, %w1) biases(%b0, %b0) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 2 : i64} : (tensor<1x4x8xf32>, tensor<5x8xf32>, tensor<5x4xf32>, tensor<5xf32>, tensor<5xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_projection_shape(%h: tensor<1x4x8xf32>, %w: tensor<10x6xf32>, %b: tensor<10xf32>, %p: tensor<6x8xf32>) {
  // expected-error @+1 {{projection 0 must have shape [d_model, d_embed / div_val^i] = [8, 6], found 'tensor<6x8xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) projections(%p) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x6xf32>, tensor<10xf32>, tensor<6x8xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_width_without_projection(%h: tensor<1x4x8xf32>, %w: tensor<10x6xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{output weights have width 6 but there is no projection to d_model = 8}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x6xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_cluster_weight_rows(%h: tensor<1x4x8xf32>, %w0: tensor<5x8xf32>, %w1: tensor<6x4xf32>, %b0: tensor<5xf32>, %b1: tensor<5xf32>, %p0: tensor<8x8xf32>, %p1: tensor<8x4xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{weight 1 must have shape [ends[i+1] - ends[i], d_embed / div_val^i] = [5, 4], found 'tensor<6x4xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w0, %w1) biases(%b0, %b1) projections(%p0, %p1) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 2 : i64} : (tensor<1x4x8xf32>, tensor<5x8xf32>, tensor<6x4xf32>, tensor<5xf32>, tensor<5xf32>, tensor<8x8xf32>, tensor<8x4xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_cluster_bias_rows(%h: tensor<1x4x8xf32>, %w0: tensor<5x8xf32>, %w1: tensor<5x4xf32>, %b0: tensor<5xf32>, %b1: tensor<4xf32>, %p0: tensor<8x8xf32>, %p1: tensor<8x4xf32>, %cw: tensor<1x8xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{bias 1 must have shape [ends[i+1] - ends[i]] = [5], found 'tensor<4xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w0, %w1) biases(%b0, %b1) projections(%p0, %p1) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 2 : i64} : (tensor<1x4x8xf32>, tensor<5x8xf32>, tensor<5x4xf32>, tensor<5xf32>, tensor<4xf32>, tensor<8x8xf32>, tensor<8x4xf32>, tensor<1x8xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_single_weight_shape(%h: tensor<1x4x8xf32>, %w: tensor<9x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{weight 0 must have shape [vocab, d_embed] = [10, 8], found 'tensor<9x8xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<9x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_single_bias_shape(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<8xf32>) {
  // expected-error @+1 {{bias 0 must have shape [vocab] = [10], found 'tensor<8xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<8xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_missing_clusters(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>) {
  // expected-error @+1 {{cluster_weight and cluster_bias are needed iff there are cutoffs; found 1 cutoffs and no cluster parameters}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) {cutoffs = array<i64: 5>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_cluster_weight(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<2x8xf32>, %cb: tensor<1xf32>) {
  // expected-error @+1 {{cluster_weight must have shape [number of cutoffs, d_embed] = [1, 8], found 'tensor<2x8xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<2x8xf32>, tensor<1xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

func.func @als_cluster_bias(%h: tensor<1x4x8xf32>, %w: tensor<10x8xf32>, %b: tensor<10xf32>, %cw: tensor<1x8xf32>, %cb: tensor<2xf32>) {
  // expected-error @+1 {{cluster_bias must have shape [number of cutoffs] = [1], found 'tensor<2xf32>'}}
  %l = txl.adaptive_logsoftmax %h weights(%w) biases(%b) clusters(%cw, %cb) {cutoffs = array<i64: 5>, div_val = 1 : i64} : (tensor<1x4x8xf32>, tensor<10x8xf32>, tensor<10xf32>, tensor<1x8xf32>, tensor<2xf32>) -> tensor<1x4x10xf32>
  return
}

// -----

// === txl.segment_scan ===

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_length(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{segment_length must be positive, found 0}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 0 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_tokens_rank(%t: tensor<8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{tokens must be a rank-2 tensor [batch, length], found 'tensor<8xi64>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>, tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>)

func.func @scan_too_few_results(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{has 1 results, fewer than its 2 memories}}
  %n = txl.segment_scan @step(%t) memories(%m, %m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>, tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<8xf32>) -> (tensor<1x4x8xf32>, tensor<8xf32>)

func.func @scan_memory_rank(%t: tensor<1x8xi64>, %m: tensor<8xf32>) {
  // expected-error @+1 {{initial memory 0 must be a rank-3 tensor [batch, rows, d_model], found 'tensor<8xf32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<8xf32>) -> (tensor<1x8x8xf32>, tensor<8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_final_memory(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{final memory 0 must have shape [batch, rows, d_model] = [1, ?, 8], found 'tensor<1x?x6xf32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x6xf32>)
  return
}

// -----

func.func @scan_no_step(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step 'missing' does not name a func.func}}
  %h, %n = txl.segment_scan @missing(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_step_arity(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step 'step' must take tokens and 1 memories (2 arguments), found 1}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x?x8xf32>)

func.func @scan_step_results(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step 'step' must return 2 values (segment outputs, then memories), found 1}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi32>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_step_tokens(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step's first argument must be a [batch, length] i64 token tensor, found 'tensor<1x4xi32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x2xi64>, tensor<1x?x8xf32>) -> (tensor<1x2x8xf32>, tensor<1x?x8xf32>)

func.func @scan_step_length(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step takes segments of 2 tokens, but segment_length is 4}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_partial_segment(%t: tensor<1x10xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{a stream of 10 tokens ends in a partial segment, which needs a step with a dynamic segment length}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x10xi64>, tensor<1x?x8xf32>) -> (tensor<1x10x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x4x8xf32>)

func.func @scan_memory_not_carried(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{step returns memory 0 as 'tensor<1x4x8xf32>' but takes it as 'tensor<1x?x8xf32>'; they must match to be carried}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x2x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x2x8xf32>)

func.func @scan_initial_memory(%t: tensor<1x8xi64>, %m: tensor<1x3x8xf32>) {
  // expected-error @+1 {{initial memory 0 has type 'tensor<1x3x8xf32>', incompatible with the step's 'tensor<1x2x8xf32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x3x8xf32>) -> (tensor<1x8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_output_rank(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{segment output 0 has type 'tensor<8x8xf32>', which cannot concatenate step results of 'tensor<1x4x8xf32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<8x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

func.func private @step(tensor<1x4xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)

func.func @scan_output_shape(%t: tensor<1x8xi64>, %m: tensor<1x?x8xf32>) {
  // expected-error @+1 {{segment output 0 must have shape the step's result with the stream length = [1, 8, 8], found 'tensor<1x4x8xf32>'}}
  %h, %n = txl.segment_scan @step(%t) memories(%m) {segment_length = 4 : i64} : (tensor<1x8xi64>, tensor<1x?x8xf32>) -> (tensor<1x4x8xf32>, tensor<1x?x8xf32>)
  return
}

// -----

// === window forms ===

func.func @attn_window_capacity(%x: tensor<1x4x8xf32>, %mem: tensor<1x5x8xf32>, %m: index, %pos: tensor<10x8xf32>, %qkv: tensor<18x8xf32>, %r: tensor<6x8xf32>, %o: tensor<8x6xf32>, %u: tensor<2x3xf32>) {
  // expected-error @+1 {{a memory window with memory_rows must have mem_len = 6 rows, found 'tensor<1x5x8xf32>'}}
  %a = txl.rel_attention %x, %mem[%m], %pos, %qkv, %r, %o, %u, %u {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false} : (tensor<1x4x8xf32>, tensor<1x5x8xf32>, tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>, index) -> tensor<1x4x8xf32>
  return
}

// -----

func.func @window_mem_len(%w: tensor<1x6x8xf32>, %h: tensor<1x4x8xf32>, %m: index) {
  // expected-error @+1 {{mem_len must be >= 0, found -1}}
  %n = txl.window_update %w[%m], %h[%m] {mem_len = -1 : i64} : tensor<1x6x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x8xf32>
  return
}

// -----

func.func @window_hidden_rank(%w: tensor<1x6x8xf32>, %h: tensor<4x8xf32>, %m: index) {
  // expected-error @+1 {{hidden must be a rank-3 tensor [batch, length, d_model], found 'tensor<4x8xf32>'}}
  %n = txl.window_update %w[%m], %h[%m] {mem_len = 6 : i64} : tensor<1x6x8xf32>, tensor<4x8xf32> -> tensor<1x6x8xf32>
  return
}

// -----

func.func @window_shape(%w: tensor<1x5x8xf32>, %h: tensor<1x4x8xf32>, %m: index) {
  // expected-error @+1 {{window must have shape [batch, mem_len, d_model] = [1, 6, 8], found 'tensor<1x5x8xf32>'}}
  %n = txl.window_update %w[%m], %h[%m] {mem_len = 6 : i64} : tensor<1x5x8xf32>, tensor<1x4x8xf32> -> tensor<1x5x8xf32>
  return
}

// -----

func.func @window_dynamic(%w: tensor<1x?x8xf32>, %h: tensor<1x4x8xf32>, %m: index) {
  // expected-error @+1 {{window must have a static capacity of mem_len = 6 rows, found 'tensor<1x?x8xf32>'}}
  %n = txl.window_update %w[%m], %h[%m] {mem_len = 6 : i64} : tensor<1x?x8xf32>, tensor<1x4x8xf32> -> tensor<1x?x8xf32>
  return
}

// -----

func.func @window_result(%w: tensor<1x6x8xf32>, %h: tensor<1x4x8xf32>, %m: index) {
  // expected-error @+1 {{result type 'tensor<1x6x4xf32>' must equal the window type 'tensor<1x6x8xf32>'}}
  %n = txl.window_update %w[%m], %h[%m] {mem_len = 6 : i64} : tensor<1x6x8xf32>, tensor<1x4x8xf32> -> tensor<1x6x4xf32>
  return
}

// -----

// === txl.kernel ===

func.func @kernel_argument_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{input #0 has type 'tensor<4xf32>' but body argument #0 has type 'tensor<5xf32>'}}
  %y = txl.kernel "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<5xf32>):
    %e = tensor.empty() : tensor<4xf32>
    txl.yield %e : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_argument_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{has 1 inputs but its body takes 0 arguments}}
  %y = txl.kernel "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
    %e = tensor.empty() : tensor<4xf32>
    txl.yield %e : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_skip_when_zero(%x: tensor<4xf32>, %n: index) -> tensor<4xf32> {
  // expected-error @+1 {{skip_when_zero = 0 must name an index input}}
  %y = txl.kernel "k" (%x, %n) {skip_when_zero = 0 : i64} : (tensor<4xf32>, index) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>, %b: index):
    txl.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_yield(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{yields 1 values whose types differ from its results}}
  %y = txl.kernel "k" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %e = tensor.empty() : tensor<3xf32>
    txl.yield %e : tensor<3xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_name(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{needs a name}}
  %y = txl.kernel "" (%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    txl.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_isolated(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-note @+1 {{required by region isolation constraints}}
  %y = txl.kernel "k" () : () -> tensor<4xf32> {
    // expected-error @+1 {{using value defined outside the region}}
    txl.yield %x : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

// === txl.kv_projection ===
func.func @kv_projection_width(%x: tensor<1x4x8xf32>, %w: tensor<18x8xf32>) {
  // expected-error @+1 {{'txl.kv_projection' op keys must have shape [batch, length, n_head * d_head] = [1, 4, 6], found 'tensor<1x4x5xf32>'}}
  %k, %v = txl.kv_projection %x, %w {d_head = 3 : i64, n_head = 2 : i64}
      : tensor<1x4x8xf32>, tensor<18x8xf32> -> tensor<1x4x5xf32>, tensor<1x4x6xf32>
  return
}

// -----

func.func @kv_projection_weight(%x: tensor<1x4x8xf32>, %w: tensor<12x8xf32>) {
  // expected-error @+1 {{'txl.kv_projection' op qkv_weight must have shape [3 * n_head * d_head, d_model] = [18, 8], found 'tensor<12x8xf32>'}}
  %k, %v = txl.kv_projection %x, %w {d_head = 3 : i64, n_head = 2 : i64}
      : tensor<1x4x8xf32>, tensor<12x8xf32> -> tensor<1x4x6xf32>, tensor<1x4x6xf32>
  return
}

// -----

// === txl.rel_attention_cached ===
func.func @cached_capacity(%x: tensor<1x4x8xf32>, %kc: tensor<1x5x6xf32>, %vc: tensor<1x6x6xf32>, %m: index,
                           %k: tensor<1x4x6xf32>, %pos: tensor<10x8xf32>, %wqkv: tensor<18x8xf32>,
                           %wr: tensor<6x8xf32>, %wo: tensor<8x6xf32>, %u: tensor<2x3xf32>) {
  // expected-error @+1 {{'txl.rel_attention_cached' op key_cache must have shape [batch, mem_len, n_head * d_head] = [1, 6, 6], found 'tensor<1x5x6xf32>'}}
  %a = txl.rel_attention_cached %x, cache(%kc, %vc)[%m], segment(%k, %k), %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<1x4x8xf32>, tensor<1x5x6xf32>, tensor<1x6x6xf32>, index, tensor<1x4x6xf32>, tensor<1x4x6xf32>,
         tensor<10x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
      -> tensor<1x4x8xf32>
  return
}

// -----

func.func @cached_positions(%x: tensor<1x4x8xf32>, %kc: tensor<1x6x6xf32>, %m: index,
                            %k: tensor<1x4x6xf32>, %pos: tensor<9x8xf32>, %wqkv: tensor<18x8xf32>,
                            %wr: tensor<6x8xf32>, %wo: tensor<8x6xf32>, %u: tensor<2x3xf32>) {
  // expected-error @+1 {{'txl.rel_attention_cached' op positions has 9 distances, but up to 10 keys (memory rows + length) are attended}}
  %a = txl.rel_attention_cached %x, cache(%kc, %kc)[%m], segment(%k, %k), %pos, %wqkv, %wr, %wo, %u, %u
      {d_head = 3 : i64, mem_len = 6 : i64, n_head = 2 : i64, same_length = false}
      : (tensor<1x4x8xf32>, tensor<1x6x6xf32>, tensor<1x6x6xf32>, index, tensor<1x4x6xf32>, tensor<1x4x6xf32>,
         tensor<9x8xf32>, tensor<18x8xf32>, tensor<6x8xf32>, tensor<8x6xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
      -> tensor<1x4x8xf32>
  return
}

// -----

func.func @kernel_schedule_field(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{txl.schedule.funcs[0].pure.vectorize[0].width: expected an integer, got "16"}}
  %y = txl.kernel "k" (%x) {txl.schedule = {funcs = [{name = "g", pure = {vectorize = [{loop = "d0", width = "16"}]}}]}} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    txl.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_schedule_unknown_field(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{txl.schedule.funcs[0]: unknown field 'comptue'}}
  %y = txl.kernel "k" (%x) {txl.schedule = {funcs = [{name = "g", comptue = "root"}]}} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    txl.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}

// -----

func.func @kernel_target_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{txl.target must be a Halide target string, got 16 : i64}}
  %y = txl.kernel "k" (%x) {txl.target = 16} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    txl.yield %a : tensor<4xf32>
  }
  return %y : tensor<4xf32>
}
