#!/usr/bin/env python3
"""Checks ft's LoRA exports with the real consumers (not run by go test or CI).

Runs `go test ./finetune -run TestLoRAExportForOracle` with FT_LORA_EXPORT_DIR
set: ft applies LoRA (r 4, alpha 8) to the tiny BERT fixture, trains it 10
steps so that A and B are both non-zero, and writes
  ft_logits.pb  ft's logits (adapters unmerged) on fixtures/bert/test_data_set_0
  merged/       MergeLoRA + Save: a plain ONNX export
  peft/         SavePEFT: adapter_model.safetensors + adapter_config.json
Then:
  1. ONNX Runtime on merged/model.onnx gives ft's logits within 1e-4, and the
     merged graph has the base fixture's op histogram (no LoRA ops);
  2. peft.PeftModel.from_pretrained loads peft/ onto the transformers model of
     the fixture (BertForSequenceClassification with the ONNX weights) and
     gives ft's logits within 1e-4;
  3. the same for a feature-extraction export (bert-fe) with ft's mean pooling
     and head: ONNX Runtime on the merged export (only the pooling + head ops
     beyond bert-fe's), and peft on BertModel + ft_head.safetensors, against
     ft's last_hidden_state and logits within 1e-4.

    $FT_PYTHON testmodels/check_lora_export.py
"""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import collections
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
import peft
import torch
import transformers
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import train_oracle as to  # noqa: E402


def main():
    root = os.path.dirname(HERE)
    fx = os.path.join(to.FIXTURES, "bert")
    with tempfile.TemporaryDirectory() as out:
        env = dict(os.environ, FT_LORA_EXPORT_DIR=out)
        subprocess.run(["go", "test", "./finetune", "-run", "^TestLoRAExportForOracle$", "-count=1"], cwd=root, env=env, check=True)
        want = numpy_helper.to_array(onnx.load_tensor(os.path.join(out, "ft_logits.pb")))
        m = onnx.load(os.path.join(fx, "model.onnx"))
        ds = os.path.join(fx, "test_data_set_0")
        feed = {i.name: numpy_helper.to_array(onnx.load_tensor(os.path.join(ds, f"input_{j}.pb"))) for j, i in enumerate(m.graph.input)}

        # 1. ONNX Runtime on the merged export
        merged = onnx.load(os.path.join(out, "merged", "model.onnx"))
        onnx.checker.check_model(merged)
        hb = collections.Counter(n.op_type for n in m.graph.node)
        hm = collections.Counter(n.op_type for n in merged.graph.node)
        if hb != hm:
            raise SystemExit(f"merged op histogram {dict(hm)} differs from the base {dict(hb)}")
        so = ort.SessionOptions()
        so.intra_op_num_threads = 1
        sess = ort.InferenceSession(os.path.join(out, "merged", "model.onnx"), so, providers=["CPUExecutionProvider"])
        got = sess.run(["logits"], feed)[0]
        d1 = float(np.max(np.abs(got - want)))
        print(f"merged export: ONNX Runtime vs ft (unmerged) logits: max |diff| {d1:.3g}; op histogram = base ({sum(hm.values())} nodes)")

        # 2. peft on the transformers model
        cfg = transformers.AutoConfig.from_pretrained(fx)
        model = transformers.BertForSequenceClassification(cfg)
        to.load_onnx_weights(model, "bert")
        model.eval()
        base = model(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.detach().numpy()
        pm = peft.PeftModel.from_pretrained(model, os.path.join(out, "peft"))
        pm.eval()
        with torch.no_grad():
            got2 = pm(**{k: torch.from_numpy(v) for k, v in feed.items()}).logits.numpy()
        d2 = float(np.max(np.abs(got2 - want)))
        moved = float(np.max(np.abs(base - want)))
        print(f"PEFT export: peft {peft.__version__} PeftModel vs ft logits: max |diff| {d2:.3g} (training moved the logits by {moved:.3g})")
        ok = d1 <= 1e-4 and d2 <= 1e-4 and moved > 1e-2

        # 3. feature-extraction export (bert-fe) with ft's mean pooling + head:
        # ORT on the merged export, and peft on BertModel (bert's encoder)
        # plus ft_head.safetensors, against ft's unmerged outputs
        fe_want = {k: numpy_helper.to_array(onnx.load_tensor(os.path.join(out, f"fe_{k}.pb"))) for k in ("logits", "last_hidden_state")}
        sess = ort.InferenceSession(os.path.join(out, "fe_merged", "model.onnx"), so, providers=["CPUExecutionProvider"])
        got = dict(zip(["logits", "last_hidden_state"], sess.run(["logits", "last_hidden_state"], feed)))
        d3 = max(float(np.max(np.abs(got[k] - fe_want[k]))) for k in got)
        fem = onnx.load(os.path.join(to.FIXTURES, "bert-fe", "model.onnx"))
        hfe = collections.Counter(n.op_type for n in fem.graph.node)
        hmf = collections.Counter(n.op_type for n in onnx.load(os.path.join(out, "fe_merged", "model.onnx")).graph.node)
        extra = hmf - hfe  # ft's pooling + head only
        model2 = transformers.BertForSequenceClassification(cfg)
        to.load_onnx_weights(model2, "bert")
        enc = model2.bert
        enc.pooler = None
        enc.eval()
        pe = peft.PeftModel.from_pretrained(enc, os.path.join(out, "fe_peft"))
        pe.eval()
        from safetensors.numpy import load_file
        head = load_file(os.path.join(out, "fe_peft", "ft_head.safetensors"))
        with torch.no_grad():
            h = pe(**{k: torch.from_numpy(v) for k, v in feed.items()}).last_hidden_state.numpy()
        msk = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (h * msk).sum(1) / np.maximum(msk.sum(1), 1e-9)
        logits = pooled @ head["classifier.weight"].T + head["classifier.bias"]
        d4 = max(float(np.max(np.abs(h - fe_want["last_hidden_state"]))), float(np.max(np.abs(logits - fe_want["logits"]))))
        print(f"feature-extraction: merged export in ONNX Runtime vs ft: max |diff| {d3:.3g} (ops beyond bert-fe's: {dict(extra)}); "
              f"peft BertModel + ft_head vs ft: max |diff| {d4:.3g}")
        ok = ok and d3 <= 1e-4 and d4 <= 1e-4 and set(extra) <= {"Unsqueeze", "Cast", "Mul", "ReduceSum", "Max", "Div", "MatMul", "Add"} and sum(extra.values()) == 9
        print("OK" if ok else "FAIL")
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
