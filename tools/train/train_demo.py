#!/usr/bin/python3
"""Train the demo character-level Transformer-XL on the King James Bible (models/demo/).

  /usr/bin/python3 tools/train/train_demo.py [--out models/demo] [--threads 0] [--steps N]
                                             [--time-budget-min M] [...]

Needs Debian's python3-torch and the packages bible-kjv-text + bible-kjv (the text and its
reader). The last 16 books (Colossians .. Revelation, ~5% of the characters) are held out
and never trained on (kjv_corpus.py). The model (txl_model.py) is attn_type 0
Transformer-XL: relative positions with r_w_bias/r_r_bias per layer, segment recurrence
with memory, post-LN, ReLU FFN, plain softmax over the characters, tied input/output
embedding. Its forward is the inference computation of
shared/reference/transformer-xl-semantics.md (dropout, if any, only while training); at the
end the script checks the exported weights against tests/torch_reference/txl_torch.py.

Writes to --out: config.json (HF TransfoXLConfig names), model.safetensors (F32, HF names,
no tied copy crit.out_layers.0.weight), vocab.txt (one escaped symbol per line, id order),
train_log.txt (settings, train/held-out bpc over time, final numbers).

Determinism: fixed seed, sequential data order, torch.use_deterministic_algorithms; the
number of optimizer steps is --steps unless --time-budget-min stops the run earlier (the
log then records the step it stopped at; rerun with --stop-step <that> to reproduce).
"""

import argparse
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "torch_reference"))
import kjv_corpus  # noqa: E402
import txl_model  # noqa: E402

LN2 = math.log(2.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", default=os.path.join(REPO, "models", "demo"))
    p.add_argument("--threads", type=int, default=0, help="torch threads; 0 = all cores")
    p.add_argument("--seed", type=int, default=1611)
    g = p.add_argument_group("model")
    g.add_argument("--n-layer", type=int, default=4)
    g.add_argument("--d-model", type=int, default=160)
    g.add_argument("--n-head", type=int, default=5)
    g.add_argument("--d-head", type=int, default=32)
    g.add_argument("--d-inner", type=int, default=640)
    g.add_argument("--pre-lnorm", action="store_true")
    g = p.add_argument_group("training")
    g.add_argument("--tgt-len", type=int, default=64, help="segment length")
    g.add_argument("--mem-len", type=int, default=128, help="memory length")
    g.add_argument("--batch-size", type=int, default=16, help="parallel streams")
    g.add_argument("--steps", type=int, default=4200, help="optimizer steps (LR schedule)")
    g.add_argument("--time-budget-min", type=float, default=0.0,
                   help="stop training after this many minutes (0 = no limit)")
    g.add_argument("--stop-step", type=int, default=0,
                   help="stop after this many steps, LR schedule unchanged (0 = --steps); "
                        "reproduces a run that --time-budget-min stopped")
    g.add_argument("--lr", type=float, default=2e-3, help="peak Adam learning rate")
    g.add_argument("--warmup", type=int, default=200, help="linear warm-up steps")
    g.add_argument("--min-lr-ratio", type=float, default=0.05,
                   help="cosine decay ends at lr * this")
    g.add_argument("--clip", type=float, default=0.25, help="gradient-norm clip")
    g.add_argument("--dropout", type=float, default=0.0)
    g.add_argument("--dropatt", type=float, default=0.0)
    g.add_argument("--init-std", type=float, default=0.02)
    g = p.add_argument_group("logging")
    g.add_argument("--log-interval", type=int, default=100)
    g.add_argument("--eval-interval", type=int, default=500)
    g.add_argument("--eval-chars", type=int, default=20000,
                   help="held-out characters scored at each --eval-interval")
    return p.parse_args(argv)


def model_config(args, vocab_size):
    """HF TransfoXLConfig fields, every computation-relevant one explicit."""
    return {
        "architectures": ["TransfoXLLMHeadModel"],
        "model_type": "transfo-xl",
        "vocab_size": vocab_size,
        "n_layer": args.n_layer,
        "d_model": args.d_model,
        "d_embed": args.d_model,
        "n_head": args.n_head,
        "d_head": args.d_head,
        "d_inner": args.d_inner,
        "tgt_len": args.tgt_len,
        "mem_len": args.mem_len,
        "clamp_len": -1,
        "same_length": False,
        "pre_lnorm": bool(args.pre_lnorm),
        "untie_r": True,
        "cutoffs": [],
        "div_val": 1,
        "tie_projs": [False],
        "tie_word_embeddings": True,
        "proj_share_all_but_first": False,
        "layer_norm_epsilon": 1e-5,
        "attn_type": 0,
        "ext_len": 0,
        "sample_softmax": -1,
        "adaptive": True,
        "dropout": args.dropout,
        "dropatt": args.dropatt,
        "init": "normal",
        "init_std": args.init_std,
    }


class Log:
    """Print and append to train_log.txt."""

    def __init__(self, path):
        self.f = open(path, "w", encoding="utf-8")

    def __call__(self, msg):
        print(msg, flush=True)
        self.f.write(msg + "\n")
        self.f.flush()


def batchify(ids, bsz):
    """1-D ids -> [n, bsz]: bsz contiguous streams (time-major), remainder dropped."""
    n = ids.numel() // bsz
    return ids[: n * bsz].view(bsz, n).t().contiguous()


def learning_rate(args, step):
    if step < args.warmup:
        return args.lr * (step + 1) / args.warmup
    t = min(1.0, (step - args.warmup) / max(1, args.steps - args.warmup))
    cosine = 0.5 * (1 + math.cos(math.pi * t))
    return args.lr * (args.min_lr_ratio + (1 - args.min_lr_ratio) * cosine)


@torch.no_grad()
def stream_bits(model, ids, tgt_len, mem_len):
    """Bits per character of one stream (1-D ids) in segments of tgt_len, memory carried,
    starting empty; predicts ids[1:]."""
    model.eval()
    data = ids.view(-1, 1)
    mems, nats, count = None, 0.0, 0
    for s in range(0, data.shape[0] - 1, tgt_len):
        inp = data[s:s + tgt_len]
        tgt = data[s + 1:s + 1 + tgt_len]
        logits, mems = model(inp, mems, mem_len)
        logits = logits[: tgt.shape[0]]
        nats += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1),
                                reduction="sum").item()
        count += tgt.numel()
    model.train()
    return nats / count / LN2


def unigram_bits(train_ids, test_ids, vocab_size):
    """Cross-entropy (bits/char) of test_ids under the add-one unigram of train_ids."""
    counts = torch.bincount(train_ids, minlength=vocab_size).double() + 1.0
    logp = torch.log2(counts / counts.sum())
    return -logp[test_ids].mean().item()


def check_against_reference(model, cfg, ids, tgt_len):
    """Max |log-prob difference| between this model (float32) and txl_torch (float64)."""
    import txl_torch
    model.eval()
    weights = model.export_state_dict()
    ref = txl_torch.run_stream(cfg, weights, ids.view(1, -1).numpy(), tgt_len)["log_probs"][0]
    mems, outs = None, []
    with torch.no_grad():
        for s in range(0, ids.numel(), tgt_len):
            logits, mems = model(ids[s:s + tgt_len].view(-1, 1), mems, cfg["mem_len"])
            outs.append(F.log_softmax(logits[:, 0], dim=-1))
    model.train()
    return (torch.cat(outs).double() - ref).abs().max().item()


def main(argv=None):
    args = parse_args(argv)
    threads = args.threads if args.threads > 0 else (os.cpu_count() or 1)
    torch.set_num_threads(threads)
    torch.manual_seed(args.seed)
    torch.use_deterministic_algorithms(True)
    os.makedirs(args.out, exist_ok=True)
    log = Log(os.path.join(args.out, "train_log.txt"))
    log("# train_demo.py %s" % " ".join(sys.argv[1:] if argv is None else argv))
    log("# settings %s" % json.dumps(dict(vars(args), threads_used=threads), sort_keys=True))
    log("# torch %s, matmul backend %s" % (torch.__version__, txl_model.MATMUL_BACKEND))

    train_text, heldout_text = kjv_corpus.load_split()
    symbols = kjv_corpus.build_vocab(train_text)
    train_ids = torch.tensor(kjv_corpus.encode(train_text, symbols), dtype=torch.int64)
    heldout_ids = torch.tensor(kjv_corpus.encode(heldout_text, symbols), dtype=torch.int64)
    log("# data: train %d chars, held-out %d chars (%.2f%%), vocabulary %d symbols"
        % (len(train_text), len(heldout_text),
           100.0 * len(heldout_text) / (len(train_text) + len(heldout_text)), len(symbols)))
    log("# unigram (add-one, train counts) held-out bpc %.4f"
        % unigram_bits(train_ids, heldout_ids, len(symbols)))

    cfg = model_config(args, len(symbols))
    model = txl_model.CharTransfoXL(cfg, dropout=args.dropout, dropatt=args.dropatt)
    model.init_weights(torch.Generator().manual_seed(args.seed), std=args.init_std)
    n_params = sum(p.numel() for p in model.parameters())
    log("# model: %d parameters (%.2f MB as F32)" % (n_params, 4 * n_params / 1e6))
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)

    data = batchify(train_ids, args.batch_size)
    eval_ids = heldout_ids[: args.eval_chars]
    start = time.time()
    budget_s = args.time_budget_min * 60.0
    pos, mems, epoch = 0, None, 0
    interval_nats, interval_tokens, interval_start = 0.0, 0, time.time()
    step = 0
    stopped = "completed %d steps" % args.steps
    while step < args.steps:
        if pos + 1 >= data.shape[0]:  # next pass over the training streams
            pos, mems, epoch = 0, None, epoch + 1
        inp = data[pos:pos + args.tgt_len]
        tgt = data[pos + 1:pos + 1 + args.tgt_len]
        inp = inp[: tgt.shape[0]]
        pos += args.tgt_len
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(args, step)
        logits, mems = model(inp, mems, args.mem_len)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tgt.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        step += 1
        interval_nats += loss.item() * tgt.numel()
        interval_tokens += tgt.numel()
        if step % args.log_interval == 0 or step == args.steps:
            now = time.time()
            log("step %5d  epoch %d  lr %.2e  train bpc %.4f  %6.0f tok/s  elapsed %6.1f min"
                % (step, epoch, learning_rate(args, step - 1),
                   interval_nats / interval_tokens / LN2,
                   interval_tokens / (now - interval_start), (now - start) / 60.0))
            interval_nats, interval_tokens, interval_start = 0.0, 0, time.time()
        if step % args.eval_interval == 0:
            bpc = stream_bits(model, eval_ids, args.tgt_len, args.mem_len)
            log("step %5d  held-out bpc (first %d chars) %.4f" % (step, eval_ids.numel(), bpc))
        if budget_s > 0 and time.time() - start > budget_s and step < args.steps:
            stopped = ("stopped by --time-budget-min %g at step %d of %d (reproduce with "
                       "--steps %d --stop-step %d)" % (args.time_budget_min, step, args.steps,
                                                       args.steps, step))
            break
        if 0 < args.stop_step <= step < args.steps:
            stopped = "stopped by --stop-step at step %d of %d" % (step, args.steps)
            break
    train_minutes = (time.time() - start) / 60.0
    log("# training: %s, %.1f min" % (stopped, train_minutes))

    # Final numbers with this model (float32), whole held-out part as one stream.
    heldout_bpc = stream_bits(model, heldout_ids, args.tgt_len, args.mem_len)
    heldout_bpc_nomem = stream_bits(model, heldout_ids, args.tgt_len, 0)
    train_sample = train_ids[: args.eval_chars * 2]
    train_bpc = stream_bits(model, train_sample, args.tgt_len, args.mem_len)
    log("# final: train bpc (first %d train chars) %.4f" % (train_sample.numel(), train_bpc))
    log("# final: held-out bpc %.4f (tgt_len %d, mem_len %d); %.4f with mem_len 0"
        % (heldout_bpc, args.tgt_len, args.mem_len, heldout_bpc_nomem))

    cfg_path = os.path.join(args.out, "config.json")
    with open(cfg_path, "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    import safetensors_io
    safetensors_io.save(os.path.join(args.out, "model.safetensors"), model.export_state_dict(),
                        metadata={"format": "pt"})
    kjv_corpus.write_vocab(os.path.join(args.out, "vocab.txt"), symbols)
    diff = check_against_reference(model, cfg, heldout_ids[:1000], args.tgt_len)
    log("# check: max |log-prob - txl_torch| on 1000 held-out chars = %.2e" % diff)
    log("# wrote %s/{config.json,model.safetensors,vocab.txt,train_log.txt}; total %.1f min"
        % (args.out, (time.time() - start) / 60.0))
    if diff > 1e-3:
        raise SystemExit("error: the exported model disagrees with txl_torch (%.2e)" % diff)


if __name__ == "__main__":
    main()
