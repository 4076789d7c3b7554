#!/usr/bin/python3
"""Generation speed: compiled txl next to Hugging Face's TransfoXL and the DRAM roofline.

    bench/model/generate.py [--model demo|wt103-base|...] [--threads 1 2] [--tokens N]
                            [--top-k 40] [--seed 1] [--which txl,segment,hf]

In one run, per thread count, batch 1, top-k sampling:
  txl      `txl-run MODEL.so --prompt ... --generate N --top-k K`: the prompt through the
           segment step, then one token per step through the model's one-token step
           (txlc --step-variants, ABI 7); tokens/s as txl-run reports it (the generation
           loop: step, full log-probabilities, sampling);
  segment  the same with --no-step-variants (every token a whole T-row segment step), fewer
           tokens; its text must be the first tokens of txl's (same seed, same tokens);
  hf       transformers' TransfoXLLMHeadModel (4.36.2, eager PyTorch, float32) on the same
           weights, one token per forward with the memory carried (`mems`), top-k sampling
           in torch: the way a user generates with it;
  roofline the bytes one token's step reads (every weight and prepared tensor of the
           one-token step's kernels, the embedding's one row, the full key/value windows;
           from `txlc --emit=plan`) over the read bandwidth measured by bench-bandwidth
           (DRAM: a 1 GiB buffer; and L3-sized, for a model whose step fits in the cache).

demo runs models/demo (its trained weights and vocabulary). Any other name is a config of
models/configs with seeded random weights (make_weights.py; a made-up word vocabulary
w0 w1 ... for the prompt), everything under ${TXL_BENCH_DIR:-/tmp/txl-bench}/MODEL.
The peer gets OpenBLAS as run.sh sets it up (OPENBLAS_CORETYPE=Haswell on AVX2).
Results: docs/PERF.md.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "torch_reference"))

PROMPT_DEMO = "And God said"


def sh(cmd, env=None, check=True):
    run = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if check and run.returncode != 0:
        sys.exit("generate.py: %s failed:\n%s" % (" ".join(cmd), run.stderr))
    return run


def model_files(name, build, bench_dir):
    """(config.json, weights, vocab or None, model.so, directory for txlc)."""
    out = os.path.join(bench_dir, name)
    os.makedirs(out, exist_ok=True)
    if name == "demo":
        directory = os.path.join(ROOT, "models", "demo")
        config = os.path.join(directory, "config.json")
        weights = os.path.join(directory, "model.safetensors")
        vocab = None
        source = directory
    else:
        config = os.path.join(ROOT, "models", "configs", name, "config.json")
        weights = os.path.join(out, "model.safetensors")
        if not os.path.exists(weights):
            sh(["/usr/bin/python3", os.path.join(HERE, "make_weights.py"), config, weights,
                "--seed", "0"])
        vocab = os.path.join(out, "vocab.txt")
        V = json.load(open(config))["vocab_size"]
        if not os.path.exists(vocab):
            with open(vocab, "w") as f:
                f.writelines("w%d\n" % i for i in range(V))
        source = config
    so = os.path.join(out, "generate-b1.so")
    txlc = os.path.join(build, "bin", "txlc")
    if not os.path.exists(so) or os.path.getmtime(txlc) > os.path.getmtime(so):
        start = time.time()
        sh([txlc, source, "--batch", "1", "-o", so])
        print("txlc %s: %.1f s" % (name, time.time() - start), flush=True)
    return config, weights, vocab, so


def step_bytes(build, source, so):
    """Bytes the one-token step reads per token, from its plan (see the docstring)."""
    plan = sh([os.path.join(build, "bin", "txlc"), source, "--batch", "1", "--emit=plan",
               "-o", "-"]).stdout
    section = plan.split("step variant txl_model_step_t1", 1)
    if len(section) < 2:
        sys.exit("generate.py: %s has no one-token step variant" % so)
    tensors = {}
    embedding_only = set()
    for line in section[1].splitlines()[2:]:
        if not line.startswith("  ") or line.startswith("  append"):
            if not line.startswith("  "):
                break
            continue
        kernel = line.split(":", 2)[1]
        for kind, index, shape in re.findall(r"(weights|prepared|states)\[(\d+)\]\[([\dx]+)\]",
                                             line):
            size = 4
            for d in shape.split("x"):
                size *= int(d)
            key = (kind, int(index))
            tensors[key] = size
            if "_embed(" in kernel:
                embedding_only.add((key, size // int(shape.split("x")[0])))
            elif key in {k for k, _ in embedding_only}:
                embedding_only = {(k, r) for k, r in embedding_only if k != key}
    for key, row in embedding_only:  # a gather reads one row of the table
        tensors[key] = row
    return sum(tensors.values())


def bandwidth(build, size, threads):
    out = sh([os.path.join(build, "bin", "bench-bandwidth"), str(size), str(threads)]).stdout
    return float(out.split()[0]) * 1e9


def run_txl(so, weights, vocab, prompt, tokens, args, threads, segment):
    cmd = [os.path.join(args.build, "bin", "txl-run"), so, "--weights", weights,
           "--prompt", prompt, "--generate", str(tokens), "--top-k", str(args.top_k),
           "--seed", str(args.seed), "--threads", str(threads)]
    if vocab:
        cmd += ["--vocab", vocab, "--tokenizer", "word"]
    if segment:
        cmd.append("--no-step-variants")
    run = sh(cmd)
    rate = re.search(r"compiled backend, ([\d,.]+) tokens/s", run.stderr)
    return float(rate.group(1).replace(",", "")), run.stdout


def hf_peer(args):
    """The peer, in its own process (OpenBLAS and its threads set by the parent)."""
    import numpy as np
    import torch
    import transformers
    import safetensors_io
    from transformers import TransfoXLConfig, TransfoXLLMHeadModel
    torch.set_num_threads(args.hf_threads)
    cfg = json.load(open(args.hf_config))
    model = TransfoXLLMHeadModel(TransfoXLConfig(**cfg)).eval()
    state = {k: torch.from_numpy(np.ascontiguousarray(v))
             for k, v in safetensors_io.load(args.hf_weights).items()}
    missing, unexpected = model.load_state_dict(state, strict=False)
    model.tie_weights()
    # Tied copies, parameters shared under several names (untie_r false: every
    # layer's r_w_bias is the model's), and the positions' inverse frequencies
    # HF computes itself.
    params = model.state_dict(keep_vars=True)
    loaded = {id(params[k]) for k in state if k in params}
    tied = [k for k in missing if k.startswith("crit.out_") or k.endswith("inv_freq")
            or id(params[k]) in loaded]
    if set(missing) - set(tied) or unexpected:
        sys.exit("hf: weights do not match: missing %s, unexpected %s"
                 % (sorted(set(missing) - set(tied)), unexpected))
    torch.manual_seed(args.seed)
    prompt = torch.tensor([args.hf_prompt], dtype=torch.long)
    with torch.no_grad():
        out = model(input_ids=prompt)
        mems, scores = out.mems, out.prediction_scores[0, -1]
        start = time.perf_counter()
        for _ in range(args.tokens):
            top = torch.topk(scores, args.top_k)
            token = top.indices[torch.multinomial(torch.softmax(top.values, -1), 1)]
            out = model(input_ids=token.view(1, 1), mems=mems)
            mems, scores = out.mems, out.prediction_scores[0, -1]
        seconds = time.perf_counter() - start
    print(json.dumps({"tokens_per_s": args.tokens / seconds,
                      "transformers": transformers.__version__,
                      "torch": torch.__version__}))


def peer_env(threads, bench_dir):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    flags = open("/proc/cpuinfo").read()
    env.setdefault("OPENBLAS_CORETYPE", "SkylakeX" if " avx512f" in flags else "Haswell")
    blas = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    if not any(k in blas for k in ("openblas", "blis", "mkl")):
        for d in os.listdir(bench_dir):  # run.sh's copy of libopenblas0-pthread
            ob = os.path.join(bench_dir, d, "openblas", "root", "usr", "lib",
                              "x86_64-linux-gnu", "openblas-pthread")
            if os.path.exists(os.path.join(ob, "libblas.so.3")):
                env["LD_LIBRARY_PATH"] = ob + ":" + env.get("LD_LIBRARY_PATH", "")
                break
    return env


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="demo")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--tokens", type=int, help="txl's tokens (default: demo 3000, else 100)")
    ap.add_argument("--top-k", type=int, default=40)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--which", default="txl,segment,hf")
    ap.add_argument("--build", default=os.environ.get("TXL_BUILD_DIR",
                                                      os.path.join(ROOT, "build")))
    ap.add_argument("--json", help="write the results here")
    # The peer's own process.
    ap.add_argument("--hf-peer", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--hf-config", help=argparse.SUPPRESS)
    ap.add_argument("--hf-weights", help=argparse.SUPPRESS)
    ap.add_argument("--hf-prompt", type=int, nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--hf-threads", type=int, default=1, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.hf_peer:
        return hf_peer(args)

    which = set(args.which.split(","))
    bench_dir = os.environ.get("TXL_BENCH_DIR", "/tmp/txl-bench")
    demo = args.model == "demo"
    tokens = args.tokens or (3000 if demo else 100)
    segment_tokens = max(1, tokens // 10)
    config, weights, vocab, so = model_files(args.model, args.build, bench_dir)
    source = os.path.dirname(config) if demo else config
    if demo:
        prompt = PROMPT_DEMO
        # vocab.txt escapes white space (runner/lib/Vocabulary.cpp): a space is \s.
        vocabulary = open(os.path.join(source, "vocab.txt")).read().split("\n")
        prompt_ids = [vocabulary.index("\\s" if c == " " else c) for c in prompt]
    else:
        prompt_ids = [11, 12, 13, 14, 15, 16, 17, 18]
        prompt = " ".join("w%d" % i for i in prompt_ids)
    cpu = next(l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo")
               if l.startswith("model name"))
    per_token = step_bytes(args.build, source, so)
    print("model %s, batch 1, top-k %d, seed %d; CPU: %s" % (args.model, args.top_k,
                                                          args.seed, cpu))
    print("bytes the one-token step reads per token: %.2f MB" % (per_token / 1e6))
    results = {"model": args.model, "cpu": cpu, "bytes_per_token": per_token, "runs": []}
    for t in args.threads:
        row = {"threads": t}
        dram = bandwidth(args.build, 1 << 30, t)
        cache = bandwidth(args.build, min(max(per_token, 1 << 20), 8 << 20), t)
        row["dram_gb_s"], row["cache_gb_s"] = dram / 1e9, cache / 1e9
        row["dram_roofline"] = dram / per_token
        row["cache_roofline"] = cache / per_token
        if "txl" in which:
            row["txl"], text = run_txl(so, weights, vocab, prompt, tokens, args, t, False)
        if "segment" in which:
            row["segment"], segment_text = run_txl(so, weights, vocab, prompt, segment_tokens,
                                                   args, t, True)
            if "txl" in which:
                # Same seed: the first tokens of the longer run (prompt included).
                short = segment_text.rstrip("\n")
                row["same_tokens"] = text.startswith(short)
        if "hf" in which:
            run = sh([sys.executable, os.path.abspath(__file__), "--hf-peer", "--hf-config",
                      config, "--hf-weights", weights, "--hf-prompt"]
                     + [str(i) for i in prompt_ids]
                     + ["--hf-threads", str(t), "--tokens", str(segment_tokens if not demo
                                                               else tokens // 10),
                        "--top-k", str(args.top_k), "--seed", str(args.seed)],
                     env=peer_env(t, bench_dir))
            peer = json.loads(run.stdout.strip().splitlines()[-1])
            row["hf"] = peer["tokens_per_s"]
            row["hf_versions"] = "transformers %s, torch %s" % (peer["transformers"],
                                                                peer["torch"])
        results["runs"].append(row)
        line = "%d thread(s): " % t
        if "txl" in row:
            line += "txl %.1f tokens/s" % row["txl"]
        if "segment" in row:
            line += ", segment step %.1f%s" % (
                row["segment"], "" if "same_tokens" not in row
                else (" (same tokens)" if row["same_tokens"] else " (TOKENS DIFFER)"))
        if "hf" in row:
            line += ", HF eager %.1f" % row["hf"]
            if "txl" in row:
                line += " (txl %.1fx)" % (row["txl"] / row["hf"])
        line += "; roofline DRAM %.1f (%.1f GB/s), cache %.1f (%.1f GB/s)" % (
            row["dram_roofline"], row["dram_gb_s"], row["cache_roofline"], row["cache_gb_s"])
        if "txl" in row:
            line += "; txl at %.0f%% of the DRAM roofline" % (100 * row["txl"]
                                                              / row["dram_roofline"])
        print(line, flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
