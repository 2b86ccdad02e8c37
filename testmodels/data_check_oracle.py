"""Independent counts for `ft data check` (dataset.CheckData) on real files.

Plain Python (csv, re) and Hugging Face `tokenizers` for token lengths; no code
shared with the Go side. It writes dataset/testdata/datacheck/<name>.json, which
dataset/datacheck_test.go and cmd/ft/datacheck_test.go compare count by count.

    # from the repository root
    $FT_PYTHON testmodels/data_check_oracle.py            # SST-2 from ../shared/data
    $FT_PYTHON testmodels/data_check_oracle.py --data DIR

The rules (as README "ft data check" states them):
- a row is checked when its text and its label are not empty/white space;
- texts are compared lower-cased with white-space runs collapsed to one space
  (" ".join(s.lower().split())); "byte-exact" compares the cells as written;
- duplicates: rows whose (text, label) was seen before; groups: (text, label)
  seen more than once;
- conflicts: texts with more than one label; their rows;
- containment: A is inside B when A is a shorter substring of B that starts at
  the start of a token and ends at the end of one, tokens being regex \\w+ runs
  or single non-space characters. Here this is computed by enumerating every
  token-aligned substring of B and looking it up in the set of A texts (the Go
  side uses an Aho-Corasick automaton).
- token lengths: tokenizers' encode with special tokens, no truncation;
  percentiles nearest-rank (sorted[ceil(p/100*n)-1]).
"""

import argparse
import csv
import json
import math
import os
import re
import sys

from tokenizers import Tokenizer

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
TOKENIZER = os.path.join(ROOT, "internal", "bundled", "tiny-bert", "tokenizer.json")
MAX_LENGTHS = [128, 32, 16]
TOKEN = re.compile(r"\w+|\S")


def norm(s):
    return " ".join(s.lower().split())


def read_tsv(path):
    """Rows (line, text, label) of a `sentence<TAB>label` file with a header."""
    rows = []
    with open(path, newline="", encoding="utf-8") as f:
        r = csv.reader(f, delimiter="\t")
        header = next(r)
        assert header == ["sentence", "label"], header
        last = r.line_num
        for cells in r:
            assert r.line_num == last + 1, "a record spans lines: line numbers need care"
            last = r.line_num
            assert len(cells) == 2, (path, r.line_num, cells)
            rows.append((r.line_num, cells[0], cells[1].strip()))
    return rows


def file_counts(rows, tok):
    empty_text = [x for x in rows if x[1].strip() == ""]
    rest = [x for x in rows if x[1].strip() != ""]
    empty_label = [x for x in rest if x[2] == ""]
    checked = [x for x in rest if x[2] != ""]
    labels = {}
    for _, _, l in checked:
        labels[l] = labels.get(l, 0) + 1
    # duplicates
    seen = {}
    for _, t, l in checked:
        k = (norm(t), l)
        seen[k] = seen.get(k, 0) + 1
    dup_rows = sum(c - 1 for c in seen.values())
    dup_groups = sum(1 for c in seen.values() if c > 1)
    seen_raw = set()
    dup_raw = 0
    for _, t, l in checked:
        if (t, l) in seen_raw:
            dup_raw += 1
        seen_raw.add((t, l))
    # conflicts
    by_text = {}
    for _, t, l in checked:
        by_text.setdefault(norm(t), []).append(l)
    conf = [ls for ls in by_text.values() if len(set(ls)) > 1]
    by_raw = {}
    for _, t, l in checked:
        by_raw.setdefault(t, set()).add(l)
    # lengths
    enc = tok.encode_batch([t for _, t, _ in checked], add_special_tokens=True)
    lens = sorted(len(e.ids) for e in enc)
    n = len(lens)

    def rank(p):
        return lens[max(0, min(n - 1, math.ceil(p / 100 * n) - 1))]

    return {
        "rows": len(rows),
        "checked_rows": len(checked),
        "labels": {k: labels[k] for k in sorted(labels, key=int)},
        "empty_text": len(empty_text),
        "empty_label": len(empty_label),
        "duplicates": {"rows": dup_rows, "groups": dup_groups, "rows_byte_exact": dup_raw},
        "conflicts": {
            "texts": len(conf),
            "rows": sum(len(ls) for ls in conf),
            "texts_byte_exact": sum(1 for ls in by_raw.values() if len(ls) > 1),
        },
        "lengths": {
            "min": lens[0],
            "max": lens[-1],
            "mean": sum(lens) / n,
            "p50": rank(50),
            "p90": rank(90),
            "p95": rank(95),
            "p99": rank(99),
            "truncated": {str(m): sum(1 for x in lens if x > m) for m in MAX_LENGTHS},
        },
    }


def containment(inner_rows, outer_rows):
    """Inner texts inside longer outer texts, by enumerating outer substrings."""
    inner = {}
    for _, t, _ in inner_rows:
        k = norm(t)
        inner[k] = inner.get(k, 0) + 1
    max_tokens = max(len(TOKEN.findall(k)) for k in inner)
    outer = {}
    for _, t, _ in outer_rows:
        k = norm(t)
        outer[k] = outer.get(k, 0) + 1
    found = set()
    outer_hit = 0
    for s, mult in outer.items():
        toks = [(m.start(), m.end()) for m in TOKEN.finditer(s)]
        hit = False
        for i in range(len(toks)):
            for j in range(i, min(len(toks), i + max_tokens)):
                if i == 0 and j == len(toks) - 1:
                    continue  # the whole text: equal, not inside
                sub = s[toks[i][0]:toks[j][1]]
                if sub in inner:
                    found.add(sub)
                    hit = True
        if hit:
            outer_hit += mult
    return {"inner_texts": len(found), "inner_rows": sum(inner[k] for k in found), "outer_rows": outer_hit}


def overlap(train, ev):
    tn, en = {}, {}
    for _, t, l in train:
        tn.setdefault(norm(t), []).append(l)
    for _, t, l in ev:
        en.setdefault(norm(t), []).append(l)
    both = [k for k in en if k in tn]
    raw_t = {t for _, t, _ in train}
    return {
        "texts": len(both),
        "texts_byte_exact": len({t for _, t, _ in ev if t in raw_t}),
        "train_rows": sum(len(tn[k]) for k in both),
        "eval_rows": sum(len(en[k]) for k in both),
        "label_disagree": sum(1 for k in both if set(tn[k]) != set(en[k])),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join(ROOT, "dataset", "testdata", "datacheck"))
    a = ap.parse_args()
    tok = Tokenizer.from_file(TOKENIZER)
    tok.no_truncation()
    tok.no_padding()
    sst = os.path.join(a.data, "sst2")
    files = {n: read_tsv(os.path.join(sst, n + ".tsv")) for n in ("train", "dev", "test")}
    checked = {n: [x for x in rows if x[1].strip() and x[2]] for n, rows in files.items()}
    counts = {n: file_counts(rows, tok) for n, rows in files.items()}
    os.makedirs(a.out, exist_ok=True)
    for ev in ("dev", "test"):
        g = {
            "made_by": "testmodels/data_check_oracle.py",
            "train": "sst2/train.tsv",
            "eval": "sst2/%s.tsv" % ev,
            "tokenizer": "internal/bundled/tiny-bert/tokenizer.json",
            "train_counts": counts["train"],
            "eval_counts": counts[ev],
            "exact": overlap(checked["train"], checked[ev]),
            "train_in_eval": containment(checked["train"], checked[ev]),
            "eval_in_train": containment(checked[ev], checked["train"]),
        }
        path = os.path.join(a.out, "sst2_train_%s.json" % ev)
        with open(path, "w") as f:
            json.dump(g, f, indent=1, sort_keys=True)
            f.write("\n")
        print(path, json.dumps({k: g[k] for k in ("exact", "train_in_eval", "eval_in_train")}))


if __name__ == "__main__":
    sys.exit(main())
