#!/usr/bin/python3
"""Self-check: literal _rel_shift + materialised mask == closed form.

For every allowed (i, j) the score computed the original way (AC + rel_shift(BDraw),
scaled, masked) must equal
    score[i,j] = ((q_i+u)·k_j + (q_i+v)·Wr·R(M+i-j)) / sqrt(Dh),
    R(d) = sinusoid(min(d, clamp_len))   (no clamp if clamp_len <= 0),
and the mask must allow exactly the pairs with 0 <= d (and d < mem_len if same_length).
Exhaustive over Q, M, mem_len, clamp_len, same_length combinations. Exits 1 on mismatch.
"""

import itertools
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import txl_torch as T  # noqa: E402

DT = torch.float64


def sinusoid_for_distance(d, d_model, clamp_len):
    """R(d), computed directly per distance (float32 angle, as the spec defines)."""
    if clamp_len > 0:
        d = min(d, clamp_len)
    freqs = 1.0 / (10000 ** (torch.arange(0.0, d_model, 2.0, dtype=torch.float32) / d_model))
    angle = (torch.tensor(float(d), dtype=torch.float32) * freqs).to(DT)
    return torch.cat([angle.sin(), angle.cos()])


def check_one(gen, qlen, mlen, mem_len, clamp_len, same_length, B=2, H=2, Dh=3, D=6):
    klen = mlen + qlen
    q = torch.randn(qlen, B, H, Dh, generator=gen, dtype=DT)
    k = torch.randn(klen, B, H, Dh, generator=gen, dtype=DT)
    u = torch.randn(H, Dh, generator=gen, dtype=DT)
    v = torch.randn(H, Dh, generator=gen, dtype=DT)
    wr = torch.randn(H * Dh, D, generator=gen, dtype=DT)

    pe = T.positional_embedding(D, klen, clamp_len)
    rk = (pe @ wr.t()).view(klen, H, Dh)
    mask = T.attention_mask(qlen, mlen, mem_len, same_length)
    score = T.attention_scores(q, k, rk, u, v, mask)          # [Q, K, B, H]

    errors = 0
    for i in range(qlen):
        for j in range(klen):
            d = mlen + i - j
            allowed = d >= 0 and (not same_length or d < mem_len)
            if bool(mask[i, j]) == allowed:
                errors += 1
                continue
            if not allowed:
                if not torch.isinf(score[i, j]).all():
                    errors += 1
                continue
            r = (wr @ sinusoid_for_distance(d, D, clamp_len)).view(H, Dh)
            for b in range(B):
                for n in range(H):
                    want = ((q[i, b, n] + u[n]) @ k[j, b, n]
                            + (q[i, b, n] + v[n]) @ r[n]) / math.sqrt(Dh)
                    if abs(score[i, j, b, n].item() - want.item()) > 1e-12:
                        errors += 1
    return errors


def main():
    gen = torch.Generator().manual_seed(1234)
    combos = bad = 0
    for qlen, mlen, extra, clamp_len, same_length in itertools.product(
            range(1, 7), range(0, 8), range(0, 4), (-1, 0, 1, 2, 4), (False, True)):
        mem_len = mlen + extra              # the model never holds more than mem_len rows
        if same_length and mem_len == 0:
            continue                        # masks everything; unusable combination
        combos += 1
        e = check_one(gen, qlen, mlen, mem_len, clamp_len, same_length)
        if e:
            bad += 1
            print("MISMATCH Q=%d M=%d mem_len=%d clamp=%d same_length=%s: %d errors"
                  % (qlen, mlen, mem_len, clamp_len, same_length, e))
    print("check_rel_shift: %d/%d combinations ok (Q 1..6, M 0..7, mem_len M..M+3, "
          "clamp -1/0/1/2/4, same_length F/T)" % (combos - bad, combos))
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
