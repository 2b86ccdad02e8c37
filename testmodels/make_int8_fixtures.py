#!/usr/bin/env python3
"""Make the int8 fixtures: ONNX Runtime's dynamic quantization of a float
fixture, with ONNX Runtime's outputs as goldens.

    fixtures/bert-int8/   onnxruntime.quantization.quantize_dynamic of
                          fixtures/bert/model.onnx (per_channel=True,
                          weight_type=QInt8): int8 per-column MatMul weights,
                          activations by DynamicQuantizeLinear (uint8),
                          MatMulInteger, Cast, Mul, Add.
    fixtures/bert-int8mm/ the same with op_types_to_quantize=["MatMul"]
                          (Gather weights stay float32): what
                          onnx.Model.QuantizeDynamic writes (ft's test
                          compares weights, scales and outputs).

Each fixture gets config.json (copied), test_data_set_0/input_j.pb (the
float fixture's inputs), output_j.pb (ONNX Runtime 1-thread CPU outputs of
the quantized model) and inputs.npz / outputs.npz (as make_npy_fixtures.py
writes them). ONNX Runtime's MatMulInteger is exact integer arithmetic and
its DynamicQuantizeLinear is deterministic, so ft must match to float32
rounding.

Usage (from the repository root, with the oracle venv's python):
    $FT_PYTHON testmodels/make_int8_fixtures.py [--out DIR]
"""
import argparse
import os
import shutil
import sys
import tempfile

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper
from onnxruntime.quantization import QuantType, quantize_dynamic

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_npy_fixtures import savez_deterministic  # noqa: E402

# name: (source fixture, op_types_to_quantize or None for the default)
FIXTURES = {"bert-int8": ("bert", None), "bert-int8mm": ("bert", ["MatMul"])}


def ort_session(path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


def read_inputs(src_dir, model):
    inits = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    feed = {}
    for j, n in enumerate(names):
        t = onnx.load_tensor(os.path.join(src_dir, "test_data_set_0", f"input_{j}.pb"))
        feed[n] = numpy_helper.to_array(t)
    return feed


def make(name, src, op_types, out_root):
    src_dir = os.path.join(HERE, "fixtures", src)
    dst = os.path.join(out_root, name)
    os.makedirs(os.path.join(dst, "test_data_set_0"), exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        q = os.path.join(tmp, "model.onnx")
        quantize_dynamic(os.path.join(src_dir, "model.onnx"), q, per_channel=True, weight_type=QuantType.QInt8,
                         op_types_to_quantize=op_types)
        shutil.copy(q, os.path.join(dst, "model.onnx"))
    shutil.copy(os.path.join(src_dir, "config.json"), os.path.join(dst, "config.json"))
    model = onnx.load(os.path.join(dst, "model.onnx"))
    feed = read_inputs(src_dir, model)
    sess = ort_session(os.path.join(dst, "model.onnx"))
    in_names = [i.name for i in sess.get_inputs()]
    outs = sess.run(None, {n: feed[n] for n in in_names})
    ds = os.path.join(dst, "test_data_set_0")
    for j, n in enumerate(in_names):
        with open(os.path.join(ds, f"input_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(feed[n], n).SerializeToString())
    out_names = [o.name for o in sess.get_outputs()]
    for j, (n, v) in enumerate(zip(out_names, outs)):
        with open(os.path.join(ds, f"output_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    savez_deterministic(os.path.join(ds, "inputs.npz"), {n: feed[n] for n in in_names})
    savez_deterministic(os.path.join(ds, "outputs.npz"), dict(zip(out_names, outs)))
    # how far int8 is from the float model, for the record
    ref = ort_session(os.path.join(src_dir, "model.onnx")).run(None, {n: feed[n] for n in in_names})
    ops = sorted({n.op_type for n in model.graph.node})
    size = os.path.getsize(os.path.join(dst, "model.onnx"))
    print(f"{name}: {size} bytes, ops {ops}, max |int8 - float32| = {np.abs(outs[0] - ref[0]).max():.3g}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "fixtures"))
    args = ap.parse_args()
    for name, (src, op_types) in FIXTURES.items():
        make(name, src, op_types, args.out)


if __name__ == "__main__":
    main()
