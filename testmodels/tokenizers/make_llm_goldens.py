#!/usr/bin/env python3
"""Oracle for ft/tokenize, part 2: the pipelines of today's models, the
regexes of their Split pre-tokenizers, and decoders.

Run by hand from the repository root after make_goldens.py (it reuses its
cases.jsonl.zst, words_cases.jsonl.zst and helpers):

    $FT_PYTHON testmodels/tokenizers/make_llm_goldens.py   # FT_DATA: the shared data folder

It writes, under testmodels/tokenizers/:

  <name>/tokenizer.json, tokenizer_config.json, align.jsonl.zst, words.jsonl.zst
      for the pipelines below (the real files are not in any installed package:
      each is rebuilt with tokenizers' API — the same normalizer, pre-tokenizer
      with the exact regex, model type, post-processor and decoder — and a small
      vocabulary is trained on SST-2). Records as in make_goldens.py.
  <name>/decode.jsonl.zst   for these (every case) and the earlier fixtures (single texts):
      {"case": i, "text": decode(ids, skip_special_tokens=True),
       "special": decode(ids, skip_special_tokens=False)} where ids are the "raw"
      align record of case i (with special tokens), and
      {"ids": [...], "text", "special"} for random id sequences (every id of the
      vocabulary and added tokens, out-of-vocabulary ids too).
  regex/<name>.jsonl.zst    Split(Regex(pattern), "isolated").pre_tokenize_str on every
      single text and on REGEX_EXTRA: {"text" or "case", "spans": [s, e, ...]} in bytes;
      first line {"pattern": ...}; unicode-scripts.jsonl.zst the same for UnicodeScripts
      (first line {"pre_tokenizer": ...}).

Existing tokenizer.json files are kept; --retrain trains them again;
--regex-only writes regex/ only, --decode-earlier the earlier fixtures'
decode goldens only.
"""

import json
import os
import random
import subprocess
import sys

from tokenizers import (AddedToken, Regex, Tokenizer, decoders, models,
                        normalizers, pre_tokenizers, processors, trainers)

import make_goldens as mg

HERE = mg.HERE

# The Split regexes, exactly as the models' tokenizer.json files hold them.
QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
CL100K = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
O200K = (r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"""
         r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|"""
         r"""\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
TEKKEN = (r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"""
          r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"""
          r"""\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
DEEPSEEK_CJK = "[一-龥\u3040-ゟ゠-ヿ]+"
DEEPSEEK = (r"""[!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~][A-Za-z]+|[^\r\n\p{L}\p{P}\p{S}]?[\p{L}\p{M}]+|"""
            r""" ?[\p{P}\p{S}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+""")
PATTERNS = {"qwen2": QWEN2, "llama3": LLAMA3, "cl100k": CL100K, "o200k": O200K,
            "tekken": TEKKEN, "deepseek": DEEPSEEK, "deepseek-cjk": DEEPSEEK_CJK,
            "digits3": r"\p{N}{1,3}"}

# Strings for the regexes besides the cases: case folding in (?i:...), runs of
# every kind of space before letters, line breaks, marks, numbers of scripts.
REGEX_EXTRA = [
    "it'S I'LL we'Re 'D 'M 'T 'VE", "ſ 'ſ 'ſt 'K 'K 'ǅ", "İ'İ ı'ı 'İs", "don’t we’ll",
    "a  b   c    d", "x \u00a0y", "a\u3000\u3000b", "a\u2028\u2028b", "end   ", "   ",
    " \n \n x", "\r\n\r\n  \r\n", "a\n\n\nb", "\t\tx", "x\t\t", "1234567 12 1 ١٢٣٤ ۱۲ ४५६७",
    "ⅫⅫⅫⅫ ①②③④", "e\u0301\u0301x \u0301\u0301", "क्षत्रिय", "ABCdef DEFghi ǅungla", "iPhone McDonald's",
    "a/b/c //x\n/", "中文字符かなカナｶﾅ한글", "👨\u200d👩\u200d👧 🇫🇷🇩🇪 👍🏽", "((()))...!!!",
    "#hashtag @user $100 &amp;", "\x00\x01\x1f\x7f\x85", "x\u200by\u200dz\ufeff", "'s's's", "''ll''",
    "\u00a0'\u00a0s", "a'\u00adb", "x" * 200 + " " * 50 + "y",
    "فارسی\u200cها اردو", "\u202eabc\u202c \u200fשלום\u200e ok", "1\ufe0f\u20e3 #\ufe0f\u20e3",
    "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F flag", "👩🏿\u200d🦱 🧑🏻\u200d🤝\u200d🧑🏾",
    "a\n^b$\nc", "x\u0085y\u2029z", "１２３ ٣٤ ",
]

SMALL = 1000


def bytelevel_bpe(corpus, pre, normalizer=None, specials=(), ignore_merges=False):
    tok = Tokenizer(models.BPE(ignore_merges=ignore_merges))
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre
    tok.train_from_iterator(corpus, trainers.BpeTrainer(
        vocab_size=SMALL, min_frequency=2, show_progress=False, special_tokens=list(specials),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    tok.decoder = decoders.ByteLevel()
    return tok


def save(tok, d, cfg):
    tok.save(os.path.join(d, "tokenizer.json"))
    mg.write_config(d, cfg)


def train_qwen25(corpus, d):
    """Qwen2.5: NFC, Split(QWEN2, isolated) + ByteLevel(no prefix space, no
    regex), BPE, ByteLevel post-processor (no trimming) and decoder;
    <|endoftext|>, <|im_start|>, <|im_end|> special, <tool_call> not."""
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)])
    tok = bytelevel_bpe(corpus, pre, normalizers.NFC(), ["<|endoftext|>", "<|im_start|>", "<|im_end|>"])
    tok.add_tokens([AddedToken("<tool_call>", special=False, normalized=False)])
    tok.post_processor = processors.ByteLevel(add_prefix_space=False, trim_offsets=False, use_regex=False)
    save(tok, d, {"tokenizer_class": "Qwen2Tokenizer", "model_max_length": 131072,
                  "eos_token": "<|im_end|>", "pad_token": "<|endoftext|>", "unk_token": None})


def train_llama3(corpus, d):
    """Llama 3.x: Split(LLAMA3, isolated) + ByteLevel(no regex), BPE with
    ignore_merges, ByteLevel + `<|begin_of_text|> $A` post-processors,
    ByteLevel decoder."""
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=False)])
    tok = bytelevel_bpe(corpus, pre, None, ["<|begin_of_text|>", "<|end_of_text|>", "<|eot_id|>"],
                        ignore_merges=True)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(add_prefix_space=True, trim_offsets=False, use_regex=True),
        processors.TemplateProcessing(single="<|begin_of_text|> $A",
                                      pair="<|begin_of_text|> $A <|begin_of_text|>:1 $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)])])
    save(tok, d, {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 131072,
                  "bos_token": "<|begin_of_text|>", "eos_token": "<|eot_id|>", "pad_token": "<|end_of_text|>"})


def sentencepiece_bpe(corpus, d, normalizer, specials, decoder, bos):
    tok = Tokenizer(models.BPE(unk_token="<unk>", fuse_unk=True, byte_fallback=True))
    tok.normalizer = normalizer
    tok.train_from_iterator([s.replace(" ", "▁") for s in corpus], trainers.BpeTrainer(
        vocab_size=SMALL, min_frequency=2, show_progress=False, special_tokens=specials))
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A {bos}:1 $B:1", special_tokens=[(bos, tok.token_to_id(bos))])
    tok.decoder = decoder
    path = os.path.join(d, "tokenizer.json")
    tok.save(path)
    return Tokenizer.from_str(json.dumps(mg.byte_pieces(path)))


def train_gemma(corpus, d):
    """Gemma: Replace(" ", "▁") normalizer, no pre-tokenizer, BPE with byte
    fallback, `<bos> $A`, decoder Replace(▁→space) + ByteFallback + Fuse."""
    dec = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse()])
    tok = sentencepiece_bpe(corpus, d, normalizers.Replace(" ", "▁"), ["<pad>", "<eos>", "<bos>", "<unk>"],
                            dec, "<bos>")
    tok.add_special_tokens(["<start_of_turn>", "<end_of_turn>"])
    save(tok, d, {"tokenizer_class": "GemmaTokenizer", "model_max_length": 8192,
                  "bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>", "unk_token": "<unk>"})


def train_phi3(corpus, d):
    """Phi-3 (Llama-2 conversion): Prepend("▁") + Replace(" ", "▁"), BPE with
    byte fallback and fuse_unk, `<s> $A`, decoder Replace + ByteFallback +
    Fuse + Strip(" ", 1, 0); <|user|>, <|end|> added (rstrip, as Phi-3's)."""
    dec = decoders.Sequence([decoders.Replace("▁", " "), decoders.ByteFallback(), decoders.Fuse(),
                             decoders.Strip(" ", 1, 0)])
    norm = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
    tok = sentencepiece_bpe(corpus, d, norm, ["<unk>", "<s>", "</s>"], dec, "<s>")
    tok.add_special_tokens([AddedToken("<|endoftext|>", special=True, normalized=False),
                            AddedToken("<|user|>", special=True, rstrip=True, normalized=False),
                            AddedToken("<|end|>", special=True, rstrip=True, normalized=False)])
    save(tok, d, {"tokenizer_class": "LlamaTokenizer", "model_max_length": 4096,
                  "bos_token": "<s>", "eos_token": "<|endoftext|>", "pad_token": "<|endoftext|>",
                  "unk_token": "<unk>"})


def train_modernbert(corpus, d):
    """ModernBERT (OLMo/GPT-NeoX style): NFC, ByteLevel(regex, trim
    offsets), BPE, `[CLS] $A [SEP]`, [MASK] lstrip, ByteLevel decoder."""
    pre = pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True)
    tok = bytelevel_bpe(corpus, pre, normalizers.NFC(), ["[UNK]", "[CLS]", "[SEP]", "[PAD]"])
    tok.add_special_tokens([AddedToken("[MASK]", lstrip=True, special=True, normalized=False)])
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))])
    save(tok, d, {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": 8192,
                  "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                  "mask_token": "[MASK]"})


def train_debertav3(corpus, d):
    """DeBERTa-v3 (transformers' DebertaV2Converter): Replace ``/'' → ",
    NFKC, Replace(" {2,}" → " "), Metaspace(always), Unigram,
    `[CLS] A [SEP] B:1 [SEP]:1`, Metaspace decoder."""
    tok = Tokenizer(models.Unigram())
    tok.normalizer = normalizers.Sequence([
        normalizers.Replace("``", '"'), normalizers.Replace("''", '"'), normalizers.NFKC(),
        normalizers.Replace(Regex(" {2,}"), " ")])
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    tok.train_from_iterator(corpus, trainers.UnigramTrainer(
        vocab_size=SMALL, show_progress=False, special_tokens=["[PAD]", "[CLS]", "[SEP]", "[UNK]"],
        unk_token="[UNK]"))
    tok.add_special_tokens(["[MASK]"])
    tok.post_processor = mg.cls_sep(tok)
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always", split=True)
    save(tok, d, {"tokenizer_class": "DebertaV2Tokenizer", "model_max_length": 512,
                  "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
                  "mask_token": "[MASK]"})


PIPELINES = (("qwen25-bpe", train_qwen25), ("llama3-bpe", train_llama3), ("gemma-bpe", train_gemma),
             ("phi3-bpe", train_phi3), ("modernbert-bpe", train_modernbert),
             ("debertav3-unigram", train_debertav3))
# Earlier fixtures that get decode goldens too (their decoders: WordPiece,
# ByteLevel, Metaspace, none).
EARLIER = ("minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "albert-unigram",
           "unigram-edge", "xlmr-spm", "llama-bpe", "metaspace-first", "gpt2-bpe",
           "wordlevel-whitespace", "split-bpe", "split-wordlevel")


def read_zst(path):
    data = subprocess.run(["zstd", "-dc", path], check=True, capture_output=True).stdout
    return [json.loads(line) for line in data.decode("utf-8").split("\n") if line]


def decode_goldens(d, cases, singles=False):
    tok, _ = mg.load_for_oracle(d)
    recs = []
    for i, c in enumerate(cases):
        if c.get("error") or (singles and c["b"] is not None):
            continue
        ids = mg.encode_one(tok, c).ids
        recs.append({"case": i, "text": tok.decode(ids, skip_special_tokens=True),
                     "special": tok.decode(ids, skip_special_tokens=False)})
    rng = random.Random(17)
    n = tok.get_vocab_size(with_added_tokens=True)
    for k in range(500):
        ids = [rng.randrange(n + 3) for _ in range(rng.randrange(1, 12))]
        if k % 5 == 0:  # runs of adjacent ids (byte pieces stay together)
            s = rng.randrange(n)
            ids = list(range(s, min(n + 2, s + rng.randrange(1, 8))))
        recs.append({"ids": ids, "text": tok.decode(ids, skip_special_tokens=True),
                     "special": tok.decode(ids, skip_special_tokens=False)})
    mg.write_zst(os.path.join(d, "decode.jsonl.zst"), recs)
    return len(recs)


def regex_goldens(cases):
    d = os.path.join(HERE, "regex")
    os.makedirs(d, exist_ok=True)
    singles = [(i, c["a"]) for i, c in enumerate(cases) if not c.get("error") and c["b"] is None]
    out = {}
    pres = [(name, pre_tokenizers.Split(Regex(pat), behavior="isolated", invert=False), {"pattern": pat})
            for name, pat in PATTERNS.items()]
    pres.append(("unicode-scripts", pre_tokenizers.UnicodeScripts(), {"pre_tokenizer": {"type": "UnicodeScripts"}}))
    for name, pre, head in pres:
        recs = [head]

        def spans(text):
            r = []
            for _, (s, e) in pre.pre_tokenize_str(text):
                r += [mg.byte_offset(text, s), mg.byte_offset(text, e)]
            return r
        for i, text in singles:
            recs.append({"case": i, "spans": spans(text)})
        for text in REGEX_EXTRA:
            recs.append({"text": text, "spans": spans(text)})
        mg.write_zst(os.path.join(d, name + ".jsonl.zst"), recs)
        out["regex/" + name] = len(recs) - 1
    return out


def main():
    retrain = "--retrain" in sys.argv[1:]
    cases = read_zst(os.path.join(HERE, "cases.jsonl.zst"))
    word_cases = read_zst(os.path.join(HERE, "words_cases.jsonl.zst"))
    corpus = mg.training_corpus()[::20]
    if "--decode-earlier" in sys.argv[1:]:
        for name in EARLIER:
            print(name, decode_goldens(os.path.join(HERE, name), cases, singles=True), file=sys.stderr)
        return
    names = regex_goldens(cases)
    if "--regex-only" in sys.argv[1:]:
        print(json.dumps(names), file=sys.stderr)
        return
    for name, fn in PIPELINES:
        d = os.path.join(HERE, name)
        os.makedirs(d, exist_ok=True)
        if retrain or not os.path.exists(os.path.join(d, "tokenizer.json")):
            fn(corpus, d)
        names[name + "/align"] = mg.align_goldens(d, cases)
        names[name + "/words"] = mg.word_goldens(d, word_cases)
        names[name + "/decode"] = decode_goldens(d, cases)
        print(f"{name}: done", file=sys.stderr)
    for name in EARLIER:
        names[name + "/decode"] = decode_goldens(os.path.join(HERE, name), cases, singles=True)
    print(json.dumps(names), file=sys.stderr)


if __name__ == "__main__":
    main()
