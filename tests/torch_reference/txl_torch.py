"""Independent PyTorch reference of Transformer-XL inference (attn_type 0).

Written from docs/../shared/reference/transformer-xl-semantics.md only; it shares no code
with the C++ implementation. It deliberately computes the way the authors' code does:
time-major tensors, concat([mem, w]), the literal `_rel_shift`, a materialised mask
built with triu/tril, memories = each layer's input. Everything is computed in float64
(weights are cast to float64), except the positional angles pos*inv_freq, which are the
float32 products of the original code (then sin/cos in float64).

Conventions that follow HF/TF where the authors' PyTorch differs (see the semantics doc):
  * adaptive-softmax head: cluster i >= 1 uses head column cutoffs[0] + i - 1
    (cluster_weight row i - 1, ascending);
  * L memories (inputs of layers 0..L-1), r_w_bias/r_r_bias per layer iff untie_r;
  * first segment with EMPTY memory (M = 0), unlike HF's zero-filled memories.

Entry point: run_stream(config, weights, tokens[B, N], tgt_len).
"""

import math

import numpy as np
import torch
import torch.nn.functional as F

DTYPE = torch.float64


# --------------------------------------------------------------------------- config

def normalize_config(config):
    """Return a copy of the HF-style config dict with defaults filled in and checked."""
    cfg = dict(config)
    cfg.setdefault("d_embed", cfg["d_model"])
    cfg.setdefault("cutoffs", [])
    cfg.setdefault("div_val", 1)
    cfg.setdefault("clamp_len", -1)
    cfg.setdefault("same_length", False)
    cfg.setdefault("pre_lnorm", False)
    cfg.setdefault("untie_r", True)
    cfg.setdefault("tie_word_embeddings", True)
    cfg.setdefault("layer_norm_epsilon", 1e-5)
    cfg["cutoffs"] = [int(c) for c in cfg["cutoffs"]]
    n = len(cfg["cutoffs"])
    cfg.setdefault("tie_projs", [False] * (n + 1))
    tp = list(cfg["tie_projs"])
    if len(tp) < n + 1:  # HF tolerates short lists; pad with False
        tp = tp + [False] * (n + 1 - len(tp))
    cfg["tie_projs"] = [bool(x) for x in tp[: n + 1]]
    assert cfg["d_model"] % 2 == 0, "d_model must be even (sin/cos halves)"
    assert all(0 < c < cfg["vocab_size"] for c in cfg["cutoffs"])
    assert cfg["cutoffs"] == sorted(set(cfg["cutoffs"]))
    assert cfg.get("attn_type", 0) == 0 and cfg.get("ext_len", 0) == 0
    if cfg["same_length"]:
        assert cfg["mem_len"] > 0, "same_length with mem_len 0 masks every key"
    return cfg


def cluster_ends(cfg):
    """[0, c_1, ..., c_n, V]."""
    return [0] + cfg["cutoffs"] + [cfg["vocab_size"]]


def cluster_width(cfg, i):
    """E_i = E // div_val**i (only meaningful for div_val > 1; div_val 1 -> E)."""
    return cfg["d_embed"] // (cfg["div_val"] ** i)


# --------------------------------------------------------------------------- weights

def parameter_names(cfg):
    """All parameter names the model reads, and for tied ones the name they alias.

    Returns (stored, tied): `stored` is the ordered list of names that own data;
    `tied` maps an alias name (absent from the files) -> the stored name it equals.
    """
    L, n = cfg["n_layer"], len(cfg["cutoffs"])
    D, E, dv = cfg["d_model"], cfg["d_embed"], cfg["div_val"]
    stored, tied = [], {}
    # adaptive embedding
    if dv == 1:
        stored.append("transformer.word_emb.emb_layers.0.weight")
        if E != D:
            stored.append("transformer.word_emb.emb_projs.0")
    else:
        for i in range(n + 1):
            stored.append("transformer.word_emb.emb_layers.%d.weight" % i)
        for i in range(n + 1):
            stored.append("transformer.word_emb.emb_projs.%d" % i)
    # shared relative biases
    if not cfg["untie_r"]:
        stored += ["transformer.r_w_bias", "transformer.r_r_bias"]
    # layers
    for l in range(L):
        p = "transformer.layers.%d." % l
        stored += [p + "dec_attn.qkv_net.weight", p + "dec_attn.r_net.weight",
                   p + "dec_attn.o_net.weight",
                   p + "dec_attn.layer_norm.weight", p + "dec_attn.layer_norm.bias"]
        if cfg["untie_r"]:
            stored += [p + "dec_attn.r_w_bias", p + "dec_attn.r_r_bias"]
        stored += [p + "pos_ff.CoreNet.0.weight", p + "pos_ff.CoreNet.0.bias",
                   p + "pos_ff.CoreNet.3.weight", p + "pos_ff.CoreNet.3.bias",
                   p + "pos_ff.layer_norm.weight", p + "pos_ff.layer_norm.bias"]
    # adaptive softmax
    if n > 0:
        stored += ["crit.cluster_weight", "crit.cluster_bias"]
    n_out_layers = 1 if dv == 1 else n + 1
    for i in range(n_out_layers):
        w = "crit.out_layers.%d.weight" % i
        if cfg["tie_word_embeddings"]:
            tied[w] = "transformer.word_emb.emb_layers.%d.weight" % i
        else:
            stored.append(w)
        stored.append("crit.out_layers.%d.bias" % i)
    has_projs = (dv > 1) or (E != D)
    if has_projs:
        for i in range(n + 1):
            pn = "crit.out_projs.%d" % i
            if cfg["tie_projs"][i]:
                tied[pn] = "transformer.word_emb.emb_projs.%d" % (i if dv > 1 else 0)
            else:
                stored.append(pn)
    return stored, tied


def parameter_shapes(cfg):
    """name -> shape for every stored parameter (see parameter_names)."""
    L, n, V = cfg["n_layer"], len(cfg["cutoffs"]), cfg["vocab_size"]
    D, E, dv = cfg["d_model"], cfg["d_embed"], cfg["div_val"]
    H, Dh, Fi = cfg["n_head"], cfg["d_head"], cfg["d_inner"]
    ends = cluster_ends(cfg)
    shapes = {}
    stored, _ = parameter_names(cfg)
    for name in stored:
        parts = name.split(".")
        if name.startswith("transformer.word_emb.emb_layers."):
            i = int(parts[3])
            shapes[name] = [V, E] if dv == 1 else [ends[i + 1] - ends[i], cluster_width(cfg, i)]
        elif name.startswith("transformer.word_emb.emb_projs."):
            i = int(parts[3])
            shapes[name] = [D, E if dv == 1 else cluster_width(cfg, i)]
        elif name.endswith("r_w_bias") or name.endswith("r_r_bias"):
            shapes[name] = [H, Dh]
        elif name.endswith("qkv_net.weight"):
            shapes[name] = [3 * H * Dh, D]
        elif name.endswith("r_net.weight"):
            shapes[name] = [H * Dh, D]
        elif name.endswith("o_net.weight"):
            shapes[name] = [D, H * Dh]
        elif name.endswith("layer_norm.weight") or name.endswith("layer_norm.bias"):
            shapes[name] = [D]
        elif name.endswith("CoreNet.0.weight"):
            shapes[name] = [Fi, D]
        elif name.endswith("CoreNet.0.bias"):
            shapes[name] = [Fi]
        elif name.endswith("CoreNet.3.weight"):
            shapes[name] = [D, Fi]
        elif name.endswith("CoreNet.3.bias"):
            shapes[name] = [D]
        elif name == "crit.cluster_weight":
            shapes[name] = [n, E]
        elif name == "crit.cluster_bias":
            shapes[name] = [n]
        elif name.startswith("crit.out_layers."):
            i = int(parts[2])
            rows = V if dv == 1 else ends[i + 1] - ends[i]
            width = E if dv == 1 else cluster_width(cfg, i)
            shapes[name] = [rows, width] if name.endswith(".weight") else [rows]
        elif name.startswith("crit.out_projs."):
            i = int(parts[2])
            shapes[name] = [D, E if dv == 1 else cluster_width(cfg, i)]
        else:  # pragma: no cover
            raise AssertionError(name)
    return shapes


def _as_float64(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().to(DTYPE)
    return torch.from_numpy(np.array(x, dtype=np.float64))


def resolve_weights(cfg, weights):
    """Return name -> float64 tensor with every name the model reads (tied aliases filled).

    Strict: a missing parameter, a wrong shape or an unknown name raises. A tied alias
    present in `weights` must equal its source (it is then ignored)."""
    stored, tied = parameter_names(cfg)
    shapes = parameter_shapes(cfg)
    given = dict(weights)
    # HF also lists shared r biases under each layer when untie_r is false: accept them.
    if not cfg["untie_r"]:
        for l in range(cfg["n_layer"]):
            for b in ("r_w_bias", "r_r_bias"):
                alias = "transformer.layers.%d.dec_attn.%s" % (l, b)
                if alias in given:
                    src = "transformer." + b
                    if src not in given:
                        given[src] = given[alias]
                    tied[alias] = src
    W = {}
    for name in stored:
        if name not in given:
            raise KeyError("missing parameter %s" % name)
        t = _as_float64(given[name])
        if list(t.shape) != shapes[name]:
            raise ValueError("%s: shape %s, expected %s" % (name, list(t.shape), shapes[name]))
        W[name] = t
    for alias, src in tied.items():
        if alias in given:
            if not torch.equal(_as_float64(given[alias]), W[src]):
                raise ValueError("tied parameter %s differs from %s" % (alias, src))
        W[alias] = W[src]  # the very same tensor object, as in the tied original
    unknown = set(given) - set(W) - set(tied)
    unknown.discard("transformer.pos_emb.inv_freq")  # a buffer, recomputed
    if unknown:
        raise KeyError("unknown parameters: %s" % sorted(unknown))
    return W


def relative_biases(cfg, W, l):
    """(u, v) = (r_w_bias, r_r_bias) used by layer l, each [H, Dh]."""
    if cfg["untie_r"]:
        p = "transformer.layers.%d.dec_attn." % l
        return W[p + "r_w_bias"], W[p + "r_r_bias"]
    return W["transformer.r_w_bias"], W["transformer.r_r_bias"]


# --------------------------------------------------------------------------- components

def adaptive_embedding(cfg, W, tokens):
    """§1: tokens [Q, B] int64 -> h0 [Q, B, D] = (projected embedding) * sqrt(D)."""
    D, E, dv = cfg["d_model"], cfg["d_embed"], cfg["div_val"]
    if dv == 1:
        e = F.embedding(tokens, W["transformer.word_emb.emb_layers.0.weight"])
        if E != D:
            e = F.linear(e, W["transformer.word_emb.emb_projs.0"])  # e @ P^T
    else:
        ends = cluster_ends(cfg)
        flat = tokens.reshape(-1)
        e_flat = torch.zeros(flat.numel(), D, dtype=DTYPE)
        for i in range(len(ends) - 1):
            sel = ((flat >= ends[i]) & (flat < ends[i + 1])).nonzero().squeeze(-1)
            if sel.numel() == 0:
                continue
            e_i = F.embedding(flat[sel] - ends[i],
                              W["transformer.word_emb.emb_layers.%d.weight" % i])
            e_i = F.linear(e_i, W["transformer.word_emb.emb_projs.%d" % i])
            e_flat.index_copy_(0, sel, e_i)
        e = e_flat.view(*tokens.shape, D)
    return e * math.sqrt(D)  # emb_scale = sqrt(d_proj), after the projection


def inv_freq(d_model):
    """§2: float32, exactly 1 / (10000 ** (arange(0, D, 2) / D))."""
    return 1.0 / (10000 ** (torch.arange(0.0, d_model, 2.0, dtype=torch.float32) / d_model))


def positional_embedding(d_model, klen, clamp_len):
    """§2: PE [K, D]; row p encodes distance K-1-p (clamped). Angles are float32 products."""
    pos_seq = torch.arange(klen - 1, -1, -1.0, dtype=torch.float32)
    if clamp_len > 0:
        pos_seq = pos_seq.clamp(max=clamp_len)
    sinusoid = torch.ger(pos_seq, inv_freq(d_model)).to(DTYPE)  # float32 multiply, widened
    return torch.cat([sinusoid.sin(), sinusoid.cos()], dim=-1)  # sines first, not interleaved


def rel_shift(x):
    """The literal `_rel_shift` of the original code. x [Q, K, ...] -> [Q, K, ...]."""
    qlen, klen = x.shape[0], x.shape[1]
    zero_pad = torch.zeros((qlen, 1) + tuple(x.shape[2:]), dtype=x.dtype)
    x_padded = torch.cat([zero_pad, x], dim=1)                     # [Q, K+1, ...]
    x_padded = x_padded.view((klen + 1, qlen) + tuple(x.shape[2:]))  # reinterpret buffer
    return x_padded[1:].view_as(x)                                  # drop first row


def attention_mask(qlen, mlen, mem_len, same_length):
    """§3: materialised mask [Q, K] (True = masked), built with triu/tril as the original."""
    klen = mlen + qlen
    all_ones = torch.ones(qlen, klen, dtype=torch.uint8)
    if same_length:
        mask_len = klen - mem_len
        mask_shift_len = qlen - mask_len if mask_len > 0 else qlen
        mask = torch.triu(all_ones, 1 + mlen) + torch.tril(all_ones, -mask_shift_len)
    else:
        mask = torch.triu(all_ones, 1 + mlen)
    return mask > 0


def layer_norm(x, W, prefix, eps):
    return F.layer_norm(x, (x.shape[-1],), W[prefix + ".weight"], W[prefix + ".bias"], eps)


def attention_scores(q, k, rk, u, v, mask):
    """(AC + rel_shift(BD)) / sqrt(Dh), masked with -inf.

    q [Q,B,H,Dh], k [K,B,H,Dh], rk [K,H,Dh], u/v [H,Dh], mask [Q,K] -> [Q,K,B,H]."""
    d_head = q.shape[-1]
    ac = torch.einsum("ibnd,jbnd->ijbn", q + u, k)
    bd = rel_shift(torch.einsum("ibnd,jnd->ijbn", q + v, rk))
    score = (ac + bd) * (1.0 / (d_head ** 0.5))
    return score.masked_fill(mask[:, :, None, None], -float("inf"))


def positionwise_ff(cfg, W, prefix, x):
    """relu(x @ W1^T + b1) @ W3^T + b3."""
    hid = F.relu(F.linear(x, W[prefix + "CoreNet.0.weight"], W[prefix + "CoreNet.0.bias"]))
    return F.linear(hid, W[prefix + "CoreNet.3.weight"], W[prefix + "CoreNet.3.bias"])


def decoder_layer(cfg, W, l, w, mem, pe, mask):
    """§3: one RelPartialLearnableDecoderLayer. w [Q,B,D], mem [M,B,D], pe [K,D]."""
    H, Dh, eps = cfg["n_head"], cfg["d_head"], cfg["layer_norm_epsilon"]
    p = "transformer.layers.%d." % l
    qlen, bsz = w.shape[0], w.shape[1]
    u, v = relative_biases(cfg, W, l)

    cat = torch.cat([mem, w], dim=0) if mem is not None else w     # memory first
    klen = cat.shape[0]
    x = layer_norm(cat, W, p + "dec_attn.layer_norm", eps) if cfg["pre_lnorm"] else cat
    heads = F.linear(x, W[p + "dec_attn.qkv_net.weight"])          # [K, B, 3*H*Dh]
    q, k, val = torch.chunk(heads, 3, dim=-1)
    q = q[-qlen:].reshape(qlen, bsz, H, Dh)
    k = k.reshape(klen, bsz, H, Dh)
    val = val.reshape(klen, bsz, H, Dh)
    rk = F.linear(pe, W[p + "dec_attn.r_net.weight"]).view(klen, H, Dh)

    score = attention_scores(q, k, rk, u, v, mask)
    prob = F.softmax(score, dim=1)
    att = torch.einsum("ijbn,jbnd->ibnd", prob, val).reshape(qlen, bsz, H * Dh)
    a = F.linear(att, W[p + "dec_attn.o_net.weight"])

    if cfg["pre_lnorm"]:
        y = w + a
        return y + positionwise_ff(cfg, W, p + "pos_ff.", layer_norm(y, W, p + "pos_ff.layer_norm", eps))
    y = layer_norm(w + a, W, p + "dec_attn.layer_norm", eps)
    return layer_norm(y + positionwise_ff(cfg, W, p + "pos_ff.", y), W, p + "pos_ff.layer_norm", eps)


def update_memory(cfg, mems, hids):
    """§4: new_mems[l] = concat([mems[l], hids[l]])[-mem_len:], l = 0..L-1 (None if mem_len 0)."""
    mem_len = cfg["mem_len"]
    if mems is None or mem_len <= 0:
        return None
    new = []
    for m, h in zip(mems, hids):
        c = torch.cat([m, h], dim=0)
        end = c.shape[0]
        new.append(c[max(0, end - mem_len):end])
    return new


def _output_projection(cfg, W, i):
    dv, D, E = cfg["div_val"], cfg["d_model"], cfg["d_embed"]
    if dv > 1 or E != D:
        return W["crit.out_projs.%d" % i]
    return None


def _output_layer(cfg, W, i):
    """(weight, bias) of cluster i's output layer (a row slice of out_layers.0 when div_val 1)."""
    if cfg["div_val"] == 1:
        ends = cluster_ends(cfg)
        w, b = W["crit.out_layers.0.weight"], W["crit.out_layers.0.bias"]
        return w[ends[i]:ends[i + 1]], b[ends[i]:ends[i + 1]]
    return W["crit.out_layers.%d.weight" % i], W["crit.out_layers.%d.bias" % i]


def _logits(h, weight, bias, proj):
    """(h @ proj) @ weight^T + bias; note h @ P, no transpose."""
    if proj is not None:
        h = F.linear(h, proj.t())
    return F.linear(h, weight, bias)


def adaptive_log_softmax(cfg, W, h):
    """§5: ProjectedAdaptiveLogSoftmax as FULL log-probabilities. h [..., D] -> [..., V]."""
    n = len(cfg["cutoffs"])
    w0, b0 = _output_layer(cfg, W, 0)
    p0 = _output_projection(cfg, W, 0)
    if n == 0:
        return F.log_softmax(_logits(h, w0, b0, p0), dim=-1)
    c1 = cfg["cutoffs"][0]
    head_w = torch.cat([w0, W["crit.cluster_weight"]], dim=0)
    head_b = torch.cat([b0, W["crit.cluster_bias"]], dim=0)
    head = F.log_softmax(_logits(h, head_w, head_b, p0), dim=-1)   # [..., c1 + n]
    parts = [head[..., :c1]]
    for i in range(1, n + 1):
        wi, bi = _output_layer(cfg, W, i)
        tail = F.log_softmax(_logits(h, wi, bi, _output_projection(cfg, W, i)), dim=-1)
        col = c1 + i - 1                                             # HF/TF ascending order
        parts.append(head[..., col:col + 1] + tail)
    return torch.cat(parts, dim=-1)


def adaptive_nll(cfg, W, h, target):
    """§5: ProjectedAdaptiveLogSoftmax(hidden, target), the original's evaluation path:
    the head for every row, a tail cluster's logits only for the rows whose target is in
    it. h [R, D], target [R] int64 (-1: no target, loss 0) -> nll [R]."""
    n = len(cfg["cutoffs"])
    w0, b0 = _output_layer(cfg, W, 0)
    p0 = _output_projection(cfg, W, 0)
    nll = torch.zeros(target.shape, dtype=h.dtype)
    if n == 0:
        lp = F.log_softmax(_logits(h, w0, b0, p0), dim=-1)
        rows = (target >= 0).nonzero().squeeze(1)
        nll[rows] = -lp[rows, target[rows]]
        return nll
    c1 = cfg["cutoffs"][0]
    head_w = torch.cat([w0, W["crit.cluster_weight"]], dim=0)
    head_b = torch.cat([b0, W["crit.cluster_bias"]], dim=0)
    head = F.log_softmax(_logits(h, head_w, head_b, p0), dim=-1)   # [R, c1 + n]
    ends = cluster_ends(cfg)
    for i in range(n + 1):
        rows = ((target >= ends[i]) & (target < ends[i + 1])).nonzero().squeeze(1)
        if rows.numel() == 0:
            continue
        local = target[rows] - ends[i]
        if i == 0:
            lp = head[rows, local]
        else:
            wi, bi = _output_layer(cfg, W, i)
            tail = F.log_softmax(_logits(h[rows], wi, bi, _output_projection(cfg, W, i)),
                                 dim=-1)
            lp = head[rows, c1 + i - 1] + tail.gather(1, local[:, None]).squeeze(1)
        nll[rows] = -lp
    return nll


# --------------------------------------------------------------------------- model

def init_memory(cfg, bsz):
    """Empty memories (M = 0) for every layer, or None when mem_len == 0."""
    if cfg["mem_len"] <= 0:
        return None
    return [torch.zeros(0, bsz, cfg["d_model"], dtype=DTYPE) for _ in range(cfg["n_layer"])]


def forward_segment(cfg, W, tokens, mems):
    """§4: tokens [Q, B] -> (hidden [Q, B, D], new mems)."""
    qlen = tokens.shape[0]
    mlen = mems[0].shape[0] if mems is not None else 0
    klen = mlen + qlen
    h = adaptive_embedding(cfg, W, tokens)
    pe = positional_embedding(cfg["d_model"], klen, cfg["clamp_len"])
    mask = attention_mask(qlen, mlen, cfg["mem_len"], cfg["same_length"])
    hids = [h]
    for l in range(cfg["n_layer"]):
        h = decoder_layer(cfg, W, l, h, mems[l] if mems is not None else None, pe, mask)
        hids.append(h)
    return h, update_memory(cfg, mems, hids[:cfg["n_layer"]])  # L memories: layer inputs


def run_stream(config, weights, tokens, tgt_len):
    """Run a [B, N] token stream in consecutive segments of tgt_len tokens.

    Returns dict (all float64 torch tensors):
      hidden    [B, N, D]   final-layer outputs (no final LayerNorm)
      log_probs [B, N, V]   full log-probabilities of the next token
      nll       [B, N-1]    nll[b, t] = -log_probs[b, t, tokens[b, t+1]]
      mems      [L, M, B, D] memories after the last segment, M = min(mem_len, N)
    """
    cfg = normalize_config(config)
    W = resolve_weights(cfg, weights)
    tokens = torch.as_tensor(np.asarray(tokens), dtype=torch.int64)
    bsz, total = tokens.shape
    assert tgt_len >= 1
    mems = init_memory(cfg, bsz)
    hiddens, logps = [], []
    for start in range(0, total, tgt_len):
        seg = tokens[:, start:start + tgt_len].t().contiguous()     # time-major [Q, B]
        hidden, mems = forward_segment(cfg, W, seg, mems)
        hiddens.append(hidden)
        logps.append(adaptive_log_softmax(cfg, W, hidden))
    hidden = torch.cat(hiddens, dim=0).transpose(0, 1).contiguous()  # [B, N, D]
    log_probs = torch.cat(logps, dim=0).transpose(0, 1).contiguous()  # [B, N, V]
    nll = -log_probs[:, :-1].gather(-1, tokens[:, 1:, None]).squeeze(-1)
    if mems is None:
        mem_out = torch.zeros(cfg["n_layer"], 0, bsz, cfg["d_model"], dtype=DTYPE)
    else:
        mem_out = torch.stack(mems, dim=0)
    return {"hidden": hidden, "log_probs": log_probs, "nll": nll, "mems": mem_out}
