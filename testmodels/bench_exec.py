"""`ft exec --bench` next to ONNX Runtime on the same model, shapes, inputs and thread count.

    go build -o ft ./cmd/ft          # /ft in the repository root is ignored by git
    $FT_PYTHON testmodels/bench_exec.py            # MiniLM, batch 32, sequence 128, 2 threads

1. runs `ft exec MODEL --random --dim batch_size=B --dim sequence_length=S --bench N --threads T`
   (plus --json, --save-inputs and --output, so ONNX Runtime gets the very inputs ft drew and the
   outputs can be compared);
2. runs onnxruntime (CPUExecutionProvider, intra_op_num_threads=T, inter_op_num_threads=1,
   sequential, default graph optimizations) on those inputs: 1 + W untimed runs, then N timed;
3. prints both (median and spread of latency, samples/s, peak RSS) and the ratio, and the max
   |ft - ORT| of the outputs.

Peak RSS: ft's is its whole process (getrusage); ORT's is this Python process's after the ORT
runs (Python, numpy and onnxruntime included). Figures are from a shared machine: treat them as
upper bounds.
"""

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def stats(lat_ms, batch):
    s = sorted(lat_ms)
    n = len(s)
    med = statistics.median(s)
    return {
        "median_ms": med,
        "min_ms": s[0],
        "mean_ms": statistics.fmean(s),
        "p90_ms": s[min(n - 1, -(-9 * n // 10) - 1)],
        "max_ms": s[-1],
        "std_ms": statistics.stdev(s) if n > 1 else 0.0,
        "samples_per_s": batch / (med / 1000),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "testmodels", "real", "minilm"))
    ap.add_argument("--ft", default="./ft", help="the ft binary (go build -o ft ./cmd/ft)")
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=2)
    a = ap.parse_args()
    onnx_path = a.model if a.model.endswith(".onnx") else os.path.join(a.model, "model.onnx")

    with tempfile.TemporaryDirectory() as tmp:
        inputs, outputs = os.path.join(tmp, "inputs.npz"), os.path.join(tmp, "ft_outputs.npz")
        cmd = [a.ft, "exec", a.model, "--random", "--dim", f"batch_size={a.batch}", "--dim", f"sequence_length={a.seq}",
               "--bench", str(a.runs), "--warmup", str(a.warmup), "--threads", str(a.threads),
               "--json", "--save-inputs", inputs, "--output", outputs]
        load_before = os.getloadavg()[0]
        print("$", " ".join(cmd), flush=True)
        t0 = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        ft_wall = time.perf_counter() - t0
        if p.returncode != 0:
            sys.exit(f"ft exec failed ({p.returncode}):\n{p.stderr}")
        rep = json.loads(p.stdout)
        fb = rep["bench"]
        feeds = dict(np.load(inputs))
        ft_out = dict(np.load(outputs))

        so = ort.SessionOptions()
        so.intra_op_num_threads = a.threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        t0 = time.perf_counter()
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        t1 = time.perf_counter()
        first = sess.run(None, feeds)
        first_ms = (time.perf_counter() - t1) * 1000
        for _ in range(a.warmup):
            sess.run(None, feeds)
        lat = []
        for _ in range(a.runs):
            t = time.perf_counter()
            sess.run(None, feeds)
            lat.append((time.perf_counter() - t) * 1000)
        ort_wall = time.perf_counter() - t0
        ob = stats(lat, a.batch)
        ob["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    names = [o.name for o in sess.get_outputs()]
    diffs = {n: float(np.max(np.abs(ft_out[n].astype(np.float64) - v.astype(np.float64)))) for n, v in zip(names, first)}

    print(f"\nmodel {onnx_path}; inputs {', '.join(f'{k} {v.dtype}{list(v.shape)}' for k, v in feeds.items())}")
    print(f"{a.runs} timed runs after {a.warmup + 1} untimed, {a.threads} threads; {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPUs, onnxruntime {ort.__version__}, numpy {np.__version__}")
    print(f"max |ft - ORT| on the outputs: " + ", ".join(f"{n} {d:.2e}" for n, d in diffs.items()))
    print(f"first run: ft {rep['first_run_ms']:.0f} ms, ORT {first_ms:.0f} ms; wall incl. load: ft {ft_wall:.1f} s, ORT {ort_wall:.1f} s\n")
    rows = [
        ("latency median (ms)", fb["median_ms"], ob["median_ms"]),
        ("latency min (ms)", fb["min_ms"], ob["min_ms"]),
        ("latency p90 (ms)", fb["p90_ms"], ob["p90_ms"]),
        ("latency max (ms)", fb["max_ms"], ob["max_ms"]),
        ("latency std (ms)", fb["std_ms"], ob["std_ms"]),
        ("samples/s", fb["samples_per_s"], ob["samples_per_s"]),
        ("peak RSS (MiB)", fb["peak_rss_bytes"] / 2**20, ob["peak_rss_bytes"] / 2**20),
    ]
    print(f"| {'':22} | {'ft exec':>10} | {'ONNX Runtime':>12} | {'ft / ORT':>8} |")
    print(f"|{'-' * 24}|{'-' * 12}|{'-' * 14}|{'-' * 10}|")
    for name, f, o in rows:
        print(f"| {name:22} | {f:10.1f} | {o:12.1f} | {f / o if o else float('nan'):8.2f} |")
    print(f"\nft latencies (ms): {' '.join(f'{x:.0f}' for x in fb['latencies_ms'])}")
    print(f"ORT latencies (ms): {' '.join(f'{x:.0f}' for x in lat)}")
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs "
          "(shared machine: figures are upper bounds)")


if __name__ == "__main__":
    main()
