#!/usr/bin/env python3
"""Check that ONNX Runtime loads the models ft wrote (load → save) and that
they reproduce the fixture goldens.

    FT_KEEP_SAVED=$PWD/runs/saved go test ./graph -run TestFixturesLoadSaveLoad
    $FT_PYTHON testmodels/check_saved.py runs/saved
"""
import glob
import os
import sys

import numpy as np
import onnxruntime as ort
from onnx import numpy_helper, TensorProto


def read(p):
    t = TensorProto()
    with open(p, "rb") as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main() -> None:
    saved = sys.argv[1]
    fixtures = os.path.join(os.path.dirname(__file__), "fixtures")
    bad = 0
    for d in sorted(glob.glob(os.path.join(saved, "*", "model.onnx"))):
        name = os.path.basename(os.path.dirname(d))
        ds = os.path.join(fixtures, name, "test_data_set_0")
        sess = ort.InferenceSession(d, providers=["CPUExecutionProvider"])
        feeds = {i.name: read(os.path.join(ds, f"input_{j}.pb")) for j, i in enumerate(sess.get_inputs())}
        outs = sess.run(None, feeds)
        err = max(float(np.max(np.abs(o - read(os.path.join(ds, f"output_{j}.pb"))))) for j, o in enumerate(outs))
        ok = err <= 1e-6
        bad += not ok
        print(f"{name:14s} onnxruntime loads ft's saved model; max |saved - golden| = {err:.3g} {'ok' if ok else 'MISMATCH'}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
