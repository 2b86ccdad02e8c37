package tokenize

import (
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
	names := []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "albert-unigram", "unigram-edge", "xlmr-spm"}
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
