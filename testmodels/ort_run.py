"""Run ONNX Runtime on exported models, for ft's export tests.

usage: python ort_run.py MODEL_DIR:INPUT_DIR [MODEL_DIR:INPUT_DIR ...]

INPUT_DIR holds input_<j>.pb TensorProtos named after the graph inputs (the
fixtures' test_data_set_0 layout). Prints one JSON object per model on
stdout: {"model": dir, "outputs": {name: {"shape": [...], "data": [...]}}}
or {"model": dir, "error": "..."}. Runs with 1 thread, CPU provider.
Used by finetune's TestExportsRunInONNXRuntime when FT_ORT_PYTHON names a
Python with onnxruntime and onnx (.ci/run installs them).
"""
import glob
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper


def main():
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    for arg in sys.argv[1:]:
        model_dir, input_dir = arg.rsplit(":", 1)
        rec = {"model": model_dir}
        try:
            sess = ort.InferenceSession(os.path.join(model_dir, "model.onnx"), so, providers=["CPUExecutionProvider"])
            feeds = {}
            for p in sorted(glob.glob(os.path.join(input_dir, "input_*.pb"))):
                t = onnx.load_tensor(p)
                feeds[t.name] = numpy_helper.to_array(t)
            names = [i.name for i in sess.get_inputs()]
            feeds = {k: v for k, v in feeds.items() if k in names}
            outs = sess.run(None, feeds)
            rec["outputs"] = {o.name: {"shape": list(v.shape), "data": np.asarray(v, dtype=np.float64).ravel().tolist()}
                              for o, v in zip(sess.get_outputs(), outs)}
        except Exception as e:  # reported to the Go test, which fails with it
            rec["error"] = f"{type(e).__name__}: {e}"
        print(json.dumps(rec))


if __name__ == "__main__":
    main()
