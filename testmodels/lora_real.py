#!/usr/bin/env python3
"""Full fine-tuning vs LoRA r=8 of the real all-MiniLM-L6-v2 on SST-2, both with ft.

    python testmodels/lora_real.py                 # both runs (~15 min on 2 idle cores)
    python testmodels/lora_real.py --only lora

The data and the full fine-tune are finetune_real.py's SST-2 recipe: 20,000
shuffled training rows (random.Random(0)), the 872 test sentences, AdamW lr
5e-5, weight decay 0.01, linear schedule with 10% warmup, clipping at 1.0,
batch 32, 1 epoch, max length 128, mean pooling and a new Linear(384, 2) head,
seed 42. The LoRA run changes only: --lora-r 8 --lora-alpha 8 (PEFT's
defaults, on query and value of every layer), the base frozen, the head
trained in full, and lr 5e-4 (the LoRA paper's rate for RoBERTa-base on
SST-2; adapters starting at B = 0 need a larger step than full fine-tuning).

Reports per run: test accuracy, training steps/s (ft's last throughput
figure / batch), wall and CPU time (CPU s per step does not depend on
other load on the machine), peak RSS (/usr/bin/time -v), the trainable
parameter count, and the checkpoint size: the trainable tensors plus AdamW's
two moments, float32 (12 bytes per trainable value, before compression),
which is what a checkpoint of the trainable parameters and optimizer state
holds. Not part of CI.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from finetune_real import read_tsv, write_tsv  # noqa: E402


def run(name, extra, tp, sp, a):
    out = os.path.join(a.work, name)
    cmd = ["/usr/bin/time", "-v", a.ft, "run", "--model", a.model, "--train", tp, "--eval", sp,
           "--output-dir", out, "--weight-decay", "0.01", "--warmup-ratio", "0.1", "--max-grad-norm", "1.0",
           "--batch-size", str(a.batch), "--num-train-epochs", "1", "--max-length", "128", "--seed", "42",
           "--pooling", "mean", "--logging-steps", "50"] + extra
    print("$", " ".join(cmd[2:]), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    with open(os.path.join(a.work, name + ".log"), "w") as f:
        f.write(p.stdout + "\n--- stderr ---\n" + p.stderr)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-3000:])
        raise SystemExit(f"ft failed ({name})")
    rss = next((int(l.split()[-1]) / 1024 for l in p.stderr.splitlines() if "Maximum resident" in l), float("nan"))
    cpu = sum(float(l.split()[-1]) for l in p.stderr.splitlines() if "User time" in l or "System time" in l)
    m = {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "peak_rss_mb": round(rss)}
    for line in p.stdout.splitlines():
        if line.startswith("eval ") and "accuracy " in line and "step" not in line:
            for part in line.split(": ", 1)[1].split(", "):
                k, v = part.rsplit(" ", 1)
                m[k] = float(v)
        if mm := re.match(r"params (\d+) of (\d+) trainable", line):
            m["trainable"], m["params"] = int(mm.group(1)), int(mm.group(2))
            m["checkpoint_bytes"] = 12 * int(mm.group(1))
        if mm := re.match(r"step (\d+)/(\d+) .* (\d+) samples/s", line):
            m["steps_per_s"] = round(int(mm.group(3)) / a.batch, 3)
        if mm := re.match(r"trained (\d+) steps in (\S+);", line):
            m["steps"], m["train_time"] = int(mm.group(1)), mm.group(2)
    if m.get("steps"):
        m["cpu_s_per_step"] = round(cpu / m["steps"], 3)  # robust to other load on the machine
    print(name + ":", json.dumps(m), flush=True)
    return m


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--model", default="testmodels/real/minilm")
    ap.add_argument("--ft", default="./ft")
    ap.add_argument("--work", default=os.environ.get("FT_WORK") or os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runs", "lora-real"), help="work folder (default: $FT_WORK, else runs/lora-real in the repository, ignored by git)")
    ap.add_argument("--train-rows", type=int, default=20000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lora-lr", type=float, default=5e-4)
    ap.add_argument("--lora-targets", default="", help="--lora-targets for ft (default: PEFT's, query and value)")
    ap.add_argument("--lora-alpha", default="8")
    ap.add_argument("--lora-name", default="lora", help="name of the LoRA run (its log and output folder)")
    ap.add_argument("--only", choices=["full", "lora", "both"], default="both")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    train = read_tsv(os.path.join(a.data, "sst2", "train.tsv"), True)
    random.Random(0).shuffle(train)
    train = train[: a.train_rows]
    test = read_tsv(os.path.join(a.data, "sst2", "test.tsv"), True)
    tp, sp = os.path.join(a.work, "sst2-train.tsv"), os.path.join(a.work, "sst2-test.tsv")
    write_tsv(tp, train)
    write_tsv(sp, test)
    res = {"train_rows": len(train), "test_rows": len(test)}
    if a.only in ("full", "both"):
        res["full"] = run("full", ["--learning-rate", "5e-5"], tp, sp, a)
    if a.only in ("lora", "both"):
        extra = ["--learning-rate", str(a.lora_lr), "--lora-r", "8", "--lora-alpha", a.lora_alpha]
        if a.lora_targets:
            extra += ["--lora-targets", a.lora_targets]
        res[a.lora_name] = run(a.lora_name, extra, tp, sp, a)
    print(json.dumps(res, indent=1))
    with open(os.path.join(a.work, "result.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
