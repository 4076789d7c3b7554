// One segment step of a one-layer Transformer-XL with wt103-base widths
// (d_model 410, 10 x 41 heads, d_inner 2100, adaptive input and softmax with
// cutoffs [20000, 40000, 200000], div_val 1), T = 64, mem_len = 640,
// clamp_len = 400, same_length; and the scan that runs it over a stream.
// Memory state is explicit: memories in, new memories out.

func.func @step(%tokens: tensor<1x64xi64>, %mem0: tensor<1x?x410xf32>)
    -> (tensor<1x64x410xf32>, tensor<1x64x267735xf32>, tensor<1x?x410xf32>) {
  // Adaptive input embedding, scaled by sqrt(d_model).
  %table = txl.weight "transformer.word_emb.emb_layers.0.weight" : tensor<267735x410xf32>
  %h0 = txl.embed %tokens tables(%table)
      {cutoffs = array<i64: 20000, 40000, 200000>, div_val = 1 : i64, vocab_size = 267735 : i64}
      : (tensor<1x64xi64>, tensor<267735x410xf32>) -> tensor<1x64x410xf32>

  // Relative positions for every distance a query can see (mem_len + T).
  %pos = txl.pos_emb {clamp_len = 400 : i64} : tensor<704x410xf32>

  // Layer 0 (post-LN): attention, residual, LayerNorm, FFN, residual, LayerNorm.
  %wqkv = txl.weight "transformer.layers.0.dec_attn.qkv_net.weight" : tensor<1230x410xf32>
  %wr = txl.weight "transformer.layers.0.dec_attn.r_net.weight" : tensor<410x410xf32>
  %wo = txl.weight "transformer.layers.0.dec_attn.o_net.weight" : tensor<410x410xf32>
  %u = txl.weight "transformer.layers.0.dec_attn.r_w_bias" : tensor<10x41xf32>
  %v = txl.weight "transformer.layers.0.dec_attn.r_r_bias" : tensor<10x41xf32>
  %attn = txl.rel_attention %h0, %mem0, %pos, %wqkv, %wr, %wo, %u, %v
      {d_head = 41 : i64, mem_len = 640 : i64, n_head = 10 : i64, same_length = true}
      : (tensor<1x64x410xf32>, tensor<1x?x410xf32>, tensor<704x410xf32>, tensor<1230x410xf32>,
         tensor<410x410xf32>, tensor<410x410xf32>, tensor<10x41xf32>, tensor<10x41xf32>)
      -> tensor<1x64x410xf32>
  %res1 = arith.addf %h0, %attn : tensor<1x64x410xf32>
  %g1 = txl.weight "transformer.layers.0.dec_attn.layer_norm.weight" : tensor<410xf32>
  %b1 = txl.weight "transformer.layers.0.dec_attn.layer_norm.bias" : tensor<410xf32>
  %y = txl.layer_norm %res1, %g1, %b1 {epsilon = 1.0e-05 : f64}
      : tensor<1x64x410xf32>, tensor<410xf32>, tensor<410xf32>
  %w1 = txl.weight "transformer.layers.0.pos_ff.CoreNet.0.weight" : tensor<2100x410xf32>
  %c1 = txl.weight "transformer.layers.0.pos_ff.CoreNet.0.bias" : tensor<2100xf32>
  %w3 = txl.weight "transformer.layers.0.pos_ff.CoreNet.3.weight" : tensor<410x2100xf32>
  %c3 = txl.weight "transformer.layers.0.pos_ff.CoreNet.3.bias" : tensor<410xf32>
  %ff = txl.ffn %y, %w1, %c1, %w3, %c3
      : tensor<1x64x410xf32>, tensor<2100x410xf32>, tensor<2100xf32>, tensor<410x2100xf32>, tensor<410xf32>
  %res2 = arith.addf %y, %ff : tensor<1x64x410xf32>
  %g2 = txl.weight "transformer.layers.0.pos_ff.layer_norm.weight" : tensor<410xf32>
  %b2 = txl.weight "transformer.layers.0.pos_ff.layer_norm.bias" : tensor<410xf32>
  %h1 = txl.layer_norm %res2, %g2, %b2 {epsilon = 1.0e-05 : f64}
      : tensor<1x64x410xf32>, tensor<410xf32>, tensor<410xf32>

  // The memory of layer 0 keeps the layer's input (the embedding output).
  %new_mem0 = txl.mem_update %mem0, %h0 {mem_len = 640 : i64}
      : tensor<1x?x410xf32>, tensor<1x64x410xf32> -> tensor<1x?x410xf32>

  // Adaptive log-softmax (output layer tied to the embedding table).
  %ob = txl.weight "crit.out_layers.0.bias" : tensor<267735xf32>
  %cw = txl.weight "crit.cluster_weight" : tensor<3x410xf32>
  %cb = txl.weight "crit.cluster_bias" : tensor<3xf32>
  %logp = txl.adaptive_logsoftmax %h1 weights(%table) biases(%ob) clusters(%cw, %cb)
      {cutoffs = array<i64: 20000, 40000, 200000>, div_val = 1 : i64}
      : (tensor<1x64x410xf32>, tensor<267735x410xf32>, tensor<267735xf32>, tensor<3x410xf32>, tensor<3xf32>)
      -> tensor<1x64x267735xf32>
  return %h1, %logp, %new_mem0 : tensor<1x64x410xf32>, tensor<1x64x267735xf32>, tensor<1x?x410xf32>
}

// Ten segments of one stream, starting from an empty memory.
func.func @score(%tokens: tensor<1x640xi64>) -> (tensor<1x640x410xf32>, tensor<1x640x267735xf32>, tensor<1x?x410xf32>) {
  %empty = tensor.empty() : tensor<1x0x410xf32>
  %mem = tensor.cast %empty : tensor<1x0x410xf32> to tensor<1x?x410xf32>
  %hidden, %logp, %last_mem = txl.segment_scan @step(%tokens) memories(%mem) {segment_length = 64 : i64}
      : (tensor<1x640xi64>, tensor<1x?x410xf32>)
      -> (tensor<1x640x410xf32>, tensor<1x640x267735xf32>, tensor<1x?x410xf32>)
  return %hidden, %logp, %last_mem : tensor<1x640x410xf32>, tensor<1x640x267735xf32>, tensor<1x?x410xf32>
}
