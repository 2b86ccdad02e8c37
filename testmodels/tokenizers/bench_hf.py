#!/usr/bin/env python3
"""Times Hugging Face `tokenizers` encode_batch on the sentences that
BenchmarkEncodeSST2 / BenchmarkEncodeAGNews (tokenize/bench_test.go) use,
with the same settings (truncation to 512, padding to the longest), on 2
threads. Run from the repository root:

    RAYON_NUM_THREADS=2 $FT_PYTHON testmodels/tokenizers/bench_hf.py

(`RAYON_NUM_THREADS` must be set before tokenizers starts its thread pool;
the script sets it itself when it is missing.)
"""

import json
import os
import subprocess
import sys
import time

os.environ.setdefault("RAYON_NUM_THREADS", "2")
os.environ["TOKENIZERS_PARALLELISM"] = "true"

from tokenizers import Tokenizer  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def cases():
    raw = subprocess.run(["zstd", "-dc", os.path.join(HERE, "cases.jsonl.zst")],
                         check=True, capture_output=True).stdout.decode("utf-8")
    return [json.loads(l) for l in raw.split("\n") if l]


def bench(tok, texts, min_seconds=2.0):
    tok.encode_batch(texts)  # warm up
    n, start = 0, time.perf_counter()
    while True:
        tok.encode_batch(texts)
        n += 1
        el = time.perf_counter() - start
        if el >= min_seconds:
            return len(texts) * n / el


def main():
    cs = cases()
    sets = {
        "SST2": [c["a"] for c in cs if c["name"].startswith("sst2/")],
        "AGNews": [c["a"] for c in cs if c["name"].startswith("agnews/")],
    }
    print(f"tokenizers threads: RAYON_NUM_THREADS={os.environ['RAYON_NUM_THREADS']}", file=sys.stderr)
    for set_name, texts in sets.items():
        for name in ("minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "xlmr-spm"):
            tok = Tokenizer.from_file(os.path.join(HERE, name, "tokenizer.json"))
            with open(os.path.join(HERE, name, "tokenizer_config.json")) as f:
                pad = json.load(f)["pad_token"]
            tok.enable_truncation(512)
            tok.enable_padding(pad_id=tok.token_to_id(pad), pad_token=pad)
            print(f"HF encode_batch {set_name}/{name}: {bench(tok, texts):.0f} sentences/s")


if __name__ == "__main__":
    main()
