#!/usr/bin/env python3
"""Training-parity oracle: PyTorch loss curves for the mlp and bert fixtures.

Trains the torch model of a fixture, started from exactly the weights of the
fixture's model.onnx (every ONNX initializer copied into the torch parameter
that grads/names.json maps it to, transposed where "transposed" is true), on
fixed data in a fixed batch order, and records the loss of every optimizer
step. The Go acceptance tests (finetune/train_parity_test.go) train the same
ONNX graph with the same data and hyper-parameters and compare step by step.

    mlp   Sequential(Linear(10,10), ReLU, Linear(10,1), Sigmoid); 64 rows x 10
          features (seeded normal), targets 0/1 float32 [64,1]; batches of 16
          rows in file order, cycled; torch.optim.Adam(lr=1e-2); nn.BCELoss
          (mean); no clipping; 100 steps.
    bert  BertForSequenceClassification (fixtures/bert, eval mode: no
          dropout); 8 rows of 12 token ids (cls ... sep, then pad 0) with
          attention_mask and token_type_ids 0, labels in {0,1,2}; batches of 4
          in file order, cycled; torch.optim.AdamW(lr=1e-3, betas (0.9,0.999),
          eps 1e-8, weight_decay 0.01) with the Hugging Face Trainer's
          parameter groups (no decay for biases and norm weights: the same
          rule as finetune.NoDecay); get_linear_schedule_with_warmup(5, 50);
          clip_grad_norm_(max_norm=1.0); cross-entropy (mean); 50 steps, in
          the Trainer's order: loss, backward, clip, optimizer.step(),
          scheduler.step(), zero_grad().

Writes testmodels/fixtures/train/<name>/: the data as TensorProtos
(<graph input>.pb, target.pb) and oracle.json (hyper-parameters, per-step
losses and learning rates, gradient norms).

    $FT_PYTHON testmodels/train_oracle.py

Pinned versions: requirements-finetune.txt (torch 2.15.0, transformers
4.57.6) plus onnx. Torch runs single-threaded with
ATEN_CPU_CAPABILITY=default (no fused multiply-add), like finetune_oracle.py.
"""

import os

os.environ["ATEN_CPU_CAPABILITY"] = "default"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import json
import re
import warnings

import numpy as np
import onnx
import torch
import transformers
from onnx import numpy_helper

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")
OUT = os.path.join(FIXTURES, "train")

# optim.NoDecay (optim/optim.go), matched against the lower-cased name.
NO_DECAY = [re.compile(p) for p in (
    r"bias", r"layernorm", r"layer_norm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)",
    r"(?:^|\.)ln(?:_[a-z0-9]+)?(?:$|\.)")]


def no_decay(name):
    n = name.lower()
    return any(p.search(n) for p in NO_DECAY)


def load_onnx_weights(model, fixture):
    """Copy every ONNX initializer into the torch parameter names.json maps it to."""
    d = os.path.join(FIXTURES, fixture)
    m = onnx.load(os.path.join(d, "model.onnx"))
    inits = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    names = json.load(open(os.path.join(d, "grads", "names.json")))
    params = dict(model.named_parameters())
    done = set()
    with torch.no_grad():
        for e in names["params"]:
            v = inits[e["onnx"]]
            if e["transposed"]:
                v = v.T
            p = params[e["torch"]]
            if tuple(p.shape) != v.shape:
                raise RuntimeError(f"{fixture}: {e['torch']} is {tuple(p.shape)}, ONNX {e['onnx']} gives {v.shape}")
            p.copy_(torch.from_numpy(np.ascontiguousarray(v)))
            done.add(e["torch"])
    missing = set(params) - done
    if missing:
        raise RuntimeError(f"{fixture}: parameters without an ONNX initializer: {sorted(missing)}")
    return m


def check_golden(model, fixture, forward):
    """The torch model with the ONNX weights reproduces ONNX Runtime's golden."""
    d = os.path.join(FIXTURES, fixture, "test_data_set_0")
    m = onnx.load(os.path.join(FIXTURES, fixture, "model.onnx"))
    feed = {}
    for j, i in enumerate(m.graph.input):
        feed[i.name] = numpy_helper.to_array(onnx.load_tensor(os.path.join(d, f"input_{j}.pb")))
    want = numpy_helper.to_array(onnx.load_tensor(os.path.join(d, "output_0.pb")))
    with torch.no_grad():
        got = forward(model, {k: torch.from_numpy(v) for k, v in feed.items()}).numpy()
    diff = float(np.max(np.abs(got - want)))
    if diff > 1e-5:
        raise RuntimeError(f"{fixture}: torch with the ONNX weights differs from the golden by {diff}")
    return diff


def save_pb(dirname, name, arr):
    os.makedirs(dirname, exist_ok=True)
    path = os.path.join(dirname, name + ".pb")
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(arr, name).SerializeToString())
    return path


def dump(dirname, obj):
    path = os.path.join(dirname, "oracle.json")
    with open(path, "w") as f:
        json.dump(obj, f, indent=1, allow_nan=False)
        f.write("\n")
    for fn in sorted(os.listdir(dirname)):
        size = os.path.getsize(os.path.join(dirname, fn))
        if size > 200_000:
            raise RuntimeError(f"{dirname}/{fn} is {size} bytes")
        print(f"  {os.path.relpath(os.path.join(dirname, fn), HERE)} ({size} bytes)")


def batches(n, bs, steps):
    """Row slices of `steps` batches in file order, cycling over epochs (last batch may be short)."""
    per = [(lo, min(lo + bs, n)) for lo in range(0, n, bs)]
    return [per[s % len(per)] for s in range(steps)]


def mlp():
    n, bs, steps, lr = 64, 16, 100, 1e-2
    model = torch.nn.Sequential(torch.nn.Linear(10, 10), torch.nn.ReLU(), torch.nn.Linear(10, 1), torch.nn.Sigmoid())
    load_onnx_weights(model, "mlp")
    model.eval()
    golden = check_golden(model, "mlp", lambda m, f: m(f["input"]))
    rng = np.random.default_rng(20240101)
    x = rng.standard_normal((n, 10)).astype(np.float32)
    # targets from a noisy linear rule, so there is something to learn
    w = rng.standard_normal(10).astype(np.float32)
    y = ((x @ w + 0.5 * rng.standard_normal(n)) > 0).astype(np.float32).reshape(n, 1)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    lossf = torch.nn.BCELoss()
    losses = []
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    for lo, hi in batches(n, bs, steps):
        loss = lossf(model(X[lo:hi]), Y[lo:hi])
        loss.backward()
        opt.step()
        opt.zero_grad()
        losses.append(loss.item())
    out = os.path.join(OUT, "mlp")
    save_pb(out, "input", x)
    save_pb(out, "target", y)
    print(f"mlp: torch vs golden {golden:.2g}; loss {losses[0]:.6f} -> {losses[-1]:.6f}")
    dump(out, {
        "fixture": "mlp", "output": "output", "loss": "BCELoss", "reduction": "mean",
        "optimizer": "Adam", "lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.0,
        "lr_scheduler": "constant", "warmup_steps": 0, "max_grad_norm": 0.0,
        "rows": n, "batch_size": bs, "shuffle": False, "steps": steps,
        "feeds": ["input"], "target": "target",
        "torch": torch.__version__, "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "losses": losses,
    })


def bert_batch(n, seq, seed):
    rng = np.random.default_rng(seed)
    cls_id, sep_id, pad = 2, 3, 0
    lengths = [12, 7, 10, 5, 12, 9, 6, 11][:n]
    ids = np.full((n, seq), pad, dtype=np.int64)
    mask = np.zeros((n, seq), dtype=np.int64)
    for b, k in enumerate(lengths):
        body = rng.integers(5, 256, size=k - 2)
        ids[b, :k] = [cls_id, *body, sep_id]
        mask[b, :k] = 1
    tt = np.zeros((n, seq), dtype=np.int64)
    labels = rng.integers(0, 3, size=n).astype(np.int64)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": tt}, labels


def bert():
    n, seq, bs, steps = 8, 12, 4, 50
    lr, wd, warmup, max_norm = 1e-3, 0.01, 5, 1.0
    d = os.path.join(FIXTURES, "bert")
    cfg = transformers.AutoConfig.from_pretrained(d)
    model = transformers.BertForSequenceClassification(cfg)
    load_onnx_weights(model, "bert")
    model.eval()  # no dropout
    golden = check_golden(model, "bert", lambda m, f: m(**f).logits)
    feeds, labels = bert_batch(n, seq, 777)
    # the Hugging Face Trainer's groups, by finetune.NoDecay's rule; check it agrees with HF's own
    names = [k for k, _ in model.named_parameters()]
    decay = [k for k in names if not no_decay(k)]
    hf_decay = transformers.Trainer.get_decay_parameter_names(None, model)
    if sorted(decay) != sorted(hf_decay):
        raise RuntimeError(f"no-decay rule differs from HF: {sorted(set(decay) ^ set(hf_decay))}")
    params = dict(model.named_parameters())
    groups = [
        {"params": [params[k] for k in names if not no_decay(k)], "weight_decay": wd},
        {"params": [params[k] for k in names if no_decay(k)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    sched = transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=warmup, num_training_steps=steps)
    T = {k: torch.from_numpy(v) for k, v in feeds.items()}
    Y = torch.from_numpy(labels)
    losses, lrs, norms = [], [], []
    for lo, hi in batches(n, bs, steps):
        logits = model(**{k: v[lo:hi] for k, v in T.items()}).logits
        loss = torch.nn.functional.cross_entropy(logits, Y[lo:hi])
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm).item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
    out = os.path.join(FIXTURES, "train", "bert")
    for k, v in feeds.items():
        save_pb(out, k, v)
    save_pb(out, "target", labels)
    print(f"bert: torch vs golden {golden:.2g}; loss {losses[0]:.6f} -> {losses[-1]:.6f}")
    dump(out, {
        "fixture": "bert", "output": "logits", "loss": "CrossEntropyLoss", "reduction": "mean",
        "optimizer": "AdamW", "lr": lr, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": wd,
        "no_decay": sorted(k for k in names if no_decay(k)),
        "lr_scheduler": "linear", "warmup_steps": warmup, "max_grad_norm": max_norm,
        "rows": n, "batch_size": bs, "shuffle": False, "steps": steps,
        "feeds": list(feeds), "target": "target",
        "torch": torch.__version__, "transformers": transformers.__version__,
        "aten_cpu_capability": os.environ["ATEN_CPU_CAPABILITY"],
        "losses": losses, "learning_rates": lrs, "grad_norms": norms,
    })


if __name__ == "__main__":
    mlp()
    bert()
