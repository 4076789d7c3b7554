"""Trainable character-level Transformer-XL (attn_type 0) whose state_dict uses HF names.

Computes exactly the inference semantics of shared/reference/transformer-xl-semantics.md
for the configuration the demo uses: plain softmax (no cutoffs), div_val 1,
d_embed == d_model (no projections), tied input/output embedding, post-LN or pre-LN,
r_w_bias/r_r_bias per layer (untie_r) or shared, memories = the input of each layer,
first segment with empty memory. Dropout is active only in train() mode.

Tensors are time-major like the authors' code: tokens [Q, B], hidden [Q, B, D],
memories [M, B, D]. `state_dict()` keys are the HF `TransfoXLLMHeadModel` names minus
the tied copy `crit.out_layers.0.weight` (see export_state_dict).
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

# Debian's torch links the reference (netlib) BLAS: its float32 GEMM runs ~5 GFLOP/s on one
# core. torch's oneDNN convolution is 5-15x faster, so with the "onednn" backend every
# matrix product is a 1x1 convolution. dilation 2 (a no-op for a 1x1 kernel) makes torch
# pick oneDNN also when single-threaded. "blas" uses F.linear / einsum.
MATMUL_BACKEND = "onednn"


def dense(x, weight, bias=None):
    """x [..., in] @ weight^T + bias (nn.Linear)."""
    if MATMUL_BACKEND == "blas":
        return F.linear(x, weight, bias)
    shape = x.shape
    rows = x.reshape(-1, shape[-1])                          # [N, in]
    y = F.conv2d(rows.t()[None, :, :, None], weight[:, :, None, None], bias, dilation=2)
    return y[0, :, :, 0].t().reshape(shape[:-1] + (weight.shape[0],))


def grouped_dot(a, b):
    """out[i, g, j] = sum_d a[i, g, d] * b[j, g, d]; a [I, G, D], b [J, G, D] -> [I, G, J]."""
    if MATMUL_BACKEND == "blas":
        return torch.einsum("igd,jgd->igj", a, b)
    rows, groups, depth = a.shape
    cols = b.shape[0]
    kernel = b.permute(1, 0, 2).reshape(groups * cols, depth, 1, 1)
    inp = a.reshape(rows, groups * depth).t()[None, :, :, None]
    y = F.conv2d(inp, kernel, groups=groups, dilation=2)     # [1, G*J, I, 1]
    return y[0, :, :, 0].t().reshape(rows, groups, cols)


def grouped_weighted_sum(p, v):
    """out[i, g, d] = sum_j p[i, g, j] * v[j, g, d]; p [I, G, J], v [J, G, D] -> [I, G, D]."""
    return grouped_dot(p, v.permute(2, 1, 0))


def sinusoid_inv_freq(d_model):
    """1 / 10000^(2k/D) in float32, exactly as the original code."""
    return 1.0 / (10000 ** (torch.arange(0.0, d_model, 2.0) / d_model))


def positional_embedding(inv_freq, klen, clamp_len):
    """PE [K, D]: row p encodes distance K-1-p (clamped when clamp_len > 0)."""
    pos_seq = torch.arange(klen - 1, -1, -1.0, dtype=inv_freq.dtype)
    if clamp_len > 0:
        pos_seq = pos_seq.clamp(max=clamp_len)
    angles = torch.ger(pos_seq, inv_freq)
    return torch.cat([angles.sin(), angles.cos()], dim=-1)


def rel_shift(bd_raw):
    """`_rel_shift` as an index: bd_raw [Q, G, K] (contiguous) -> BD[i, g, j] =
    bd_raw[i, g, j + Q - 1 - i], a strided view (no copy). Exact for j <= M + i; the other
    entries read other elements of bd_raw, and the causal mask removes them all
    (semantics §3, closed form)."""
    qlen, groups, klen = bd_raw.shape
    bd_raw = bd_raw.contiguous()
    return bd_raw.as_strided((qlen, groups, klen), (groups * klen - 1, klen, 1),
                             bd_raw.storage_offset() + qlen - 1)


def causal_mask(qlen, mlen, mem_len, same_length, device=None):
    """[Q, K] bool, True = masked: future keys, and with same_length distances >= mem_len."""
    klen = mlen + qlen
    ones = torch.ones(qlen, klen, dtype=torch.bool, device=device)
    mask = torch.triu(ones, 1 + mlen)
    if same_length:
        mask_len = klen - mem_len
        shift = qlen - mask_len if mask_len > 0 else qlen
        mask = mask | torch.tril(ones, -shift)
    return mask


class RelPartialLearnableAttention(nn.Module):
    """dec_attn: qkv_net, r_net, o_net (no biases), layer_norm, optional r_{w,r}_bias."""

    def __init__(self, d_model, n_head, d_head, dropout, dropatt, eps, pre_lnorm, own_r_bias):
        super().__init__()
        self.n_head, self.d_head, self.pre_lnorm = n_head, d_head, pre_lnorm
        self.qkv_net = nn.Linear(d_model, 3 * n_head * d_head, bias=False)
        self.r_net = nn.Linear(d_model, n_head * d_head, bias=False)
        self.o_net = nn.Linear(n_head * d_head, d_model, bias=False)
        self.layer_norm = nn.LayerNorm(d_model, eps=eps)
        self.drop = nn.Dropout(dropout)
        self.dropatt = nn.Dropout(dropatt)
        if own_r_bias:
            self.r_w_bias = nn.Parameter(torch.zeros(n_head, d_head))
            self.r_r_bias = nn.Parameter(torch.zeros(n_head, d_head))

    def forward(self, w, mem, pe, mask, r_w_bias, r_r_bias):
        qlen, bsz = w.shape[0], w.shape[1]
        H, Dh = self.n_head, self.d_head
        cat = w if mem is None or mem.shape[0] == 0 else torch.cat([mem, w], dim=0)
        klen = cat.shape[0]
        x = self.layer_norm(cat) if self.pre_lnorm else cat
        q, k, v = torch.chunk(dense(x, self.qkv_net.weight), 3, dim=-1)
        q = q[-qlen:].reshape(qlen, bsz, H, Dh)
        k = k.reshape(klen, bsz, H, Dh)
        v = v.reshape(klen, bsz, H, Dh)
        rk = dense(pe, self.r_net.weight).view(klen, 1, H, Dh)

        # Scores in layout [Q, G, K] with G = B*H (b major, n minor).
        G = bsz * H
        ac = grouped_dot((q + r_w_bias).reshape(qlen, G, Dh), k.reshape(klen, G, Dh))
        rk = rk.expand(klen, bsz, H, Dh).reshape(klen, G, Dh)
        bd = rel_shift(grouped_dot((q + r_r_bias).reshape(qlen, G, Dh), rk))
        score = (ac + bd) * (1.0 / math.sqrt(Dh))
        score = score.masked_fill(mask[:, None, :], float("-inf"))
        prob = self.dropatt(F.softmax(score, dim=-1))
        att = grouped_weighted_sum(prob, v.reshape(klen, G, Dh)).reshape(qlen, bsz, H * Dh)
        a = self.drop(dense(att, self.o_net.weight))
        return w + a if self.pre_lnorm else self.layer_norm(w + a)


class PositionwiseFF(nn.Module):
    """pos_ff: CoreNet = Sequential(Linear, ReLU, Dropout, Linear, Dropout), layer_norm."""

    def __init__(self, d_model, d_inner, dropout, eps, pre_lnorm):
        super().__init__()
        self.pre_lnorm = pre_lnorm
        self.CoreNet = nn.Sequential(nn.Linear(d_model, d_inner), nn.ReLU(inplace=True),
                                     nn.Dropout(dropout), nn.Linear(d_inner, d_model),
                                     nn.Dropout(dropout))
        self.layer_norm = nn.LayerNorm(d_model, eps=eps)

    def core(self, z):
        """relu(z @ W1^T + b1) @ W3^T + b3, with CoreNet's dropouts."""
        first, relu, drop1, second, drop2 = self.CoreNet
        hid = drop1(relu(dense(z, first.weight, first.bias)))
        return drop2(dense(hid, second.weight, second.bias))

    def forward(self, y):
        if self.pre_lnorm:
            return y + self.core(self.layer_norm(y))
        return self.layer_norm(y + self.core(y))


class DecoderLayer(nn.Module):
    def __init__(self, cfg, dropout, dropatt):
        super().__init__()
        eps, pre = cfg["layer_norm_epsilon"], cfg["pre_lnorm"]
        self.dec_attn = RelPartialLearnableAttention(
            cfg["d_model"], cfg["n_head"], cfg["d_head"], dropout, dropatt, eps, pre,
            own_r_bias=cfg["untie_r"])
        self.pos_ff = PositionwiseFF(cfg["d_model"], cfg["d_inner"], dropout, eps, pre)

    def forward(self, w, mem, pe, mask, r_w_bias, r_r_bias):
        return self.pos_ff(self.dec_attn(w, mem, pe, mask, r_w_bias, r_r_bias))


class WordEmbedding(nn.Module):
    """word_emb with div_val 1 and d_embed == d_model: emb_layers.0, scaled by sqrt(D)."""

    def __init__(self, vocab_size, d_model):
        super().__init__()
        self.scale = math.sqrt(d_model)
        self.emb_layers = nn.ModuleList([nn.Embedding(vocab_size, d_model)])

    def forward(self, tokens):
        return self.emb_layers[0](tokens) * self.scale


class Transformer(nn.Module):
    def __init__(self, cfg, dropout, dropatt):
        super().__init__()
        self.cfg = cfg
        self.word_emb = WordEmbedding(cfg["vocab_size"], cfg["d_model"])
        self.layers = nn.ModuleList(DecoderLayer(cfg, dropout, dropatt)
                                    for _ in range(cfg["n_layer"]))
        if not cfg["untie_r"]:
            self.r_w_bias = nn.Parameter(torch.zeros(cfg["n_head"], cfg["d_head"]))
            self.r_r_bias = nn.Parameter(torch.zeros(cfg["n_head"], cfg["d_head"]))
        self.register_buffer("inv_freq", sinusoid_inv_freq(cfg["d_model"]), persistent=False)
        self.drop = nn.Dropout(dropout)

    def forward(self, tokens, mems, mem_len):
        """tokens [Q, B] -> (hidden [Q, B, D], new memories: list of L [M', B, D] or None)."""
        cfg = self.cfg
        qlen = tokens.shape[0]
        mlen = mems[0].shape[0] if mems else 0
        h = self.drop(self.word_emb(tokens))
        pe = self.drop(positional_embedding(self.inv_freq, mlen + qlen, cfg["clamp_len"]))
        mask = causal_mask(qlen, mlen, mem_len, cfg["same_length"], tokens.device)
        hids = []
        for l, layer in enumerate(self.layers):
            hids.append(h)
            att = layer.dec_attn if cfg["untie_r"] else self
            h = layer(h, mems[l] if mems else None, pe, mask, att.r_w_bias, att.r_r_bias)
        new_mems = None
        if mem_len > 0:
            with torch.no_grad():
                new_mems = []
                for l in range(len(self.layers)):
                    cat = hids[l] if not mems else torch.cat([mems[l], hids[l]], dim=0)
                    new_mems.append(cat[-mem_len:].detach())
        return self.drop(h), new_mems


class OutputLayer(nn.Module):
    """crit.out_layers.0 with its weight tied to the input embedding: only the bias owns data."""

    def __init__(self, vocab_size):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(vocab_size))


class PlainSoftmax(nn.Module):
    """crit with no cutoffs: log_softmax(h @ E^T + b)."""

    def __init__(self, vocab_size):
        super().__init__()
        self.out_layers = nn.ModuleList([OutputLayer(vocab_size)])

    def logits(self, hidden, emb_weight):
        return dense(hidden, emb_weight, self.out_layers[0].bias)


class CharTransfoXL(nn.Module):
    """transformer + crit; cfg is the HF config dict (see train_demo.model_config)."""

    def __init__(self, cfg, dropout=0.0, dropatt=0.0):
        super().__init__()
        if cfg["cutoffs"] or cfg["div_val"] != 1 or cfg["d_embed"] != cfg["d_model"] \
                or not cfg["tie_word_embeddings"]:
            raise ValueError("CharTransfoXL supports only plain softmax, div_val 1, "
                             "d_embed == d_model, tied embeddings")
        self.cfg = cfg
        self.transformer = Transformer(cfg, dropout, dropatt)
        self.crit = PlainSoftmax(cfg["vocab_size"])

    def init_weights(self, generator, std=0.02):
        """The authors' 'normal' init: N(0, std) weights and embeddings, LN weight N(1, std),
        r biases N(0, std), all other biases 0."""
        for name, p in self.named_parameters():
            with torch.no_grad():
                if name.endswith("layer_norm.weight"):
                    p.copy_(1.0 + std * torch.randn(p.shape, generator=generator))
                elif name.endswith("bias") and not name.endswith("r_bias"):
                    p.zero_()
                else:
                    p.copy_(std * torch.randn(p.shape, generator=generator))

    def forward(self, tokens, mems, mem_len):
        """tokens [Q, B] -> (logits [Q, B, V], new memories)."""
        hidden, new_mems = self.transformer(tokens, mems, mem_len)
        emb = self.transformer.word_emb.emb_layers[0].weight
        return self.crit.logits(hidden, emb), new_mems

    def export_state_dict(self):
        """HF names -> float32 CPU tensors; the tied copy crit.out_layers.0.weight is left
        out, as HF's safetensors export does."""
        return {k: v.detach().to(torch.float32).cpu().contiguous()
                for k, v in self.state_dict().items()}
