package tokenize

import (
	"path/filepath"
	"testing"
)

func TestByteLevelDecode(t *testing.T) {
	for in, want := range map[string]string{"Ġgood": " good", "Ã©": "é", "plain": "plain", "ĊĠ": "\n "} {
		if got := ByteLevelDecode(in); got != want {
			t.Errorf("ByteLevelDecode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestTokenNamesSchemes: the word marks of each family's fixture, as its
// decoder reads them (HF: decoders.Replace("▁", " ") for SentencePiece BPE,
// ByteLevel for Qwen2.5/Llama 3/ModernBERT, Metaspace for DeBERTa-v3).
func TestTokenNamesSchemes(t *testing.T) {
	for _, c := range []struct {
		fixture, token string
		after          bool
		text           string
		continues      bool
	}{
		{"gemma-bpe", "▁good", true, " good", false},
		{"gemma-bpe", "ness", true, "ness", true},
		{"gemma-bpe", "<0x0A>", true, "\n", true},
		{"gemma-bpe", "<0xE2>", true, "<0xE2>", true},
		{"phi3-bpe", "▁good", true, " good", false},
		{"llama-bpe", "▁good", false, " good", false},
		{"qwen25-bpe", "Ġgood", true, " good", false},
		{"llama3-bpe", "ness", true, "ness", true},
		{"modernbert-bpe", "Ġgood", true, " good", false},
		{"debertav3-unigram", "▁good", true, " good", false},
		{"bert-cased-wordpiece", "##ness", true, "ness", true},
	} {
		tn, err := LoadTokenNames(filepath.Join(fixtures, c.fixture))
		if err != nil {
			t.Fatal(err)
		}
		text, cont := tn.Piece(c.token, c.after)
		if text != c.text || cont != c.continues {
			t.Errorf("%s: Piece(%q, %v) = %q, %v; want %q, %v", c.fixture, c.token, c.after, text, cont, c.text, c.continues)
		}
	}
}
