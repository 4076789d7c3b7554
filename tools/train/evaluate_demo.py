#!/usr/bin/python3
"""Score the demo model on the held-out text with the independent reference (txl_torch).

  /usr/bin/python3 tools/train/evaluate_demo.py [--model models/demo] [--text FILE]
                                                [--max-chars N] [--threads 0]

Bits per character of the held-out part (kjv_corpus.py: Colossians .. Revelation, never
trained on), computed by tests/torch_reference/txl_torch.py (float64, written from the
semantics document, no code shared with the training model) from the files in --model:
config.json, model.safetensors, vocab.txt. The text is one stream cut into segments of
the config's tgt_len, memory carried from segment to segment (starting empty), scored at
the config's mem_len and at mem_len 0 (no memory), over the whole held-out part and over
models/demo/heldout.txt.

Without --text the held-out part comes from the Debian packages bible-kjv-text + bible-kjv
and its first --heldout-chars characters (cut at a chapter end) are written to
<model>/heldout.txt, so later tools can score the model without the packages. With
--text FILE only that file is scored.

Prints a table and writes it to <model>/eval_log.txt.
"""

import argparse
import json
import math
import os
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "torch_reference"))
import kjv_corpus  # noqa: E402
import safetensors_io  # noqa: E402
import txl_torch  # noqa: E402

LN2 = math.log(2.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default=os.path.join(REPO, "models", "demo"))
    p.add_argument("--text", help="score this file instead of the package's held-out part")
    p.add_argument("--max-chars", type=int, default=0,
                   help="score only the first N characters of each text (0 = all)")
    p.add_argument("--heldout-chars", type=int, default=40000,
                   help="size bound of the heldout.txt written")
    p.add_argument("--extra-mem-len", type=int, action="append", default=[],
                   help="also score with this mem_len (repeatable)")
    p.add_argument("--threads", type=int, default=0, help="torch threads; 0 = all cores")
    return p.parse_args(argv)


def heldout_excerpt(text, limit):
    """The longest prefix of whole chapters with at most `limit` characters."""
    cut = text.rfind("\n\n", 0, limit + 1)
    while cut > 0:  # a chapter ends where "\n\n" is followed by "<Book> <chapter>\n\n"
        start = cut + 2
        end = text.find("\n", start)
        if text[end:end + 2] == "\n\n" and kjv_corpus.HEADING.match(text[start:end]):
            return text[:start]
        cut = text.rfind("\n\n", 0, cut)
    return text[:limit]


def stream_bpc(cfg, weights, ids, tgt_len, mem_len):
    run_cfg = dict(cfg, mem_len=mem_len)
    out = txl_torch.run_stream(run_cfg, weights, ids.view(1, -1).numpy(), tgt_len)
    return out["nll"].mean().item() / LN2


def unigram_bits(train_ids, test_ids, vocab_size):
    """Add-one unigram fitted on train_ids, cross-entropy on test_ids (bits/char)."""
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1.0
    return -torch.log2(counts / counts.sum())[test_ids].mean().item()


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads if args.threads > 0 else (os.cpu_count() or 1))
    with open(os.path.join(args.model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    weights = safetensors_io.load(os.path.join(args.model, "model.safetensors"))
    symbols = kjv_corpus.read_vocab(os.path.join(args.model, "vocab.txt"))
    if len(symbols) != cfg["vocab_size"]:
        raise SystemExit("error: vocab.txt has %d symbols, config.json vocab_size %d"
                         % (len(symbols), cfg["vocab_size"]))

    texts, train_ids = [], None
    if args.text:
        with open(args.text, encoding="utf-8", newline="\n") as f:
            texts.append((os.path.basename(args.text), f.read()))
    else:
        train_text, heldout = kjv_corpus.load_split()
        excerpt = heldout_excerpt(heldout, args.heldout_chars)
        path = os.path.join(args.model, "heldout.txt")
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(excerpt)
        print("wrote %s: the first %d of %d held-out characters (whole chapters)"
              % (path, len(excerpt), len(heldout)))
        texts += [("held-out (all)", heldout), ("heldout.txt", excerpt)]
        train_ids = torch.tensor(kjv_corpus.encode(train_text, symbols))

    tgt_len, mem_len = cfg["tgt_len"], cfg["mem_len"]
    mem_lens = [mem_len, 0] + [m for m in args.extra_mem_len if m not in (mem_len, 0)]
    rows = []
    for name, text in texts:
        if args.max_chars > 0:
            text = text[:args.max_chars]
        ids = torch.tensor(kjv_corpus.encode(text, symbols))
        for m in mem_lens:
            start = time.time()
            bpc = stream_bpc(cfg, weights, ids, tgt_len, m)
            seconds = time.time() - start
            rows.append((name, len(text), tgt_len, m, "%.4f" % bpc, "%.0f s" % seconds))
            print("  %s, mem_len %d: %.4f bpc" % (name, m, bpc), flush=True)
        if train_ids is not None:
            rows.append((name, len(text), "-", "-", "%.4f" % unigram_bits(
                train_ids, ids, len(symbols)), "unigram (add-one, train counts)"))

    header = ("text", "chars", "tgt_len", "mem_len", "bpc", "note")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    lines = ["evaluate_demo.py: %s, reference tests/torch_reference/txl_torch.py (float64)"
             % os.path.relpath(os.path.abspath(args.model), REPO)]
    for r in [header] + rows:
        lines.append("  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip())
    table = "\n".join(lines)
    print(table)
    with open(os.path.join(args.model, "eval_log.txt"), "w", encoding="utf-8") as f:
        f.write(table + "\n")


if __name__ == "__main__":
    main()
