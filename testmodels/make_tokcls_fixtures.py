#!/usr/bin/env python3
"""Token-classification oracle fixtures: testmodels/fixtures/tokcls-<arch>/.

Tiny *ForTokenClassification models (bert, roberta, deberta-v2; the sizes and
seeded random weights of make_fixtures.py, 5 BIO labels) exported with
optimum (`--task token-classification`), with three oracles:

    test_data_set_0/   the fixed inputs of make_fixtures.py (batch 3, sequence
                       10, rows 1 and 2 padded) and ONNX Runtime's logits
                       [3, 10, 5] (CPUExecutionProvider, 1 thread)
    grads/             PyTorch autograd gradients of every parameter (eval
                       mode) for torch.nn.functional.cross_entropy(
                       logits.view(-1, 5), labels.view(-1)) with labels
                       [3, 10] int64 holding -100 on special tokens, padding
                       and some "later sub-token" positions (ignore_index,
                       mean over the rest, as *ForTokenClassification);
                       labels.pb, loss.json, names.json, <torch name>.pb as
                       in make_fixtures.py
    train/             20 AdamW steps in PyTorch from the ONNX weights on 8
                       fixed rows of 12 tokens (batches of 4 in file order,
                       cycled), with train_oracle.py's bert recipe: AdamW
                       lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay
                       0.01 with the Hugging Face Trainer's no-decay groups,
                       get_linear_schedule_with_warmup(5, 20), clipping at
                       1.0, the -100-masked cross-entropy; the feeds and
                       target as TensorProtos and oracle.json (per-step
                       losses, learning rates, gradient norms), read by
                       finetune/tokencls_test.go like train_oracle.py's.

Usage (from the repository root):
    $FT_PYTHON testmodels/make_tokcls_fixtures.py [ARCH ...]
Pinned versions: requirements-finetune.txt (torch 2.15.0, transformers
4.57.6) plus optimum, onnx, onnxruntime. Torch runs single-threaded with
ATEN_CPU_CAPABILITY=default, as train_oracle.py.
"""
import os

os.environ["ATEN_CPU_CAPABILITY"] = "default"

import json
import shutil
import sys

import numpy as np
import onnx
import torch
import transformers as tf

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures as mf  # noqa: E402
import train_oracle as to  # noqa: E402

LABELS = {0: "O", 1: "B-PER", 2: "I-PER", 3: "B-LOC", 4: "I-LOC"}
ARCHS = ["bert", "roberta", "deberta-v2"]
CLASSES = {"bert": tf.BertForTokenClassification, "roberta": tf.RobertaForTokenClassification,
           "deberta-v2": tf.DebertaV2ForTokenClassification}


def build(arch):
    cfg, _ = mf.hf_config(arch)
    cfg.num_labels = len(LABELS)
    cfg.id2label = dict(LABELS)
    cfg.label2id = {v: k for k, v in LABELS.items()}
    key = "tokcls-" + arch
    torch.manual_seed(mf.seed_of(key))
    model = CLASSES[arch](cfg)
    mf.randomize(model, mf.seed_of(key) + 1)
    model.eval()
    return model


def token_labels(mask, seed, ignore_every=3):
    """Labels [B, S]: -100 on the first and last real token (specials) and on
    padding, -100 on every `ignore_every`-th body token (a later sub-token),
    a random class elsewhere."""
    rng = np.random.default_rng(seed)
    lab = np.full(mask.shape, -100, dtype=np.int64)
    for b in range(mask.shape[0]):
        n = int(mask[b].sum())
        for t in range(1, n - 1):
            if t % ignore_every != 0:
                lab[b, t] = int(rng.integers(0, len(LABELS)))
    return lab


def masked_ce(logits, labels):
    return torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                             ignore_index=-100, reduction="mean")


def write_grads(out_dir, model, feed, golden, seed):
    model.zero_grad(set_to_none=True)
    out = mf.hf_forward(model, feed)
    diff = float(np.max(np.abs(out.detach().numpy() - golden)))
    if diff > 1e-4:
        raise RuntimeError(f"{out_dir}: torch and ONNX Runtime disagree by {diff}")
    d = os.path.join(out_dir, "grads")
    os.makedirs(d)
    labels = token_labels(feed["attention_mask"], seed)
    loss = masked_ce(out, torch.from_numpy(labels))
    loss.backward()
    mf.tensor_pb(labels, "labels", os.path.join(d, "labels.pb"))
    params, grads = {}, {}
    for name, p in model.named_parameters():
        params[name] = p.detach().numpy().copy()
        grads[name] = None if p.grad is None else p.grad.detach().numpy().copy()
        g = grads[name] if grads[name] is not None else np.zeros_like(params[name])
        mf.tensor_pb(g.astype(np.float32), name, os.path.join(d, f"{name}.pb"))
    with open(os.path.join(d, "loss.json"), "w") as f:
        json.dump({"loss": float(loss.item()),
                   "loss_fn": "torch.nn.functional.cross_entropy(logits.view(-1, C), labels.view(-1), ignore_index=-100)",
                   "labels": labels.tolist(), "mode": "eval (no dropout)", "max_abs_diff_torch_vs_ort": diff,
                   "no_grad": [n for n, g in grads.items() if g is None]}, f, indent=1)
        f.write("\n")
    names = mf.match_names(os.path.join(out_dir, "model.onnx"), params, grads)
    with open(os.path.join(d, "names.json"), "w") as f:
        f.write(mf.compact_json(names))
    if names["unmatched"]:
        raise RuntimeError(f"{out_dir}: torch parameters without an initializer: {names['unmatched']}")
    return names


def load_weights(model, fixture_dir):
    """Every ONNX initializer into the torch parameter names.json maps it to."""
    m = onnx.load(os.path.join(fixture_dir, "model.onnx"))
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    names = json.load(open(os.path.join(fixture_dir, "grads", "names.json")))
    params = dict(model.named_parameters())
    done = set()
    with torch.no_grad():
        for e in names["params"]:
            v = inits[e["onnx"]]
            if e["transposed"]:
                v = v.T
            params[e["torch"]].copy_(torch.from_numpy(np.ascontiguousarray(v)))
            done.add(e["torch"])
    if set(params) - done:
        raise RuntimeError(f"{fixture_dir}: parameters without an ONNX initializer: {sorted(set(params) - done)}")


def train(arch, out_dir, model, with_tt):
    n, seq, bs, steps = 8, 12, 4, 20
    lr, wd, warmup, max_norm = 1e-3, 0.01, 5, 1.0
    load_weights(model, out_dir)
    model.eval()  # no dropout
    cfg = model.config
    rng = np.random.default_rng(mf.seed_of("tokcls-train-" + arch))
    pad = cfg.pad_token_id
    cls_id, sep_id = (0, 2) if arch == "roberta" else (2, 3)
    lengths = [12, 7, 10, 5, 12, 9, 6, 11]
    ids = np.full((n, seq), pad, dtype=np.int64)
    mask = np.zeros((n, seq), dtype=np.int64)
    for b, k in enumerate(lengths):
        ids[b, :k] = [cls_id, *rng.integers(5, cfg.vocab_size, size=k - 2), sep_id]
        mask[b, :k] = 1
    feeds = {"input_ids": ids, "attention_mask": mask}
    if with_tt:
        feeds["token_type_ids"] = np.zeros((n, seq), dtype=np.int64)
    labels = token_labels(mask, mf.seed_of("tokcls-labels-" + arch))
    names = [k for k, _ in model.named_parameters()]
    hf_decay = tf.Trainer.get_decay_parameter_names(None, model)
    if sorted(k for k in names if not to.no_decay(k)) != sorted(hf_decay):
        raise RuntimeError("no-decay rule differs from HF")
    params = dict(model.named_parameters())
    groups = [
        {"params": [params[k] for k in names if not to.no_decay(k)], "weight_decay": wd},
        {"params": [params[k] for k in names if to.no_decay(k)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    sched = tf.get_linear_schedule_with_warmup(opt, num_warmup_steps=warmup, num_training_steps=steps)
    T = {k: torch.from_numpy(v) for k, v in feeds.items()}
    Y = torch.from_numpy(labels)
    losses, lrs, norms = [], [], []
    for lo, hi in to.batches(n, bs, steps):
        logits = model(**{k: v[lo:hi] for k, v in T.items()}).logits
        loss = masked_ce(logits, Y[lo:hi])
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
    d = os.path.join(out_dir, "train")
    for k, v in feeds.items():
        to.save_pb(d, k, v)
    to.save_pb(d, "target", labels)
    print(f"tokcls-{arch}: loss {losses[0]:.6f} -> {losses[-1]:.6f}")
    to.dump(d, {
        "fixture": "tokcls-" + arch, "output": "logits", "loss": "CrossEntropyLoss", "reduction": "mean",
        "ignore_index": -100,
        "optimizer": "AdamW", "lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd,
        "no_decay": sorted(k for k in names if to.no_decay(k)),
        "lr_scheduler": "linear", "warmup_steps": warmup, "max_grad_norm": max_norm,
        "rows": n, "batch_size": bs, "shuffle": False, "steps": steps,
        "feeds": list(feeds), "target": "target",
        "torch": torch.__version__, "transformers": tf.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "losses": losses, "learning_rates": lrs, "grad_norms": norms,
    })


def make(arch, out_dir):
    model = build(arch)
    mf.export_optimum(model, out_dir, "token-classification")
    g = onnx.load(os.path.join(out_dir, "model.onnx"), load_external_data=False).graph
    with_tt = "token_type_ids" in [i.name for i in g.input]
    inputs = mf.text_inputs(model.config, mf.seed_of("tokcls-" + arch) + 2, with_tt)
    inputs = {k: v for k, v in inputs.items() if k in [i.name for i in g.input]}
    feed, outs = mf.write_goldens(out_dir, inputs)
    mf.check_dynamic(out_dir, feed)
    write_grads(out_dir, model, feed, outs["logits"], mf.seed_of("tokcls-grad-" + arch))
    train(arch, out_dir, build(arch), with_tt)


PIPELINE_TEXTS = [
    "John Smith lives in New York and works for the United Nations.",
    "the movie was filmed in paris , france last summer",
    "Angela Merkel met Emmanuel Macron in Berlin on Tuesday.",
    "I love this film!",
    "Über den Wolken: São Paulo's café, naïve résumé.",
    "xqzt blorf wibble 12345 @user #hashtag http://example.com",
]


def make_tiny(out_dir):
    """tokcls-tiny: the bundled tiny BERT's sizes and tokenizer (vocab 2000,
    hidden 64) as BertForTokenClassification, for the ft command's tests: an
    export folder with tokenizer files, ONNX Runtime goldens, and
    transformers' token-classification pipeline on PIPELINE_TEXTS for every
    aggregation strategy (pipeline.json, the oracle of ft predict)."""
    bundled = os.path.join(HERE, "..", "internal", "bundled", "tiny-bert")
    cfg = tf.BertConfig(vocab_size=2000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=128, type_vocab_size=2, pad_token_id=0,
                        num_labels=len(LABELS), id2label=dict(LABELS), label2id={v: k for k, v in LABELS.items()})
    torch.manual_seed(mf.seed_of("tokcls-tiny"))
    model = tf.BertForTokenClassification(cfg)
    mf.randomize(model, mf.seed_of("tokcls-tiny") + 1)
    model.eval()
    mf.export_optimum(model, out_dir, "token-classification")
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(bundled, f), os.path.join(out_dir, f))
    tok = tf.AutoTokenizer.from_pretrained(out_dir)
    enc = tok(PIPELINE_TEXTS[:3], padding=True, return_tensors="np")
    inputs = {k: v.astype(np.int64) for k, v in enc.items()}
    feed, outs = mf.write_goldens(out_dir, inputs)
    with torch.no_grad():
        ref = model(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.numpy()
    diff = float(np.max(np.abs(ref - outs["logits"])))
    if diff > 1e-4:
        raise RuntimeError(f"tokcls-tiny: torch and ONNX Runtime disagree by {diff}")
    res = {"transformers": tf.__version__, "texts": PIPELINE_TEXTS, "entities": {}}
    for strategy in ["none", "simple", "first", "average", "max"]:
        pipe = tf.pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy=strategy,
                           device="cpu")
        got = pipe(PIPELINE_TEXTS)
        res["entities"][strategy] = [[{k: (float(v) if k == "score" else (int(v) if k in ("start", "end", "index") else v))
                                      for k, v in e.items()} for e in ents] for ents in got]
    with open(os.path.join(out_dir, "pipeline.json"), "w") as f:
        json.dump(res, f, indent=1, ensure_ascii=False)
        f.write("\n")


def main():
    archs = sys.argv[1:] or ARCHS + ["tiny"]
    for arch in archs:
        if arch not in CLASSES and arch != "tiny":
            sys.exit(f"unknown architecture {arch!r}: use one of {', '.join(ARCHS)}, tiny")
        out = os.path.join(mf.DEFAULT_OUT, "tokcls-" + arch)
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(out)
        if arch == "tiny":
            make_tiny(out)
        else:
            make(arch, out)
        total = 0
        for root, _, files in os.walk(out):
            for f in files:
                size = os.path.getsize(os.path.join(root, f))
                total += size
                if size > 2 << 20:
                    raise RuntimeError(f"{root}/{f} is {size} bytes (over 2 MiB)")
        print(f"{out}: {total} bytes")


if __name__ == "__main__":
    main()
