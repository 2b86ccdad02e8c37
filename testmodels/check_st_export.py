#!/usr/bin/env python3
"""Loads a sentence-transformers folder that ft wrote (finetune's
SaveSentenceTransformer) with sentence-transformers, plain (PyTorch, from
model.safetensors) and with backend="onnx" (onnx/model.onnx), embeds the
texts of a JSON file {"texts": [...], "embeddings": [[...], ...]} (ft's
embeddings of them) and prints one JSON line per backend: the largest
absolute difference to ft's embeddings and the smallest cosine. When
onnx/model.onnx has a sentence_embedding output (pooling and normalisation
as ONNX nodes), ONNX Runtime's value of it is compared too.

    $FT_PYTHON testmodels/check_st_export.py EXPORT_DIR EMBEDDINGS.json
"""

import json
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
warnings.filterwarnings("ignore")

import numpy as np
import torch
from sentence_transformers import SentenceTransformer

torch.set_num_threads(1)


def main():
    d, path = sys.argv[1], sys.argv[2]
    with open(path) as f:
        data = json.load(f)
    want = np.array(data["embeddings"], dtype=np.float64)
    for backend in ["torch", "onnx"]:
        kw = {"backend": backend} if backend == "onnx" else {}
        model = SentenceTransformer(d, device="cpu", **kw)
        got = model.encode(data["texts"], batch_size=len(data["texts"]), convert_to_numpy=True).astype(np.float64)
        cos = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
        print(json.dumps({"backend": backend, "max_abs": float(np.max(np.abs(got - want))),
                          "min_cos": float(np.min(cos)), "modules": [type(m).__name__ for m in model]}))
    # onnx/model.onnx with a sentence_embedding output: ONNX Runtime alone
    import onnxruntime as ort
    sess = ort.InferenceSession(os.path.join(d, "onnx", "model.onnx"), providers=["CPUExecutionProvider"])
    if "sentence_embedding" in [o.name for o in sess.get_outputs()]:
        feats = model.tokenize(data["texts"])
        feed = {i.name: feats[i.name].numpy() for i in sess.get_inputs()}
        got = sess.run(["sentence_embedding"], feed)[0].astype(np.float64)
        cos = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
        print(json.dumps({"backend": "onnxruntime sentence_embedding", "max_abs": float(np.max(np.abs(got - want))),
                          "min_cos": float(np.min(cos)), "modules": [type(m).__name__ for m in model]}))


if __name__ == "__main__":
    main()
