#!/usr/bin/env python3
"""Oracle for ft/tokenclass's entity metrics: seqeval 1.2.2 on random tag sequences.

Writes tokenclass/testdata/seqeval_cases.json.gz: for every scheme (IOB1, IOB2,
IOE1, IOE2, IOBES, BILOU) 60 random corpora ("cases") of 1-40 sentence pairs
(true, pred), plus "wild" corpora (tags of every prefix and malformed names, which
strict mode mostly refuses) and a few hand-picked edge corpora (all-O, empty sentences,
no sentences). Malformed tags are mixed in on purpose: I- without B-, type
changes inside a span, E-/L- without a start, a span cut by O.

For each case the fixture holds seqeval's classification_report(output_dict=True)
and accuracy_score:
  default mode                  classification_report(t, p)
  strict mode, the case scheme  classification_report(t, p, mode='strict', scheme=S)
  strict mode, auto-detected    classification_report(t, p, mode='strict')
each with zero_division='warn' (acts as 0) and zero_division=1, and (warn only)
with suffix=True on the sequences with prefix and type swapped (B-PER -> PER-B). seqeval's
exceptions are recorded as {"error": "..."}. For a few cases the text report
(digits 4) is kept too.

With --count-data DIR it instead counts sentences and tokens of the WNUT-17
and UD-EWT files under DIR (default $FT_DATA, else ../shared/data from the
repository root),
independently of the Go readers, and prints them.

Usage (from the repository root; seqeval==1.2.2 needs numpy and scikit-learn):
    $FT_PYTHON testmodels/seqeval_oracle.py            # ~20 s
    $FT_PYTHON testmodels/seqeval_oracle.py --count-data ../shared/data
"""
import argparse
import gzip
import json
import math
import os
import random
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tokenclass", "testdata", "seqeval_cases.json.gz")

SCHEMES = ["IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"]
PREFIXES = {
    "IOB1": "IOB", "IOB2": "IOB", "IOE1": "IOE", "IOE2": "IOE",
    "IOBES": "IOBES", "BILOU": "BILOU",
}
TYPES = ["PER", "LOC", "ORG", "MISC", "X-Y"]


def span_tags(scheme, typ, n, prev_type):
    """A well-formed span of n tokens of type typ in scheme."""
    if scheme == "IOB1":
        first = "B" if prev_type == typ else "I"
        return [f"{first}-{typ}"] + [f"I-{typ}"] * (n - 1)
    if scheme == "IOB2":
        return [f"B-{typ}"] + [f"I-{typ}"] * (n - 1)
    if scheme == "IOE1":
        # E- only on the last token when the next span has the same type; the
        # caller does not know, so end with E- at random.
        last = "E" if random.random() < 0.4 else "I"
        return [f"I-{typ}"] * (n - 1) + [f"{last}-{typ}"]
    if scheme == "IOE2":
        return [f"I-{typ}"] * (n - 1) + [f"E-{typ}"]
    if scheme == "IOBES":
        if n == 1:
            return [f"S-{typ}"]
        return [f"B-{typ}"] + [f"I-{typ}"] * (n - 2) + [f"E-{typ}"]
    if scheme == "BILOU":
        if n == 1:
            return [f"U-{typ}"]
        return [f"B-{typ}"] + [f"I-{typ}"] * (n - 2) + [f"L-{typ}"]
    raise ValueError(scheme)


def random_tag(prefixes, types):
    p = random.choice(prefixes)
    if p == "O":
        return "O"
    return f"{p}-{random.choice(types)}"


def well_formed(scheme, length, types):
    tags = []
    prev_type = None
    while len(tags) < length:
        if random.random() < 0.45:
            tags.append("O")
            prev_type = None
            continue
        n = min(random.choice([1, 1, 2, 2, 3, 4]), length - len(tags))
        typ = random.choice(types)
        tags.extend(span_tags(scheme, typ, n, prev_type))
        prev_type = typ
    return tags[:length]


def corrupt(tags, prefixes, types, rate):
    out = list(tags)
    for i in range(len(out)):
        r = random.random()
        if r < rate:
            out[i] = random_tag(prefixes, types)  # any tag: I- without B-, E- alone ...
        elif r < rate * 1.6 and out[i] != "O":
            # type change inside a span
            out[i] = out[i][:2] + random.choice(types)
    return out


def predict(true, scheme, prefixes, types):
    pred = list(true)
    mode = random.random()
    if mode < 0.15:
        return pred  # perfect
    if mode < 0.25:
        return well_formed(scheme, len(true), types)  # unrelated
    pred = corrupt(pred, prefixes, types, random.choice([0.05, 0.15, 0.3]))
    # shift a boundary now and then
    if len(pred) > 2 and random.random() < 0.3:
        i = random.randrange(len(pred) - 1)
        pred[i], pred[i + 1] = pred[i + 1], pred[i]
    return pred


WILD = ["O", "B", "I", "E", "S", "U", "L", ".", "B-", "I-", "-", "B--PER", "B-PER-",
        "X-PER", "B-PER-X", "PER", "b-per", "É-LOC", "I-É", "B-LOC", "I-LOC", "E-LOC",
        "S-LOC", "U-PER", "L-PER", "B-PER", "I-PER", "B-_", "I-_", "O-PER", "BLOC", "ILOC"]


def wild_seq(length):
    return [random.choice(WILD) for _ in range(length)]


def report(t, p, **kw):
    from seqeval.metrics import classification_report
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            d = classification_report(t, p, output_dict=True, **kw)
    except Exception as e:  # seqeval refuses the input: record that (the class
        # only: some messages print a set, whose order changes from run to run)
        return {"error": type(e).__name__}

    def row(v):
        f = [float(v["precision"]), float(v["recall"]), float(v["f1-score"])]
        return [None if math.isnan(x) else x for x in f] + [int(v["support"])]

    avgs = ("micro avg", "macro avg", "weighted avg")
    return {
        "types": [[k] + row(v) for k, v in d.items() if k not in avgs],
        "micro": row(d["micro avg"]),
        "macro": row(d["macro avg"]),
        "weighted": row(d["weighted avg"]),
    }


def text_report(t, p, **kw):
    from seqeval.metrics import classification_report
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return classification_report(t, p, digits=4, **kw)


def to_suffix(seqs):
    """B-PER -> PER-B: the part after the first "-" moved before it."""
    out = []
    for s in seqs:
        row = []
        for tag in s:
            if "-" in tag:
                a, b = tag.split("-", 1)
                tag = b + "-" + a
            row.append(tag)
        out.append(row)
    return out


def evaluate(case, scheme_name, text):
    from seqeval import scheme as sch
    from seqeval.metrics import accuracy_score
    t, p = case["true"], case["pred"]
    res = {}
    for zd in ("warn", 1):
        key = "zd1" if zd == 1 else "warn"
        r = {"default": report(t, p, zero_division=zd)}
        if scheme_name:
            r["strict"] = report(t, p, mode="strict", scheme=getattr(sch, scheme_name),
                                 zero_division=zd)
        r["strict_auto"] = report(t, p, mode="strict", zero_division=zd)
        res[key] = r
    # suffix style ("PER-B"): the same sequences with prefix and type swapped
    ts, ps = to_suffix(t), to_suffix(p)
    r = {"default": report(ts, ps, suffix=True)}
    if scheme_name:
        r["strict"] = report(ts, ps, mode="strict", scheme=getattr(sch, scheme_name), suffix=True)
    r["strict_auto"] = report(ts, ps, mode="strict", suffix=True)
    res["suffix"] = r
    try:
        res["accuracy"] = accuracy_score(t, p)
    except ZeroDivisionError:
        res["accuracy"] = None
    if text:
        res["text"] = text_report(t, p)
        if scheme_name and "error" not in res["warn"]["strict"]:
            res["text_strict"] = text_report(t, p, mode="strict", scheme=getattr(sch, scheme_name))
    case.update(res)
    return case


def make_cases():
    random.seed(15)
    cases = []
    pairs = {}
    for scheme in SCHEMES:
        prefixes = PREFIXES[scheme]
        pairs[scheme] = 0
        for c in range(60):
            types = random.sample(TYPES, random.choice([1, 2, 3, 5]))
            n = random.randint(1, 40)
            true, pred = [], []
            for _ in range(n):
                length = random.choice([0, 1, 2, 3, 5, 8, 12, 15, 20])
                t = well_formed(scheme, length, types)
                if random.random() < 0.5:
                    t = corrupt(t, prefixes, types, 0.1)
                true.append(t)
                pred.append(predict(t, scheme, prefixes, types))
            pairs[scheme] += n
            cases.append(evaluate({"scheme": scheme, "true": true, "pred": pred}, scheme, c < 3))
    for c in range(40):
        n = random.randint(1, 30)
        true = [wild_seq(random.randint(0, 12)) for _ in range(n)]
        pred = [predict(t, "IOB2", "IOB", ["PER", "LOC"]) if random.random() < 0.5
                else wild_seq(len(t)) for t in true]
        pairs["wild"] = pairs.get("wild", 0) + n
        # strict mode with a named scheme too: mostly refused (prefixes the
        # scheme does not allow, or no prefix letter at all)
        scheme = SCHEMES[c % len(SCHEMES)]
        cases.append(evaluate({"scheme": scheme, "true": true, "pred": pred}, scheme, c < 2))
    edge = [
        ([["O", "O"], ["O"]], [["O", "O"], ["O"]]),             # no entities anywhere
        ([["O", "O"], []], [["B-PER", "O"], []]),                # only predicted entities
        ([["B-PER", "I-PER"], []], [["O", "O"], []]),            # only true entities
        ([[], []], [[], []]),                                    # empty sentences
        ([], []),                                                # no sentences
        ([["B-PER"]], [["B-PER", "O"]]),                         # inconsistent lengths
        ([["I-PER", "I-PER", "B-PER"]], [["I-PER", "B-PER", "I-PER"]]),
        ([["B-PER", "I-LOC", "E-LOC"]], [["B-PER", "I-PER", "E-LOC"]]),
    ]
    for t, p in edge:
        cases.append(evaluate({"scheme": "", "true": t, "pred": p}, "", False))
        cases.append(evaluate({"scheme": "IOB2", "true": t, "pred": p}, "IOB2", False))
    return cases, pairs


def count_data(root):
    """Sentence and token counts of the real files, independent of the Go readers."""
    def conll(path):
        sents = toks = 0
        cur = 0
        tags = set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip() == "":
                    if cur:
                        sents += 1
                        cur = 0
                    continue
                if line.split("\t")[0] == "-DOCSTART-":
                    continue
                cur += 1
                toks += 1
                tags.add(line.rstrip("\r\n").split("\t")[-1])
        if cur:
            sents += 1
        return sents, toks, f"{len(tags)} tags"

    def conllu(path):
        sents = words = 0
        cur = 0
        upos, xpos = set(), set()
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.rstrip("\n")
                if line.strip() == "":
                    if cur:
                        sents += 1
                        cur = 0
                    continue
                if line.startswith("#"):
                    continue
                idx = line.split("\t")[0]
                if "-" in idx or "." in idx:
                    continue
                cur += 1
                words += 1
                f = line.split("\t")
                upos.add(f[3])
                xpos.add(f[4])
        if cur:
            sents += 1
        return sents, words, f"{len(upos)} UPOS, {len(xpos)} XPOS"

    for rel, fn in (("wnut17/train.conll", conll), ("wnut17/dev.conll", conll),
                    ("ud-ewt/train.conllu", conllu), ("ud-ewt/dev.conllu", conllu)):
        path = os.path.join(root, rel)
        if not os.path.exists(path):
            print(f"{rel}: absent")
            continue
        s, t, tags = fn(path)
        print(f"{rel}: {s} sentences, {t} tokens, {tags}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--count-data", metavar="DIR", nargs="?",
                    const=os.environ.get("FT_DATA") or os.path.join(ROOT, "..", "shared", "data"))
    args = ap.parse_args()
    if args.count_data:
        count_data(args.count_data)
        return
    import seqeval
    cases, pairs = make_cases()
    doc = {"seqeval": "1.2.2", "generator": "testmodels/seqeval_oracle.py", "pairs": pairs,
           "cases": cases}
    data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
    tmp = args.out + ".tmp"
    with open(tmp, "wb") as f:
        f.write(gzip.compress(data, compresslevel=9, mtime=0))
    os.replace(tmp, args.out)
    print(f"{args.out}: {len(cases)} cases, sentence pairs {pairs}, "
          f"{len(data)} bytes json, {os.path.getsize(args.out)} gzipped", file=sys.stderr)


if __name__ == "__main__":
    main()
