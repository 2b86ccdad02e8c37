package tokenize

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeFixtures are the fixtures with decode goldens
// (testmodels/tokenizers/make_llm_goldens.py): decoders ByteLevel,
// Metaspace, WordPiece, Replace+ByteFallback+Fuse(+Strip), and none.
var decodeFixtures = []string{
	"qwen25-bpe", "llama3-bpe", "gemma-bpe", "phi3-bpe", "modernbert-bpe", "debertav3-unigram",
	"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "albert-unigram",
	"unigram-edge", "xlmr-spm", "llama-bpe", "metaspace-first", "gpt2-bpe",
	"wordlevel-whitespace", "split-bpe", "split-wordlevel",
}

// TestDecodeGoldens decodes HF's ids of every case (with special tokens)
// and random id sequences, with and without skip_special_tokens, and
// compares with HF's Tokenizer.decode.
func TestDecodeGoldens(t *testing.T) {
	for _, name := range decodeFixtures {
		t.Run(name, func(t *testing.T) {
			tok := loadFixture(t, name)
			raw := map[int][]int64{}
			for _, line := range readZstdLines(t, filepath.Join(fixtures, name, "align.jsonl.zst")) {
				var r alignRecord
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatal(err)
				}
				if r.Kind == "raw" {
					var ids []int64
					if err := json.Unmarshal(r.IDs, &ids); err != nil {
						t.Fatal(err)
					}
					raw[r.Case] = ids
				}
			}
			bad, n := 0, 0
			for _, line := range readZstdLines(t, filepath.Join(fixtures, name, "decode.jsonl.zst")) {
				var r struct {
					Case    *int    `json:"case"`
					IDs     []int64 `json:"ids"`
					Text    string  `json:"text"`
					Special string  `json:"special"`
				}
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatal(err)
				}
				ids := r.IDs
				if r.Case != nil {
					var ok bool
					if ids, ok = raw[*r.Case]; !ok {
						t.Fatalf("case %d has no raw align record", *r.Case)
					}
				}
				for _, skip := range []bool{true, false} {
					want := r.Special
					if skip {
						want = r.Text
					}
					got, err := tok.Decode(ids, skip)
					n++
					if err != nil || got != want {
						bad++
						if bad <= 5 {
							t.Errorf("Decode(%v, %v) = %s, %v\nwant %s", ids, skip, show(got), err, show(want))
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%d of %d decodes differ", bad, n)
			}
		})
	}
}

// TestDecoderUnits checks what the goldens may not reach, against values
// HF's decoders give (tokenizers 0.22.2, by hand).
func TestDecoderUnits(t *testing.T) {
	for _, c := range []struct {
		name string
		dec  decoder
		in   []string
		want string
	}{
		// decoders.Metaspace().decode(['▁▁a▁b', '▁c']) == 'ab c'
		{"metaspace", metaspaceDecoder{replacement: '▁', strip: true}, []string{"▁▁a▁b", "▁c"}, "ab c"},
		{"metaspace never", metaspaceDecoder{replacement: '▁'}, []string{"▁▁a▁b", "▁c"}, "  a b c"},
		// decoders.WordPiece().decode(['hello', '##x', '.', 'do', 'not', "'", 's', "n't", '##'])
		{"wordpiece", wordPieceDecoder{prefix: "##", cleanup: true},
			[]string{"hello", "##x", ".", "do", "not", "'", "s", "n't", "##"}, "hellox. do not ' sn't"},
		{"wordpiece no cleanup", wordPieceDecoder{prefix: "##"}, []string{"##hello", "##x", "."}, "##hellox ."},
		// decoders.ByteFallback().decode(['<0xE2>', '<0x82>', 'a', '<0xFF>', '<0xC3>', '<0xA9>', '<0x41>'])
		{"bytefallback", byteFallbackDecoder{}, []string{"<0xE2>", "<0x82>", "a", "<0xFF>", "<0xC3>", "<0xA9>", "<0x41>"},
			"\uFFFD\uFFFDa\uFFFD\uFFFD\uFFFD\uFFFD"},
		// decoders.ByteLevel().decode(['Ġa', 'âĤ', 'x', 'é']) == ' a\ufffdx\ufffd'
		{"bytelevel lossy", byteLevelDecoder{}, []string{"Ġa", "âĤ", "x", "é"}, " a\uFFFDx\uFFFD"},
		// decoders.Strip(' ', 1, 1).decode(['  a  ', 'b']) == ' a b'
		{"strip", stripDecoder{content: ' ', start: 1, stop: 1}, []string{"  a  ", "b"}, " a b"},
	} {
		if got := strings.Join(c.dec.decodeChain(c.in), ""); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// TestDecodeUnsupported: a decoder ft does not know does not stop Load;
// Decode names it.
func TestDecodeUnsupported(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(fixtures, "gpt2-bpe", "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), `"decoder": null`, `"decoder": {"type": "Magic"}`, 1))
	tok, err := FromJSON(b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tok.Decode([]int64{1}, true); err == nil || !strings.Contains(err.Error(), `unsupported decoder type "Magic"`) {
		t.Errorf("got %v, want an error naming the decoder", err)
	}
}
