#!/usr/bin/env python3
"""Re-validate the committed fixtures under testmodels/fixtures/ (or DIR).

For every fixture folder:
  - onnx.checker accepts model.onnx (external data included);
  - ONNX Runtime (CPUExecutionProvider) on test_data_set_0/input_*.pb reproduces
    test_data_set_0/output_*.pb (names, dtypes, shapes; values within --rtol/--atol);
  - ONNX Runtime also runs on a smaller batch and sequence (the axes are dynamic);
  - grads/ (where present) is complete: labels.pb, loss.json, names.json, and one
    <torch name>.pb per parameter whose shape agrees with names.json; every ONNX
    initializer named in names.json exists with the recorded shape;
  - sizes: each file < 2 MiB, all fixtures together < 12 MiB.

Usage: $FT_PYTHON testmodels/check_fixtures.py [--dir DIR] [NAME ...]
Exit status 0 when everything holds; each failure is printed as FIXTURE: what.
"""
import argparse
import glob
import json
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
MAX_FILE = 2 << 20
MAX_TOTAL = 12 << 20


def load_pb(path):
    t = onnx.TensorProto()
    with open(path, "rb") as f:
        t.ParseFromString(f.read())
    return t.name, numpy_helper.to_array(t)


def numbered(d, prefix):
    files = glob.glob(os.path.join(d, prefix + "_*.pb"))
    return sorted(files, key=lambda p: int(os.path.basename(p)[len(prefix) + 1:-3]))


def check_one(d, rtol, atol):
    errs = []
    name = os.path.basename(d)
    model_path = os.path.join(d, "model.onnx")
    for f in ("model.onnx", "config.json"):
        if not os.path.exists(os.path.join(d, f)):
            errs.append(f"missing {f}")
    if errs:
        return errs
    try:
        onnx.checker.check_model(model_path, full_check=False)
    except Exception as e:  # noqa: BLE001
        errs.append(f"onnx.checker: {e}")
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    sess = ort.InferenceSession(model_path, so, providers=["CPUExecutionProvider"])
    td = os.path.join(d, "test_data_set_0")
    ins = [load_pb(p) for p in numbered(td, "input")]
    outs = [load_pb(p) for p in numbered(td, "output")]
    want_in = [i.name for i in sess.get_inputs()]
    want_out = [o.name for o in sess.get_outputs()]
    if [n for n, _ in ins] != want_in:
        errs.append(f"inputs {[n for n, _ in ins]} != graph inputs {want_in}")
        return errs
    if [n for n, _ in outs] != want_out:
        errs.append(f"outputs {[n for n, _ in outs]} != graph outputs {want_out}")
        return errs
    feed = dict(ins)
    got = sess.run(None, feed)
    for (n, ref), g in zip(outs, got):
        if ref.dtype != g.dtype or ref.shape != g.shape:
            errs.append(f"output {n}: got {g.dtype}{list(g.shape)}, golden {ref.dtype}{list(ref.shape)}")
        elif not np.allclose(g, ref, rtol=rtol, atol=atol):
            errs.append(f"output {n}: max abs diff {np.max(np.abs(g - ref)):.3g}")
    if len(ins) and ins[0][1].ndim == 2 and ins[0][1].shape[0] > 1:
        small = {k: (v[1:, :7] if v.dtype == np.int64 else v[1:]).copy() for k, v in feed.items()}
        try:
            sess.run(None, small)
        except Exception as e:  # noqa: BLE001
            errs.append(f"smaller batch/sequence does not run: {e}")
    gd = os.path.join(d, "grads")
    if os.path.isdir(gd):
        errs += check_grads(gd, model_path)
    return errs


def check_grads(gd, model_path):
    errs = []
    for f in ("labels.pb", "loss.json", "names.json"):
        if not os.path.exists(os.path.join(gd, f)):
            errs.append(f"grads/{f} missing")
    if errs:
        return errs
    names = json.load(open(os.path.join(gd, "names.json")))
    loss = json.load(open(os.path.join(gd, "loss.json")))
    if not np.isfinite(loss["loss"]):
        errs.append("grads/loss.json: loss is not finite")
    m = onnx.load(model_path, load_external_data=False)
    init_shapes = {t.name: list(t.dims) for t in m.graph.initializer}
    grad_files = {os.path.basename(p)[:-3] for p in glob.glob(os.path.join(gd, "*.pb"))} - {"labels"}
    torch_names = {e["torch"] for e in names["params"]} | {e["torch"] for e in names["unmatched"]}
    if grad_files != torch_names:
        errs.append(f"grads: files without names.json entry {sorted(grad_files - torch_names)}, "
                    f"entries without file {sorted(torch_names - grad_files)}")
    for e in names["params"]:
        if init_shapes.get(e["onnx"]) != e["shape"]:
            errs.append(f"names.json: initializer {e['onnx']} shape {init_shapes.get(e['onnx'])} != {e['shape']}")
        p = os.path.join(gd, e["torch"] + ".pb")
        if os.path.exists(p):
            n, g = load_pb(p)
            shape = e["shape"][::-1] if e["transposed"] else e["shape"]
            if n != e["torch"] or list(g.shape) != shape or g.dtype != np.float32:
                errs.append(f"grads/{e['torch']}.pb: name {n} {g.dtype}{list(g.shape)}, want float32{shape}")
            elif not np.all(np.isfinite(g)):
                errs.append(f"grads/{e['torch']}.pb: not finite")
    return errs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("names", nargs="*")
    ap.add_argument("--dir", default=os.path.join(HERE, "fixtures"))
    ap.add_argument("--rtol", type=float, default=1e-4)
    ap.add_argument("--atol", type=float, default=1e-5)
    args = ap.parse_args()
    dirs = sorted(p for p in glob.glob(os.path.join(args.dir, "*")) if os.path.isdir(p))
    if args.names:
        dirs = [os.path.join(args.dir, n) for n in args.names]
    bad = 0
    total = 0
    for root, _, files in os.walk(args.dir):
        for f in files:
            p = os.path.join(root, f)
            s = os.path.getsize(p)
            total += s
            if s >= MAX_FILE:
                print(f"{os.path.relpath(p, args.dir)}: {s} bytes, over 2 MiB")
                bad += 1
    if total >= MAX_TOTAL:
        print(f"all fixtures: {total} bytes, over 12 MiB")
        bad += 1
    for d in dirs:
        errs = check_one(d, args.rtol, args.atol)
        for e in errs:
            print(f"{os.path.basename(d)}: {e}")
        bad += len(errs)
        if not errs:
            print(f"{os.path.basename(d)}: ok")
    print(f"{len(dirs)} fixtures, {total / (1 << 20):.2f} MiB, {bad} problems")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
