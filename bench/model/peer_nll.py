#!/usr/bin/python3
"""The peer's adaptive softmax on one segment: full log-probabilities against the original
evaluation's target path (head for every row, a tail only for the rows whose target is in
it), with uniform and Zipf(1) targets. Float32, torch on 1 thread.

    OPENBLAS_NUM_THREADS=1 OPENBLAS_CORETYPE=SkylakeX \
      bench/model/peer_nll.py CONFIG.json WEIGHTS.safetensors [--rows 64]

(run.sh's OpenBLAS copy goes in LD_LIBRARY_PATH when the system BLAS is not OpenBLAS.)
"""
import argparse, os, sys, time, json
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "torch_reference"))
import torch, numpy as np
import safetensors_io, txl_torch
torch.set_num_threads(1)
txl_torch.DTYPE = torch.float32
ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("config"); ap.add_argument("weights")
ap.add_argument("--rows", type=int, default=64)
args = ap.parse_args()
cfg = txl_torch.normalize_config(json.load(open(args.config)))
W = safetensors_io.load(args.weights)
W = {k: torch.as_tensor(v).float() for k, v in W.items()}
W = txl_torch.resolve_weights(cfg, W)
V = cfg["vocab_size"]; T = args.rows
h = torch.randn(T, cfg["d_model"])
def nll_orig(h, target):
    return txl_torch.adaptive_nll(cfg, W, h, target)
rng = np.random.default_rng(0)
uni = torch.as_tensor(rng.integers(0, V, T))
ranks = np.arange(1, V + 1); p = 1.0 / ranks; p /= p.sum()
zipf = torch.as_tensor(rng.choice(V, T, p=p))
def tm(f, n=5):
    f(); ts = []
    for _ in range(n):
        t0 = time.perf_counter(); f(); ts.append(time.perf_counter() - t0)
    return min(ts)
with torch.no_grad():
    print("full  %.4f" % tm(lambda: txl_torch.adaptive_log_softmax(cfg, W, h)))
    print("nll uniform %.4f" % tm(lambda: nll_orig(h, uni)))
    print("nll zipf %.4f" % tm(lambda: nll_orig(h, zipf)))
    full = txl_torch.adaptive_log_softmax(cfg, W, h)
    print("check", (full.gather(1, zipf[:, None]).squeeze(1) + nll_orig(h, zipf)).abs().max().item())
