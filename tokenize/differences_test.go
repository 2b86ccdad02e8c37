package tokenize

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

var (
	fixtureMu  sync.Mutex
	fixtureTok = map[string]*Tokenizer{}
)

func loadFixture(t testing.TB, name string) *Tokenizer {
	t.Helper()
	fixtureMu.Lock()
	defer fixtureMu.Unlock()
	if tok, ok := fixtureTok[name]; ok {
		return tok
	}
	tok, err := Load(filepath.Join(fixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	fixtureTok[name] = tok
	return tok
}

func tokensOf(tok *Tokenizer, ids []int64) []string {
	rev := map[int64]string{}
	tok.model.eachToken(func(s string, id int64) { rev[id] = s })
	for s, id := range tok.added2id {
		rev[id] = s
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = rev[id]
	}
	return out
}

func caseNamed(t *testing.T, name string) goldenCase {
	for _, c := range loadCases(t) {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no case %q", name)
	return goldenCase{}
}

// TestSugarmeDifferences covers, one row each, the places where
// github.com/sugarme/tokenizer differs from Hugging Face and what ft does
// instead. Want tokens are what tokenizers 0.22.2 gives (make_goldens.py
// wrote the same ids into the goldens, which TestGoldens compares in full).
func TestSugarmeDifferences(t *testing.T) {
	tests := []struct {
		difference string
		fixture    string
		caseName   string
		want       []string
	}{
		{"strip_accents null follows lowercase (uncased BERT)", "minilm-l6-v2", "hard/cafe",
			[]string{"[CLS]", "cafe", "[SEP]"}},
		{"BERT treats all Unicode whitespace as whitespace (NBSP)", "minilm-l6-v2", "hard/nbsp",
			[]string{"[CLS]", "non", "breaking", "space", "[SEP]"}},
		{"BERT treats all Unicode whitespace as whitespace (U+3000)", "minilm-l6-v2", "hard/ideographic_space",
			[]string{"[CLS]", "id", "##eo", "##graphic", "space", "[SEP]"}},
		{"byte-level keeps the \\s+(?!\\S) split of space runs", "roberta-bpe", "hard/space_runs",
			[]string{"<s>", "r", "uns", "Ġ", "Ġ", "Ġ", "Ġ", "Ġof", "Ġ", "Ġ", "Ġ", "Ġ", "Ġ", "Ġsp", "aces", "</s>"}},
		{"byte-level keeps the \\s+(?!\\S) split of tab and newline runs", "roberta-bpe", "hard/tabs_newlines",
			[]string{"<s>", "t", "abs", "ĉ", "ĉ", "and", "ĉ", "new", "lines", "Ċ", "Ċ", "Ċ", "here", "</s>"}},
		{"BPE merges the lowest rank, then the leftmost pair", "roberta-bpe", "hard/aaaa",
			[]string{"<s>", "aa", "aa", "</s>"}},
		{"Replace with a regex squeezes runs of spaces (XLM-R)", "xlmr-unigram", "hard/space_runs",
			[]string{"<s>", "▁run", "s", "▁of", "▁space", "s", "</s>"}},
		{"Precompiled (SentencePiece nmt_nfkc) rewrites every grapheme, not only the first", "xlmr-spm", "hard/fullwidth",
			[]string{"<s>", "▁Full", "w", "id", "th", "▁A", "B", "C", "▁1", "2", "3", "!", "</s>"}},
		{"Unigram matches pieces over 20 bytes", "unigram-edge", "hard/long_piece_words",
			[]string{"<s>", "▁internationalization", "▁internationalizations", "▁unbelievably", "</s>"}},
		{"Unigram runs Viterbi with byte_fallback, bytes only for unknowns", "unigram-edge", "hard/emoji",
			[]string{"<s>", "▁I", "▁love", "▁it", "▁", "<0xF0>", "<0x9F>", "<0x98>", "<0x8D>", "<0xF0>", "<0x9F>",
				"<0x98>", "<0x8D>", "<0xF0>", "<0x9F>", "<0x98>", "<0x8D>", "</s>"}},
		{"Unigram: a 27-byte CJK piece, then byte fallback", "unigram-edge", "hard/japanese",
			[]string{"<s>", "▁日本語のテキスト", "<0xE3>", "<0x81>", "<0xA7>", "<0xE3>", "<0x81>", "<0x99>", "<0xE3>",
				"<0x80>", "<0x82>", "<0xE3>", "<0x82>", "<0xAB>", "<0xE3>", "<0x82>", "<0xBF>", "<0xE3>", "<0x82>",
				"<0xAB>", "<0xE3>", "<0x83>", "<0x8A>", "</s>"}},
	}
	for _, tt := range tests {
		t.Run(tt.difference, func(t *testing.T) {
			tok := loadFixture(t, tt.fixture)
			c := caseNamed(t, tt.caseName)
			enc, err := tok.EncodeBatch([]string{c.A}, nil, Options{Truncation: DoNotTruncate, Padding: DoNotPad})
			if err != nil {
				t.Fatal(err)
			}
			if got := tokensOf(tok, enc.InputIDs[0]); !slices.Equal(got, tt.want) {
				t.Errorf("%q:\n got  %q\n want %q", c.A, got, tt.want)
			}
		})
	}
}

// TestBertPreTokenizerWhitespace checks the pre-tokenizer alone (no
// normalizer in front to map spaces): HF's BertPreTokenizer splits on every
// White_Space character; sugarme's splits on `\s+`, ASCII only.
func TestBertPreTokenizerWhitespace(t *testing.T) {
	got := texts(bertPreTokenizer{}.split(ntext{s: "a\u00a0b\u3000c\u2009d\u2028e f"}, nil))
	want := []string{"a", "b", "c", "d", "e", "f"} // BertPreTokenizer().pre_tokenize_str
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestByteLevelSplit checks the GPT-2 pattern, look-ahead included, against
// ByteLevel(add_prefix_space=False).pre_tokenize_str.
func TestByteLevelSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"hello   world  \n\n x", []string{"hello", "ĠĠ", "Ġworld", "ĠĠĊĊ", "Ġx"}},
		{"a  b", []string{"a", "Ġ", "Ġb"}},
		{"x\n\n y", []string{"x", "ĊĊ", "Ġy"}},
		{" \u00a0 a", []string{"ĠÂł", "Ġa"}},
		{"it's 1999!!", []string{"it", "'s", "Ġ1999", "!!"}},
		{"'S 'll", []string{"'", "S", "Ġ'", "ll"}},
	}
	bl := &byteLevel{useRegex: true}
	for _, tt := range tests {
		if got := texts(bl.split(ntext{s: tt.in}, nil)); !slices.Equal(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestReplaceRegex: sugarme ignores a Replace normalizer whose pattern is a
// Regex; XLM-R and ALBERT squeeze spaces with one.
func TestReplaceRegex(t *testing.T) {
	c, err := parseComponent(json.RawMessage(`{"type":"Replace","pattern":{"Regex":" {2,}"},"content":" "}`))
	if err != nil {
		t.Fatal(err)
	}
	n, err := buildNormalizer(c)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n.normalize(ntext{s: "a    b  c d"}).s, "a b c d"; got != want { // Replace(Regex(" {2,}"), " ").normalize_str
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestLongestFirst: sugarme over-truncates pairs. Lengths kept by
// tokenizers' longest_first, measured with a WordLevel tokenizer and
// add_special_tokens=False.
func TestLongestFirst(t *testing.T) {
	tests := []struct{ la, lb, limit, wantA, wantB int }{
		{10, 3, 8, 5, 3},
		{3, 10, 8, 3, 5},
		{10, 10, 8, 4, 4},
		{10, 10, 7, 3, 4},
		{2, 20, 5, 2, 3},
		{0, 10, 4, 0, 4},
		{7, 7, 14, 7, 7},
		{9, 4, 0, 0, 0},
		{6, 5, 9, 5, 4},
	}
	for _, tt := range tests {
		a, b := make([]token, tt.la), make([]token, tt.lb)
		ga, gb, err := truncatePair(a, b, true, tt.limit, LongestFirst, false)
		if err != nil || len(ga) != tt.wantA || len(gb) != tt.wantB {
			t.Errorf("(%d, %d) to %d: got (%d, %d, %v), want (%d, %d)", tt.la, tt.lb, tt.limit, len(ga), len(gb), err, tt.wantA, tt.wantB)
		}
	}
}

func texts(ns []ntext) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = n.s
	}
	return out
}

// TestSerdeFloat: HF reads Unigram scores with serde_json's default
// (double-rounding) parser; these pairs are file text and the value
// `tokenizers` 0.22.2 holds after loading it.
func TestSerdeFloat(t *testing.T) {
	tests := []struct {
		in   string
		want float64
	}{
		{"-7.3112918783834875", -7.311291878383488},
		{"-7.3346377215272565", -7.334637721527256},
		{"-7.4970682142648135", -7.497068214264813},
		{"0.0", 0},
		{"-10", -10},
		{"1e-5", 1e-5},
		{"-2.5E+2", -250},
	}
	for _, tt := range tests {
		got, err := serdeFloat(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("%s: got %v (%v), want %v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"", "-", "1.", "1e", "abc", "1.5x"} {
		if _, err := serdeFloat(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
