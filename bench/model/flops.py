#!/usr/bin/python3
"""FLOPs of one segment of the ORIGINAL Transformer-XL algorithm (attn_type 0, eval).

Multiply-adds count 2; element-wise work (LayerNorm, softmax, rel-shift copies, masks,
bias adds) is left out: it is well under 1% here. Q = tokens in the segment, M = memory
rows held, K = M + Q. Per layer, as the authors' code does it:
  qkv_net   over all K rows of [mem; h]       2*K*D*3*H*Dh
  r_net     over all K positions               2*K*D*H*Dh
  AC, BD    (q+u)k^T and (q+v)r^T, Q x K       2 * 2*Q*K*H*Dh
  prob @ V                                     2*Q*K*H*Dh
  o_net                                        2*Q*H*Dh*D
  FFN       two linears                        2 * 2*Q*D*F
adaptive softmax (full log-probs, div_val 1, no projections): head D -> c1 + n_clusters,
tails D -> (V - c1) in total                   2*Q*D*(V + n_clusters)
`qkv_needed` is what an implementation that projects queries for the Q new rows only
would do (2*K*D*2*H*Dh + 2*Q*D*H*Dh); it is reported, not used for GFLOP/s.

    flops.py CONFIG.json [M]     prints the table for one segment
"""
import json
import sys

PEAK_PER_CORE = 168.0  # GFLOP/s FP32 on one core of this machine, measured (docs/PERF.md)


def segment_flops(cfg, Q, M):
    L, D, H, Dh, F, V = (cfg["n_layer"], cfg["d_model"], cfg["n_head"], cfg["d_head"],
                         cfg["d_inner"], cfg["vocab_size"])
    n = len(cfg.get("cutoffs", []))
    assert cfg.get("div_val", 1) == 1 and cfg.get("d_embed", D) == D, "only div_val 1, E == D"
    K = M + Q
    HD = H * Dh
    per_layer = {
        "qkv_net": 2 * K * D * 3 * HD,
        "r_net": 2 * K * D * HD,
        "attention (AC+BD+PV)": 3 * 2 * Q * K * HD,
        "o_net": 2 * Q * HD * D,
        "ffn": 2 * 2 * Q * D * F,
    }
    out = {k: L * v for k, v in per_layer.items()}
    out["adaptive_softmax"] = 2 * Q * D * (V + n)
    out["total"] = sum(out.values())
    out["qkv_needed"] = L * (2 * K * D * 2 * HD + 2 * Q * D * HD)
    return out


def cached_segment_flops(cfg, Q):
    """What txl's default pipeline computes per segment (hidden states): queries, keys
    and values of the Q new rows only (keys and values of memory rows are cached), no
    r_net (prepared at load), the position term against K + Q - 1 distances, and the
    attention over the whole window of mem_len + Q keys (txl does not skip memory rows
    not yet held)."""
    L, D, H, Dh, F = (cfg["n_layer"], cfg["d_model"], cfg["n_head"], cfg["d_head"],
                      cfg["d_inner"])
    K = cfg["mem_len"] + Q
    HD = H * Dh
    per_layer = (2 * Q * D * 3 * HD                  # q, k, v of the new rows
                 + 2 * 2 * Q * K * HD                # content scores, probs @ V
                 + 2 * Q * (K + Q - 1) * HD          # position scores by distance
                 + 2 * Q * HD * D                    # o_net
                 + 2 * 2 * Q * D * F)                # FFN
    return L * per_layer


def main():
    cfg = json.load(open(sys.argv[1]))
    Q = cfg["tgt_len"]
    M = int(sys.argv[2]) if len(sys.argv) > 2 else cfg["mem_len"]
    f = segment_flops(cfg, Q, M)
    print("one segment, Q=%d, M=%d, K=%d" % (Q, M, Q + M))
    for k, v in f.items():
        print("  %-22s %8.3f GFLOP  %5.1f%%" % (k, v / 1e9, 100.0 * v / f["total"]))


if __name__ == "__main__":
    main()
