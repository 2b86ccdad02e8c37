package tokenize

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// The fixtures and goldens are made by testmodels/tokenizers/make_goldens.py
// with Hugging Face `tokenizers`.
const fixtures = "../testmodels/tokenizers"

type goldenCase struct {
	Name  string  `json:"name"`
	A     string  `json:"a"`
	B     *string `json:"b"`
	AHex  string  `json:"a_hex"`
	BHex  string  `json:"b_hex"`
	Error bool    `json:"error"`
}

type goldenOpts struct {
	MaxLength       int    `json:"max_length"`
	Strategy        string `json:"strategy"`
	Direction       string `json:"direction"`
	Padding         string `json:"padding"`
	PadToMultipleOf int    `json:"pad_to_multiple_of"`
	PaddingSide     string `json:"padding_side"`
}

func (g *goldenOpts) options() Options {
	o := Options{Truncation: DoNotTruncate, Padding: DoNotPad}
	if g == nil {
		return o
	}
	o.MaxLength = g.MaxLength
	if g.Strategy != "" {
		o.Truncation = g.Strategy
	}
	o.TruncationSide = g.Direction
	if g.Padding != "" {
		o.Padding = g.Padding
	}
	o.PadToMultipleOf = g.PadToMultipleOf
	o.PaddingSide = g.PaddingSide
	return o
}

type goldenRecord struct {
	Kind    string          `json:"kind"`
	Opts    *goldenOpts     `json:"opts"`
	Case    int             `json:"case"`
	Cases   []int           `json:"cases"`
	IDs     json.RawMessage `json:"ids"`
	TypeIDs json.RawMessage `json:"type_ids"`
	Mask    json.RawMessage `json:"mask"`
	Error   string          `json:"error"`
}

func readZstdLines(t testing.TB, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	data, err := dec.DecodeAll(raw, nil)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var lines [][]byte
	for _, l := range bytes.Split(data, []byte("\n")) {
		if len(l) > 0 {
			lines = append(lines, l)
		}
	}
	return lines
}

var (
	casesOnce sync.Once
	casesAll  []goldenCase
)

func loadCases(t testing.TB) []goldenCase {
	casesOnce.Do(func() {
		for _, l := range readZstdLines(t, filepath.Join(fixtures, "cases.jsonl.zst")) {
			var c goldenCase
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			if c.AHex != "" {
				b, _ := hex.DecodeString(c.AHex)
				c.A = string(b)
			}
			if c.BHex != "" {
				b, _ := hex.DecodeString(c.BHex)
				s := string(b)
				c.B = &s
			}
			casesAll = append(casesAll, c)
		}
	})
	if len(casesAll) == 0 {
		t.Fatal("no cases")
	}
	return casesAll
}

func batchOf(cases []goldenCase, idx []int) (texts, pairs []string) {
	for _, i := range idx {
		texts = append(texts, cases[i].A)
		if cases[i].B != nil {
			pairs = append(pairs, *cases[i].B)
		}
	}
	if len(pairs) == 0 {
		pairs = nil
	}
	return texts, pairs
}

func show(s string) string {
	if len(s) > 80 {
		return fmt.Sprintf("%q...(%d bytes)", s[:80], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// TestGoldens compares every golden record of every fixture with our
// encoding: input_ids, attention_mask and token_type_ids must be equal.
func TestGoldens(t *testing.T) {
	cases := loadCases(t)
	for _, name := range []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram",
		"albert-unigram", "unigram-edge", "xlmr-spm"} {
		t.Run(name, func(t *testing.T) {
			tok, err := Load(filepath.Join(fixtures, name))
			if err != nil {
				t.Fatal(err)
			}
			checkGoldens(t, tok, cases, filepath.Join(fixtures, name, "goldens.jsonl.zst"))
		})
	}
	t.Run("minilm-l6-v2-lowercase-false", func(t *testing.T) {
		tj, err := os.ReadFile(filepath.Join(fixtures, "minilm-l6-v2", "tokenizer.json"))
		if err != nil {
			t.Fatal(err)
		}
		cj, err := os.ReadFile(filepath.Join(fixtures, "minilm-l6-v2-lowercase-false", "tokenizer_config.json"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := FromJSON(tj, cj)
		if err != nil {
			t.Fatal(err)
		}
		checkGoldens(t, tok, cases, filepath.Join(fixtures, "minilm-l6-v2-lowercase-false", "goldens.jsonl.zst"))
	})
}

func checkGoldens(t *testing.T, tok *Tokenizer, cases []goldenCase, path string) {
	m := newMismatches(t)
	counts, fail := m.counts, m.fail
	for _, line := range readZstdLines(t, path) {
		var r goldenRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		idx := r.Cases
		if r.Kind != "batch" {
			idx = []int{r.Case}
		}
		texts, pairs := batchOf(cases, idx)
		got, err := tok.EncodeBatch(texts, pairs, r.Opts.options())
		label := fmt.Sprintf("%s %+v case %s", r.Kind, r.Opts, cases[idx[0]].Name)
		if o := r.Opts; o != nil && o.Strategy != DoNotTruncate && tok.post != nil && o.MaxLength < tok.post.added(pairs != nil) {
			// HF subtracts the special tokens from max_length in unsigned
			// arithmetic, wraps around and does not truncate at all; we refuse
			// such a MaxLength instead (a deliberate difference).
			counts[r.Kind+" (MaxLength below the special tokens: we refuse)"]++
			if err == nil {
				fail("%s: MaxLength below the special tokens accepted", label)
			}
			continue
		}
		if r.Error != "" {
			counts[r.Kind+" (error)"]++
			if err == nil {
				fail("%s: HF fails (%s), we do not", label, r.Error)
			}
			continue
		}
		counts[r.Kind]++
		if err != nil {
			fail("%s: %v", label, err)
			continue
		}
		var want Encoding
		var derr error
		if r.Kind == "batch" {
			derr = decodeGolden(r.IDs, &want.InputIDs, r.TypeIDs, &want.TokenTypeIDs, r.Mask, &want.AttentionMask)
		} else {
			var a, b, c []int64
			derr = decodeGolden(r.IDs, &a, r.TypeIDs, &b, r.Mask, &c)
			want = Encoding{InputIDs: [][]int64{a}, AttentionMask: [][]int64{c}, TokenTypeIDs: [][]int64{b}}
		}
		if derr != nil || len(got.InputIDs) != len(want.InputIDs) {
			fail("%s: golden unreadable (%v) or %d rows for %d golden rows", label, derr, len(got.InputIDs), len(want.InputIDs))
			continue
		}
		for i := range want.InputIDs {
			c := cases[idx[i]]
			switch {
			case !slices.Equal(got.InputIDs[i], want.InputIDs[i]):
				fail("%s: %s pair=%v\n input_ids  %v\n want       %v", label, show(c.A), c.B != nil, got.InputIDs[i], want.InputIDs[i])
			case !slices.Equal(got.TokenTypeIDs[i], want.TokenTypeIDs[i]):
				fail("%s: %s\n token_type_ids %v\n want           %v", label, show(c.A), got.TokenTypeIDs[i], want.TokenTypeIDs[i])
			case !slices.Equal(got.AttentionMask[i], want.AttentionMask[i]):
				fail("%s: %s\n attention_mask %v\n want           %v", label, show(c.A), got.AttentionMask[i], want.AttentionMask[i])
			}
		}
	}
	// Invalid UTF-8 never reaches HF (Python cannot hold it); we must refuse it.
	for _, c := range cases {
		if !c.Error {
			continue
		}
		var pairs []string
		if c.B != nil {
			pairs = []string{*c.B}
		}
		if _, err := tok.EncodeBatch([]string{c.A}, pairs, Options{}); err == nil || !strings.Contains(err.Error(), "UTF-8") {
			fail("%s: invalid UTF-8 gave err=%v", c.Name, err)
		} else {
			counts["invalid UTF-8"]++
		}
	}
	m.report("")
}

// mismatches counts a golden checker's cases per kind and its failures,
// reporting only the first ten failures in full.
type mismatches struct {
	t      *testing.T
	counts map[string]int
	bad    int
}

func newMismatches(t *testing.T) *mismatches {
	return &mismatches{t: t, counts: map[string]int{}}
}

func (m *mismatches) fail(format string, args ...any) {
	m.t.Helper()
	m.bad++
	if m.bad <= 10 {
		m.t.Errorf(format, args...)
	}
}

// report ends the check: the number of mismatches (an error) and the
// matched counts, each line led by prefix.
func (m *mismatches) report(prefix string) {
	m.t.Helper()
	if m.bad > 0 {
		m.t.Errorf("%s%d mismatches", prefix, m.bad)
	}
	m.t.Logf("%smatched: %v", prefix, m.counts)
}

// decodeGolden decodes pairs of (raw JSON, destination), failing on a
// missing or malformed field: a golden field that does not decode must not
// leave an empty want that every encoding matches.
func decodeGolden(pairs ...any) error {
	for i := 0; i < len(pairs); i += 2 {
		raw := pairs[i].(json.RawMessage)
		if len(raw) == 0 {
			return fmt.Errorf("field %d missing", i/2)
		}
		if err := json.Unmarshal(raw, pairs[i+1]); err != nil {
			return err
		}
	}
	return nil
}
