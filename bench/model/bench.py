#!/usr/bin/python3
"""Compiled txl model.so vs. a float32 PyTorch peer, per segment, in one process.

    bench.py --so model.so --weights model.safetensors --config config.json \
             --tokens N [--batch 1] [--threads 1] [--torch-threads T] [--seed 1]
             [--which txl,torch] [--score log-probs|targets] [--token-dist uniform|zipf]
             [--json out.json]

--batch must be the batch model.so was compiled for; each of the B streams gets its own
random tokens. --torch-threads is torch's intra-op pool (default: --threads); the BLAS
under it takes its threads from its own variable (run.sh sets OPENBLAS_NUM_THREADS).

txl: txl_model_step of model.so called directly through ctypes (the ABI of
runtime/include/txl/runtime/ModelABI.h), each segment timed alone; the step computes
hidden states and, with --score log-probs (the default), the full log-probabilities. With
--score targets each segment is scored at its next tokens instead, as evaluation does:
txl_model_step without log-probs, and txl_model_nll once per score_segments (S) steps,
as the runtime's Session::scoreStream does (its time shared by the S segments; the last
group may be short). Weights are copied
once into 64-byte-aligned buffers. The Halide thread pool size comes from HL_NUM_THREADS,
which must be set before this process starts (run.sh does); run_txl also passes it to
txl_model_set_num_threads, as the runtime passes --threads (at 1, the parallel loops then
run as plain loops on the calling thread).

peer: tests/torch_reference/txl_torch.py, the literal re-implementation of the authors'
algorithm (concat [mem; h], qkv of all K rows, r_net of all K positions, the pad/view
rel-shift, a materialised mask, softmax, o_net, FFN, adaptive log-softmax over the full
vocabulary; with --score targets the original's target path, adaptive_nll: the head for
every row, a tail only for the rows whose target is in it), run in float32 by switching
its module-level DTYPE, in eval / no_grad.

--token-dist zipf draws tokens with p(id) ~ 1 / (id + 1): the published vocabularies are
sorted by frequency, so most tokens fall in the head as in real text (uniform tokens put
most of them in the largest tail cluster).

Both sides also report a hidden-only time at steady state (txl: log_probs = NULL, which
skips the adaptive softmax; peer: forward_segment without the softmax).
"""
import argparse
import ctypes
import json
import math
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "torch_reference"))
import safetensors_io  # noqa: E402
import txl_torch  # noqa: E402
import flops  # noqa: E402


class WeightDesc(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("rank", ctypes.c_int32),
                ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("num_alternate_names", ctypes.c_int32),
                ("alternate_names", ctypes.POINTER(ctypes.c_char_p))]


class StateDesc(ctypes.Structure):
    _fields_ = [("role", ctypes.c_char_p), ("layer", ctypes.c_int32),
                ("rank", ctypes.c_int32), ("shape", ctypes.POINTER(ctypes.c_int64))]


class StepVariantDesc(ctypes.Structure):
    _fields_ = [("tgt_len", ctypes.c_int64), ("step", ctypes.c_void_p)]


class ModelDesc(ctypes.Structure):
    _fields_ = [("abi_version", ctypes.c_int32), ("target", ctypes.c_char_p),
                ("config_json", ctypes.c_char_p), ("batch", ctypes.c_int64),
                ("tgt_len", ctypes.c_int64), ("mem_len", ctypes.c_int64),
                ("n_layer", ctypes.c_int64), ("d_model", ctypes.c_int64),
                ("vocab_size", ctypes.c_int64), ("num_weights", ctypes.c_int32),
                ("weights", ctypes.POINTER(WeightDesc)),
                ("scratch_bytes", ctypes.c_int64),
                ("num_states", ctypes.c_int32), ("states", ctypes.POINTER(StateDesc)),
                ("num_prepared", ctypes.c_int32), ("prepared", ctypes.POINTER(WeightDesc)),
                ("prepare_scratch_bytes", ctypes.c_int64),
                ("state_capacity", ctypes.c_int64), ("score_segments", ctypes.c_int64),
                ("num_step_variants", ctypes.c_int32),
                ("step_variants", ctypes.POINTER(StepVariantDesc))]


def aligned_empty(shape, dtype, align=64):
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    raw = np.empty(nbytes + align, dtype=np.uint8)
    off = (-raw.ctypes.data) % align
    return raw[off:off + nbytes].view(dtype).reshape(shape)


def aligned_copy(a):
    out = aligned_empty(a.shape, a.dtype)
    out[...] = a
    return out


def fptr(a):
    return a.ctypes.data_as(ctypes.POINTER(ctypes.c_float))


def open_model(so_path):
    """model.so through ctypes (ModelABI.h, version 7): the library and its descriptor."""
    lib = ctypes.CDLL(os.path.abspath(so_path))
    lib.txl_model_describe.restype = ctypes.POINTER(ModelDesc)
    lib.txl_model_step.restype = ctypes.c_int32
    fpp = ctypes.POINTER(ctypes.POINTER(ctypes.c_float))
    lib.txl_model_step.argtypes = [
        fpp, fpp, ctypes.POINTER(ctypes.c_int64), ctypes.c_int64, ctypes.c_int64,
        ctypes.c_int64, fpp,
        ctypes.POINTER(ctypes.c_float), ctypes.POINTER(ctypes.c_float), ctypes.c_void_p]
    lib.txl_model_prepare.restype = ctypes.c_int32
    lib.txl_model_prepare.argtypes = [fpp, fpp, ctypes.c_void_p]
    lib.txl_model_set_num_threads.restype = ctypes.c_int32
    lib.txl_model_set_num_threads.argtypes = [ctypes.c_int32]
    d = lib.txl_model_describe().contents
    assert d.abi_version == 7, "model ABI version %d, bench.py knows 7" % d.abi_version
    lib.txl_model_nll.restype = ctypes.c_int32
    lib.txl_model_nll.argtypes = [fpp, fpp, ctypes.POINTER(ctypes.c_float),
                                  ctypes.POINTER(ctypes.c_int64),
                                  ctypes.POINTER(ctypes.c_float), ctypes.c_void_p]
    return lib, d


def weight_pointers(d, weights):
    """The descriptor's weights (by name, else an alternate name) as a pointer array;
    the arrays must stay alive while it is used."""
    ptrs = (ctypes.POINTER(ctypes.c_float) * d.num_weights)()
    for i in range(d.num_weights):
        w = d.weights[i]
        name = w.name.decode()
        shape = [w.shape[k] for k in range(w.rank)]
        if name not in weights:  # held under a tied copy's name
            name = next(w.alternate_names[k].decode()
                        for k in range(w.num_alternate_names)
                        if w.alternate_names[k].decode() in weights)
        a = weights[name]
        assert list(a.shape) == shape, (name, a.shape, shape)
        ptrs[i] = fptr(a)
    return ptrs


def run_txl(so_path, weights, tokens, args):
    lib, d = open_model(so_path)
    lib.txl_model_set_num_threads(int(os.environ.get("HL_NUM_THREADS", "0")))
    scoring = args.score == "targets"
    assert d.batch == tokens.shape[0], "model.so is compiled for batch %d" % d.batch
    B, T, ML, L, D, V = d.batch, d.tgt_len, d.mem_len, d.n_layer, d.d_model, d.vocab_size
    ptrs = weight_pointers(d, weights)
    # Prepared tensors (positions projected once, at "load"): timed apart.
    prepared = []
    for i in range(d.num_prepared):
        p = d.prepared[i]
        prepared.append(aligned_empty([p.shape[k] for k in range(p.rank)], np.float32))
    prepared_ptrs = (ctypes.POINTER(ctypes.c_float) * max(1, len(prepared)))(
        *[fptr(p) for p in prepared])
    prepare_scratch = aligned_empty((max(d.prepare_scratch_bytes, 64),), np.uint8)
    t0 = time.perf_counter()
    rc = lib.txl_model_prepare(ptrs, prepared_ptrs, prepare_scratch.ctypes.data)
    prepare_s = time.perf_counter() - t0
    assert rc == 0, "txl_model_prepare returned %d" % rc
    print("  txl   prepare (once, %d tensors): %8.3f s" % (len(prepared), prepare_s), flush=True)
    # The state buffers the descriptor asks for (key/value caches by default):
    # [B, state_capacity, width]; each step sees the window [S, S + mem_len).
    mems = []
    for i in range(d.num_states):
        st = d.states[i]
        mems.append(aligned_empty([B, d.state_capacity, st.shape[2]], np.float32))
        mems[-1][...] = 0
    mem_ptrs = (ctypes.POINTER(ctypes.c_float) * max(1, len(mems)))(*[fptr(m) for m in mems])
    scratch = aligned_empty((max(d.scratch_bytes, 64),), np.uint8)
    scratch[...] = 0  # touched once, as a runtime would on allocation
    tok = aligned_empty((B, T), np.int64)
    hidden = aligned_empty((B, T, D), np.float32)
    logp = aligned_empty((B, T, V), np.float32)
    G = d.score_segments if scoring else 1          # segments per txl_model_nll
    group_hidden = aligned_empty((G, B, T, D), np.float32)
    group_targets = aligned_empty((G, B, T), np.int64)
    group_nll = aligned_empty((G, B, T), np.float32)
    group = []                                      # (segment, n) waiting to be scored
    N = tokens.shape[1]
    M = 0
    S = 0  # window_start

    def slide_back():
        # What the runtime's Session does when the next rows would not fit
        # after the window: the held rows move to the front (ModelABI.h).
        nonlocal S
        if ML and S + ML + T > d.state_capacity:
            for m in mems:
                m[:, ML - M:ML] = m[:, S + ML - M:S + ML].copy()
            S = 0

    res = {"seg_s": [], "mem_rows": [], "hidden": [], "logp_first": None, "nll": []}
    for s in range(0, N, T):
        n = min(T, N - s)
        tok[...] = 0
        tok[:, :n] = tokens[:, s:s + n]
        t0 = time.perf_counter()
        slide_back()
        rc = lib.txl_model_step(ptrs, prepared_ptrs,
                                tok.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                n, M, S, mem_ptrs, fptr(hidden),
                                None if args.no_log_probs or scoring else fptr(logp),
                                scratch.ctypes.data)
        assert rc == 0, "txl_model_step returned %d" % rc
        if scoring:
            group_hidden[len(group)] = hidden
            group_targets[len(group)] = next_tokens(tokens, s, T)
            group.append((s // T, n))
        dt = time.perf_counter() - t0
        res["seg_s"].append(dt)
        res["mem_rows"].append(M)
        res["hidden"].append(hidden[:, :n].copy())
        if s == 0 and not (args.no_log_probs or scoring):
            res["logp_first"] = logp[:, :n].copy()
        print("  txl   segment %2d (M=%3d): %8.3f s" % (s // T, M, dt), flush=True)
        M = min(ML, M + n)
        S += n if ML else 0
        if scoring and (len(group) == G or s + n >= N):
            group_targets[len(group):] = -1             # slots not run: no targets
            t0 = time.perf_counter()
            rc = lib.txl_model_nll(ptrs, prepared_ptrs, fptr(group_hidden),
                                   group_targets.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                   fptr(group_nll), scratch.ctypes.data)
            dt = time.perf_counter() - t0
            assert rc == 0, "txl_model_nll returned %d" % rc
            for k, (segment, m) in enumerate(group):
                res["seg_s"][segment] += dt / len(group)
                res["nll"].append(group_nll[k, :, :m].copy())
            print("  txl   nll of %d segment(s):  %8.3f s" % (len(group), dt), flush=True)
            group = []
    if args.hidden_only:
        tok[...] = tokens[:, :T]
        t0 = time.perf_counter()
        slide_back()
        rc = lib.txl_model_step(ptrs, prepared_ptrs,
                                tok.ctypes.data_as(ctypes.POINTER(ctypes.c_int64)),
                                T, M, S, mem_ptrs, fptr(hidden), None, scratch.ctypes.data)
        res["hidden_only_s"] = time.perf_counter() - t0
        res["hidden_only_M"] = M
        assert rc == 0
        print("  txl   hidden only (M=%3d): %8.3f s" % (M, res["hidden_only_s"]), flush=True)
    res["target"] = d.target.decode()
    res["score_segments"] = G
    res["prepare_s"] = prepare_s
    res["states"] = [d.states[i].role.decode() for i in range(d.num_states)]
    return res


def next_tokens(tokens, s, T):
    """[B, T] targets of the segment starting at s: each row's next token, -1 past the
    stream's end (and past a short last segment)."""
    B, N = tokens.shape
    out = np.full((B, T), -1, dtype=np.int64)
    n = max(0, min(T, N - 1 - s))
    out[:, :n] = tokens[:, s + 1:s + 1 + n]
    return out


def run_torch(cfg_raw, weights, tokens, args):
    txl_torch.DTYPE = torch.float32          # the whole module computes in float32
    cfg = txl_torch.normalize_config(cfg_raw)
    W = txl_torch.resolve_weights(cfg, {k: torch.from_numpy(v) for k, v in weights.items()})
    T = cfg["tgt_len"]
    N = tokens.shape[1]
    toks = torch.from_numpy(np.ascontiguousarray(tokens))
    res = {"seg_s": [], "mem_rows": [], "hidden": [], "logp_first": None, "nll": []}
    scoring = args.score == "targets"
    with torch.no_grad():
        mems = txl_torch.init_memory(cfg, toks.shape[0])
        for s in range(0, N, T):
            M = mems[0].shape[0]
            seg = toks[:, s:s + T].t().contiguous()              # time-major [Q, B]
            t0 = time.perf_counter()
            hid, mems = txl_torch.forward_segment(cfg, W, seg, mems)
            logp = None if args.no_log_probs or scoring else \
                txl_torch.adaptive_log_softmax(cfg, W, hid)
            if scoring:                                          # [Q, B] rows, time-major
                target = torch.from_numpy(next_tokens(tokens, s, T)[:, :seg.shape[0]].T.copy())
                nll = txl_torch.adaptive_nll(cfg, W, hid.reshape(-1, hid.shape[-1]),
                                             target.reshape(-1)).reshape(target.shape)
            dt = time.perf_counter() - t0
            if scoring:
                res["nll"].append(nll.t().numpy().copy())
            res["seg_s"].append(dt)
            res["mem_rows"].append(M)
            res["hidden"].append(hid.transpose(0, 1).numpy().copy())
            if s == 0 and logp is not None:
                res["logp_first"] = logp.transpose(0, 1).numpy().copy()
            print("  torch segment %2d (M=%3d): %8.3f s" % (s // T, M, dt), flush=True)
        if args.hidden_only:
            M = mems[0].shape[0]
            seg = toks[:, :T].t().contiguous()
            t0 = time.perf_counter()
            txl_torch.forward_segment(cfg, W, seg, mems)
            res["hidden_only_s"] = time.perf_counter() - t0
            res["hidden_only_M"] = M
            print("  torch hidden only (M=%3d): %8.3f s" % (M, res["hidden_only_s"]), flush=True)
    return res


def summarize(name, res, cfg, T, B, no_log_probs=False, scoring=False):
    """Tokens count every stream (B per position); FLOPs likewise."""
    segs = res["seg_s"]
    full = [i for i, m in enumerate(res["mem_rows"]) if m >= cfg["mem_len"]]
    warm = [i for i in range(len(segs)) if i not in full]
    out = {"name": name, "total_s": sum(segs), "tokens": B * T * len(segs),
           "tok_s_all": B * T * len(segs) / sum(segs)}
    # FLOPs of the original algorithm (what the peer computes), the adaptive
    # softmax left out when it is not run (and when scoring at targets, whose
    # work depends on the targets).
    def work(m):
        fl = flops.segment_flops(cfg, T, m)
        return B * (fl["total"] - (fl["adaptive_softmax"] if no_log_probs or scoring else 0))
    f_all = sum(work(m) for m in res["mem_rows"])
    out["gflops_all"] = f_all / sum(segs) / 1e9
    if full:
        t = sum(segs[i] for i in full)
        out["tok_s_steady"] = B * T * len(full) / t
        out["steady_segments"] = len(full)
        out["gflops_steady"] = work(cfg["mem_len"]) * len(full) / t / 1e9
    if "hidden_only_s" in res and name == "txl":
        # The work txl's pipeline does itself (no recomputed keys or positions).
        out["gflops_own_hidden_only"] = (B * flops.cached_segment_flops(cfg, T)
                                         / res["hidden_only_s"] / 1e9)
    if warm:
        t = sum(segs[i] for i in warm)
        out["tok_s_warmup"] = B * T * len(warm) / t
        out["warmup_segments"] = len(warm)
    if "hidden_only_s" in res:
        out["hidden_only_s"] = res["hidden_only_s"]
        fl = flops.segment_flops(cfg, T, res["hidden_only_M"])
        out["gflops_hidden_only"] = (B * (fl["total"] - fl["adaptive_softmax"])
                                     / res["hidden_only_s"] / 1e9)
    return out




def print_table(summary):
    sides = summary["sides"]
    peak = flops.PEAK_PER_CORE * summary["threads"]
    print("\n%s: %d thread(s) (torch intra-op %d), batch %d, %d tokens per stream, T=%d, "
          "%s tokens, scoring: %s; peak ~%.0f GFLOP/s" % (
              summary["model"], summary["threads"], summary["torch_threads"],
              summary["batch"], summary["tokens"], summary["T"], summary["token_dist"],
              summary["score"], peak))
    print("%-6s %10s %10s %10s %10s %10s %8s %12s" % (
        "side", "tok/s all", "tok/s wu", "tok/s ss", "s/seg ss", "GFLOP/s ss", "% peak",
        "hid-only s"))
    for k, v in sides.items():
        ss = v.get("tok_s_steady", float("nan"))
        g = v.get("gflops_steady", float("nan"))
        print("%-6s %10.2f %10.2f %10.2f %10.3f %10.2f %7.2f%% %12.3f" % (
            k, v["tok_s_all"], v.get("tok_s_warmup", float("nan")), ss,
            summary["batch"] * summary["T"] / ss, g, 100 * g / peak, v.get("hidden_only_s", float("nan"))))
    if "txl" in sides and "torch" in sides:
        a, b = sides["txl"], sides["torch"]
        print("txl / torch tokens/s: all %.4f, steady state %.4f" % (
            a["tok_s_all"] / b["tok_s_all"],
            a.get("tok_s_steady", float("nan")) / b.get("tok_s_steady", float("nan"))))
        print("max |hidden txl - torch| per segment: %s" % " ".join(
            "%.1e" % d for d in summary["max_abs_diff_hidden_per_segment"]))
        if summary["score"] == "targets":
            print("txl scores %d segment(s) per txl_model_nll; the peer one at a time"
                  % summary["txl_score_segments"])
        if "max_abs_diff_nll" in summary:
            print("max |nll txl - torch|, all segments: %.1e" % summary["max_abs_diff_nll"])
        if "max_abs_diff_logp_segment0" in summary:
            print("max |log_probs txl - torch|, segment 0: %.1e"
                  % summary["max_abs_diff_logp_segment0"])
    if "gflops_own_hidden_only" in sides.get("txl", {}):
        g = sides["txl"]["gflops_own_hidden_only"]
        print("txl hidden-only segment, counting the work txl does (cached keys, no r_net): "
              "%.1f GFLOP/s, %.1f%% of peak" % (g, 100 * g / peak))
    print("GFLOP/s ss counts the original algorithm's work for both sides%s." % (
        " (without the adaptive softmax)" if summary["score"] == "targets" else ""))
    print("ss = steady state (memory full, M = mem_len); wu = warm-up segments (M < mem_len)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--so", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--config", required=True)
    ap.add_argument("--tokens", type=int, default=704)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--torch-threads", type=int)
    ap.add_argument("--which", default="txl,torch")
    ap.add_argument("--hidden-only", action="store_true")
    ap.add_argument("--no-log-probs", action="store_true",
                    help="hidden states only in every segment (no adaptive softmax)")
    ap.add_argument("--score", choices=["log-probs", "targets"], default="log-probs",
                    help="after the hidden states: the full log-probabilities, or the nll "
                         "at the next tokens (txl_model_nll; the original's target path)")
    ap.add_argument("--token-dist", choices=["uniform", "zipf"], default="uniform",
                    help="token ids uniform, or Zipf(1) by id (frequency-sorted vocabulary)")
    ap.add_argument("--json")
    args = ap.parse_args()
    torch.set_num_threads(args.torch_threads or args.threads)
    hl = os.environ.get("HL_NUM_THREADS")
    if hl is not None and int(hl) != args.threads:
        print("warning: HL_NUM_THREADS=%s but --threads %d" % (hl, args.threads))
    with open(args.config) as f:
        cfg_raw = json.load(f)
    cfg = txl_torch.normalize_config(cfg_raw)
    T = cfg["tgt_len"]
    rng = np.random.default_rng(args.seed)
    V = cfg["vocab_size"]
    if args.token_dist == "zipf":
        p = 1.0 / np.arange(1, V + 1)
        tokens = rng.choice(V, size=(args.batch, args.tokens), p=p / p.sum()).astype(np.int64)
    else:
        tokens = rng.integers(0, V, size=(args.batch, args.tokens), dtype=np.int64)
    t0 = time.perf_counter()
    weights = {k: aligned_copy(np.asarray(v, dtype=np.float32))
               for k, v in safetensors_io.load(args.weights).items()}
    print("weights loaded in %.1f s; threads %d (torch %d, HL_NUM_THREADS=%s, "
          "OPENBLAS_NUM_THREADS=%s, OPENBLAS_CORETYPE=%s)"
          % (time.perf_counter() - t0, args.threads, torch.get_num_threads(), hl,
             os.environ.get("OPENBLAS_NUM_THREADS"), os.environ.get("OPENBLAS_CORETYPE")),
          flush=True)
    results = {}
    for which in args.which.split(","):
        print("[%s] %d tokens, %d segments of %d" % (which, args.tokens, -(-args.tokens // T), T),
              flush=True)
        if which == "txl":
            results[which] = run_txl(args.so, weights, tokens, args)
        elif which == "torch":
            results[which] = run_torch(cfg_raw, weights, tokens, args)
        else:
            raise SystemExit("unknown --which " + which)

    summary = {"model": cfg_raw.get("name", os.path.basename(os.path.dirname(
                   os.path.abspath(args.config)))),
               "batch": args.batch, "threads": args.threads,
               "torch_threads": torch.get_num_threads(), "tokens": args.tokens, "T": T,
               "mem_len": cfg["mem_len"], "score": args.score,
               "token_dist": args.token_dist,
               "flops_per_segment_steady": flops.segment_flops(cfg, T, cfg["mem_len"]),
               "sides": {k: summarize(k, v, cfg, T, args.batch, args.no_log_probs,
                                      args.score == "targets")
                         for k, v in results.items()},
               "per_segment": {k: {"mem_rows": v["mem_rows"], "seg_s": v["seg_s"]}
                               for k, v in results.items()}}
    if "txl" in results and "torch" in results:
        a, b = results["txl"], results["torch"]
        diffs = [float(np.max(np.abs(x - y))) for x, y in zip(a["hidden"], b["hidden"])]
        summary["max_abs_diff_hidden_per_segment"] = diffs
        if a["nll"] and b["nll"]:
            summary["max_abs_diff_nll"] = max(
                float(np.max(np.abs(x - y))) for x, y in zip(a["nll"], b["nll"]))
        if a["logp_first"] is not None and b["logp_first"] is not None:
            summary["max_abs_diff_logp_segment0"] = float(
                np.max(np.abs(a["logp_first"] - b["logp_first"])))
        summary["txl_target"] = a["target"]
        summary["txl_score_segments"] = a["score_segments"]
    print_table(summary)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()
