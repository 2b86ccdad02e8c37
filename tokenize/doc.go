// Package tokenize turns text into a model's inputs — input_ids,
// attention_mask, token_type_ids — exactly as Hugging Face `tokenizers`
// does with the same tokenizer.json. TokenNames reads its vocabulary back to
// show tokens as text (ByteLevelDecode undoes the byte-level alphabet).
//
//	tok, err := tokenize.Load("out/")            // tokenizer.json (+ tokenizer_config.json)
//	enc, err := tok.EncodeBatch(texts, pairs, tokenize.Options{MaxLength: 128})
//	inputs, err := enc.Tensors("input_ids", "attention_mask") // what the model declares
//
// # Offsets, words and sequences
//
// Besides the ids, an Encoding gives for every token its word (WordIDs, HF's
// word_ids), its sequence (SequenceIDs: 0, 1 for the pair, -1 for special
// and pad tokens) and, with Options.ReturnOffsets, the part of the input it
// stands for (Offsets, HF's offset mapping). Offsets are byte offsets into
// the UTF-8 text (HF's Python API counts code points; the two describe the
// same characters). They follow HF through every normalizer — a character
// that NFKC, lower-casing or a Replace turned into others keeps pointing at
// the characters it came from — and through the byte-level trimming of
// RobertaProcessing and ByteLevel (trim_offsets).
//
// EncodeWords takes text already split into words (HF's
// is_split_into_words): each word is encoded on its own, WordIDs give the
// input word of each token, and offsets are relative to the word. This is
// what token classification needs to put a word's label on its first
// sub-token. For RoBERTa-style tokenizers transformers requires
// add_prefix_space=True there: WithAddPrefixSpace(true) does the same.
//
// # What is supported
//
// The pipelines of the BERT (WordPiece), RoBERTa/GPT-2/ModernBERT
// (byte-level BPE), Qwen2.5/Llama 3 (Split regex + byte-level BPE),
// Llama-2/Gemma/Phi-3 (SentencePiece BPE with byte fallback) and
// XLM-R/ALBERT/DeBERTa-v3 (Unigram with Metaspace) families:
//
//   - models: WordPiece, BPE (byte fallback, unk fusing, ignore_merges),
//     Unigram (byte fallback), WordLevel;
//   - normalizers: BertNormalizer, Lowercase, StripAccents, NFD, NFKD, NFC,
//     NFKC, Nmt, Precompiled (SentencePiece charsmaps), Strip, Prepend,
//     Replace (literal or regex), Sequence;
//   - pre-tokenizers: BertPreTokenizer, ByteLevel, Metaspace, Whitespace,
//     WhitespaceSplit, Punctuation, Digits, CharDelimiterSplit,
//     UnicodeScripts, Split (a string or any regex, every behavior,
//     invert), Sequence;
//   - post-processors: TemplateProcessing, BertProcessing,
//     RobertaProcessing, ByteLevel, Sequence;
//   - decoders (Decode): ByteLevel, Metaspace, WordPiece (with cleanup),
//     BPEDecoder, ByteFallback, Fuse, Strip, Replace, Sequence;
//   - added tokens (special or not) with single_word, lstrip, rstrip and
//     normalized, found before the model sees the text.
//
// Regexes (Split, Replace) have Oniguruma's meaning, as in `tokenizers`:
// Unicode \s, \w and \d, look-around, atomic groups and possessive
// quantifiers (the patterns of GPT-4's cl100k and o200k, Llama 3, Qwen2,
// Tekken and DeepSeek). Patterns RE2 can express run on Go's regexp, and so
// do those whose only look-ahead is the final `\s+(?!\S)|\s+` of the
// GPT-4-style patterns (rewritten: about twice as fast); the others run on
// github.com/dlclark/regexp2, a backtracking engine.
//
// Anything else (an unknown model type, a regex construct neither engine
// has, such as \R or nested character classes, ...) makes Load return an
// error naming it, as do ids HF cannot hold (negative or over 2^32-1:
// vocabulary, added tokens, post-processor ids and type ids). An unknown
// decoder does not stop Load; Decode returns the error.
//
// Decode(ids, skipSpecial) equals HF's Tokenizer.decode(ids,
// skip_special_tokens): added tokens by id first, then the vocabulary, ids
// of neither dropped, bytes that are not UTF-8 turned into U+FFFD as Rust's
// from_utf8_lossy does. UnicodeScripts uses HF's Unicode 9.0 script table:
// characters assigned later belong to every script.
//
// # Options
//
// Options follow transformers' tokenizer(...) arguments. The zero value
// truncates longest_first to the model's max length and pads to the longest
// row, so that the rows make rectangular tensors. MaxLength 0 means
// model_max_length from tokenizer_config.json. Truncation is
// longest_first, only_first, only_second or do_not_truncate; Padding is
// longest, max_length or do_not_pad, with PadToMultipleOf and a side. The
// truncation and padding presets stored in tokenizer.json are not applied:
// Options decide (the pad token comes from tokenizer_config.json,
// special_tokens_map.json, or the padding preset, in that order).
//
// tokenizer_config.json also supplies do_lower_case, strip_accents and
// tokenize_chinese_chars for the BERT family, which transformers applies
// over the BertNormalizer of tokenizer.json.
//
// # Parity
//
// The goldens under testmodels/tokenizers, made by `tokenizers` 0.22.2
// (make_goldens.py), are matched exactly: every SST-2 test sentence, 2,000
// AG News texts, pairs built from them and a list of hard cases, for the real
// all-MiniLM-L6-v2 tokenizer and for RoBERTa-, XLM-R-, ALBERT- and BERT-cased-
// style tokenizers trained on SST-2, with and without truncation and padding,
// and for an XLM-R tokenizer converted by transformers from a SentencePiece
// model (Precompiled normalizer). Offsets, word ids and sequence ids are
// matched on all of them too, and on 670 pre-split inputs (WNUT-17 and
// UD-EWT dev sentences, hard words, empty words, pairs), also for RoBERTa
// with add_prefix_space, and for more pipelines: Llama-2's
// (Prepend/Replace, byte-fallback BPE), a Unigram with Metaspace
// prepend_scheme "first", GPT-2's (ByteLevel post-processor), and those of
// Qwen2.5, Llama 3.x, Gemma, Phi-3, ModernBERT and DeBERTa-v3
// (make_llm_goldens.py: 5,254 texts and pairs each, with emoji sequences,
// combining marks, CJK, right-to-left scripts, controls, unusual spaces and
// the empty string). The Split pieces of the Qwen2, Llama 3, cl100k, o200k,
// Tekken and DeepSeek regexes and of UnicodeScripts are matched on every
// single text, and Decode's output on every fixture, with and without
// special tokens, also on random ids.
//
// github.com/sugarme/tokenizer supplies the WordPiece model and the
// byte-level alphabet, which it has right. The rest is ours, because sugarme
// differs from Hugging Face there (TestSugarmeDifferences has a case each):
// strip_accents null does not follow lowercase; whitespace is ASCII-only in
// the BERT normalizer and pre-tokenizer; longest_first over-truncates pairs;
// the byte-level split lacks `\s+(?!\S)`; a Replace with a regex is ignored;
// Unigram skips pieces over 20 bytes, adds a length bonus and skips Viterbi
// with byte_fallback; BPE breaks ties between equal merges arbitrarily; its
// Precompiled normalizer stops after the first rewritten grapheme; and
// errors end the process with log.Fatal. Two subtler points matter too:
// `tokenizers` reads Unigram scores with serde_json's double-rounding float
// parser (serdeFloat does the same, or ties between segmentations flip), and
// Rust lower-cases U+0130 to two characters.
//
// Deliberate differences: a MaxLength smaller than the special tokens is an
// error (HF wraps around in unsigned arithmetic and does not truncate);
// invalid UTF-8 is an error (Python cannot even pass it); overflowing tokens
// are not kept.
//
// # Concurrency
//
// A Tokenizer is immutable after Load and safe for concurrent use.
// EncodeBatch spreads the rows of one call over GOMAXPROCS goroutines; rows
// are independent, so results do not depend on scheduling.
package tokenize
