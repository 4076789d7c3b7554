#!/usr/bin/python3
"""Generate Transformer-XL test vectors with the independent PyTorch reference (txl_torch).

  /usr/bin/python3 tests/torch_reference/make_vectors.py [--out tests/vectors] [--check]

Each case goes to <out>/<case>/: config.json, model.safetensors, tokens.safetensors,
expected.safetensors, case.json (see README.md). Deterministic: fixed seeds, sorted
layouts, single-threaded torch -> byte-identical files on every run.
--check additionally runs the sanity checks (every parameter matters, log-probs
normalised, memory contents, segmentation invariances) and exits non-zero on failure.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import safetensors_io  # noqa: E402
import txl_torch  # noqa: E402

torch.set_num_threads(1)

_COMMON = {
    "model_type": "transfo-xl",
    "attn_type": 0,
    "ext_len": 0,
    "sample_softmax": -1,
    "adaptive": True,
    "layer_norm_epsilon": 1e-5,
    "n_layer": 2,
}

# name -> (seed, config overrides, tgt_len, batch, stream length, description)
CASES = [
    ("plain_postln", 101, dict(
        vocab_size=40, d_model=24, d_embed=24, n_head=3, d_head=8, d_inner=40,
        mem_len=8, clamp_len=6, same_length=False, pre_lnorm=False, untie_r=True,
        cutoffs=[], div_val=1, tie_projs=[False], tie_word_embeddings=True),
     5, 2, 17,
     "plain softmax, post-LN, untie_r, tied embeddings; T=5, mem_len=8 > T (memory grows "
     "0,5,8,8), clamp_len=6 < longest distance 12; segments 5,5,5,2"),
    ("plain_sameln_clamp", 202, dict(
        vocab_size=32, d_model=20, d_embed=20, n_head=2, d_head=7, d_inner=32,
        mem_len=5, clamp_len=2, same_length=True, pre_lnorm=False, untie_r=True,
        cutoffs=[], div_val=1, tie_projs=[False], tie_word_embeddings=False),
     6, 2, 16,
     "plain softmax, untied output layer, same_length with mem_len=5 < T=6 (allowed "
     "distances 0..4), clamp_len=2, H*Dh=14 != D=20; segments 6,6,4"),
    ("adaptive_div1", 303, dict(
        vocab_size=48, d_model=24, d_embed=16, n_head=2, d_head=8, d_inner=36,
        mem_len=6, clamp_len=0, same_length=False, pre_lnorm=False, untie_r=True,
        cutoffs=[12, 30], div_val=1, tie_projs=[False, True, False], tie_word_embeddings=True),
     5, 2, 15,
     "adaptive softmax with 2 clusters (head column order matters), div_val=1, "
     "d_embed=16 != d_model=24 (emb_projs.0, out_projs.0..2; out_projs.1 tied to "
     "emb_projs.0), tied embeddings, clamp_len=0 (no clamp); segments 5,5,5"),
    ("adaptive_div4", 404, dict(
        vocab_size=60, d_model=24, d_embed=64, n_head=3, d_head=6, d_inner=48,
        mem_len=7, clamp_len=-1, same_length=False, pre_lnorm=True, untie_r=True,
        cutoffs=[10, 25, 40], div_val=4, tie_projs=[False, True, True, True],
        tie_word_embeddings=True),
     4, 2, 14,
     "adaptive embedding+softmax with 3 clusters, div_val=4 (widths 64,16,4,1), "
     "tie_projs [F,T,T,T], tied embeddings, pre-LN, H*Dh=18 != D=24, clamp_len=-1; "
     "segments 4,4,4,2, memory 0,4,7,7"),
    ("prelnorm_shared_r", 505, dict(
        vocab_size=24, d_model=20, d_embed=20, n_head=2, d_head=5, d_inner=24,
        mem_len=5, clamp_len=3, same_length=True, pre_lnorm=True, untie_r=False,
        cutoffs=[8], div_val=1, tie_projs=[False, True], tie_word_embeddings=True),
     5, 2, 16,
     "pre-LN, untie_r=false (one r_w_bias/r_r_bias pair for all layers), same_length "
     "with mem_len == T = 5, clamp_len=3, 1 cluster, no projections; segments 5,5,5,1"),
    ("untied_all", 606, dict(
        vocab_size=50, d_model=16, d_embed=16, n_head=2, d_head=8, d_inner=32,
        mem_len=0, clamp_len=2, same_length=False, pre_lnorm=False, untie_r=True,
        cutoffs=[20, 35], div_val=1, tie_projs=[False, False, False],
        tie_word_embeddings=False),
     4, 2, 11,
     "no tying at all (out_layers.0.weight stored), 2 clusters, div_val=1, "
     "d_embed == d_model (no projections), mem_len=0 (no memory; mems has 0 rows), "
     "clamp_len=2; segments 4,4,3"),
    ("long_memory_clamp", 707, dict(
        vocab_size=32, d_model=16, d_embed=16, n_head=2, d_head=8, d_inner=24,
        mem_len=120, clamp_len=16, same_length=True, pre_lnorm=False, untie_r=True,
        cutoffs=[], div_val=1, tie_projs=[False], tie_word_embeddings=True),
     8, 2, 140,
     "a long memory with a short clamp_len: mem_len=120, T=8, clamp_len=16, so that "
     "most distances are clamped (the compiled attention computes their position "
     "scores once: the key/value window of 128 reaches distances 0..127); "
     "same_length; memory 0,8,...,120,120,120; segments 8 x 17, then 4"),
]

CONFIG_KEYS = ["model_type", "vocab_size", "n_layer", "d_model", "d_embed", "n_head",
               "d_head", "d_inner", "mem_len", "clamp_len", "same_length", "pre_lnorm",
               "untie_r", "cutoffs", "div_val", "tie_projs", "tie_word_embeddings",
               "layer_norm_epsilon", "attn_type", "ext_len", "sample_softmax", "adaptive"]


def make_config(overrides):
    cfg = dict(_COMMON)
    cfg.update(overrides)
    missing = [k for k in CONFIG_KEYS if k not in cfg]
    assert not missing, missing
    return {k: cfg[k] for k in CONFIG_KEYS}


def _init_std(name, shape, cfg):
    """(kind, scale) for a parameter: matrices ~ N(0, gain/sqrt(fan_in)) so that
    activations stay O(1); LN gains 1 + noise; biases clearly non-zero."""
    D = cfg["d_model"]
    if name.endswith("layer_norm.weight"):
        return "gain", 0.2
    if name.endswith("layer_norm.bias") or name.endswith("CoreNet.0.bias") \
            or name.endswith("CoreNet.3.bias"):
        return "normal", 0.2
    if name.endswith("r_w_bias") or name.endswith("r_r_bias"):
        return "normal", 0.5
    if name.startswith("crit.out_layers.") and name.endswith(".bias"):
        return "normal", 0.5
    if name == "crit.cluster_bias":
        return "normal", 0.5
    if ".emb_layers." in name or name.startswith("crit.out_layers.") \
            or name == "crit.cluster_weight":
        # embedding rows: h0 = e * sqrt(D) is O(1); as output rows: logits O(1)
        return "normal", 1.0 / math.sqrt(D)
    if ".emb_projs." in name or name.startswith("crit.out_projs."):
        return "normal", 1.0 / math.sqrt(shape[1])
    if name.endswith("qkv_net.weight") or name.endswith("r_net.weight"):
        return "normal", 1.2 / math.sqrt(shape[1])
    if name.endswith("CoreNet.0.weight"):
        return "normal", 1.4 / math.sqrt(shape[1])
    if name.endswith("o_net.weight") or name.endswith("CoreNet.3.weight"):
        # pre-LN: the residual stream is never normalised, keep the branches smaller
        return "normal", (0.8 if cfg["pre_lnorm"] else 1.4) / math.sqrt(shape[1])
    raise AssertionError(name)


def make_weights(cfg, seed):
    """Stored (non-tied) parameters, float32 numpy, in a fixed draw order."""
    ncfg = txl_torch.normalize_config(cfg)
    stored, _ = txl_torch.parameter_names(ncfg)
    shapes = txl_torch.parameter_shapes(ncfg)
    rng = np.random.default_rng(seed)
    weights = {}
    for name in stored:
        shape = shapes[name]
        kind, scale = _init_std(name, shape, ncfg)
        x = rng.standard_normal(shape)
        x = 1.0 + scale * x if kind == "gain" else scale * x
        weights[name] = x.astype(np.float32)
    return weights


def make_tokens(cfg, seed, bsz, total):
    """Random tokens [B, N] in which every cluster's boundary tokens appear as targets."""
    V = cfg["vocab_size"]
    rng = np.random.default_rng(seed + 7919)
    toks = rng.integers(0, V, size=(bsz, total), dtype=np.int64)
    special = [0, V - 1]
    for c in cfg["cutoffs"]:
        special += [c - 1, c]
    special = sorted(set(special))
    # positions with t >= 1 so that each special token is also a prediction target
    slots = [(b, t) for b in range(bsz) for t in range(1, total)]
    assert len(special) <= len(slots)
    pick = rng.permutation(len(slots))[:len(special)]
    for tok, k in zip(special, pick):
        b, t = slots[k]
        toks[b, t] = tok
    return toks


def _to_f32(outputs):
    return {k: v.detach().numpy().astype(np.float32) for k, v in outputs.items()}


def write_case(out_dir, name, seed, overrides, tgt_len, bsz, total, description):
    cfg = make_config(overrides)
    weights = make_weights(cfg, seed)
    tokens = make_tokens(cfg, seed, bsz, total)
    outputs = txl_torch.run_stream(cfg, weights, tokens, tgt_len)

    d = os.path.join(out_dir, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump({"tgt_len": tgt_len, "description": description}, f, indent=2)
        f.write("\n")
    safetensors_io.save(os.path.join(d, "model.safetensors"), weights, {"format": "pt"})
    safetensors_io.save(os.path.join(d, "tokens.safetensors"), {"tokens": tokens})
    safetensors_io.save(os.path.join(d, "expected.safetensors"), _to_f32(outputs),
                        {"tgt_len": str(tgt_len), "computed_in": "float64",
                         "generator": "tests/torch_reference/make_vectors.py"})
    return cfg, weights, tokens, outputs


# --------------------------------------------------------------------------- checks

def _max_diff(a, b):
    diffs = []
    for k in ("hidden", "log_probs", "mems"):
        if a[k].numel() == 0:
            continue
        diffs.append((a[k] - b[k]).abs().max().item())
    return max(diffs)


def check_every_parameter_matters(cfg, weights, tokens, tgt_len, base=None, seed=0):
    """Perturb each stored tensor in turn (alone); the outputs must change noticeably.
    Returns a list of failure strings (empty = ok)."""
    if base is None:
        base = txl_torch.run_stream(cfg, weights, tokens, tgt_len)
    rng = np.random.default_rng(seed)
    failures = []
    for name in sorted(weights):
        w = weights[name]
        pert = dict(weights)
        pert[name] = (w + 0.05 * rng.standard_normal(w.shape)).astype(np.float32)
        out = txl_torch.run_stream(cfg, pert, tokens, tgt_len)
        diff = _max_diff(base, out)
        if not diff > 1e-4:
            failures.append("%s: perturbing it changes outputs by only %.3g" % (name, diff))
    return failures


def _check_case(name, cfg, weights, tokens, tgt_len, outputs):
    fails = []
    ncfg = txl_torch.normalize_config(cfg)
    bsz, total = tokens.shape
    L, D = cfg["n_layer"], cfg["d_model"]

    # 1. log-probs are normalised; nll consistent; finite everywhere
    for k, v in outputs.items():
        if not torch.isfinite(v).all():
            fails.append("%s not finite" % k)
    lse = torch.logsumexp(outputs["log_probs"], dim=-1)
    if lse.abs().max().item() > 1e-10:
        fails.append("log_probs rows do not logsumexp to 0 (%.3g)" % lse.abs().max().item())

    # 2. every stored parameter matters
    fails += check_every_parameter_matters(cfg, weights, tokens, tgt_len, base=outputs)

    # 3. memories: shape, non-trivial, mems[0] = scaled embeddings of the last M tokens
    mems = outputs["mems"]
    M = min(cfg["mem_len"], total)
    if list(mems.shape) != [L, M, bsz, D]:
        fails.append("mems shape %s" % list(mems.shape))
    elif M > 0:
        W = txl_torch.resolve_weights(ncfg, weights)
        emb = txl_torch.adaptive_embedding(ncfg, W, torch.from_numpy(tokens[:, -M:]).t())
        if (mems[0] - emb).abs().max().item() > 1e-12:
            fails.append("mems[0] is not the embedding of the last M tokens")
        if mems.abs().min().item() == 0.0 or (mems[1] - mems[0]).abs().max().item() < 1e-3:
            fails.append("mems look trivial")
        # the memory is used: the last segment alone (empty memory) gives other outputs
        last = ((total - 1) // tgt_len) * tgt_len
        alone = txl_torch.run_stream(cfg, weights, tokens[:, last:], tgt_len)
        if (alone["hidden"] - outputs["hidden"][:, last:]).abs().max().item() < 1e-3:
            fails.append("memory has no effect on the last segment")

    # 4. segmentation invariance: with mem_len >= N and no same_length, any tgt_len gives
    #    the same stream (memory covers the whole past); exercises rel_shift/mask/memory.
    full_cfg = dict(cfg, mem_len=total, same_length=False)
    ref = txl_torch.run_stream(full_cfg, weights, tokens, total)
    for t in sorted({1, tgt_len, 3}):
        got = txl_torch.run_stream(full_cfg, weights, tokens, t)
        if _max_diff(ref, got) > 1e-10:
            fails.append("segmentation invariance broken for tgt_len=%d (%.3g)"
                         % (t, _max_diff(ref, got)))

    # 5. same_length semantics: allowed distances 0..mem_len-1 == token-by-token with
    #    mem_len-1 memory and no same_length (both are sliding windows of mem_len keys).
    if cfg["same_length"]:
        win_cfg = dict(cfg, mem_len=cfg["mem_len"] - 1, same_length=False)
        win = txl_torch.run_stream(win_cfg, weights, tokens, 1)
        for k in ("hidden", "log_probs"):
            diff = (win[k] - outputs[k]).abs().max().item()
            if diff > 1e-10:
                fails.append("same_length != sliding window (%s %.3g)" % (k, diff))

    return fails


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[1])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(here), "vectors"))
    ap.add_argument("--check", action="store_true", help="run sanity checks too")
    args = ap.parse_args()

    all_fails = []
    for name, seed, overrides, tgt_len, bsz, total, desc in CASES:
        cfg, weights, tokens, outputs = write_case(args.out, name, seed, overrides,
                                                   tgt_len, bsz, total, desc)
        # read-back check of the written files
        d = os.path.join(args.out, name)
        back_w = safetensors_io.load(os.path.join(d, "model.safetensors"))
        back_t = safetensors_io.load(os.path.join(d, "tokens.safetensors"))["tokens"]
        back_e = safetensors_io.load(os.path.join(d, "expected.safetensors"))
        ok = (set(back_w) == set(weights)
              and all(np.array_equal(back_w[k], weights[k]) for k in weights)
              and np.array_equal(back_t, tokens)
              and all(np.array_equal(back_e[k], outputs[k].numpy().astype(np.float32))
                      for k in outputs))
        fails = [] if ok else ["files do not read back identically"]
        if args.check:
            fails += _check_case(name, cfg, weights, tokens, tgt_len, outputs)
        nll = outputs["nll"].mean().item()
        print("%-20s %s  params=%d  mean nll=%.4f  (uniform %.4f)  %s"
              % (name, "ok  " if not fails else "FAIL", len(weights), nll,
                 math.log(cfg["vocab_size"]), "checked" if args.check else ""))
        for f in fails:
            print("    " + f)
        all_fails += fails
    sys.exit(1 if all_fails else 0)


if __name__ == "__main__":
    main()
