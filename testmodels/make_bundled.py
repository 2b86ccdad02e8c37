#!/usr/bin/env python3
"""Make the small bundled model and data that `ft run` uses with no arguments.

- internal/bundled/tiny-bert/: a tiny BERT text classifier (2 layers, hidden 64,
  random weights — not pretrained) with a WordPiece vocabulary of 2,000 tokens
  trained with `tokenizers` on SST-2's training phrases, exported with
  optimum-onnx (task text-classification, labels negative/positive), with its
  tokenizer.json and tokenizer_config.json: a complete Hugging Face export folder.
- internal/bundled/sst2-sample/: the first 4,000 rows of sst2/train.tsv and the
  whole sst2/test.tsv (872 rows), as TSV with a header (SST-2 via the ALPS
  repository, MIT licence; see LICENSE.alps there).

Usage (repository root, venv of testmodels/requirements.txt):
    HF_HUB_OFFLINE=1 python testmodels/make_bundled.py [--data ../shared/data]
"""
import argparse
import os
import shutil
import tempfile

import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers, decoders
from transformers import BertConfig, BertForSequenceClassification, PreTrainedTokenizerFast


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join("..", "shared", "data"))
    ap.add_argument("--out", default=os.path.join("internal", "bundled"))
    ap.add_argument("--train-rows", type=int, default=4000)
    a = ap.parse_args()

    sample = os.path.join(a.out, "sst2-sample")
    os.makedirs(sample, exist_ok=True)
    with open(os.path.join(a.data, "sst2", "train.tsv"), encoding="utf-8") as f:
        lines = f.readlines()
    with open(os.path.join(sample, "train.tsv"), "w", encoding="utf-8") as f:
        f.writelines(lines[: 1 + a.train_rows])
    shutil.copy(os.path.join(a.data, "sst2", "test.tsv"), os.path.join(sample, "test.tsv"))
    shutil.copy(os.path.join(a.data, "LICENSE.alps"), os.path.join(sample, "LICENSE.alps"))

    # WordPiece, uncased BERT pipeline, trained on all SST-2 training phrases.
    texts = [l.split("\t")[0] for l in lines[1:]]
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tok.train_from_iterator(texts, trainers.WordPieceTrainer(vocab_size=2000, special_tokens=specials))
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1", special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    tok.decoder = decoders.WordPiece()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]", model_max_length=128)

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=tok.get_vocab_size(), hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=128, max_position_embeddings=128, num_labels=2,
                     id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
    model = BertForSequenceClassification(cfg).eval()
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        fast.save_pretrained(tmp)
        from optimum.exporters.onnx import main_export
        dst = os.path.join(a.out, "tiny-bert")
        if os.path.exists(dst):
            shutil.rmtree(dst)
        main_export(tmp, output=dst, task="text-classification", library_name="transformers")
    for f in ("vocab.txt", "special_tokens_map.json"):
        p = os.path.join(a.out, "tiny-bert", f)
        if os.path.exists(p):
            os.remove(p)
    print("wrote", a.out)


if __name__ == "__main__":
    main()
