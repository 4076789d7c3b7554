#!/usr/bin/python3
"""Convert a Transformer-XL PyTorch checkpoint to txl's config.json + model.safetensors.

  /usr/bin/python3 tools/convert_checkpoint.py CHECKPOINT -o OUT_DIR [--config JSON]
        [--format auto|authors|hf] [--tgt-len N] [--mem-len N] [--clamp-len N]
        [--same-length | --no-same-length] [--pre-lnorm]

Inputs (attn_type 0 only):
  authors  a state_dict of the original code (kimiyoung/transformer-xl, `MemTransformerLM`):
           names `word_emb.*`, `layers.l.*`, `r_w_bias`, `r_r_bias`, `crit.*`,
           `pos_emb.inv_freq`; a bare state_dict .pt, or a dict holding it under
           `model_state_dict` / `state_dict` / `model` ("module." prefixes are stripped).
           A pickled `MemTransformerLM` (`model.pt` of train.py) needs the authors' classes
           to unpickle; save its state_dict there first (see the error message).
  hf       a Hugging Face `pytorch_model.bin` (`transformer.*`, `crit.*`) with its
           `config.json` (next to the file, or --config).

Output (HF `TransfoXLLMHeadModel` names, F32, see tests/torch_reference/README.md):
  config.json        HF TransfoXLConfig field names, every computation field explicit;
  model.safetensors  no tied copies, no `pos_emb.inv_freq`.

What changes on the way:
  * authors' adaptive-softmax cluster rows (`crit.cluster_weight`, `crit.cluster_bias`) are
    used in REVERSE order by the authors' code (head column -i for cluster i); HF/TF and txl
    use them ascending, so the rows are flipped (semantics §5);
  * authors' shared `r_w_bias`/`r_r_bias` -> `transformer.r_{w,r}_bias`, `untie_r: false`;
    HF's per-layer aliases of the shared pair are dropped (after checking they are equal);
  * tied tensors (`tie_word_embeddings` / `tie_projs`) are written once (the embedding side);
    a declared tie whose copies differ is an error; undeclared ties are inferred from equality.

Configuration: what the tensors determine (n_layer, d_model, n_head, d_head, d_inner,
vocab_size, d_embed, div_val, cutoffs when div_val > 1, the number of clusters, untie_r,
ties) is inferred and cross-checked against --config. Not in the tensors: cutoffs when
div_val == 1 (give them in --config), pre_lnorm (--pre-lnorm / --config; published models
are post-LN), tgt_len/mem_len/clamp_len/same_length (flags, --config, the HF config.json;
for authors' checkpoints --tgt-len and --mem-len are required). --config accepts HF names
and the authors' argument names (n_token, tie_weight, ...). Flags override --config.
"""

import argparse
import json
import os
import re
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(REPO, "tests", "torch_reference"))
import safetensors_io  # noqa: E402

# HF TransfoXLConfig defaults (used only for fields an HF config.json leaves out).
HF_DEFAULTS = {
    "vocab_size": 267735, "cutoffs": [20000, 40000, 200000], "d_model": 1024,
    "d_embed": 1024, "n_head": 16, "d_head": 64, "d_inner": 4096, "div_val": 4,
    "pre_lnorm": False, "n_layer": 18, "mem_len": 1600, "clamp_len": 1000,
    "same_length": True, "proj_share_all_but_first": True, "attn_type": 0,
    "sample_softmax": -1, "adaptive": True, "untie_r": True, "layer_norm_epsilon": 1e-5,
    "tgt_len": 128, "ext_len": 0, "tie_word_embeddings": True,
}
# authors' train.py argument name -> HF config name
AUTHORS_CONFIG_NAMES = {"n_token": "vocab_size", "tie_weight": "tie_word_embeddings"}

OUTPUT_FIELDS = ["model_type", "architectures", "vocab_size", "n_layer", "d_model", "d_embed",
                 "n_head", "d_head", "d_inner", "tgt_len", "mem_len", "clamp_len",
                 "same_length", "pre_lnorm", "untie_r", "cutoffs", "div_val", "tie_projs",
                 "tie_word_embeddings", "proj_share_all_but_first", "layer_norm_epsilon",
                 "attn_type", "ext_len", "sample_softmax", "adaptive"]


class ConversionError(Exception):
    """A problem with the input, phrased as '<file>: <field>: <what is wrong>'."""


# --------------------------------------------------------------------------- loading

PICKLED_MODULE_HELP = (
    "the file is a pickled model object (e.g. MemTransformerLM saved by the authors' "
    "train.py), which needs the authors' classes to load. Save its state_dict instead, "
    "from the authors' pytorch/ directory:\n"
    "    python -c \"import sys, torch; sys.path.append('utils'); "
    "m = torch.load('model.pt', map_location='cpu'); "
    "torch.save(m.state_dict(), 'state_dict.pt')\"\n"
    "then convert state_dict.pt (give --mem-len/--tgt-len and, for div_val 1 with "
    "clusters, --config '{\"cutoffs\": [...]}')")


def load_checkpoint(path):
    """torch.load `path` -> (state_dict name -> tensor, attributes of a pickled model or {})."""
    if not os.path.isfile(path):
        raise ConversionError("%s: no such file" % path)
    try:
        obj = torch.load(path, map_location="cpu")
    except (ModuleNotFoundError, AttributeError, ImportError) as e:
        raise ConversionError("%s: cannot unpickle (%s): %s" % (path, e, PICKLED_MODULE_HELP))
    except Exception as e:  # not a torch file at all
        raise ConversionError("%s: not a PyTorch checkpoint (%s: %s)"
                              % (path, type(e).__name__, e))
    attrs = {}
    for _ in range(3):  # unwrap {'model_state_dict': ...} and similar
        if isinstance(obj, torch.nn.Module):
            attrs = {k: getattr(obj, k) for k in ("mem_len", "tgt_len", "clamp_len",
                                                  "same_length", "ext_len", "attn_type")
                     if hasattr(obj, k)}
            obj = obj.state_dict()
            break
        if isinstance(obj, dict) and not _is_state_dict(obj):
            for key in ("model_state_dict", "state_dict", "model"):
                if key in obj:
                    obj = obj[key]
                    break
            else:
                raise ConversionError(
                    "%s: a dict without tensors or a 'model_state_dict'/'state_dict'/'model' "
                    "entry (keys: %s)" % (path, sorted(map(str, obj))[:10]))
    if not isinstance(obj, dict) or not _is_state_dict(obj):
        raise ConversionError("%s: no state_dict found (got %s)" % (path, type(obj).__name__))
    state = {}
    for k, v in obj.items():
        name = k[len("module."):] if k.startswith("module.") else k
        state[name] = v.detach().cpu()
    return state, attrs


def _is_state_dict(d):
    return len(d) > 0 and all(isinstance(k, str) and isinstance(v, torch.Tensor)
                              for k, v in d.items())


def detect_format(state, path):
    if any(k.startswith("transformer.") for k in state):
        return "hf"
    if any(k.startswith("word_emb.") or k.startswith("layers.") for k in state):
        return "authors"
    raise ConversionError("%s: neither authors' names (word_emb.*, layers.*) nor HF names "
                          "(transformer.*) found" % path)


def read_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            cfg = json.load(f)
    except OSError as e:
        raise ConversionError("%s: cannot read (%s)" % (path, e.strerror))
    except ValueError as e:
        raise ConversionError("%s: invalid JSON (%s)" % (path, e))
    if not isinstance(cfg, dict):
        raise ConversionError("%s: expected a JSON object" % path)
    return cfg


def read_config_arg(arg):
    """--config: a JSON file, or inline JSON when the argument starts with '{'."""
    if arg.lstrip().startswith("{"):
        try:
            cfg = json.loads(arg)
        except ValueError as e:
            raise ConversionError("--config: invalid JSON (%s)" % e)
        if not isinstance(cfg, dict):
            raise ConversionError("--config: expected a JSON object")
        return cfg
    return read_json(arg)


# --------------------------------------------------------------------------- inference

class Checkpoint:
    """Authors'-named tensors (no prefix) + where they came from, for error messages."""

    def __init__(self, tensors, path):
        self.t, self.path = tensors, path

    def get(self, name):
        if name not in self.t:
            raise ConversionError("%s: %s: missing tensor" % (self.path, name))
        return self.t[name]

    def shape(self, name, rank=None):
        s = list(self.get(name).shape)
        if rank is not None and len(s) != rank:
            raise ConversionError("%s: %s: rank %d, expected %d (shape %s)"
                                  % (self.path, name, len(s), rank, s))
        return s

    def count(self, pattern):
        """Number of consecutive indices i from 0 for which pattern % i exists."""
        i = 0
        while pattern % i in self.t:
            i += 1
        return i


def infer_config(ck):
    """Everything the tensors determine. Returns a dict of HF config names (cutoffs is None
    when div_val == 1 and there are clusters: not in the tensors)."""
    p = ck.path
    n_layer = ck.count("layers.%d.dec_attn.qkv_net.weight")
    if n_layer == 0:
        if any(re.match(r"layers\.\d+\.", k) for k in ck.t):
            raise ConversionError("%s: layers.0.dec_attn.qkv_net.weight: missing; only "
                                  "attn_type 0 (relative partial-learnable) is supported" % p)
        raise ConversionError("%s: layers.0.dec_attn.qkv_net.weight: missing (no layers)" % p)
    three_hdh, d_model = ck.shape("layers.0.dec_attn.qkv_net.weight", 2)
    if "layers.0.dec_attn.r_net.weight" not in ck.t:
        raise ConversionError("%s: layers.0.dec_attn.r_net.weight: missing; only attn_type 0 "
                              "is supported" % p)
    untie_r = "r_w_bias" not in ck.t
    bias_name = "layers.0.dec_attn.r_w_bias" if untie_r else "r_w_bias"
    n_head, d_head = ck.shape(bias_name, 2)
    if three_hdh != 3 * n_head * d_head:
        raise ConversionError("%s: layers.0.dec_attn.qkv_net.weight: %d rows, expected "
                              "3 * n_head * d_head = %d (from %s)"
                              % (p, three_hdh, 3 * n_head * d_head, bias_name))
    d_inner = ck.shape("layers.0.pos_ff.CoreNet.0.weight", 2)[0]

    n_emb = ck.count("word_emb.emb_layers.%d.weight")
    if n_emb == 0:
        raise ConversionError("%s: word_emb.emb_layers.0.weight: missing tensor" % p)
    sizes = [ck.shape("word_emb.emb_layers.%d.weight" % i, 2) for i in range(n_emb)]
    n_clusters = ck.shape("crit.cluster_weight", 2)[0] if "crit.cluster_weight" in ck.t else 0
    d_embed = sizes[0][1]
    if n_emb == 1:
        div_val, vocab_size = 1, sizes[0][0]
        cutoffs = [] if n_clusters == 0 else None
    else:
        if n_emb != n_clusters + 1:
            raise ConversionError("%s: crit.cluster_weight: %d rows but %d embedding tables "
                                  "(expected tables = clusters + 1)" % (p, n_clusters, n_emb))
        div_val = d_embed // sizes[1][1] if sizes[1][1] else 0
        for i, (_, width) in enumerate(sizes):
            if div_val < 2 or width != d_embed // div_val ** i:
                raise ConversionError("%s: word_emb.emb_layers.%d.weight: width %d does not "
                                      "fit d_embed %d // div_val^%d" % (p, i, width, d_embed, i))
        ends = np.cumsum([rows for rows, _ in sizes]).tolist()
        cutoffs, vocab_size = ends[:-1], ends[-1]
    return {"n_layer": n_layer, "d_model": d_model, "n_head": n_head, "d_head": d_head,
            "d_inner": d_inner, "vocab_size": vocab_size, "d_embed": d_embed,
            "div_val": div_val, "cutoffs": cutoffs, "n_clusters": n_clusters,
            "untie_r": untie_r}


def _equal(a, b):
    return a.shape == b.shape and torch.equal(a, b)


def emb_proj_name(cfg, i):
    return "word_emb.emb_projs.%d" % (i if cfg["div_val"] > 1 else 0)


def has_projs(cfg):
    return cfg["div_val"] > 1 or cfg["d_embed"] != cfg["d_model"]


def n_out_layers(cfg):
    return 1 if cfg["div_val"] == 1 else len(cfg["cutoffs"]) + 1


def resolve_ties(ck, cfg, given):
    """tie_word_embeddings and tie_projs: from `given` (checked against the tensors) or,
    when not given, from equality of the copies (an absent copy counts as tied)."""
    p = ck.path
    n = len(cfg["cutoffs"])
    out_w = ["crit.out_layers.%d.weight" % i for i in range(n_out_layers(cfg))]
    emb_w = ["word_emb.emb_layers.%d.weight" % i for i in range(n_out_layers(cfg))]
    if "tie_word_embeddings" in given:
        tie_w = bool(given["tie_word_embeddings"])
        if tie_w:
            for o, e in zip(out_w, emb_w):
                if o in ck.t and not _equal(ck.t[o], ck.get(e)):
                    raise ConversionError("%s: %s: differs from %s although the config ties "
                                          "them (tie_word_embeddings/tie_weight)" % (p, o, e))
    else:
        tie_w = all(o not in ck.t or _equal(ck.t[o], ck.get(e)) for o, e in zip(out_w, emb_w))
    if not tie_w:
        for o in out_w:
            ck.get(o)  # must exist

    tie_p = [False] * (n + 1)
    if has_projs(cfg):
        if "tie_projs" in given:
            tp = [bool(x) for x in given["tie_projs"]]
            tp = (tp + [False] * (n + 1))[: n + 1]
        elif "proj_share_all_but_first" in given:  # HF derives tie_projs from it
            tp = [False] + [bool(given["proj_share_all_but_first"])] * n
        else:
            tp = None
        for i in range(n + 1):
            o, e = "crit.out_projs.%d" % i, emb_proj_name(cfg, i)
            if tp is not None:
                tie_p[i] = tp[i]
                if tp[i] and o in ck.t and not _equal(ck.t[o], ck.get(e)):
                    raise ConversionError("%s: %s: differs from %s although the config ties "
                                          "them (tie_projs[%d])" % (p, o, e, i))
            else:
                tie_p[i] = o not in ck.t or _equal(ck.t[o], ck.get(e))
            if not tie_p[i]:
                ck.get(o)
    elif "tie_projs" in given:  # no projections: the flags have no effect; keep them
        tie_p = ([bool(x) for x in given["tie_projs"]] + [False] * (n + 1))[: n + 1]
    return tie_w, tie_p


def build_config(ck, fmt, given, flags):
    """The output config.json (dict) from inference + given config + flags."""
    p = ck.path
    inferred = infer_config(ck)
    cfg = {}
    for key in ("n_layer", "d_model", "n_head", "d_head", "d_inner", "vocab_size", "d_embed",
                "div_val", "untie_r"):
        if key in given and given[key] is not None and given[key] != inferred[key] \
                and not (key == "untie_r" and fmt == "authors"):
            raise ConversionError("%s: %s: the config says %r, the tensors say %r"
                                  % (given.get("_source", p), key, given[key], inferred[key]))
        cfg[key] = inferred[key]
    if fmt == "hf" and "untie_r" in given and bool(given["untie_r"]) != inferred["untie_r"]:
        raise ConversionError("%s: untie_r: the config says %r, the tensors say %r"
                              % (given.get("_source", p), given["untie_r"], inferred["untie_r"]))
    n = inferred["n_clusters"]
    if inferred["cutoffs"] is None:  # div_val 1 with clusters: cutoffs only in the config
        if "cutoffs" not in given:
            raise ConversionError("%s: cutoffs: %d clusters (crit.cluster_weight) with div_val "
                                  "1; their boundaries are not in the tensors, give "
                                  "--config '{\"cutoffs\": [...]}'" % (p, n))
        cfg["cutoffs"] = [int(c) for c in given["cutoffs"]]
    else:
        cfg["cutoffs"] = inferred["cutoffs"]
        if "cutoffs" in given and [int(c) for c in given["cutoffs"]] != cfg["cutoffs"] \
                and not (fmt == "hf" and "_defaulted_cutoffs" in given):
            raise ConversionError("%s: cutoffs: the config says %s, the tensors say %s"
                                  % (given.get("_source", p), given["cutoffs"], cfg["cutoffs"]))
    cut = cfg["cutoffs"]
    if len(cut) != n or cut != sorted(set(cut)) or any(not 0 < c < cfg["vocab_size"] for c in cut):
        raise ConversionError("%s: cutoffs: %s does not fit %d clusters and vocab_size %d"
                              % (given.get("_source", p), cut, n, cfg["vocab_size"]))

    cfg["pre_lnorm"] = bool(flags.get("pre_lnorm") or given.get("pre_lnorm", False))
    for key in ("tgt_len", "mem_len", "clamp_len", "same_length"):
        if flags.get(key) is not None:
            cfg[key] = flags[key]
        elif key in given:
            cfg[key] = given[key]
        elif fmt == "authors" and key in ("tgt_len", "mem_len"):
            raise ConversionError("%s: %s: authors' checkpoints do not record it; pass --%s "
                                  "(published evaluation settings: semantics §6)"
                                  % (p, key, key.replace("_", "-")))
        else:
            cfg[key] = {"clamp_len": -1, "same_length": False}[key]
    cfg["tgt_len"], cfg["mem_len"] = int(cfg["tgt_len"]), int(cfg["mem_len"])
    cfg["clamp_len"], cfg["same_length"] = int(cfg["clamp_len"]), bool(cfg["same_length"])
    if cfg["same_length"] and cfg["mem_len"] <= 0:
        raise ConversionError("%s: same_length with mem_len %d masks every key"
                              % (p, cfg["mem_len"]))
    for key, want in (("attn_type", 0), ("ext_len", 0)):
        if int(given.get(key, want)) != want:
            raise ConversionError("%s: %s: %r is not supported (only %r)"
                                  % (given.get("_source", p), key, given[key], want))
    if int(given.get("sample_softmax", -1)) > 0:
        raise ConversionError("%s: sample_softmax: %r (a training-only sampled softmax) is "
                              "not supported" % (given.get("_source", p), given["sample_softmax"]))
    eps = float(given.get("layer_norm_epsilon", 1e-5))
    tie_w, tie_p = resolve_ties(ck, cfg, given)
    cfg.update({"model_type": "transfo-xl", "architectures": ["TransfoXLLMHeadModel"],
                "tie_word_embeddings": tie_w, "tie_projs": tie_p,
                "proj_share_all_but_first": n > 0 and tie_p == [False] + [True] * n,
                "layer_norm_epsilon": eps, "attn_type": 0, "ext_len": 0,
                "sample_softmax": -1, "adaptive": True})
    return {k: cfg[k] for k in OUTPUT_FIELDS}


# --------------------------------------------------------------------------- conversion

def convert_tensors(ck, cfg, fmt):
    """Authors'-named tensors -> HF-named float32 tensors for the output file."""
    p, t = ck.path, ck.t
    L, n = cfg["n_layer"], len(cfg["cutoffs"])
    out, used = {}, set()

    def take(src, dst, value=None):
        v = ck.get(src) if value is None else value
        if not v.is_floating_point():
            raise ConversionError("%s: %s: dtype %s, expected floating point" % (p, src, v.dtype))
        out[dst] = v.to(torch.float32).contiguous()
        used.add(src)

    for i in range(1 if cfg["div_val"] == 1 else n + 1):
        take("word_emb.emb_layers.%d.weight" % i, "transformer.word_emb.emb_layers.%d.weight" % i)
    if has_projs(cfg):
        for i in range(1 if cfg["div_val"] == 1 else n + 1):
            take("word_emb.emb_projs.%d" % i, "transformer.word_emb.emb_projs.%d" % i)
    if cfg["untie_r"]:
        per_layer = ("dec_attn.r_w_bias", "dec_attn.r_r_bias")
    else:
        per_layer = ()
        take("r_w_bias", "transformer.r_w_bias")
        take("r_r_bias", "transformer.r_r_bias")
        for l in range(L):  # HF lists the shared pair under every layer too
            for b in ("r_w_bias", "r_r_bias"):
                alias = "layers.%d.dec_attn.%s" % (l, b)
                if alias in t:
                    if not _equal(t[alias], t[b]):
                        raise ConversionError("%s: %s: differs from the shared %s (untie_r "
                                              "false)" % (p, alias, b))
                    used.add(alias)
    for l in range(L):
        for s in ("dec_attn.qkv_net.weight", "dec_attn.r_net.weight", "dec_attn.o_net.weight",
                  "dec_attn.layer_norm.weight", "dec_attn.layer_norm.bias") + per_layer + (
                  "pos_ff.CoreNet.0.weight", "pos_ff.CoreNet.0.bias",
                  "pos_ff.CoreNet.3.weight", "pos_ff.CoreNet.3.bias",
                  "pos_ff.layer_norm.weight", "pos_ff.layer_norm.bias"):
            take("layers.%d.%s" % (l, s), "transformer.layers.%d.%s" % (l, s))
    if n > 0:
        cw, cb = ck.get("crit.cluster_weight"), ck.get("crit.cluster_bias")
        if fmt == "authors":  # authors' head uses row n-i for cluster i; txl/HF use row i-1
            cw, cb = torch.flip(cw, [0]), torch.flip(cb, [0])
        take("crit.cluster_weight", "crit.cluster_weight", cw)
        take("crit.cluster_bias", "crit.cluster_bias", cb)
    for i in range(n_out_layers(cfg)):
        w = "crit.out_layers.%d.weight" % i
        if cfg["tie_word_embeddings"]:
            used.add(w)  # equal to the embedding (checked) or absent
        else:
            take(w, w)
        take("crit.out_layers.%d.bias" % i, "crit.out_layers.%d.bias" % i)
    if has_projs(cfg):
        for i in range(n + 1):
            o = "crit.out_projs.%d" % i
            if cfg["tie_projs"][i]:
                used.add(o)
            else:
                take(o, o)
    used.add("pos_emb.inv_freq")
    unknown = sorted(set(t) - used)
    if unknown:
        raise ConversionError("%s: %s: unexpected tensor(s) for this configuration"
                              % (p, ", ".join(unknown[:8]) + (" ..." if len(unknown) > 8 else "")))
    return out


def validate(cfg, tensors, path):
    """Strict check of names and shapes with the repository's independent reference loader."""
    import txl_torch
    try:
        txl_torch.resolve_weights(txl_torch.normalize_config(cfg), tensors)
    except (KeyError, ValueError, AssertionError) as e:
        raise ConversionError("%s: converted model fails validation: %s" % (path, e))


def convert(path, out_dir, fmt="auto", config_path=None, flags=None):
    """Convert `path`; write out_dir/{config.json, model.safetensors}; return the config."""
    flags = dict(flags or {})
    state, attrs = load_checkpoint(path)
    if fmt == "auto":
        fmt = detect_format(state, path)
    if fmt == "hf":
        bad = sorted(k for k in state
                     if not (k.startswith("transformer.") or k.startswith("crit.")))
        if bad:
            raise ConversionError("%s: %s: not an HF TransfoXLLMHeadModel name" % (path, bad[0]))
        tensors = {k[len("transformer."):] if k.startswith("transformer.") else k: v
                   for k, v in state.items()}
        if config_path is None:
            config_path = os.path.join(os.path.dirname(os.path.abspath(path)), "config.json")
            if not os.path.isfile(config_path):
                raise ConversionError("%s: config.json: an HF checkpoint needs its config.json "
                                      "(next to the file, or --config)" % path)
        given = read_config_arg(config_path)
        for k, v in HF_DEFAULTS.items():  # what HF itself would assume
            if k not in given:
                given[k] = v
                if k == "cutoffs":
                    given["_defaulted_cutoffs"] = True
        if "tie_weight" in given and "tie_word_embeddings" not in given:
            given["tie_word_embeddings"] = given["tie_weight"]
    else:
        bad = sorted(k for k in state if k.startswith("transformer."))
        if bad:
            raise ConversionError("%s: %s: HF name in an authors' checkpoint" % (path, bad[0]))
        tensors = state
        given = read_config_arg(config_path) if config_path else {}
        for a, h in AUTHORS_CONFIG_NAMES.items():
            if a in given:
                given.setdefault(h, given.pop(a))
        for k, v in attrs.items():  # attributes of a pickled MemTransformerLM
            given.setdefault(k, v)
    if config_path:
        given["_source"] = "--config" if config_path.lstrip().startswith("{") else config_path
    ck = Checkpoint(tensors, path)
    cfg = build_config(ck, fmt, given, flags)
    out = convert_tensors(ck, cfg, fmt)
    validate(cfg, out, path)
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2)
        f.write("\n")
    safetensors_io.save(os.path.join(out_dir, "model.safetensors"), out,
                        metadata={"format": "pt"})
    return cfg


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("checkpoint", help="state_dict .pt (authors) or pytorch_model.bin (HF)")
    p.add_argument("-o", "--out", required=True, help="output directory")
    p.add_argument("--config", help="JSON config file or inline JSON '{...}' (HF or "
                   "authors' names); HF input default: config.json next to the checkpoint")
    p.add_argument("--format", choices=["auto", "authors", "hf"], default="auto")
    p.add_argument("--tgt-len", type=int)
    p.add_argument("--mem-len", type=int)
    p.add_argument("--clamp-len", type=int)
    p.add_argument("--same-length", dest="same_length", action="store_true", default=None)
    p.add_argument("--no-same-length", dest="same_length", action="store_false")
    p.add_argument("--pre-lnorm", action="store_true", help="the model is pre-LN")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    flags = {"tgt_len": args.tgt_len, "mem_len": args.mem_len, "clamp_len": args.clamp_len,
             "same_length": args.same_length, "pre_lnorm": args.pre_lnorm}
    try:
        cfg = convert(args.checkpoint, args.out, args.format, args.config, flags)
    except ConversionError as e:
        print("error: %s" % e, file=sys.stderr)
        return 1
    print("wrote %s/config.json and model.safetensors (n_layer %d, d_model %d, vocab %d, "
          "cutoffs %s, div_val %d, untie_r %s)" % (args.out, cfg["n_layer"], cfg["d_model"],
                                                   cfg["vocab_size"], cfg["cutoffs"],
                                                   cfg["div_val"], cfg["untie_r"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
