#!/usr/bin/env python3
"""Oracle for ft/tokenclass.Aggregate: transformers' token-classification pipeline.

Builds a tiny BertForTokenClassification with seeded random weights (no
downloads) for each committed WordPiece tokenizer under testmodels/tokenizers/
(bert-cased-wordpiece, minilm-l6-v2), for roberta-bpe (byte-level BPE) and
for xlmr-unigram (SentencePiece Unigram, Metaspace); the last two have no
continuing-subword prefix, so the pipeline's fallback word heuristic. It runs
pipeline("token-classification", aggregation_strategy=S) for S in none, simple,
first, average and max (and none/simple with ignore_labels=[]) on 62 texts,
and writes tokenclass/testdata/ner_pipeline.json.gz with, per text: the
tokens (convert_ids_to_tokens), offsets, special-token mask, which tokens are
the unknown token, the logits (float32) and the pipeline's entities.

The texts are the first 50 sentences of WNUT-17 dev (tokens joined by
spaces; $FT_DATA or ../shared/data) and a dozen written edge cases
(accents, decomposed accents, punctuation, CJK, unknown characters, repeated
spaces). Without the data only the written cases are used.

Usage (from the repository root):
    $FT_PYTHON testmodels/ner_pipeline_oracle.py     # ~1 minute
"""
import argparse
import gzip
import json
import os
import sys
import warnings

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
warnings.filterwarnings("ignore")

import numpy as np
import torch
import transformers
from transformers import AutoTokenizer, BertConfig, BertForTokenClassification, pipeline

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tokenclass", "testdata", "ner_pipeline.json.gz")

LABELS = ["O", "B-person", "I-person", "B-location", "I-location", "B-corporation",
          "I-corporation", "MISC", "E-product"]
STRATEGIES = ["none", "simple", "first", "average", "max"]

WRITTEN = [
    "Angela Merkel visited New York City with Emmanuel Macron.",
    "Café Müller in São Paulo sells naïve crêpes; don't you think?",
    "Cafe\u0301 with a decomposed accent, and Zoë again.",
    "U.S.-based Microsoft's CEO said: \"It's unbelievably extraordinary!\"",
    "Tokyo 東京 and 北京 are capitals ... right?",
    "I ❤ emoji 😀😀 and ﬁ ligatures",
    "Multiple   spaces\tand\ttabs  here",
    "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "@paulwalk It's the view from where I'm living for two weeks. #ViewFromWhereIAm http://t.co/x",
    "",
    "a",
    "Mr. O'Neil-Smith (aka 'Bob') paid $3,500.00 in 2019/20.",
]


def texts(data_dir):
    out = []
    path = os.path.join(data_dir, "wnut17", "dev.conll")
    if os.path.exists(path):
        cur = []
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip() == "":
                    if cur:
                        out.append(" ".join(cur))
                        cur = []
                    if len(out) == 50:
                        break
                    continue
                cur.append(line.split("\t")[0])
    else:
        print(f"{path} not found: only the written texts", file=sys.stderr)
    return out + WRITTEN


def make_model(vocab_size, seed):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=64, max_position_embeddings=512, type_vocab_size=2,
                     num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
                     label2id={l: i for i, l in enumerate(LABELS)})
    model = BertForTokenClassification(cfg).eval()
    with torch.no_grad():
        # Spread the logits so that labels change from token to token, and
        # favour "O" so that entities are islands.
        model.classifier.weight.normal_(0.0, 0.35)
        model.classifier.bias.zero_()
        model.classifier.bias[0] = 1.5
    return model


def entity_json(e):
    out = {}
    for k, v in e.items():
        if isinstance(v, (np.floating, float)):
            v = float(v)
        elif isinstance(v, np.integer):
            v = int(v)
        out[k] = v
    return out


def run(name, seed, all_texts):
    tok = AutoTokenizer.from_pretrained(os.path.join(HERE, "tokenizers", name))
    model = make_model(len(tok), seed)
    pipes = {s: pipeline("token-classification", model=model, tokenizer=tok, aggregation_strategy=s,
                         device=-1) for s in STRATEGIES}
    keep_all = {s + "_all": pipeline("token-classification", model=model, tokenizer=tok,
                                     aggregation_strategy=s, ignore_labels=[], device=-1)
                for s in ("none", "simple")}
    pipes.update(keep_all)
    records = []
    for text in all_texts:
        enc = tok(text, return_offsets_mapping=True, return_special_tokens_mask=True,
                  truncation=True, return_tensors="pt")
        with torch.no_grad():
            inputs = {k: enc[k] for k in ("input_ids", "attention_mask", "token_type_ids") if k in enc}
            logits = model(**inputs).logits[0].numpy()
        ids = enc["input_ids"][0].tolist()
        rec = {
            "text": text,
            "tokens": tok.convert_ids_to_tokens(ids),
            "offsets": enc["offset_mapping"][0].tolist(),
            "special": enc["special_tokens_mask"][0].tolist(),
            "unknown": [i == tok.unk_token_id for i in ids],
            "logits": [[float(x) for x in row] for row in logits.astype(np.float32)],
            "entities": {s: [entity_json(e) for e in p(text)] for s, p in pipes.items()},
        }
        records.append(rec)
    wa = bool(getattr(tok._tokenizer.model, "continuing_subword_prefix", None))
    decoder = json.loads(tok._tokenizer.to_str())["decoder"]["type"]
    return {"tokenizer": name, "word_aware": wa, "decoder": decoder, "labels": LABELS, "texts": records}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--data", default=os.environ.get("FT_DATA") or os.path.join(ROOT, "..", "shared", "data"))
    args = ap.parse_args()
    all_texts = texts(args.data)
    doc = {"transformers": transformers.__version__, "generator": "testmodels/ner_pipeline_oracle.py",
           "runs": [run("bert-cased-wordpiece", 15, all_texts), run("minilm-l6-v2", 16, all_texts),
                    run("roberta-bpe", 17, all_texts), run("xlmr-unigram", 18, all_texts)]}
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    os.replace(tmp, args.out)
    n = sum(len(r["texts"]) for r in doc["runs"])
    print(f"{args.out}: {n} texts, {len(data)} bytes json, {os.path.getsize(args.out)} gzipped",
          file=sys.stderr)


if __name__ == "__main__":
    main()
