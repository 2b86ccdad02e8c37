"""numpy-written .npy/.npz fixtures for `ft exec` and the npy package.

1. For every fixture under testmodels/fixtures/<name>/ with a test_data_set_0,
   writes test_data_set_0/inputs.npz (graph inputs, by name) and outputs.npz
   (ONNX Runtime's goldens, by graph output name) with numpy.savez, from the
   same TensorProto files (input_<j>.pb, output_<j>.pb) the Go fixture test
   reads. `go test ./cmd/ft -run TestExecFixtures` runs
   `ft exec <fixture> --inputs inputs.npz --compare outputs.npz --atol 1e-4`.
2. Writes npy/testdata/: one .npy per supported dtype, a 0-d, an empty, a
   big-endian, a Fortran-order (refused by ft), a float16 (unsupported), format
   versions 2.0 and 3.0, and .npz archives written by numpy.savez and
   numpy.savez_compressed. The values are simple formulas that npy_test.go
   rebuilds by hand.

Run from the repository root:
    $FT_PYTHON testmodels/make_npy_fixtures.py
The output is deterministic (numpy 2.4.6, onnx 1.23.2; see requirements.txt).
"""

import glob
import os
import sys
import zipfile

import numpy as np
import onnx
from onnx import numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def savez_deterministic(path, arrays, compress=False):
    """numpy.savez / savez_compressed (numpy.lib._npyio_impl._savez: one
    zipf.open(name + '.npy', 'w', force_zip64=True) per array, written by
    numpy.lib.format.write_array), except that the zip entries get a fixed
    timestamp, so the committed files do not change from run to run."""
    method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    with zipfile.ZipFile(path, "w", compression=method) as z:
        for name, a in arrays.items():
            info = zipfile.ZipInfo(name + ".npy", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = method
            with z.open(info, "w", force_zip64=True) as f:
                np.lib.format.write_array(f, np.asanyarray(a), allow_pickle=False)
    # what numpy.load sees must be what we meant
    with np.load(path) as f:
        assert list(f.keys()) == list(arrays.keys()), (path, list(f.keys()))
        for k, a in arrays.items():
            assert f[k].dtype == a.dtype and f[k].shape == a.shape, (path, k)
            assert np.array_equal(f[k], a, equal_nan=True), (path, k)


def fixture_npz():
    for model in sorted(glob.glob(os.path.join(ROOT, "testmodels", "fixtures", "*", "model.onnx"))):
        d = os.path.dirname(model)
        ds = os.path.join(d, "test_data_set_0")
        if not os.path.isdir(ds):
            continue
        m = onnx.load(model, load_external_data=False)
        inits = {i.name for i in m.graph.initializer}
        in_names = [i.name for i in m.graph.input if i.name not in inits]
        out_names = [o.name for o in m.graph.output]
        ins, outs = {}, {}
        for j, name in enumerate(in_names):
            t = onnx.load_tensor(os.path.join(ds, f"input_{j}.pb"))
            assert t.name in ("", name), (model, j, t.name, name)
            ins[name] = numpy_helper.to_array(t)
        for j, name in enumerate(out_names):
            t = onnx.load_tensor(os.path.join(ds, f"output_{j}.pb"))
            assert t.name in ("", name), (model, j, t.name, name)
            outs[name] = numpy_helper.to_array(t)
        savez_deterministic(os.path.join(ds, "inputs.npz"), ins)
        savez_deterministic(os.path.join(ds, "outputs.npz"), outs)
        print(os.path.relpath(ds, ROOT), {k: (str(v.dtype), v.shape) for k, v in ins.items()},
              "->", {k: (str(v.dtype), v.shape) for k, v in outs.items()})


def npy_testdata():
    out = os.path.join(ROOT, "npy", "testdata")
    os.makedirs(out, exist_ok=True)
    # Formulas mirrored in npy/npy_test.go.
    base = np.arange(24).reshape(2, 3, 4)
    arrays = {
        "f4": (base * 0.5 - 3).astype(np.float32),
        "f8": (base * 0.25 - 2).astype(np.float64),
        "i8": (base - 12).astype(np.int64),
        "i4": (base * 1000 - 5).astype(np.int32),
        "b1": (np.arange(6).reshape(2, 3) % 3 == 0),
        "u1": (np.arange(10) * 25).astype(np.uint8),
        "i1": (np.arange(10) * 25 - 128).astype(np.int8),
        "f4_special": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38, -1.5], dtype=np.float32),
        "i8_limits": np.array([-(2**63), -1, 0, 1, 2**63 - 1], dtype=np.int64),
        "i4_limits": np.array([-(2**31), -1, 0, 1, 2**31 - 1], dtype=np.int32),
        "scalar_f8": np.array(2.5, dtype=np.float64),
        "empty_f4": np.zeros((0, 3), dtype=np.float32),
        "long_i8": np.arange(1000, dtype=np.int64).reshape(10, 100),  # 1-d..3-d shapes: header padding varies
        "vec_f4": np.arange(5, dtype=np.float32),
    }
    for name, a in arrays.items():
        np.save(os.path.join(out, name + ".npy"), a)
    # big-endian: read and converted
    np.save(os.path.join(out, "big_f4.npy"), arrays["f4"].astype(">f4"))
    np.save(os.path.join(out, "big_i8.npy"), arrays["i8"].astype(">i8"))
    # refused: Fortran order, float16, object
    fo = np.asfortranarray(arrays["f4"])
    assert fo.flags.f_contiguous and not fo.flags.c_contiguous
    np.save(os.path.join(out, "fortran_f4.npy"), fo)
    np.save(os.path.join(out, "f2.npy"), np.arange(4, dtype=np.float16))
    # format versions 2.0 and 3.0
    for v in (2, 3):
        with open(os.path.join(out, f"v{v}_f4.npy"), "wb") as f:
            np.lib.format.write_array(f, arrays["f4"], version=(v, 0))
    # archives: stored (savez) and deflated (savez_compressed)
    npz = {k: arrays[k] for k in ("f4", "f8", "i8", "i4", "b1", "scalar_f8")}
    savez_deterministic(os.path.join(out, "arrays.npz"), npz)
    savez_deterministic(os.path.join(out, "arrays_compressed.npz"), npz, compress=True)
    for z in ("arrays.npz", "arrays_compressed.npz"):
        with zipfile.ZipFile(os.path.join(out, z)) as f:
            print("npy/testdata/" + z, [(i.filename, i.compress_type) for i in f.infolist()])
    print("npy/testdata:", len(os.listdir(out)), "files")


if __name__ == "__main__":
    os.chdir(ROOT)
    print("numpy", np.__version__, "onnx", onnx.__version__, file=sys.stderr)
    fixture_npz()
    npy_testdata()
