#!/usr/bin/env python3
"""Write ONNX's own backend node tests (one model and its input/output
protobufs per test) into a folder, in the layout of onnx/backend/test/data/node:

    OUT/test_add_bcast/model.onnx
    OUT/test_add_bcast/test_data_set_0/input_0.pb, output_0.pb, ...

The onnx wheel ships the test case generators but not their data; this script
runs the generators. Usage: python gen_node_tests.py OUT   (needs onnx, numpy)
"""
import os
import shutil
import sys
import warnings

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases


def main() -> None:
    out = sys.argv[1] if len(sys.argv) > 1 else "onnx-node-tests"
    warnings.simplefilter("ignore")
    cases = node_cases.collect_testcases(None)
    n = 0
    for case in cases:
        d = os.path.join(out, case.name)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(d)
        with open(os.path.join(d, "model.onnx"), "wb") as f:
            f.write(case.model.SerializeToString())
        for i, (inputs, outputs) in enumerate(case.data_sets):
            ds = os.path.join(d, f"test_data_set_{i}")
            os.makedirs(ds)
            ok = True
            for kind, values, infos in (("input", inputs, case.model.graph.input), ("output", outputs, case.model.graph.output)):
                for j, v in enumerate(values):
                    if not infos[j].type.HasField("tensor_type"):
                        ok = False  # sequences, maps, optionals: not tensors
                        continue
                    if isinstance(v, onnx.TensorProto):
                        t = v
                    else:
                        t = numpy_helper.from_array(v, infos[j].name)
                    with open(os.path.join(ds, f"{kind}_{j}.pb"), "wb") as f:
                        f.write(t.SerializeToString())
            if not ok:
                with open(os.path.join(d, "NOT_TENSORS"), "w") as f:
                    f.write("inputs or outputs are not plain tensors\n")
        n += 1
    with open(os.path.join(out, "ONNX_VERSION"), "w") as f:
        f.write(onnx.__version__ + "\n")
    print(f"wrote {n} node tests of onnx {onnx.__version__} to {out}")


if __name__ == "__main__":
    main()
