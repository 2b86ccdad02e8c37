#!/usr/bin/env python3
"""Sentence-embedding training oracle: sentence-transformers' losses through a
real encoder, for finetune's SentenceEncoder / EmbeddingLoss.

The encoder is the bert-fe fixture (BertModel, rebuilt with make_fixtures'
seeded build_hf("bert").bert and checked against the fixture's ONNX Runtime
golden), wrapped as the first module of a SentenceTransformer followed by ST's
Pooling (and Normalize in one case). Batches are token ids (the fixture has
no tokenizer): rows of cls ... sep, each column padded to its longest row as
ST's tokenizer does. Everything runs in float32 as ST trains, with dropout
off (eval mode: the ONNX export has none), single-threaded with
ATEN_CPU_CAPABILITY=default.

Writes testmodels/fixtures/embed-train/oracle.json:
  cases   per loss (MultipleNegativesRankingLoss on anchor/positive/negative,
          the same with CLS pooling + Normalize, CoSENTLoss,
          CosineSimilarityLoss and ContrastiveLoss on scored pairs,
          TripletLoss, MatryoshkaLoss(MNRL, [32, 16, 8]),
          CachedMultipleNegativesRankingLoss(mini_batch_size=3), CoSENTLoss
          through a Dense(32 -> 16, Tanh) module and Normalize): the
          columns' token ids, labels, ST's loss on one batch of 8 rows and
          the gradients of a selection of parameters (every parameter of at
          most 64 values and two weight matrices, by torch name, in torch's
          [out, in] layout) plus the norm of the whole gradient
  train   20 AdamW steps (lr 1e-3, weight decay 0.01 with the Hugging Face
          Trainer's no-decay groups, linear schedule with 2 warmup steps,
          clip_grad_norm_ 1.0) of CoSENTLoss on 16 scored pairs and of
          MultipleNegativesRankingLoss on 16 pairs, batches of 4 in file
          order: the loss of every step

testmodels/fixtures/embed-train/dense/ (that Dense module as ST saves it:
config.json, model.safetensors), and testmodels/fixtures/embed-train/tokenizer/ (tokenizer.json,
tokenizer_config.json): a lower-casing WordPiece tokenizer of 256 entries
(the fixture's vocabulary size: specials, letters, digits, common English
words) so that ft's sentence-transformers export of bert-fe loads in ST
(finetune's TestSentenceTransformerExport with testmodels/check_st_export.py).

    $FT_PYTHON testmodels/embed_train_oracle.py      # from the repository root
"""

import os

os.environ["ATEN_CPU_CAPABILITY"] = "default"
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import json
import re
import sys
import warnings

import numpy as np
import onnx
import torch
import transformers
from onnx import numpy_helper
from torch import nn

from sentence_transformers import SentenceTransformer, losses
from sentence_transformers.models import Dense, Normalize, Pooling
from sentence_transformers.util import pairwise_euclidean_sim

torch.set_num_threads(1)
warnings.filterwarnings("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import make_fixtures  # noqa: E402

FIXTURE = os.path.join(HERE, "fixtures", "bert-fe")
OUT = os.path.join(HERE, "fixtures", "embed-train")
CLS, SEP, PAD = 2, 3, 0

# optim.NoDecay (optim/optim.go), as train_oracle.py
NO_DECAY = [re.compile(p) for p in (
    r"bias", r"layernorm", r"layer_norm", r"rmsnorm", r"(?:^|\.)norm(?:$|\.)", r"_norm(?:$|\.)",
    r"(?:^|\.)ln(?:_[a-z0-9]+)?(?:$|\.)")]


def no_decay(name):
    n = name.lower()
    return any(p.search(n) for p in NO_DECAY)


class Encoder(nn.Module):
    """ST's Transformer module's job: token_embeddings from the BertModel."""

    def __init__(self, bert):
        super().__init__()
        self.bert = bert

    def forward(self, features):
        out = self.bert(input_ids=features["input_ids"], attention_mask=features["attention_mask"],
                        token_type_ids=features["token_type_ids"])
        features["token_embeddings"] = out.last_hidden_state
        return features


def make_dense():
    """Dense(32 -> 16, Tanh) with seeded weights, saved as ST saves it."""
    torch.manual_seed(1602)
    d = Dense(32, 16)
    with torch.no_grad():
        d.linear.weight.normal_(0, 0.3)
        d.linear.bias.normal_(0, 0.1)
    os.makedirs(os.path.join(OUT, "dense"), exist_ok=True)
    d.save(os.path.join(OUT, "dense"))
    return d


def build(pooling="mean", normalize=False, dense=False):
    bert = make_fixtures.build_hf("bert").bert
    bert.eval()
    check_golden(bert)
    mods = [Encoder(bert), Pooling(32, pooling_mode=pooling)]
    if dense:
        mods.append(Dense.load(os.path.join(OUT, "dense")))
    if normalize:
        mods.append(Normalize())
    model = SentenceTransformer(modules=mods, device="cpu")
    model.eval()
    return model


def check_golden(bert):
    d = os.path.join(FIXTURE, "test_data_set_0")
    m = onnx.load(os.path.join(FIXTURE, "model.onnx"))
    feed = {i.name: numpy_helper.to_array(onnx.load_tensor(os.path.join(d, f"input_{j}.pb")))
            for j, i in enumerate(m.graph.input)}
    want = numpy_helper.to_array(onnx.load_tensor(os.path.join(d, "output_0.pb")))
    with torch.no_grad():
        got = bert(**{k: torch.from_numpy(v) for k, v in feed.items()}).last_hidden_state.numpy()
    diff = float(np.max(np.abs(got - want)))
    if diff > 1e-5:
        raise RuntimeError(f"bert-fe: torch differs from the ONNX golden by {diff}")


def texts(rng, n):
    """n rows of token ids: cls, 1..8 random ids, sep."""
    out = []
    for _ in range(n):
        k = int(rng.integers(1, 9))
        out.append([CLS] + [int(x) for x in rng.integers(5, 256, size=k)] + [SEP])
    return out


def features(rows):
    """One column as ST's tokenizer gives it: padded to the longest row."""
    s = max(len(r) for r in rows)
    ids = np.full((len(rows), s), PAD, dtype=np.int64)
    mask = np.zeros((len(rows), s), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = r
        mask[i, :len(r)] = 1
    return {"input_ids": torch.from_numpy(ids), "attention_mask": torch.from_numpy(mask),
            "token_type_ids": torch.zeros_like(torch.from_numpy(ids))}


SELECT = ["encoder.layer.1.attention.self.query.weight", "encoder.layer.0.output.dense.weight"]


def grads_of(model):
    bert = model[0].bert
    out, sq = {}, 0.0
    for name, p in bert.named_parameters():
        g = p.grad
        if g is None:  # the pooler: not part of the feature-extraction export
            continue
        sq += float((g.double() ** 2).sum())
        if p.numel() <= 64 or name in SELECT:
            out[name] = [float(x) for x in g.detach().reshape(-1)]
    return out, sq ** 0.5


def neg_euclidean(x, y):
    return -pairwise_euclidean_sim(x, y)


LOSSES = {
    "MultipleNegativesRankingLoss": lambda m: losses.MultipleNegativesRankingLoss(m),
    "CoSENTLoss": lambda m: losses.CoSENTLoss(m),
    "CosineSimilarityLoss": lambda m: losses.CosineSimilarityLoss(m),
    "ContrastiveLoss": lambda m: losses.ContrastiveLoss(m),
    "TripletLoss": lambda m: losses.TripletLoss(m, distance_metric=neg_euclidean),
    "MatryoshkaLoss": lambda m: losses.MatryoshkaLoss(m, losses.MultipleNegativesRankingLoss(m), [32, 16, 8]),
    "CachedMultipleNegativesRankingLoss": lambda m: losses.CachedMultipleNegativesRankingLoss(m, mini_batch_size=3),
}


def case(name, loss, cols, labels=None, pooling="mean", normalize=False, dense=False):
    model = build(pooling, normalize, dense)
    lf = LOSSES[loss](model)
    feats = [features(c) for c in cols]
    lab = None if labels is None else torch.tensor(labels, dtype=torch.float32)
    value = lf(feats, lab)
    value.backward()
    g, norm = grads_of(model)
    print(f"  {name}: loss {value.item():.6f}, |grad| {norm:.6g}")
    return {"name": name, "loss_name": loss, "pooling": pooling, "normalize": normalize, "dense": dense, "columns": cols,
            "labels": labels, "loss": float(value.item()), "grads": g, "grad_norm": norm}


def train(name, loss, cols, labels=None, steps=20, bs=4, lr=1e-3, wd=0.01, warmup=2, max_norm=1.0):
    model = build()
    lf = LOSSES[loss](model)
    params = list(model[0].bert.named_parameters())
    groups = [{"params": [p for n, p in params if not no_decay(n)], "weight_decay": wd},
              {"params": [p for n, p in params if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=wd)
    sched = transformers.get_linear_schedule_with_warmup(opt, num_warmup_steps=warmup, num_training_steps=steps)
    n = len(cols[0])
    per = [(lo, min(lo + bs, n)) for lo in range(0, n, bs)]
    out = []
    for s in range(steps):
        lo, hi = per[s % len(per)]
        feats = [features(c[lo:hi]) for c in cols]
        lab = None if labels is None else torch.tensor(labels[lo:hi], dtype=torch.float32)
        value = lf(feats, lab)
        value.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        opt.step()
        sched.step()
        opt.zero_grad()
        out.append(float(value.item()))
    print(f"  train {name}: loss {out[0]:.6f} -> {out[-1]:.6f}")
    return {"name": name, "loss_name": loss, "columns": cols, "labels": labels, "steps": steps, "batch_size": bs,
            "lr": lr, "weight_decay": wd, "warmup_steps": warmup, "max_grad_norm": max_norm, "losses": out}


WORDS = ("the a an and of to in is on with for at by from as that this it are was be he she they we you "
         "i his her their our dog cat man woman boy girl people two three one playing running sitting "
         "standing walking riding eating water grass snow beach street table car bike horse ball red blue "
         "green white black small large young old group of are near down over under into front back").split()


def make_tokenizer(out):
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    for w in list("abcdefghijklmnopqrstuvwxyz0123456789.,!?'-") + WORDS:
        if w not in vocab:
            vocab.append(w)
    for c in "abcdefghijklmnopqrstuvwxyz":
        vocab.append("##" + c)
    vocab = vocab[:256]
    while len(vocab) < 256:
        vocab.append(f"[unused{len(vocab)}]")
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
                                                       special_tokens=[("[CLS]", CLS), ("[SEP]", SEP)])
    os.makedirs(out, exist_ok=True)
    tok.save(os.path.join(out, "tokenizer.json"))
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"tokenizer_class": "BertTokenizerFast", "do_lower_case": True, "model_max_length": 64,
                   "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                   "mask_token": "[MASK]"}, f, indent=1)
        f.write("\n")


def main():
    make_tokenizer(os.path.join(OUT, "tokenizer"))
    make_dense()
    rng = np.random.default_rng(20260116)
    B = 8
    a, p, n = texts(rng, B), texts(rng, B), texts(rng, B)
    s1, s2 = texts(rng, B), texts(rng, B)
    scores = [float(np.float32(x)) for x in rng.uniform(0, 1, size=B)]
    binary = [float(x) for x in rng.integers(0, 2, size=B)]
    cases = [
        case("mnrl", "MultipleNegativesRankingLoss", [a, p, n]),
        case("mnrl-cls-normalize", "MultipleNegativesRankingLoss", [a, p], pooling="cls", normalize=True),
        case("cosent", "CoSENTLoss", [s1, s2], scores),
        case("cosine", "CosineSimilarityLoss", [s1, s2], scores),
        case("contrastive", "ContrastiveLoss", [s1, s2], binary),
        case("triplet", "TripletLoss", [a, p, n]),
        case("matryoshka-mnrl", "MatryoshkaLoss", [a, p, n]),
        case("cached-mnrl", "CachedMultipleNegativesRankingLoss", [a, p, n]),
        case("cosent-dense-normalize", "CoSENTLoss", [s1, s2], scores, normalize=True, dense=True),
    ]
    t1, t2 = texts(rng, 16), texts(rng, 16)
    tscores = [float(np.float32(x)) for x in rng.uniform(0, 1, size=16)]
    runs = [train("cosent", "CoSENTLoss", [t1, t2], tscores),
            train("mnrl", "MultipleNegativesRankingLoss", [t1, t2])]
    os.makedirs(OUT, exist_ok=True)
    path = os.path.join(OUT, "oracle.json")
    with open(path, "w") as f:
        json.dump({"fixture": "bert-fe", "sentence_transformers": __import__("sentence_transformers").__version__,
                   "torch": torch.__version__, "cases": cases, "train": runs}, f, allow_nan=False)
        f.write("\n")
    print(f"  {os.path.relpath(path, HERE)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
