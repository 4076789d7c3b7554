#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora (tests/fuzz/corpus/<target>/), small
and deterministic. Run from the repository root with Debian's python3:

    /usr/bin/python3 tests/fuzz/make_corpus.py [LINALG_MLIR]

LINALG_MLIR (optional) is `txlc tests/vectors/adaptive_div4 --tgt-len 4
--emit=linalg` output, whose txl.schedule attributes seed fuzz-schedule.
Corpus files are named by content, as libFuzzer names what it adds.
"""
import hashlib
import json
import math
import os
import re
import struct
import sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
CORPUS = os.path.join(ROOT, "tests", "fuzz", "corpus")

# The parameter lists of FuzzModels.h's two configs (expectedParameters).
PLAIN = [("transformer.word_emb.emb_layers.0.weight", [8, 4]),
         ("transformer.layers.0.dec_attn.qkv_net.weight", [12, 4]),
         ("transformer.layers.0.dec_attn.r_net.weight", [4, 4]),
         ("transformer.layers.0.dec_attn.o_net.weight", [4, 4]),
         ("transformer.layers.0.dec_attn.layer_norm.weight", [4]),
         ("transformer.layers.0.dec_attn.layer_norm.bias", [4]),
         ("transformer.layers.0.dec_attn.r_w_bias", [1, 4]),
         ("transformer.layers.0.dec_attn.r_r_bias", [1, 4]),
         ("transformer.layers.0.pos_ff.CoreNet.0.weight", [4, 4]),
         ("transformer.layers.0.pos_ff.CoreNet.0.bias", [4]),
         ("transformer.layers.0.pos_ff.CoreNet.3.weight", [4, 4]),
         ("transformer.layers.0.pos_ff.CoreNet.3.bias", [4]),
         ("transformer.layers.0.pos_ff.layer_norm.weight", [4]),
         ("transformer.layers.0.pos_ff.layer_norm.bias", [4]),
         ("crit.out_layers.0.bias", [8])]
ADAPTIVE = [("transformer.word_emb.emb_layers.0.weight", [4, 4]),
            ("transformer.word_emb.emb_projs.0", [4, 4]),
            ("transformer.word_emb.emb_layers.1.weight", [4, 2]),
            ("transformer.word_emb.emb_projs.1", [4, 2]),
            ("transformer.r_w_bias", [1, 2]),
            ("transformer.r_r_bias", [1, 2]),
            ("transformer.layers.0.dec_attn.qkv_net.weight", [6, 4]),
            ("transformer.layers.0.dec_attn.r_net.weight", [2, 4]),
            ("transformer.layers.0.dec_attn.o_net.weight", [4, 2]),
            ("transformer.layers.0.dec_attn.layer_norm.weight", [4]),
            ("transformer.layers.0.dec_attn.layer_norm.bias", [4]),
            ("transformer.layers.0.pos_ff.CoreNet.0.weight", [4, 4]),
            ("transformer.layers.0.pos_ff.CoreNet.0.bias", [4]),
            ("transformer.layers.0.pos_ff.CoreNet.3.weight", [4, 4]),
            ("transformer.layers.0.pos_ff.CoreNet.3.bias", [4]),
            ("transformer.layers.0.pos_ff.layer_norm.weight", [4]),
            ("transformer.layers.0.pos_ff.layer_norm.bias", [4]),
            ("crit.cluster_weight", [1, 4]),
            ("crit.cluster_bias", [1]),
            ("crit.out_layers.0.bias", [4]),
            ("crit.out_layers.1.bias", [4]),
            ("crit.out_projs.0", [4, 4])]
PACK = {"F32": "<f", "F64": "<d", "I64": "<q", "I32": "<i"}
SIZE = {"F32": 4, "F64": 8, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "U8": 1}


def encode(dtype, values):
    if dtype == "F16":
        return b"".join(struct.pack("<e", v) for v in values)
    if dtype == "BF16":
        return b"".join(struct.pack("<f", v)[2:] for v in values)
    if dtype == "U8":
        return bytes(int(v) & 255 for v in values)
    return b"".join(struct.pack(PACK[dtype], v) for v in values)


def safetensors(tensors, metadata=None, parity=None):
    """tensors: [(name, dtype, shape, values)]. parity: the header length's
    low bit (the safetensors fuzzer's first byte picks the model by it)."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, dtype, shape, values in tensors:
        raw = encode(dtype, values)
        header[name] = {"dtype": dtype, "shape": shape,
                        "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    if parity is not None and len(text) % 2 != parity:
        text += b" "
    return struct.pack("<Q", len(text)) + text + data


def values(shape, seed):
    n = math.prod(shape)
    return [((seed * 31 + i * 17) % 23 - 11) / 16.0 for i in range(n)]


def inv_freq(d):
    return [1.0 / 10000 ** (2.0 * i / d) for i in range(d // 2)]


def weights(params, dtype="F32", skip=(), extra=()):
    out = [(n, dtype, s, values(s, k)) for k, (n, s) in enumerate(params)
           if n not in skip]
    return out + list(extra)


def write(target, content):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(content, str):
        content = content.encode()
    name = hashlib.sha1(content).hexdigest()
    with open(os.path.join(d, name), "wb") as f:
        f.write(content)


def safetensors_seeds():
    t = "fuzz-safetensors"
    ipf = [("transformer.pos_emb.inv_freq", "F32", [2], inv_freq(4))]
    write(t, safetensors(weights(PLAIN, extra=ipf), parity=0))
    write(t, safetensors(weights(ADAPTIVE, extra=ipf), parity=1))
    # Tied copies present (equal), other dtypes, metadata.
    tied = [("crit.out_layers.0.weight", "F32", [8, 4], values([8, 4], 0))]
    write(t, safetensors(weights(PLAIN, extra=tied), {"format": "pt"}, parity=0))
    write(t, safetensors(weights(ADAPTIVE, "F16"), parity=1))
    write(t, safetensors(weights(PLAIN, "BF16"), parity=0))
    write(t, safetensors(weights(PLAIN, "F64"), parity=0))
    # Wrong: a NaN, a missing tensor, an integer dtype, a wrong inv_freq.
    bad = weights(PLAIN)
    bad[3] = (bad[3][0], "F32", bad[3][2], [float("nan")] + bad[3][3][1:])
    write(t, safetensors(bad, parity=0))
    write(t, safetensors(weights(ADAPTIVE, skip=("crit.cluster_bias",)), parity=1))
    write(t, safetensors([("x", "I64", [2, 2], [1, 2, 3, 4])], parity=0))
    write(t, safetensors(weights(PLAIN, extra=[(ipf[0][0], "F32", [2], [1.0, 0.5])]),
                         parity=0))
    write(t, b"\x10\x00\x00\x00\x00\x00\x00\x00{}              ")


def config_seeds():
    t = "fuzz-config"
    sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
    header = open(os.path.join(ROOT, "tests", "fuzz", "FuzzModels.h")).read()
    for raw in re.findall(r'R"\((.*?)\)"', header, re.S):
        write(t, raw.strip() + "\n")
    for path in ["tests/vectors/adaptive_div4/config.json",
                 "tests/vectors/untied_all/config.json",
                 "models/demo/config.json",
                 "models/configs/wt103-base/config.json",
                 "models/configs/enwik8-base/config.json"]:
        p = os.path.join(ROOT, path)
        if os.path.exists(p):
            write(t, open(p, "rb").read())


def tokens_seeds():
    t = "fuzz-tokens"
    write(t, safetensors([("tokens", "I64", [2, 3], [1, 2, 3, 4, 5, 6])]))
    write(t, safetensors([("tokens", "I64", [1, 5], [0, 39, 7, 7, 1])],
                         {"source": "seed"}))
    write(t, safetensors([("tokens", "I32", [1, 2], [1, 2])]))
    write(t, safetensors([("tokens", "I64", [4], [1, 2, 3, 4])]))
    write(t, safetensors([("tokens", "I64", [1, 2], [40, -1])]))
    write(t, safetensors([("other", "I64", [1, 1], [1])]))


def vocabulary_seeds():
    t = "fuzz-vocabulary"
    demo = open(os.path.join(ROOT, "models", "demo", "vocab.txt"), "rb").read()
    write(t, b"\x00" + demo + b"\x00And God said, Let there be light.\n")
    write(t, b"\x01" + demo + b"\x00In the beginning \xc3\xa9\t\r\n")
    write(t, b"\x02<unk>\n<eos>\nthe\nof\nand\n\x00the of and\nzebra the\n")
    write(t, b"\x00<eos>\nthe\nof\n\x00the of\n")
    write(t, b"\x01a\n\\s\n\\n\n\\t\n\\\\\n\\u{A0}\n\\u{1F600}\n\x00a a\n\xc2\xa0\xf0\x9f\x98\x80\\")
    write(t, b"\x00a\na\n\x00aa")


def mlir_cases(path):
    text = open(os.path.join(ROOT, path)).read()
    for case in text.split("// -----"):
        lines = [l for l in case.splitlines()
                 if not l.lstrip().startswith("//")]
        body = "\n".join(lines).strip()
        if body:
            yield body + "\n"


def mlir_seeds():
    t = "fuzz-mlir"
    cases = []
    for path in ["tests/lit/Dialect/ops.mlir",
                 "tests/lit/Passes/txl-fuse.mlir",
                 "tests/lit/Passes/txl-fuse-nll.mlir",
                 "tests/lit/Passes/txl-pack-weights.mlir",
                 "tests/lit/Passes/txl-window-memory.mlir",
                 "tests/lit/Passes/txl-decompose.mlir",
                 "tests/lit/Passes/txl-kv-cache.mlir",
                 "tests/lit/Passes/txl-hoist-invariants.mlir",
                 "tests/lit/Passes/txl-tile.mlir",
                 "tests/lit/Passes/txl-decompose-invalid.mlir"]:
        cases += list(mlir_cases(path))
    # invalid.mlir: every fifth case, the verifier's errors.
    cases += list(mlir_cases("tests/lit/Dialect/invalid.mlir"))[::5]
    for case in cases:
        if len(case) <= 8192:
            write(t, case)


def schedule_seeds(linalg):
    t = "fuzz-schedule"
    write(t, '{funcs = [{name = "g", compute = "root", pure = {vectorize = '
             '[{loop = "d0", width = 16 : i64}]}}], vector_width = 16 : i64}')
    write(t, "{}")
    if linalg:
        text = open(linalg).read()
        found = {}
        for m in re.finditer(r"txl\.schedule = \{", text):
            # The attribute: up to its balancing brace.
            begin, depth = m.end() - 1, 0
            for i in range(begin, len(text)):
                depth += text[i] == "{"
                depth -= text[i] == "}"
                if depth == 0:
                    break
            s = text[begin:i + 1]
            # One seed per structure (names and numbers aside), longest first.
            shape = re.sub(r'"[^"]*"|\d+', "_", s)
            if len(s) <= 4096 and len(s) > len(found.get(shape, "")):
                found[shape] = s
        for s in sorted(found.values(), key=len, reverse=True)[:12]:
            write(t, s)


def main(argv):
    safetensors_seeds()
    config_seeds()
    tokens_seeds()
    vocabulary_seeds()
    mlir_seeds()
    schedule_seeds(argv[1] if len(argv) > 1 else None)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
