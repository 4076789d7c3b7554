#!/usr/bin/python3
"""Markdown rows for docs/PERF.md from bench.py's JSON results.

    table.py RESULT.json [RESULT.json ...]

Per result: the peer's and txl's seconds per steady segment, their ratio in steady state
and over all segments, the hidden-only segment of both, and the GFLOP/s of the work txl
does itself (flops.cached_segment_flops) against the peak of the threads used.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import flops  # noqa: E402



def row(path):
    with open(path) as f:
        r = json.load(f)
    config_path = os.path.join(HERE, "..", "..", "models", "configs", r["model"], "config.json")
    with open(config_path) as f:
        cfg = json.load(f)
    B, T, t = r["batch"], r["T"], r["threads"]
    peer, txl = r["sides"]["torch"], r["sides"]["txl"]
    # A run without --no-log-probs also times the adaptive softmax in every segment.
    softmax = ("" if "no_log_probs" in os.path.basename(path)
               else " + adaptive softmax" if cfg.get("cutoffs") else " + softmax")
    if r.get("score") == "targets":     # the nll at the next tokens, not log-probs
        softmax = " scored at targets (%s tokens)" % r.get("token_dist", "uniform")
    own = B * flops.cached_segment_flops(cfg, T) / txl["hidden_only_s"] / 1e9
    diffs = r.get("max_abs_diff_hidden_per_segment", [])
    return ("| %s%s, b%d, %d thread%s | %.3f | %.3f | **%.2fx** | %.2fx | %.3f / %.3f s "
            "| %.0f GFLOP/s (%.0f%%) | %.1e .. %.1e |" % (
                r["model"], softmax, B, t, "" if t == 1 else "s",
                B * T / peer["tok_s_steady"], B * T / txl["tok_s_steady"],
                txl["tok_s_steady"] / peer["tok_s_steady"],
                txl["tok_s_all"] / peer["tok_s_all"],
                peer["hidden_only_s"], txl["hidden_only_s"],
                own, 100 * own / (flops.PEAK_PER_CORE * t),
                min(diffs) if diffs else float("nan"), max(diffs) if diffs else float("nan")))


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    print("| model, batch, threads | peer s/segment, steady | txl s/segment, steady "
          "| txl / peer, steady | txl / peer, all segments | hidden-only segment: peer / txl "
          "| txl's own work, hidden-only (% of peak) | max abs hidden difference |")
    print("|---|---|---|---|---|---|---|---|")
    for path in sys.argv[1:]:
        print(row(path))


if __name__ == "__main__":
    main()
