#!/usr/bin/python3
"""Compiled models side by side on the same weights and tokens, in one process.

    compare.py --weights model.safetensors A.so B.so [C.so ...]
               [--tokens N] [--rounds 3] [--clock cpu|wall] [--seed 1]

For changes too small for run.sh's one run per side to tell apart (a few percent, on a
shared machine): the weights are loaded once, then every round runs each model over the
same tokens (bench.run_txl: hidden states only, each segment timed alone), so that what the
machine does meanwhile falls on all of them alike. Per model: the median, first quartile and
minimum of the steady segments (memory full) over all rounds.

--clock cpu (the default) times a segment by the calling thread's CPU clock, which other
processes' time slices do not inflate; it counts that thread only, so with HL_NUM_THREADS
above 1 use --clock wall. The models must share a configuration (batch, T, mem_len,
vocabulary): they are meant to differ in how they were compiled.

    build/bin/txlc models/configs/wt103-base/config.json -o /tmp/before.so
    # change txl, rebuild
    build/bin/txlc models/configs/wt103-base/config.json -o /tmp/after.so
    HL_NUM_THREADS=1 bench/model/compare.py \\
        --weights /tmp/txl-bench/wt103-base/model.safetensors /tmp/before.so /tmp/after.so
"""
import argparse
import contextlib
import ctypes
import io
import os
import statistics
import sys
import time
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import safetensors_io  # noqa: E402  (bench put tests/torch_reference on the path)


def describe(so_path):
    lib = ctypes.CDLL(os.path.abspath(so_path))
    lib.txl_model_describe.restype = ctypes.POINTER(bench.ModelDesc)
    d = lib.txl_model_describe().contents
    return {"batch": d.batch, "tgt_len": d.tgt_len, "mem_len": d.mem_len,
            "vocab_size": d.vocab_size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs="+", metavar="MODEL.so")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--tokens", type=int,
                    help="tokens per stream (default: enough for 10 steady segments)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    for path in [args.weights] + args.models:
        if not os.path.isfile(path):
            raise SystemExit("compare.py: no file " + path)
    shapes = [describe(so) for so in args.models]
    if any(s != shapes[0] for s in shapes):
        raise SystemExit("compare.py: the models differ in batch, T, mem_len or vocabulary: "
                         + "; ".join("%s %s" % (m, s) for m, s in zip(args.models, shapes)))
    shape = shapes[0]
    T, M = shape["tgt_len"], shape["mem_len"]
    tokens_per_stream = args.tokens or T * (-(-M // T) + 10)
    if args.clock == "cpu":
        bench.time = types.SimpleNamespace(perf_counter=time.thread_time)
    weights = {k: bench.aligned_copy(np.asarray(v, dtype=np.float32))
               for k, v in safetensors_io.load(args.weights).items()}
    rng = np.random.default_rng(args.seed)
    tokens = rng.integers(0, shape["vocab_size"], size=(shape["batch"], tokens_per_stream),
                          dtype=np.int64)
    run_args = types.SimpleNamespace(score="log-probs", no_log_probs=True, hidden_only=False)
    steady = {so: [] for so in args.models}
    for _ in range(args.rounds):
        for so in args.models:
            with contextlib.redirect_stdout(io.StringIO()):
                out = bench.run_txl(so, weights, tokens, run_args)
            steady[so] += [s for s, m in zip(out["seg_s"], out["mem_rows"]) if m == M]
    if not steady[args.models[0]]:
        raise SystemExit("compare.py: no segment with the memory full; give more --tokens")
    print("%s clock, %d round(s), %d tokens per stream, steady segments (M = %d), seconds:"
          % (args.clock, args.rounds, tokens_per_stream, M))
    print("%-32s %5s %9s %9s %9s" % ("model", "n", "median", "p25", "min"))
    base = statistics.median(steady[args.models[0]])
    for so, times in steady.items():
        median = statistics.median(times)
        print("%-32s %5d %9.5f %9.5f %9.5f   %+.1f%%" % (
            os.path.basename(so), len(times), median, np.percentile(times, 25), min(times),
            100.0 * (median / base - 1.0)))


if __name__ == "__main__":
    main()
