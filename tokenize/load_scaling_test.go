package tokenize

import (
	"runtime"
	"strings"
	"testing"
)

// nestedSequence is a tokenizer.json whose normalizer, pre-tokenizer and
// post-processor are Sequences nested depth deep, each level holding one
// more small part.
func nestedSequence(depth int) []byte {
	nest := func(key, leaf, seqKey string) string {
		var b strings.Builder
		for range depth {
			b.WriteString(`{"type": "Sequence", "` + seqKey + `": [` + leaf + `, `)
		}
		b.WriteString(leaf)
		for range depth {
			b.WriteString(`]}`)
		}
		return `"` + key + `": ` + b.String() + ",\n"
	}
	j := strings.Replace(tinyWordPiece, `"normalizer": {"type": "BertNormalizer", "lowercase": true},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},`,
		nest("normalizer", `{"type": "Lowercase"}`, "normalizers")+
			nest("pre_tokenizer", `{"type": "WhitespaceSplit"}`, "pretokenizers")+
			nest("post_processor", `{"type": "ByteLevel", "trim_offsets": false}`, "processors"), 1)
	return []byte(j)
}

// TestNestedSequenceLinear: loading nested Sequences costs memory (and
// time) linear in the file. Each level used to parse its whole subtree
// again, which is quadratic: a 3 MB file took over 60 s and 3 GB. Bytes
// allocated are deterministic, so the test compares them at two depths:
// doubling the depth must not much more than double them.
func TestNestedSequenceLinear(t *testing.T) {
	alloc := func(depth int) uint64 {
		j := nestedSequence(depth)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		tok, err := FromJSON(j, nil)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		enc, err := tok.EncodeBatch([]string{"Hello World"}, nil, Options{Padding: DoNotPad, Truncation: DoNotTruncate})
		if err != nil || len(enc.InputIDs[0]) != 2 || enc.InputIDs[0][0] != 4 || enc.InputIDs[0][1] != 5 {
			t.Fatalf("depth %d: %v, %v", depth, enc, err)
		}
		return after.TotalAlloc - before.TotalAlloc
	}
	small, large := alloc(400), alloc(1600)
	t.Logf("allocated %d bytes at depth 400, %d at depth 1600 (%.1fx)", small, large, float64(large)/float64(small))
	if large > 6*small { // linear: about 4x; quadratic: about 16x
		t.Errorf("depth x4 allocated %.1fx the bytes: quadratic in the nesting", float64(large)/float64(small))
	}
}

// TestNestedSequenceTooDeep: nesting past encoding/json's depth limit is an
// error, not a crash.
func TestNestedSequenceTooDeep(t *testing.T) {
	if _, err := FromJSON(nestedSequence(6000), nil); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Errorf("got %v, want an error about the depth", err)
	}
}
