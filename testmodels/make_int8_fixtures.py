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

    fixtures/quant-ops/   a graph of QuantizeLinear and DequantizeLinear
                          (per tensor, per axis), QLinearMatMul,
                          DynamicQuantizeLinear, MatMulInteger (uint8
                          weights, per-column zero points), on random inputs.

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


def make_quant_ops(out_root):
    """quant-ops: one graph with the quantization ops ft runs, on random
    float inputs, ONNX Runtime's outputs with graph optimizations off (each
    node as the ONNX definition, no fusion into int8 kernels):

        x [batch, 4, 8] → QuantizeLinear per axis 2 (int8) → DequantizeLinear
        x → QuantizeLinear per tensor (uint8) → QLinearMatMul by int8 W
            [8, 6] with per-column b_scale → DequantizeLinear (uint8 output)
        x → DynamicQuantizeLinear → MatMulInteger by uint8 W2 [8, 5] with
            per-column zero points → Cast
    """
    from onnx import TensorProto, helper
    rng = np.random.default_rng(24)
    w = rng.integers(-128, 128, size=(8, 6), dtype=np.int8)
    w2 = rng.integers(0, 256, size=(8, 5), dtype=np.uint8)
    init = {
        "s8": (rng.uniform(0.01, 0.05, size=8)).astype(np.float32),
        "z8": rng.integers(-10, 10, size=8, dtype=np.int8),
        "sx": np.array(0.02, np.float32), "zx": np.array(120, np.uint8),
        "w": w, "sw": rng.uniform(0.005, 0.02, size=6).astype(np.float32), "zw": np.array(0, np.int8),
        "sy": np.array(0.05, np.float32), "zy": np.array(128, np.uint8),
        "w2": w2, "z2": rng.integers(100, 150, size=5, dtype=np.uint8),
    }
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s8", "z8"], ["q8"], axis=2),
        helper.make_node("DequantizeLinear", ["q8", "s8", "z8"], ["y_axis"], axis=2),
        helper.make_node("QuantizeLinear", ["x", "sx", "zx"], ["qx"]),
        helper.make_node("QLinearMatMul", ["qx", "sx", "zx", "w", "sw", "zw", "sy", "zy"], ["qy"]),
        helper.make_node("DequantizeLinear", ["qy", "sy", "zy"], ["y_qlinear"]),
        helper.make_node("DynamicQuantizeLinear", ["x"], ["dq", "ds", "dz"]),
        helper.make_node("MatMulInteger", ["dq", "w2", "dz", "z2"], ["mi"]),
        helper.make_node("Cast", ["mi"], ["y_integer"], to=TensorProto.FLOAT),
    ]
    g = helper.make_graph(
        nodes, "quant_ops", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4, 8])],
        [helper.make_tensor_value_info("y_axis", TensorProto.FLOAT, ["batch", 4, 8]),
         helper.make_tensor_value_info("y_qlinear", TensorProto.FLOAT, ["batch", 4, 6]),
         helper.make_tensor_value_info("y_integer", TensorProto.FLOAT, ["batch", 4, 5])],
        initializer=[numpy_helper.from_array(v, k) for k, v in init.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    model.ir_version = 10
    onnx.checker.check_model(model)
    dst = os.path.join(out_root, "quant-ops")
    ds = os.path.join(dst, "test_data_set_0")
    os.makedirs(ds, exist_ok=True)
    onnx.save(model, os.path.join(dst, "model.onnx"))
    with open(os.path.join(dst, "config.json"), "w") as f:
        f.write('{"model_type": "quant-ops"}\n')
    x = (rng.standard_normal((3, 4, 8)) * 0.8).astype(np.float32)
    x[0, 0, :4] = [0.5 * 0.02, 1.5 * 0.02, -2.5 * 0.02, 9.0]  # ties and saturation
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(os.path.join(dst, "model.onnx"), so, providers=["CPUExecutionProvider"])
    outs = sess.run(None, {"x": x})
    with open(os.path.join(ds, "input_0.pb"), "wb") as f:
        f.write(numpy_helper.from_array(x, "x").SerializeToString())
    names = [o.name for o in sess.get_outputs()]
    for j, (n, v) in enumerate(zip(names, outs)):
        with open(os.path.join(ds, f"output_{j}.pb"), "wb") as f:
            f.write(numpy_helper.from_array(v, n).SerializeToString())
    savez_deterministic(os.path.join(ds, "inputs.npz"), {"x": x})
    savez_deterministic(os.path.join(ds, "outputs.npz"), dict(zip(names, outs)))
    print(f"quant-ops: outputs {[v.shape for v in outs]}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(HERE, "fixtures"))
    args = ap.parse_args()
    for name, (src, op_types) in FIXTURES.items():
        make(name, src, op_types, args.out)
    make_quant_ops(args.out)


if __name__ == "__main__":
    main()
