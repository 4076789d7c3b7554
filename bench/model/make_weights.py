#!/usr/bin/python3
"""Seeded random weights for a Transformer-XL config (HF state_dict names).

    make_weights.py CONFIG.json OUT.safetensors [--seed 0]

Names and shapes come from tests/torch_reference/txl_torch.py (parameter_names /
parameter_shapes): the tied output layer (crit.out_layers.0.weight) is absent, as in a
Hugging Face checkpoint with tie_word_embeddings. Values follow the original init
(normal, std 0.02; LayerNorm weights around 1). Random, so perplexities mean nothing;
the benchmark only needs the shapes and finite, well-scaled activations.
"""
import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "torch_reference"))
import safetensors_io  # noqa: E402
import txl_torch  # noqa: E402


def make(cfg, seed):
    cfg = txl_torch.normalize_config(cfg)
    shapes = txl_torch.parameter_shapes(cfg)
    stored, _ = txl_torch.parameter_names(cfg)
    rng = np.random.default_rng(seed)
    out = {}
    for name in stored:
        shape = shapes[name]
        if name.endswith("layer_norm.weight"):
            a = 1.0 + 0.02 * rng.standard_normal(shape, dtype=np.float32)
        elif name.endswith(".bias") or name == "crit.cluster_bias":
            a = 0.01 * rng.standard_normal(shape, dtype=np.float32)
        else:
            a = 0.02 * rng.standard_normal(shape, dtype=np.float32)
        out[name] = np.ascontiguousarray(a, dtype=np.float32)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("config")
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    with open(args.config) as f:
        cfg = json.load(f)
    weights = make(cfg, args.seed)
    n = sum(a.size for a in weights.values())
    tmp = args.out + ".tmp"
    safetensors_io.save(tmp, weights, metadata={"seed": str(args.seed)})
    os.replace(tmp, args.out)
    print("make_weights: %d tensors, %d parameters (%.1f MB) -> %s"
          % (len(weights), n, n * 4 / 1e6, args.out))


if __name__ == "__main__":
    main()
