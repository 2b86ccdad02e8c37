#!/usr/bin/env python3
"""LoRA oracle: PEFT + PyTorch on the tiny BERT fixture (fixtures/bert).

The torch BertForSequenceClassification gets exactly the ONNX fixture's
weights (train_oracle.load_onnx_weights), then PEFT's LoRA
(LoraConfig(task_type="SEQ_CLS", r=4, lora_alpha=8, lora_dropout=0,
target_modules default = ["query", "value"]): the classifier is a
modules_to_save copy and trains in full, everything else is frozen).

The initial A matrices are drawn here by PEFT itself (kaiming_uniform(a=sqrt 5)
under torch.manual_seed(SEED)) and written to the fixture; the Go test
(finetune/lora_test.go) copies them into ft's adapters, so both sides start
from the same adapters (B = 0 on both sides, as PEFT initialises it).

Writes testmodels/fixtures/lora/:
  init/<ft name>.pb      initial lora_A [r, in] (PEFT orientation)
  grad_B/<ft name>.pb    a non-zero B [out, r] used only for the gradient case
  grads/<ft name>.pb     d loss / d parameter for adapters (A, B) and classifier
                         (weight [3, 32], bias) on train rows 0..3 with B = grad_B
                         (with B = 0 the A gradients would all be zero)
  final/<ft name>.pb     every trainable parameter after 20 AdamW steps from the
                         initial adapters (B = 0)
  oracle.json            hyper-parameters, per-step losses, learning rates, grad
                         norms, PEFT's adapter_model.safetensors keys/shapes and
                         adapter_config.json as peft 0.21 saves it
The data (rows, batches, hyper-parameters) is fixtures/train/bert's, for 20
steps: AdamW(lr 1e-3, wd 0.01, HF no-decay groups), linear warmup 5 of 20,
clip 1.0, batches of 4 in file order.

    $FT_PYTHON testmodels/lora_oracle.py

Pinned versions: requirements.txt (peft 0.21.2, torch 2.15.0, transformers
4.57.6). Single-threaded, ATEN_CPU_CAPABILITY=default, like train_oracle.py.
"""

import os

os.environ["ATEN_CPU_CAPABILITY"] = "default"
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import json
import shutil
import sys
import tempfile

import numpy as np
import peft
import torch
import transformers
from safetensors.numpy import load_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import train_oracle as to  # noqa: E402

R, ALPHA, SEED = 4, 8, 1234
STEPS, BS, LR, WD, WARMUP, MAX_NORM = 20, 4, 1e-3, 0.01, 5, 1.0
OUT = os.path.join(to.FIXTURES, "lora")


def ft_name(torch_name):
    """PEFT parameter name -> ft's graph parameter name."""
    n = torch_name.removeprefix("base_model.model.")
    return n.replace(".default.", ".").replace(".modules_to_save.", ".")


def build():
    d = os.path.join(to.FIXTURES, "bert")
    cfg = transformers.AutoConfig.from_pretrained(d)
    model = transformers.BertForSequenceClassification(cfg)
    to.load_onnx_weights(model, "bert")
    model.eval()
    to.check_golden(model, "bert", lambda m, f: m(**f).logits)
    torch.manual_seed(SEED)
    lc = peft.LoraConfig(task_type="SEQ_CLS", r=R, lora_alpha=ALPHA, lora_dropout=0.0)
    pm = peft.get_peft_model(model, lc)
    pm.eval()
    return pm, lc


def trainable(pm):
    return [(n, p) for n, p in pm.named_parameters() if p.requires_grad]


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    feeds, labels = to.bert_batch(8, 12, 777)  # fixtures/train/bert's data
    T = {k: torch.from_numpy(v) for k, v in feeds.items()}
    Y = torch.from_numpy(labels)

    pm, lc = build()
    params = trainable(pm)
    names = [ft_name(n) for n, _ in params]
    init = {}
    for (n, p), fn in zip(params, names):
        if ".lora_A." in fn:
            init[fn] = p.detach().numpy().copy()
            to.save_pb(os.path.join(OUT, "init"), fn, init[fn])
        if ".lora_B." in fn and float(p.abs().max()) != 0:
            raise RuntimeError(f"{fn}: PEFT's B is not zero")

    # --- gradient case: B non-zero so that A gets a gradient
    rng = np.random.default_rng(99)
    with torch.no_grad():
        for (n, p), fn in zip(params, names):
            if ".lora_B." in fn:
                b = (0.1 * rng.standard_normal(tuple(p.shape))).astype(np.float32)
                p.copy_(torch.from_numpy(b))
                to.save_pb(os.path.join(OUT, "grad_B"), fn, b)
    logits = pm(**{k: v[0:BS] for k, v in T.items()}).logits
    gloss = torch.nn.functional.cross_entropy(logits, Y[0:BS])
    gloss.backward()
    for (n, p), fn in zip(params, names):
        to.save_pb(os.path.join(OUT, "grads"), fn, p.grad.numpy())
    frozen_with_grad = [n for n, p in pm.named_parameters() if not p.requires_grad and p.grad is not None]
    if frozen_with_grad:
        raise RuntimeError(f"frozen parameters got gradients: {frozen_with_grad}")

    # --- training: a fresh PEFT model with the same initial adapters (same seed)
    pm, lc = build()
    params = trainable(pm)
    for (n, p), fn in zip(params, names):
        if fn in init and not np.array_equal(p.detach().numpy(), init[fn]):
            raise RuntimeError(f"{fn}: the re-built PEFT model has other initial adapters")
    decay = [p for (n, p), fn in zip(params, names) if not to.no_decay(fn)]
    nodecay = [p for (n, p), fn in zip(params, names) if to.no_decay(fn)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WD}, {"params": nodecay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.999), eps=1e-8, weight_decay=WD)
    sched = transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=WARMUP, num_training_steps=STEPS)
    losses, lrs, norms = [], [], []
    for lo, hi in to.batches(8, BS, STEPS):
        logits = pm(**{k: v[lo:hi] for k, v in T.items()}).logits
        loss = torch.nn.functional.cross_entropy(logits, Y[lo:hi])
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_([p for _, p in params], MAX_NORM).item())
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
        opt.zero_grad()
        losses.append(loss.item())
    for (n, p), fn in zip(params, names):
        to.save_pb(os.path.join(OUT, "final"), fn, p.detach().numpy())

    # --- what PEFT writes
    tmp = tempfile.mkdtemp()
    try:
        pm.save_pretrained(tmp)
        saved = load_file(os.path.join(tmp, "adapter_model.safetensors"))
        acfg = json.load(open(os.path.join(tmp, "adapter_config.json")))
    finally:
        shutil.rmtree(tmp)
    print(f"lora: {len(params)} trainable tensors; loss {losses[0]:.6f} -> {losses[-1]:.6f}; grad-case loss {gloss.item():.6f}")
    to.dump(OUT, {
        "fixture": "bert", "r": R, "lora_alpha": ALPHA, "lora_dropout": 0.0,
        "target_modules": sorted(lc.target_modules), "seed": SEED,
        "trainable": names, "no_decay": sorted(fn for fn in names if to.no_decay(fn)),
        "grad_rows": [0, BS], "grad_loss": gloss.item(),
        "optimizer": "AdamW", "lr": LR, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": WD,
        "lr_scheduler": "linear", "warmup_steps": WARMUP, "max_grad_norm": MAX_NORM,
        "rows": 8, "batch_size": BS, "shuffle": False, "steps": STEPS,
        "feeds": list(feeds), "data": "fixtures/train/bert",
        "losses": losses, "learning_rates": lrs, "grad_norms": norms,
        "peft_keys": {k: list(v.shape) for k, v in sorted(saved.items())},
        "peft_config": {k: acfg[k] for k in ("peft_type", "task_type", "r", "lora_alpha", "lora_dropout",
                                              "modules_to_save", "bias", "fan_in_fan_out", "use_rslora")},
        "torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__,
    })


if __name__ == "__main__":
    main()
