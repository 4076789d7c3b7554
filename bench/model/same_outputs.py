#!/usr/bin/python3
"""Two compiled models of one configuration on the same weights and tokens: the largest
difference of their hidden states over every segment (memory filling, then full).

    same_outputs.py --weights model.safetensors A.so B.so [--tokens N] [--tolerance 1e-4]

For a model compiled with other schedules (txlc --tuning-db) against the heuristic's: the
schedules may reorder float sums, not change what is computed. Exits 1 above the tolerance.
"""
import argparse
import contextlib
import io
import os
import sys
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench  # noqa: E402
import compare  # noqa: E402  (describe)
import safetensors_io  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("models", nargs=2, metavar="MODEL.so")
    ap.add_argument("--weights", required=True)
    ap.add_argument("--tokens", type=int)
    ap.add_argument("--tolerance", type=float, default=1e-4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    shape = compare.describe(args.models[0])
    if compare.describe(args.models[1]) != shape:
        raise SystemExit("same_outputs.py: the models differ in batch, T, mem_len or vocabulary")
    T, M = shape["tgt_len"], shape["mem_len"]
    n = args.tokens or T * (-(-M // T) + 2)
    weights = {k: bench.aligned_copy(np.asarray(v, dtype=np.float32))
               for k, v in safetensors_io.load(args.weights).items()}
    tokens = np.random.default_rng(args.seed).integers(
        0, shape["vocab_size"], size=(shape["batch"], n), dtype=np.int64)
    run_args = types.SimpleNamespace(score="log-probs", no_log_probs=True, hidden_only=False)
    outs = []
    for so in args.models:
        with contextlib.redirect_stdout(io.StringIO()):
            outs.append(bench.run_txl(so, weights, tokens, run_args)["hidden"])
    worst = 0.0
    for a, b in zip(*outs):
        worst = max(worst, float(np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b)))))
    verdict = "below" if worst <= args.tolerance else "ABOVE"
    print("hidden states, %d segments: max difference %.3g, %s %g"
          % (len(outs[0]), worst, verdict, args.tolerance))
    sys.exit(0 if worst <= args.tolerance else 1)


if __name__ == "__main__":
    main()
