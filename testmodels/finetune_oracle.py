#!/usr/bin/env python3
"""Oracle values for packages finetune/ (losses), optim/ (optimizers, schedules)
and dataset/ (data).

Writes small JSON fixtures under testmodels/fixtures/finetune/ that the Go tests
in finetune/, optim/ and dataset/ read; `go test` never runs Python. Run it by hand after changing
what it computes:

    $FT_PYTHON testmodels/finetune_oracle.py

Pinned versions: see requirements-finetune.txt beside this script
(torch 2.15.0, transformers 4.57.6, numpy).

Torch runs with ATEN_CPU_CAPABILITY=default so that its CPU kernels do not use
fused multiply-add: the optimizer trajectories then follow plain float32
arithmetic, which the Go optimizers replicate operation by operation.
"""

import os

os.environ["ATEN_CPU_CAPABILITY"] = "default"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import csv
import hashlib
import json
import math
import sys
import types

import torch
import transformers
from transformers import optimization as hfopt

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "fixtures", "finetune")
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data"))


def f32list(t):
    """A float32 tensor as a (nested) list of Python floats (exact)."""
    return t.detach().to(torch.float32).tolist()


def dump(name, obj):
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(obj, f, separators=(",", ":"), allow_nan=False)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes)")


# ---------------------------------------------------------------- losses


def loss_case(name, kind, x, target, opts, fn):
    x = x.clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    return {
        "name": name,
        "kind": kind,
        "input": f32list(x),
        "target": target.tolist(),
        "options": opts,
        "loss": None if math.isnan(loss.item()) else loss.item(),  # JSON has no NaN
        "grad": f32list(x.grad),
    }


def losses():
    g = torch.Generator().manual_seed(1234)
    B, C = 6, 4
    logits = (torch.randn(B, C, generator=g) * 2).float()
    y = torch.tensor([0, 3, 1, 2, 3, 0])
    y_ign = torch.tensor([0, -100, 1, 2, -100, 0])
    y_ign7 = torch.tensor([0, 7, 1, 7, 3, 0])
    w = torch.tensor([0.5, 2.0, 1.0, 3.0])
    F = torch.nn.functional
    cases = []

    def ce(name, target, weight=None, smoothing=0.0, ignore=-100):
        opts = {"label_smoothing": smoothing, "ignore_index": ignore}
        if weight is not None:
            opts["weight"] = weight.tolist()
        cases.append(
            loss_case(
                name,
                "cross_entropy",
                logits,
                target,
                opts,
                lambda x: F.cross_entropy(
                    x, target, weight=weight, label_smoothing=smoothing, ignore_index=ignore
                ),
            )
        )

    ce("ce_plain", y)
    ce("ce_weight", y, weight=w)
    ce("ce_smoothing", y, smoothing=0.1)
    ce("ce_weight_smoothing", y, weight=w, smoothing=0.2)
    ce("ce_ignore", y_ign)
    ce("ce_ignore_weight_smoothing", y_ign, weight=w, smoothing=0.1)
    ce("ce_ignore_index_7", y_ign7, ignore=7)
    ce("ce_all_ignored", torch.full((B,), -100, dtype=torch.long))
    big = torch.tensor([[1000.0, -1000.0, 0.0], [-50.0, 50.0, 49.0]])
    cases.append(
        loss_case(
            "ce_extreme_logits",
            "cross_entropy",
            big,
            torch.tensor([1, 2]),
            {"label_smoothing": 0.0, "ignore_index": -100},
            lambda x: F.cross_entropy(x, torch.tensor([1, 2])),
        )
    )

    yb = (torch.rand(B, C, generator=g) > 0.5).float()
    yb[0, 1] = 0.3  # soft target
    pw = torch.tensor([1.0, 2.0, 0.5, 3.0])
    bw = torch.tensor([1.0, 0.5, 2.0, 1.5])

    def bcel(name, x, target, pos_weight=None, weight=None):
        opts = {}
        if pos_weight is not None:
            opts["pos_weight"] = pos_weight.tolist()
        if weight is not None:
            opts["weight"] = weight.tolist()
        cases.append(
            loss_case(
                name,
                "bce_with_logits",
                x,
                target,
                opts,
                lambda x: F.binary_cross_entropy_with_logits(
                    x, target, weight=weight, pos_weight=pos_weight
                ),
            )
        )

    bcel("bcel_plain", logits, yb)
    bcel("bcel_pos_weight", logits, yb, pos_weight=pw)
    bcel("bcel_weight", logits, yb, weight=bw)
    bcel("bcel_pos_weight_weight", logits, yb, pos_weight=pw, weight=bw)
    ext = torch.tensor([[80.0, -80.0, 30.0, -30.0]])
    bcel("bcel_extreme", ext, torch.tensor([[0.0, 1.0, 1.0, 0.0]]), pos_weight=pw)

    probs = torch.sigmoid(logits)

    def bce(name, p, target, weight=None):
        opts = {}
        if weight is not None:
            opts["weight"] = weight.tolist()
        cases.append(
            loss_case(
                name,
                "bce",
                p,
                target,
                opts,
                lambda x: F.binary_cross_entropy(x, target, weight=weight),
            )
        )

    bce("bce_plain", probs, yb)
    bce("bce_weight", probs, yb, weight=bw)
    bce(
        "bce_clamped",
        torch.tensor([[0.0, 1.0, 0.5, 1e-30], [1.0, 0.0, 0.25, 0.999]]),
        torch.tensor([[1.0, 0.0, 1.0, 1.0], [1.0, 0.0, 0.0, 1.0]]),
    )

    ry = torch.randn(B, C, generator=g)
    cases.append(
        loss_case("mse_matrix", "mse", logits, ry, {}, lambda x: F.mse_loss(x, ry))
    )
    # Hugging Face regression with num_labels == 1: logits [B, 1], labels [B].
    r1 = torch.randn(B, 1, generator=g)
    ry1 = torch.randn(B, generator=g)
    cases.append(
        loss_case(
            "mse_squeeze",
            "mse",
            r1,
            ry1,
            {},
            lambda x: F.mse_loss(x.squeeze(), ry1.squeeze()),
        )
    )
    dump("losses.json", {"torch": torch.__version__, "cases": cases})


# ---------------------------------------------------------------- optimizers

STEPS = 20


def optim_inputs():
    g = torch.Generator().manual_seed(99)
    params = {
        "encoder.layer.0.dense.weight": torch.randn(2, 3, generator=g),
        "encoder.layer.0.dense.bias": torch.randn(3, generator=g),
        "encoder.LayerNorm.weight": 1 + 0.1 * torch.randn(3, generator=g),
    }
    grads = []
    for s in range(STEPS):
        scale = 4.0 if s % 5 == 2 else 0.5  # some steps large enough to clip
        grads.append({k: scale * torch.randn(v.shape, generator=g) for k, v in params.items()})
    return params, grads


def hf_groups(named, weight_decay):
    """Trainer's grouping: no decay on biases and norm weights."""
    pats = ["bias", "layernorm", "rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)"]
    import re

    dec = [p for n, p in named if not any(re.search(q, n.lower()) for q in pats)]
    nodec = [p for n, p in named if any(re.search(q, n.lower()) for q in pats)]
    return [
        {"params": dec, "weight_decay": weight_decay},
        {"params": nodec, "weight_decay": 0.0},
    ]


def run_optim(name, make, groups_wd=None, clip=None, schedule=None):
    init, grads = optim_inputs()
    names = list(init.keys())
    ps = {k: torch.nn.Parameter(v.clone()) for k, v in init.items()}
    named = [(k, ps[k]) for k in names]
    if groups_wd is not None:
        opt = make(hf_groups(named, groups_wd))
    else:
        opt = make([p for _, p in named])
    sched = None
    if schedule is not None:
        sched = hfopt.get_linear_schedule_with_warmup(opt, schedule[0], schedule[1])
    traj, norms, lrs = [], [], []
    for s in range(STEPS):
        for k in names:
            ps[k].grad = grads[s][k].clone()
        if clip is not None:
            tn = torch.nn.utils.clip_grad_norm_([ps[k] for k in names], clip, foreach=False)
            norms.append(tn.item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
        traj.append({k: f32list(ps[k].flatten()) for k in names})
    state = {}
    for k in names:
        st = opt.state[ps[k]]
        for sk, sv in st.items():
            if sk == "step":
                state["step"] = float(sv)
            elif torch.is_tensor(sv):
                state[f"{k}/{sk}"] = f32list(sv.flatten())
    return {
        "name": name,
        "trajectory": traj,
        "clip_total_norms": norms,
        "lrs": lrs,
        "final_state": state,
    }


def optimizers():
    init, grads = optim_inputs()
    names = list(init.keys())
    out = {
        "torch": torch.__version__,
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "names": names,
        "shapes": {k: list(v.shape) for k, v in init.items()},
        "init": {k: f32list(v.flatten()) for k, v in init.items()},
        "grads": [{k: f32list(g[k].flatten()) for k in names} for g in grads],
        "runs": [],
    }
    SGD, Adam, AdamW = torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW
    runs = [
        ("sgd_plain", {"optimizer": "sgd", "lr": 0.1}, lambda p: SGD(p, lr=0.1, foreach=False)),
        (
            "sgd_momentum_dampening_wd",
            {"optimizer": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01},
            lambda p: SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, foreach=False),
        ),
        (
            "sgd_nesterov",
            {"optimizer": "sgd", "lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.001},
            lambda p: SGD(p, lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.001, foreach=False),
        ),
        ("adam_default", {"optimizer": "adam", "lr": 0.001}, lambda p: Adam(p, foreach=False)),
        (
            "adam_wd_betas",
            {"optimizer": "adam", "lr": 0.01, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.1},
            lambda p: Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, foreach=False),
        ),
        (
            "adam_amsgrad",
            {"optimizer": "adam", "lr": 0.01, "amsgrad": True, "weight_decay": 0.01},
            lambda p: Adam(p, lr=0.01, amsgrad=True, weight_decay=0.01, foreach=False),
        ),
        ("adamw_default", {"optimizer": "adamw", "lr": 0.001, "weight_decay": 0.01}, lambda p: AdamW(p, foreach=False)),
        (
            "adamw_wd_amsgrad",
            {"optimizer": "adamw", "lr": 0.02, "beta2": 0.95, "weight_decay": 0.3, "amsgrad": True},
            lambda p: AdamW(p, lr=0.02, betas=(0.9, 0.95), weight_decay=0.3, amsgrad=True, foreach=False),
        ),
    ]
    for name, cfg, make in runs:
        r = run_optim(name, make)
        r["config"] = cfg
        out["runs"].append(r)
    # The Trainer's recipe: AdamW, no decay on bias / LayerNorm, clipping at
    # 1.0, linear schedule with 3 warmup steps over 20.
    cfg = {"optimizer": "adamw", "lr": 0.05, "weight_decay": 0.1, "hf_groups": True,
           "max_grad_norm": 1.0, "warmup": 3, "total": STEPS}
    r = run_optim("trainer_adamw_groups_clip_linear",
                  lambda gr: AdamW(gr, lr=0.05, weight_decay=0.1, foreach=False),
                  groups_wd=0.1, clip=1.0, schedule=(3, STEPS))
    r["config"] = cfg
    out["runs"].append(r)
    cfg = {"optimizer": "sgd", "lr": 0.1, "momentum": 0.9, "weight_decay": 0.05, "hf_groups": True,
           "max_grad_norm": 0.5}
    r = run_optim("sgd_groups_clip",
                  lambda gr: SGD(gr, lr=0.1, momentum=0.9, weight_decay=0.05, foreach=False),
                  groups_wd=0.05, clip=0.5)
    r["config"] = cfg
    out["runs"].append(r)
    dump("optim.json", out)


# ---------------------------------------------------------------- schedules


def schedules():
    def lrs(make, total):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=1.0)
        sch = make(opt)
        vals = []
        for _ in range(total + 3):
            vals.append(sch.get_last_lr()[0])
            opt.step()
            sch.step()
        return vals

    cases = []
    for warm, total in [(0, 10), (3, 10), (10, 10), (4, 17), (1, 1)]:
        cases.append({"name": "constant", "warmup": warm, "total": total,
                      "lrs": lrs(lambda o: hfopt.get_constant_schedule(o), total)})
        cases.append({"name": "constant_with_warmup", "warmup": warm, "total": total,
                      "lrs": lrs(lambda o: hfopt.get_constant_schedule_with_warmup(o, warm), total)})
        cases.append({"name": "linear", "warmup": warm, "total": total,
                      "lrs": lrs(lambda o: hfopt.get_linear_schedule_with_warmup(o, warm, total), total)})
        cases.append({"name": "cosine", "warmup": warm, "total": total, "num_cycles": 0.5,
                      "lrs": lrs(lambda o: hfopt.get_cosine_schedule_with_warmup(o, warm, total), total)})
        cases.append({"name": "cosine_with_restarts", "warmup": warm, "total": total, "num_cycles": 2,
                      "lrs": lrs(lambda o: hfopt.get_cosine_with_hard_restarts_schedule_with_warmup(o, warm, total, 2), total)})
    # Through the Trainer's own entry point, by scheduler name.
    for sname in ["linear", "cosine", "constant", "constant_with_warmup"]:
        cases.append({"name": sname, "warmup": 2, "total": 9, "via": "get_scheduler",
                      "lrs": lrs(lambda o: hfopt.get_scheduler(sname, o, num_warmup_steps=2, num_training_steps=9), 9)})
    warm = []
    for ratio, steps, total in [(0.1, 0, 100), (0.06, 0, 1000), (0.1, 0, 7), (0.0, 0, 50), (0.33, 0, 10),
                                (0.5, 5, 100), (0.0, 12, 100)]:
        # TrainingArguments' own method, on just the two fields it reads (building a
        # TrainingArguments needs accelerate, which the oracle venv lacks).
        args = types.SimpleNamespace(warmup_ratio=ratio, warmup_steps=steps)
        got = transformers.TrainingArguments.get_warmup_steps(args, total)
        warm.append({"ratio": ratio, "steps": steps, "total": total, "warmup": got})
    dump("schedules.json", {"transformers": transformers.__version__, "cases": cases, "warmup_steps": warm})


# ---------------------------------------------------------------- data


def data():
    """What Python's csv module reads from the shared TSV files."""
    files = []
    for rel, header in [("sst2/train.tsv", True), ("sst2/dev.tsv", True), ("sst2/test.tsv", True),
                        ("agnews/dev.tsv", False), ("agnews/test.tsv", False)]:
        path = os.path.join(DATA, rel)
        if not os.path.exists(path):
            print(f"skip {path}: not found", file=sys.stderr)
            continue
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f, delimiter="\t"))
        if header:
            rows = rows[1:]
        h = hashlib.sha256()
        labels = {}
        quoted = []
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
        start = 1 if header else 0
        for i, r in enumerate(rows):
            h.update(r[0].encode("utf-8"))
            h.update(b"\x1f")
            h.update(r[-1].encode("utf-8"))
            h.update(b"\x1e")
            labels[r[-1]] = labels.get(r[-1], 0) + 1
            if lines[start + i].startswith('"') and len(quoted) < 3:
                quoted.append({"row": i, "text": r[0]})
        files.append({"file": rel, "rows": len(rows), "sha256": h.hexdigest(),
                      "labels": labels, "quoted_examples": quoted,
                      "quoted_rows": sum(1 for l in lines[start:] if l.startswith('"'))})
    dump("data.json", {"files": files})


if __name__ == "__main__":
    losses()
    optimizers()
    schedules()
    data()
