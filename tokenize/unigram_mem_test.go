package tokenize

import (
	"fmt"
	"math/rand"
	"runtime"
	"strings"
	"testing"
)

// bigUnigram is a tokenizer.json with an n-piece Unigram vocabulary of
// random pieces (1 to 12 characters, Latin, Cyrillic and CJK).
func bigUnigram(n int) []byte {
	rng := rand.New(rand.NewSource(1))
	alpha := []rune("abcdefghijklmnopqrstuvwxyzабвгдежзийклмн中文字日本語")
	var b strings.Builder
	b.WriteString(`{"model": {"type": "Unigram", "unk_id": 0, "vocab": [["<unk>", 0.0]`)
	seen := map[string]bool{}
	for len(seen) < n {
		k := 1 + rng.Intn(12)
		var p strings.Builder
		if rng.Intn(2) == 0 {
			p.WriteString("▁")
		}
		for range k {
			p.WriteRune(alpha[rng.Intn(len(alpha))])
		}
		if seen[p.String()] {
			continue
		}
		seen[p.String()] = true
		fmt.Fprintf(&b, `, [%q, %.17g]`, p.String(), -rng.Float64()*15)
	}
	b.WriteString(`]}, "pre_tokenizer": {"type": "Metaspace"}}`)
	return []byte(b.String())
}

// TestUnigramMemory: a Unigram vocabulary used to cost ~12x its file size
// once loaded (a map per piece and per trie edge) and ~38x while loading
// (a JSON value per entry); now a single arena and a radix trie.
func TestUnigramMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 10 MB vocabulary")
	}
	j := bigUnigram(250000)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	tok, err := FromJSON(j, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	total := after.TotalAlloc - before.TotalAlloc
	runtime.GC()
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("file %d bytes; allocated %d (%.1fx), live after load %d (%.1fx)", len(j), total, float64(total)/float64(len(j)), live, float64(live)/float64(len(j)))
	if live > 3*int64(len(j)) || total > 8*uint64(len(j)) {
		t.Errorf("loading a %d-byte vocabulary allocated %d bytes and keeps %d", len(j), total, live)
	}
	// the vocabulary is all there
	for _, p := range []string{"<unk>", "▁"} {
		if _, ok := tok.TokenToID(p); !ok && p == "<unk>" {
			t.Errorf("%q missing", p)
		}
	}
	if tok.VocabSize() != 250001 {
		t.Errorf("vocab size %d", tok.VocabSize())
	}
	runtime.KeepAlive(tok)
	runtime.KeepAlive(j)
}
