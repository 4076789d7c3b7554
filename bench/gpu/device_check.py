#!/usr/bin/env python3
"""The GPU checks of scripts/device-check.sh: models compiled by txlc, run through ctypes.

    device_check.py vectors DIR VECTORS_DIR
        every DIR/<case>.so (a vector case compiled by txlc) stepped over the case's
        tokens (log-probabilities on); hidden, log_probs and nll compared with the
        PyTorch vectors (max abs error <= 1e-4). Exit 1 on any mismatch or failure.
    device_check.py model --so MODEL.so --config CONFIG.json --tokens N [--json OUT]
        wt103-base (any config) with seeded random weights made here: txl (hidden
        states, then scoring at targets) next to the PyTorch peer
        (tests/torch_reference/txl_torch.py, float32, eval / no_grad) on the same
        device in this process, TF32 off and then on; tokens/s of the steady segments
        (memory full), and how far txl's hidden states and nll are from the peer's.

No txl-run here: the GPU machine has no LLVM 19, and model.so needs only libc and the
driver (found at run time). The ctypes side is bench/model/bench.py's.
"""
import argparse
import ctypes
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "model"))
import bench  # noqa: E402
import make_weights  # noqa: E402
from bench import aligned_copy, aligned_empty, fptr  # noqa: E402
import safetensors_io  # noqa: E402  (on the path through bench)
import txl_torch  # noqa: E402

ERRORS = []
HANDLER = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_char_p)(
    lambda _, message: ERRORS.append(message.decode(errors="replace")))


class Model:
    """A model.so with its weights bound, prepared once, and its state buffers."""

    def __init__(self, so_path, weights):
        self.lib, self.d = bench.open_model(so_path)
        d = self.d
        # Kernel (device) errors become messages, not an abort of this process.
        self.lib.txl_model_set_error_handler.argtypes = [type(HANDLER)]
        self.lib.txl_model_set_error_handler(HANDLER)
        self.weights = {k: aligned_copy(v) for k, v in weights.items()}
        self.ptrs = bench.weight_pointers(d, self.weights)
        self.prepared = [aligned_empty([p.shape[k] for k in range(p.rank)], np.float32)
                         for p in (d.prepared[i] for i in range(d.num_prepared))]
        self.prepared_ptrs = (ctypes.POINTER(ctypes.c_float) * max(1, len(self.prepared)))(
            *[fptr(p) for p in self.prepared])
        scratch = aligned_empty((max(d.prepare_scratch_bytes, 64),), np.uint8)
        t0 = time.perf_counter()
        self.check(self.lib.txl_model_prepare(self.ptrs, self.prepared_ptrs,
                                              scratch.ctypes.data), "prepare")
        self.prepare_s = time.perf_counter() - t0
        self.states = [aligned_empty([d.batch, d.state_capacity, d.states[i].shape[2]],
                                     np.float32) for i in range(d.num_states)]
        self.state_ptrs = (ctypes.POINTER(ctypes.c_float) * max(1, len(self.states)))(
            *[fptr(s) for s in self.states])
        self.scratch = aligned_empty((max(d.scratch_bytes, 64),), np.uint8)
        self.scratch[...] = 0
        self.reset()

    def check(self, rc, what):
        if rc != 0:
            raise RuntimeError("txl_model_%s failed (code %d): %s"
                               % (what, rc, "; ".join(ERRORS) or "no message"))

    def reset(self):
        for s in self.states:
            s[...] = 0
        self.M = self.S = 0

    def step(self, tokens, n, hidden, log_probs=None):
        """tokens [B, T] int64 (first n read); writes hidden [B, T, D] (and log_probs)."""
        d = self.d
        ML, T = d.mem_len, d.tgt_len
        if ML and self.S + ML + T > d.state_capacity:   # Session's slide back
            for s in self.states:
                s[:, ML - self.M:ML] = s[:, self.S + ML - self.M:self.S + ML].copy()
            self.S = 0
        self.check(self.lib.txl_model_step(
            self.ptrs, self.prepared_ptrs,
            tokens.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)), n, self.M, self.S,
            self.state_ptrs, fptr(hidden), None if log_probs is None else fptr(log_probs),
            self.scratch.ctypes.data), "step")
        self.M = min(ML, self.M + n)
        self.S += n if ML else 0


def check_vectors(directory, vectors):
    failures, cases = [], sorted(f[:-3] for f in os.listdir(directory) if f.endswith(".so"))
    if not cases:
        sys.exit("device_check: no <case>.so in %s" % directory)
    for case in cases:
        try:
            weights = safetensors_io.load(os.path.join(vectors, case, "model.safetensors"))
            tokens = safetensors_io.load(os.path.join(vectors, case, "tokens.safetensors"))["tokens"]
            expected = safetensors_io.load(os.path.join(vectors, case, "expected.safetensors"))
            model = Model(os.path.join(directory, case + ".so"), weights)
            d = model.d
            B, T, D, V = d.batch, d.tgt_len, d.d_model, d.vocab_size
            N = tokens.shape[1]
            hidden, log_probs = np.zeros((B, N, D), np.float32), np.zeros((B, N, V), np.float32)
            tok = aligned_empty((B, T), np.int64)
            h, lp = aligned_empty((B, T, D), np.float32), aligned_empty((B, T, V), np.float32)
            for s in range(0, N, T):
                n = min(T, N - s)
                tok[...] = 0
                tok[:, :n] = tokens[:, s:s + n]
                model.step(tok, n, h, lp)
                hidden[:, s:s + n], log_probs[:, s:s + n] = h[:, :n], lp[:, :n]
            nll = -np.take_along_axis(log_probs[:, :-1], tokens[:, 1:, None], axis=2)[..., 0]
            errors = {"hidden": np.abs(hidden - expected["hidden"]).max(),
                      "log_probs": np.abs(log_probs - expected["log_probs"]).max(),
                      "nll": np.abs(nll - expected["nll"]).max()}
            bad = [k for k, e in errors.items() if not e <= 1e-4]
            print("vectors %-20s %s  max abs error: %s" % (
                case, "FAIL" if bad else "ok  ",
                ", ".join("%s %.2e" % kv for kv in errors.items())), flush=True)
            if bad:
                failures.append(case)
        except Exception as e:  # one case's failure is reported, the others still run
            print("vectors %-20s FAIL  %s" % (case, e), flush=True)
            failures.append(case)
    print("vectors: %d of %d cases match to 1e-4" % (len(cases) - len(failures), len(cases)))
    return 1 if failures else 0


def torch_peer(cfg, weights, tokens, device, T):
    """The peer over the whole stream: per-segment seconds, hidden [B, N, D], nll."""
    txl_torch.DTYPE = torch.float32
    # txl_torch makes masks, positions and memories with torch.zeros/ones/arange: on the
    # default device, which must be the GPU (PyTorch >= 2.0; Debian's 1.13 runs on the CPU).
    if hasattr(torch, "set_default_device"):
        torch.set_default_device(device)
    W = txl_torch.resolve_weights(cfg, {k: torch.from_numpy(v) for k, v in weights.items()})
    moved = {}
    W = {k: moved.setdefault(id(v), v.to(device)) for k, v in W.items()}
    toks = torch.from_numpy(tokens).to(device)
    B, N = tokens.shape
    seconds, hidden, nll = [], [], []
    with torch.no_grad():
        mems = [m.to(device) for m in txl_torch.init_memory(cfg, B)]
        for s in range(0, N, T):
            seg = toks[:, s:s + T].t().contiguous()
            target = torch.from_numpy(bench.next_tokens(tokens, s, T)[:, :seg.shape[0]].T.copy()).to(device)
            torch.cuda.synchronize(device) if device.type == "cuda" else None
            t0 = time.perf_counter()
            hid, mems = txl_torch.forward_segment(cfg, W, seg, mems)
            out = txl_torch.adaptive_nll(cfg, W, hid.reshape(-1, hid.shape[-1]),
                                         target.reshape(-1)).reshape(target.shape)
            torch.cuda.synchronize(device) if device.type == "cuda" else None
            seconds.append(time.perf_counter() - t0)
            hidden.append(hid.transpose(0, 1).cpu().numpy())
            nll.append(out.t().cpu().numpy())
    if hasattr(torch, "set_default_device"):
        torch.set_default_device("cpu")
    return seconds, np.concatenate(hidden, 1), np.concatenate(nll, 1)


def txl_stream(model, tokens):
    """txl over the whole stream: hidden states every step, scored at the targets by
    txl_model_nll once per score_segments steps (its time shared by them)."""
    d = model.d
    B, T, D, G = d.batch, d.tgt_len, d.d_model, d.score_segments
    N = tokens.shape[1]
    tok = aligned_empty((B, T), np.int64)
    group_hidden = aligned_empty((G, B, T, D), np.float32)
    group_targets = aligned_empty((G, B, T), np.int64)
    group_nll = aligned_empty((G, B, T), np.float32)
    seconds, hidden, nll, group = [], [], [], []
    for s in range(0, N, T):
        n = min(T, N - s)
        tok[...] = 0
        tok[:, :n] = tokens[:, s:s + n]
        t0 = time.perf_counter()
        model.step(tok, n, group_hidden[len(group)])
        seconds.append(time.perf_counter() - t0)
        group_targets[len(group)] = bench.next_tokens(tokens, s, T)
        hidden.append(group_hidden[len(group), :, :n].copy())
        group.append((s // T, n))
        if len(group) == G or s + n >= N:
            group_targets[len(group):] = -1
            t0 = time.perf_counter()
            model.check(model.lib.txl_model_nll(
                model.ptrs, model.prepared_ptrs, fptr(group_hidden),
                group_targets.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                fptr(group_nll), model.scratch.ctypes.data), "nll")
            dt = time.perf_counter() - t0
            for k, (segment, m) in enumerate(group):
                seconds[segment] += dt / len(group)
                nll.append(group_nll[k, :, :m].copy())
            group = []
    return seconds, np.concatenate(hidden, 1), np.concatenate(nll, 1)


def check_model(args):
    with open(args.config) as f:
        raw = json.load(f)
    cfg = txl_torch.normalize_config(raw)
    weights = make_weights.make(raw, args.seed)
    model = Model(args.so, weights)
    d = model.d
    B, T, ML = d.batch, d.tgt_len, d.mem_len
    rng = np.random.default_rng(args.seed + 1)
    tokens = rng.integers(0, d.vocab_size, size=(B, args.tokens), dtype=np.int64)
    steady = lambda secs: [x for i, x in enumerate(secs) if i * T >= ML] or secs
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    rows = []
    txl_s, txl_hidden, txl_nll = txl_stream(model, tokens)
    txl_tok_s = B * T * len(steady(txl_s)) / sum(steady(txl_s))
    rows.append({"side": "txl", "target": d.target.decode(), "batch": B,
                 "prepare_s": model.prepare_s, "tok_s": txl_tok_s})
    for tf32 in (False, True):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        torch.backends.cudnn.allow_tf32 = tf32
        secs, hidden, nll = torch_peer(cfg, weights, tokens, device, T)
        tok_s = B * T * len(steady(secs)) / sum(steady(secs))
        rows.append({"side": "torch eager" + (" TF32" if tf32 else ""), "batch": B,
                     "tok_s": tok_s, "txl_speedup": txl_tok_s / tok_s,
                     "hidden_max_abs_diff": float(np.abs(hidden - txl_hidden).max()),
                     "nll_max_abs_diff": float(np.abs(nll - txl_nll).max())})
    print("model %s, batch %d, %d tokens per stream, %s:" % (
        os.path.basename(os.path.dirname(os.path.abspath(args.config))), B, args.tokens, name))
    for r in rows:
        extra = "" if r["side"] == "txl" else "  txl %.2fx  |hidden diff| %.2e  |nll diff| %.2e" % (
            r["txl_speedup"], r["hidden_max_abs_diff"], r["nll_max_abs_diff"])
        print("  %-16s %10.1f tokens/s%s" % (r["side"], r["tok_s"], extra), flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": name, "rows": rows}, f, indent=1)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="what", required=True)
    v = sub.add_parser("vectors")
    v.add_argument("dir")
    v.add_argument("vectors")
    m = sub.add_parser("model")
    m.add_argument("--so", required=True)
    m.add_argument("--config", required=True)
    m.add_argument("--tokens", type=int, default=256)
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--json")
    args = ap.parse_args()
    return check_vectors(args.dir, args.vectors) if args.what == "vectors" else check_model(args)


if __name__ == "__main__":
    sys.exit(main())
