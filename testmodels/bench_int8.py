#!/usr/bin/env python3
"""Time ONNX Runtime's MatMulInteger on a MiniLM-sized product (indicative:
compare with `go test ./ops -run X -bench MatMulInteger`).

    A uint8 [32·128, 384] (activations, zero point 128), B int8 [384, 1536]
    (a weight initializer), Y int32 — 2 intra-op threads, CPU provider.

Usage: $FT_PYTHON testmodels/bench_int8.py [M K N]
"""
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper


def main():
    m, k, n = (int(x) for x in sys.argv[1:4]) if len(sys.argv) > 3 else (4096, 384, 1536)
    rng = np.random.default_rng(1)
    b = rng.integers(-128, 128, size=(k, n), dtype=np.int8)
    node = helper.make_node("MatMulInteger", ["a", "b", "za"], ["y"])
    g = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.UINT8, [m, k])],
                          [helper.make_tensor_value_info("y", TensorProto.INT32, [m, n])],
                          initializer=[numpy_helper.from_array(b, "b"), numpy_helper.from_array(np.array(128, np.uint8), "za")])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    so.inter_op_num_threads = 1
    s = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    a = rng.integers(0, 256, size=(m, k), dtype=np.uint8)
    for _ in range(3):
        s.run(None, {"a": a})
    times = []
    cpu0 = time.process_time()
    runs = 20
    for _ in range(runs):
        t = time.perf_counter()
        s.run(None, {"a": a})
        times.append(time.perf_counter() - t)
    cpu = (time.process_time() - cpu0) / runs
    best, med = min(times), sorted(times)[len(times) // 2]
    # CPU time of all threads per run: less disturbed by other processes
    # than wall time on a shared machine
    print(f"onnxruntime {ort.__version__} MatMulInteger {m}x{k}x{n}, 2 threads: best {best*1e3:.2f} ms "
          f"({2*m*n*k/best/1e9:.1f} GOPS), median {med*1e3:.2f} ms, {cpu*1e3:.2f} cpu-ms/run")


if __name__ == "__main__":
    main()
