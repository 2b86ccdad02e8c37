package tokenize

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzEncode feeds arbitrary bytes to every fixture: an error for invalid
// UTF-8, never a panic. `go test` runs the seeds; `go test -fuzz
// FuzzEncode ./tokenize/` explores further.
func FuzzEncode(f *testing.F) {
	for _, c := range loadCases(f) {
		if len(c.A) < 300 && c.B == nil {
			f.Add(c.A, "", uint8(0))
		}
	}
	f.Add("a <mask> b [MASK]", "x\xffy", uint8(9))
	names := []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "albert-unigram", "unigram-edge", "xlmr-spm",
		"qwen25-bpe", "llama3-bpe", "gemma-bpe", "phi3-bpe", "modernbert-bpe", "debertav3-unigram"}
	toks := make([]*Tokenizer, len(names))
	for i, n := range names {
		toks[i] = loadFixture(f, n)
	}
	f.Fuzz(func(t *testing.T, a, b string, max uint8) {
		var pairs []string
		if b != "" {
			pairs = []string{b}
		}
		for i, tok := range toks {
			_, err := tok.EncodeBatch([]string{a}, pairs, Options{MaxLength: int(max)%64 + 4})
			valid := utf8.ValidString(a) && utf8.ValidString(b)
			if !valid && err == nil {
				t.Errorf("%s: invalid UTF-8 accepted", names[i])
			}
			if valid && err != nil && pairs == nil {
				t.Errorf("%s: %q: %v", names[i], a, err)
			}
		}
	})
}

// FuzzDecode decodes arbitrary ids (two bytes each, some past the
// vocabulary) with every decode fixture: valid UTF-8, never a panic or an
// error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte{0, 1, 0, 2, 3, 232, 255, 255}, true)
	f.Add([]byte{0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8}, false)
	toks := make([]*Tokenizer, len(decodeFixtures))
	for i, n := range decodeFixtures {
		toks[i] = loadFixture(f, n)
	}
	f.Fuzz(func(t *testing.T, b []byte, skip bool) {
		ids := make([]int64, 0, len(b)/2)
		for i := 0; i+1 < len(b); i += 2 {
			ids = append(ids, int64(b[i])<<8|int64(b[i+1]))
		}
		for i, tok := range toks {
			s, err := tok.Decode(ids, skip)
			if err != nil || !utf8.ValidString(s) {
				t.Errorf("%s: Decode(%v) = %q, %v", decodeFixtures[i], ids, s, err)
			}
		}
	})
}

// shrunkFixture is a fixture's tokenizer.json with its vocabulary cut to a
// few dozen entries (merges that no longer apply dropped): the whole
// pipeline of a real tokenizer in a seed small enough to mutate.
func shrunkFixture(f *testing.F, name string) []byte {
	raw, err := os.ReadFile(filepath.Join(fixtures, name, "tokenizer.json"))
	if err != nil {
		f.Fatal(err)
	}
	var j map[string]any
	if err := json.Unmarshal(raw, &j); err != nil {
		f.Fatal(err)
	}
	const keep = 60
	m, _ := j["model"].(map[string]any)
	switch v := m["vocab"].(type) {
	case []any: // Unigram
		if len(v) > keep {
			m["vocab"] = v[:keep]
		}
	case map[string]any: // WordPiece, BPE
		for tok, id := range v {
			if n, _ := id.(float64); n >= keep && tok != m["unk_token"] {
				delete(v, tok)
			}
		}
		if merges, ok := m["merges"].([]any); ok {
			var kept []any
			for _, mg := range merges {
				var a, b string
				switch x := mg.(type) {
				case string:
					a, b, _ = strings.Cut(x, " ")
				case []any:
					if len(x) == 2 {
						a, _ = x[0].(string)
						b, _ = x[1].(string)
					}
				}
				if _, ok := v[a+b]; ok && v[a] != nil && v[b] != nil {
					kept = append(kept, mg)
				}
			}
			m["merges"] = kept
		}
	}
	out, err := json.Marshal(j)
	if err != nil {
		f.Fatal(err)
	}
	return out
}

// FuzzLoad feeds arbitrary tokenizer.json and tokenizer_config.json
// contents to FromJSON and, when they load, encodes a text with offsets,
// as words and with the prefix space switched: a clean error or a
// consistent encoding, never a panic or a hang. Seeds: every fixture's
// pipeline (shrunk), the tiny WordPiece of errors_test.go and
// testdata/fuzz/FuzzLoad.
//
//	go test ./tokenize -run '^$' -fuzz '^FuzzLoad$' -fuzztime 10m -parallel 1
func FuzzLoad(f *testing.F) {
	text := "Hello, world! Café naïve 😍 中文 it's <mask> [MASK]  x"
	f.Add([]byte(tinyWordPiece), []byte(`{"pad_token": "[PAD]", "model_max_length": 16}`), text)
	for _, name := range []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "albert-unigram", "unigram-edge", "xlmr-spm",
		"llama-bpe", "metaspace-first", "gpt2-bpe", "wordlevel-whitespace", "split-bpe", "split-wordlevel"} {
		cfg, err := os.ReadFile(filepath.Join(fixtures, name, "tokenizer_config.json"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(shrunkFixture(f, name), cfg, text)
	}
	f.Fuzz(func(t *testing.T, tj, cj []byte, text string) {
		tok, err := FromJSON(tj, cj)
		if err != nil {
			if tok != nil {
				t.Error("a tokenizer and an error")
			}
			return
		}
		opts := Options{ReturnOffsets: true, Padding: DoNotPad, Truncation: DoNotTruncate}
		for _, tk := range []*Tokenizer{tok, tok.WithAddPrefixSpace(true)} {
			enc, err := tk.EncodeBatch([]string{text}, []string{text}, opts)
			if err != nil {
				if utf8.ValidString(text) && !strings.Contains(err.Error(), "unk") {
					t.Logf("encode: %v", err) // a model without unk may refuse a character
				}
				continue
			}
			n := len(enc.InputIDs[0])
			if len(enc.Offsets[0]) != n || len(enc.WordIDs[0]) != n || len(enc.SequenceIDs[0]) != n || len(enc.TokenTypeIDs[0]) != n {
				t.Fatalf("ragged row: %d ids, %d offsets, %d words, %d sequences", n, len(enc.Offsets[0]), len(enc.WordIDs[0]), len(enc.SequenceIDs[0]))
			}
			for k, id := range enc.InputIDs[0] {
				if id < 0 || id > math.MaxUint32 {
					t.Fatalf("token %d: id %d", k, id)
				}
			}
			if _, err := tk.EncodeWords([][]string{strings.Fields(text), {"", text}}, nil, opts); err != nil && utf8.ValidString(text) && !strings.Contains(err.Error(), "unk") {
				t.Logf("words: %v", err)
			}
		}
	})
}
