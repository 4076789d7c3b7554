#!/usr/bin/python3
"""Tests of tools/convert_checkpoint.py (plain unittest; run with Debian's Python):

  /usr/bin/python3 -m unittest discover -s tools/tests -v
  /usr/bin/python3 tools/tests/test_convert_checkpoint.py

Random authors'-style and HF-style state dicts are built here, converted, and the converted
model's log-probabilities (tests/torch_reference/txl_torch.py) are compared with an
authors'-semantics computation on the ORIGINAL state dict: the body through txl_torch with
a plain renaming, the adaptive-softmax head written out below in the authors' order
(cluster i uses head column -i, i.e. cluster rows reversed).
"""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tools"))
sys.path.insert(0, os.path.join(REPO, "tests", "torch_reference"))
import convert_checkpoint as cc  # noqa: E402
import safetensors_io  # noqa: E402
import txl_torch  # noqa: E402

torch.set_num_threads(1)


# --------------------------------------------------------------------------- fixtures

def authors_state_dict(seed, V, D, E, H, Dh, Fi, L, cutoffs, div_val, tie_weight, tie_projs):
    """A random state_dict with the names and tying of the authors' MemTransformerLM
    (attn_type 0: shared r_w_bias/r_r_bias, pos_emb.inv_freq buffer; tied tensors appear
    under both names, as state_dict() lists them)."""
    g = torch.Generator().manual_seed(seed)

    def rnd(*shape, scale=0.3):
        return scale * torch.randn(*shape, generator=g)

    ends = [0] + cutoffs + [V]
    n = len(cutoffs)
    sd = {}
    if div_val == 1:
        sd["word_emb.emb_layers.0.weight"] = rnd(V, E)
        if E != D:
            sd["word_emb.emb_projs.0"] = rnd(D, E)
    else:
        for i in range(n + 1):
            sd["word_emb.emb_layers.%d.weight" % i] = rnd(ends[i + 1] - ends[i], E // div_val ** i)
            sd["word_emb.emb_projs.%d" % i] = rnd(D, E // div_val ** i)
    sd["pos_emb.inv_freq"] = 1.0 / (10000 ** (torch.arange(0.0, D, 2.0) / D))
    sd["r_w_bias"], sd["r_r_bias"] = rnd(H, Dh), rnd(H, Dh)
    for l in range(L):
        p = "layers.%d." % l
        sd[p + "dec_attn.qkv_net.weight"] = rnd(3 * H * Dh, D)
        sd[p + "dec_attn.o_net.weight"] = rnd(D, H * Dh)
        sd[p + "dec_attn.layer_norm.weight"] = 1 + rnd(D, scale=0.1)
        sd[p + "dec_attn.layer_norm.bias"] = rnd(D, scale=0.1)
        sd[p + "dec_attn.r_net.weight"] = rnd(H * Dh, D)
        sd[p + "pos_ff.CoreNet.0.weight"] = rnd(Fi, D)
        sd[p + "pos_ff.CoreNet.0.bias"] = rnd(Fi)
        sd[p + "pos_ff.CoreNet.3.weight"] = rnd(D, Fi)
        sd[p + "pos_ff.CoreNet.3.bias"] = rnd(D)
        sd[p + "pos_ff.layer_norm.weight"] = 1 + rnd(D, scale=0.1)
        sd[p + "pos_ff.layer_norm.bias"] = rnd(D, scale=0.1)
    if n > 0:
        sd["crit.cluster_weight"] = rnd(n, E)
        sd["crit.cluster_bias"] = rnd(n, scale=1.0)
    for i in range(1 if div_val == 1 else n + 1):
        rows = V if div_val == 1 else ends[i + 1] - ends[i]
        emb = sd["word_emb.emb_layers.%d.weight" % i]
        sd["crit.out_layers.%d.weight" % i] = emb.clone() if tie_weight else rnd(*emb.shape)
        sd["crit.out_layers.%d.bias" % i] = rnd(rows)
    if div_val > 1 or E != D:
        for i in range(n + 1):
            src = sd["word_emb.emb_projs.%d" % (i if div_val > 1 else 0)]
            sd["crit.out_projs.%d" % i] = src.clone() if tie_projs[i] else rnd(*src.shape)
    return sd


def authors_head_log_probs(sd, cutoffs, div_val, V, hidden):
    """The authors' ProjectedAdaptiveLogSoftmax as full log-probabilities (float64):
    head = [cluster-0 tokens, cluster columns], cluster i >= 1 uses head column -i."""
    sd = {k: v.double() for k, v in sd.items()}
    ends = [0] + cutoffs + [V]
    n = len(cutoffs)

    def layer(i):
        if div_val == 1:
            return (sd["crit.out_layers.0.weight"][ends[i]:ends[i + 1]],
                    sd["crit.out_layers.0.bias"][ends[i]:ends[i + 1]])
        return sd["crit.out_layers.%d.weight" % i], sd["crit.out_layers.%d.bias" % i]

    def proj(h, i):
        name = "crit.out_projs.%d" % i
        return h @ sd[name] if name in sd else h

    w0, b0 = layer(0)
    if n == 0:
        return F.log_softmax(proj(hidden, 0) @ w0.t() + b0, dim=-1)
    head_w = torch.cat([w0, sd["crit.cluster_weight"]], 0)
    head_b = torch.cat([b0, sd["crit.cluster_bias"]], 0)
    head = F.log_softmax(proj(hidden, 0) @ head_w.t() + head_b, dim=-1)
    parts = [head[..., :cutoffs[0]]]
    for i in range(1, n + 1):
        wi, bi = layer(i)
        tail = F.log_softmax(proj(hidden, i) @ wi.t() + bi, dim=-1)
        parts.append(head[..., -i:head.shape[-1] - i + 1] + tail)  # column -i
    return torch.cat(parts, dim=-1)


def naive_hf_names(sd):
    """Authors' names -> HF names by renaming only (no flip, no dedup): for the body."""
    out = {}
    for k, v in sd.items():
        if k == "pos_emb.inv_freq":
            continue
        out[k if k.startswith("crit.") else "transformer." + k] = v
    return out


def tokens_for(V, seed, B=2, N=13):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, V, (B, N), generator=g).numpy()


# --------------------------------------------------------------------------- tests

class ConverterTestBase(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name

    def tearDown(self):
        self.tmp.cleanup()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def convert(self, obj, argv, name="ckpt.pt"):
        src = self.path(name)
        if obj is not None:
            torch.save(obj, src)
        out = self.path("out")
        with contextlib.redirect_stdout(io.StringIO()):
            rc = cc.main([src, "-o", out] + argv)
        self.assertEqual(rc, 0)
        with open(os.path.join(out, "config.json")) as f:
            cfg = json.load(f)
        return cfg, safetensors_io.load(os.path.join(out, "model.safetensors"))

    def assert_error(self, obj, argv, *fragments, name="ckpt.pt"):
        src = self.path(name)
        if obj is not None:
            torch.save(obj, src)
        with self.assertRaises(cc.ConversionError) as ctx:
            cc.convert(src, self.path("out_err"), "auto", *self._split(argv))
        msg = str(ctx.exception)
        for frag in fragments:
            self.assertIn(frag, msg)
        return msg

    @staticmethod
    def _split(argv):
        """[--config X] [--mem-len N] [--tgt-len N] -> (config_path, flags)."""
        config, flags = None, {}
        it = iter(argv)
        for a in it:
            if a == "--config":
                config = next(it)
            else:
                flags[a[2:].replace("-", "_")] = int(next(it))
        return config, flags


class AuthorsCheckpointTest(ConverterTestBase):
    CASES = {
        # div_val 2: cutoffs inferred from the table sizes; 3 clusters; tie_projs [F,T,T,T]
        "div2": dict(seed=11, V=60, D=24, E=32, H=3, Dh=6, Fi=40, L=2, cutoffs=[10, 25, 40],
                     div_val=2, tie_weight=True, tie_projs=[False, True, True, True]),
        # div_val 1, d_embed != d_model, 2 clusters: cutoffs must come from --config
        "div1": dict(seed=12, V=40, D=20, E=16, H=2, Dh=8, Fi=32, L=2, cutoffs=[12, 30],
                     div_val=1, tie_weight=True, tie_projs=[False, True, False]),
        # untied output layers, no clusters, no projections
        "plain": dict(seed=13, V=30, D=16, E=16, H=2, Dh=8, Fi=24, L=3, cutoffs=[],
                      div_val=1, tie_weight=False, tie_projs=[False]),
    }
    FLAGS = ["--mem-len", "6", "--tgt-len", "4", "--clamp-len", "5"]

    def run_case(self, name, wrap=lambda sd: sd):
        c = self.CASES[name]
        sd = authors_state_dict(**c)
        argv = list(self.FLAGS)
        if c["div_val"] == 1 and c["cutoffs"]:
            argv += ["--config", json.dumps({"cutoffs": c["cutoffs"]})]
        cfg, W = self.convert(wrap(sd), argv)
        return c, sd, cfg, W

    def check_log_probs(self, c, sd, cfg, W):
        toks = tokens_for(c["V"], c["seed"])
        got = txl_torch.run_stream(cfg, W, toks, cfg["tgt_len"])["log_probs"]
        body_cfg = dict(cfg, untie_r=False, tie_word_embeddings=c["tie_weight"],
                        tie_projs=c["tie_projs"])
        hidden = txl_torch.run_stream(body_cfg, naive_hf_names(sd), toks, cfg["tgt_len"])["hidden"]
        want = authors_head_log_probs(sd, c["cutoffs"], c["div_val"], c["V"], hidden)
        self.assertLess((got - want).abs().max().item(), 1e-9)
        return got, want

    def check_round_trip(self, c, sd, cfg, W):
        """Names/shapes: exactly the stored names of the config; back to the original."""
        stored, tied = txl_torch.parameter_names(txl_torch.normalize_config(cfg))
        self.assertEqual(sorted(W), sorted(stored))
        shapes = txl_torch.parameter_shapes(txl_torch.normalize_config(cfg))
        for k, v in W.items():
            self.assertEqual(list(v.shape), shapes[k], k)
            self.assertEqual(v.dtype, np.float32, k)
        back = {}
        for k, v in W.items():
            t = torch.from_numpy(v)
            if k in ("crit.cluster_weight", "crit.cluster_bias"):
                t = torch.flip(t, [0])  # txl ascending -> authors' reversed rows
            back[k[len("transformer."):] if k.startswith("transformer.") else k] = t
        for alias, src in tied.items():
            back[alias] = back[src[len("transformer."):]]
        want = {k: v for k, v in sd.items() if k != "pos_emb.inv_freq"}
        self.assertEqual(sorted(back), sorted(want))
        for k in want:
            self.assertTrue(torch.equal(back[k], want[k]), k)

    def test_div_val_2_three_clusters(self):
        c, sd, cfg, W = self.run_case("div2")
        self.assertEqual(cfg["cutoffs"], [10, 25, 40])
        self.assertEqual(cfg["div_val"], 2)
        self.assertEqual(cfg["d_embed"], 32)
        self.assertEqual(cfg["tie_projs"], [False, True, True, True])
        self.assertTrue(cfg["tie_word_embeddings"])
        self.assertFalse(cfg["untie_r"])
        self.assertEqual((cfg["mem_len"], cfg["tgt_len"], cfg["clamp_len"]), (6, 4, 5))
        self.assertFalse(cfg["same_length"])
        self.assertEqual((cfg["n_layer"], cfg["n_head"], cfg["d_head"], cfg["d_inner"]),
                         (2, 3, 6, 40))
        self.assertNotIn("transformer.pos_emb.inv_freq", W)
        self.assertNotIn("crit.out_layers.0.weight", W)
        self.assertNotIn("crit.out_projs.1", W)
        self.assertIn("crit.out_projs.0", W)
        np.testing.assert_array_equal(W["crit.cluster_weight"],
                                      torch.flip(sd["crit.cluster_weight"], [0]).numpy())
        self.check_log_probs(c, sd, cfg, W)
        self.check_round_trip(c, sd, cfg, W)

    def test_cluster_order_matters(self):
        """Without the flip the log-probs differ: the comparison above has teeth."""
        c, sd, cfg, W = self.run_case("div2")
        unflipped = dict(W)
        unflipped["crit.cluster_weight"] = sd["crit.cluster_weight"].numpy()
        unflipped["crit.cluster_bias"] = sd["crit.cluster_bias"].numpy()
        toks = tokens_for(c["V"], c["seed"])
        good = txl_torch.run_stream(cfg, W, toks, cfg["tgt_len"])["log_probs"]
        bad = txl_torch.run_stream(cfg, unflipped, toks, cfg["tgt_len"])["log_probs"]
        self.assertGreater((good - bad).abs().max().item(), 1e-3)

    def test_div_val_1_two_clusters_with_projections(self):
        c, sd, cfg, W = self.run_case("div1")
        self.assertEqual(cfg["cutoffs"], [12, 30])
        self.assertEqual(cfg["div_val"], 1)
        self.assertEqual(cfg["tie_projs"], [False, True, False])
        self.assertEqual(sorted(k for k in W if "projs" in k),
                         ["crit.out_projs.0", "crit.out_projs.2",
                          "transformer.word_emb.emb_projs.0"])
        self.check_log_probs(c, sd, cfg, W)
        self.check_round_trip(c, sd, cfg, W)

    def test_plain_untied(self):
        c, sd, cfg, W = self.run_case("plain")
        self.assertFalse(cfg["tie_word_embeddings"])
        self.assertEqual(cfg["cutoffs"], [])
        self.assertIn("crit.out_layers.0.weight", W)
        self.check_log_probs(c, sd, cfg, W)
        self.check_round_trip(c, sd, cfg, W)

    def test_wrapped_state_dict_with_module_prefix(self):
        wrap = lambda sd: {"epoch": 3, "model_state_dict":  # noqa: E731
                           {"module." + k: v for k, v in sd.items()}}
        c, sd, cfg, W = self.run_case("div2", wrap)
        self.check_log_probs(c, sd, cfg, W)

    def test_config_file_with_authors_names(self):
        c = self.CASES["div1"]
        sd = authors_state_dict(**c)
        with open(self.path("authors.json"), "w") as f:
            json.dump({"n_token": 40, "cutoffs": [12, 30], "tie_weight": True, "mem_len": 7,
                       "tgt_len": 3, "same_length": True}, f)
        cfg, W = self.convert(sd, ["--config", self.path("authors.json"), "--mem-len", "5"])
        self.assertEqual((cfg["mem_len"], cfg["tgt_len"], cfg["same_length"]), (5, 3, True))
        self.check_log_probs(c, sd, cfg, W)

    # ---- errors
    def test_missing_tensor(self):
        sd = authors_state_dict(**self.CASES["div2"])
        del sd["layers.1.pos_ff.CoreNet.3.bias"]
        self.assert_error(sd, self.FLAGS, "ckpt.pt", "layers.1.pos_ff.CoreNet.3.bias", "missing")

    def test_unexpected_tensor(self):
        sd = authors_state_dict(**self.CASES["div2"])
        sd["layers.0.dec_attn.r_emb"] = torch.zeros(3)
        self.assert_error(sd, self.FLAGS, "layers.0.dec_attn.r_emb", "unexpected")

    def test_cutoffs_needed_for_div_val_1(self):
        sd = authors_state_dict(**self.CASES["div1"])
        self.assert_error(sd, self.FLAGS, "cutoffs", "--config")

    def test_mem_len_required(self):
        sd = authors_state_dict(**self.CASES["div2"])
        self.assert_error(sd, ["--tgt-len", "4"], "mem_len", "--mem-len")

    def test_declared_tie_but_different(self):
        sd = authors_state_dict(**self.CASES["div2"])
        sd["crit.out_layers.1.weight"] = sd["crit.out_layers.1.weight"] + 1.0
        self.assert_error(sd, self.FLAGS + ["--config", '{"tie_weight": true}'],
                          "crit.out_layers.1.weight", "tie")

    def test_config_contradicts_shapes(self):
        sd = authors_state_dict(**self.CASES["div2"])
        self.assert_error(sd, self.FLAGS + ["--config", '{"d_model": 99}'], "d_model", "99")

    def test_pickled_module(self):
        moddir = self.path("mods")
        os.makedirs(moddir)
        with open(os.path.join(moddir, "fake_mem_transformer.py"), "w") as f:
            f.write("import torch\nclass MemTransformerLM(torch.nn.Module):\n"
                    "    def __init__(self):\n        super().__init__()\n"
                    "        self.r_w_bias = torch.nn.Parameter(torch.zeros(2, 3))\n")
        sys.path.insert(0, moddir)
        try:
            import fake_mem_transformer
            torch.save(fake_mem_transformer.MemTransformerLM(), self.path("model.pt"))
        finally:
            sys.path.remove(moddir)
            sys.modules.pop("fake_mem_transformer", None)
        self.assert_error(None, self.FLAGS, "model.pt", "pickled", "state_dict", name="model.pt")

    def test_not_a_checkpoint(self):
        with open(self.path("junk.pt"), "w") as f:
            f.write("hello")
        self.assert_error(None, self.FLAGS, "junk.pt", "not a PyTorch checkpoint", name="junk.pt")


class HuggingFaceCheckpointTest(ConverterTestBase):
    def hf_model(self, untie_r, seed):
        c = dict(seed=seed, V=36, D=16, E=16, H=2, Dh=8, Fi=24, L=2, cutoffs=[8, 20],
                 div_val=1, tie_weight=True, tie_projs=[False, False, False])
        sd = authors_state_dict(**c)
        hf = {}
        for k, v in sd.items():
            hf[k if k.startswith("crit.") else "transformer." + k] = v
        # HF keeps ascending cluster rows: use the stored rows as they are
        g = torch.Generator().manual_seed(seed + 100)
        if untie_r:
            del hf["transformer.r_w_bias"], hf["transformer.r_r_bias"]
            for l in range(c["L"]):
                for b in ("r_w_bias", "r_r_bias"):
                    hf["transformer.layers.%d.dec_attn.%s" % (l, b)] = 0.3 * torch.randn(
                        2, 8, generator=g)
        else:  # HF also registers the shared pair under every layer
            for l in range(c["L"]):
                for b in ("r_w_bias", "r_r_bias"):
                    hf["transformer.layers.%d.dec_attn.%s" % (l, b)] = hf["transformer." + b]
        config = {"model_type": "transfo-xl", "vocab_size": 36, "n_layer": 2, "d_model": 16,
                  "d_embed": 16, "n_head": 2, "d_head": 8, "d_inner": 24, "cutoffs": [8, 20],
                  "div_val": 1, "untie_r": untie_r, "mem_len": 5, "tgt_len": 4,
                  "clamp_len": 3, "same_length": True, "pre_lnorm": False,
                  "proj_share_all_but_first": True, "tie_word_embeddings": True}
        return c, hf, config

    def run_hf(self, untie_r, seed):
        c, hf, config = self.hf_model(untie_r, seed)
        with open(self.path("config.json"), "w") as f:
            json.dump(config, f)
        cfg, W = self.convert(hf, [], name="pytorch_model.bin")
        toks = tokens_for(c["V"], seed)
        got = txl_torch.run_stream(cfg, W, toks, 4)["log_probs"]
        want = txl_torch.run_stream(dict(config, tie_projs=[False] * 3), hf, toks, 4)["log_probs"]
        self.assertEqual((got - want).abs().max().item(), 0.0)
        self.assertEqual(sorted(W), sorted(txl_torch.parameter_names(
            txl_torch.normalize_config(cfg))[0]))
        for k, v in W.items():  # HF input: same tensors, cluster rows untouched
            np.testing.assert_array_equal(v, hf[k].numpy(), k)
        return cfg, W

    def test_untie_r(self):
        cfg, W = self.run_hf(True, 21)
        self.assertTrue(cfg["untie_r"])
        self.assertEqual((cfg["mem_len"], cfg["clamp_len"], cfg["same_length"]), (5, 3, True))
        self.assertNotIn("crit.out_layers.0.weight", W)

    def test_shared_r_with_layer_aliases(self):
        cfg, W = self.run_hf(False, 22)
        self.assertFalse(cfg["untie_r"])
        self.assertIn("transformer.r_w_bias", W)
        self.assertFalse(any("dec_attn.r_w_bias" in k for k in W))

    def test_flags_override_config(self):
        c, hf, config = self.hf_model(True, 23)
        with open(self.path("hf.json"), "w") as f:
            json.dump(config, f)
        cfg, _ = self.convert(hf, ["--config", self.path("hf.json"), "--mem-len", "9",
                                   "--no-same-length"], name="pytorch_model.bin")
        self.assertEqual((cfg["mem_len"], cfg["same_length"]), (9, False))

    def test_missing_config(self):
        _, hf, _ = self.hf_model(True, 24)
        self.assert_error(hf, [], "config.json", name="pytorch_model.bin")

    def test_config_contradicts_shapes(self):
        _, hf, config = self.hf_model(True, 25)
        del config["div_val"]  # HF's default div_val 4 does not fit these tensors
        with open(self.path("config.json"), "w") as f:
            json.dump(config, f)
        self.assert_error(hf, [], "config.json", "div_val", name="pytorch_model.bin")


if __name__ == "__main__":
    unittest.main()
