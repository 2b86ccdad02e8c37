package tokenize

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlclark/regexp2"
)

// TestRegexGoldens splits every single text of the cases and a list of
// regex edge cases with the Split pre-tokenizer (isolated) of each model's
// pattern — Qwen2, Llama 3, cl100k (possessive), o200k, Tekken, DeepSeek —
// and compares the pieces with HF's pre_tokenize_str
// (testmodels/tokenizers/make_llm_goldens.py); and the same with the
// UnicodeScripts pre-tokenizer.
func TestRegexGoldens(t *testing.T) {
	cases := loadCases(t)
	for _, name := range []string{"qwen2", "llama3", "cl100k", "o200k", "tekken", "deepseek", "deepseek-cjk", "digits3", "unicode-scripts"} {
		t.Run(name, func(t *testing.T) {
			lines := readZstdLines(t, filepath.Join(fixtures, "regex", name+".jsonl.zst"))
			var head struct {
				Pattern      string          `json:"pattern"`
				PreTokenizer json.RawMessage `json:"pre_tokenizer"`
			}
			if err := json.Unmarshal(lines[0], &head); err != nil {
				t.Fatal(err)
			}
			raw := []byte(head.PreTokenizer)
			if head.PreTokenizer == nil {
				raw, _ = json.Marshal(map[string]any{"type": "Split", "pattern": map[string]string{"Regex": head.Pattern},
					"behavior": "Isolated", "invert": false})
			}
			c, err := parseComponent(raw)
			if err != nil {
				t.Fatal(err)
			}
			pre, err := buildPreTokenizer(c)
			if err != nil {
				t.Fatal(err)
			}
			if sp, ok := pre.(*splitPre); ok {
				// the look-ahead patterns: regexp2 for cl100k (possessive
				// quantifiers), Go's regexp and the look-ahead rewrite for
				// the others
				engine := "re2"
				switch {
				case sp.re.bt != nil:
					engine = "regexp2"
				case sp.re.ws > 0:
					engine = "re2+lookahead"
				}
				want := map[string]string{"cl100k": "regexp2", "deepseek-cjk": "re2", "digits3": "re2"}[name]
				if want == "" {
					want = "re2+lookahead"
				}
				if engine != want {
					t.Errorf("%s: engine %s, want %s", name, engine, want)
				}
			}
			// Both engines are checked: the one compileOnig picks and
			// regexp2 alone.
			engines := []preTokenizer{pre}
			if head.Pattern != "" {
				net, _, err := onigToNET(head.Pattern)
				if err != nil {
					t.Fatal(err)
				}
				engines = append(engines, &splitPre{re: &onigRegex{bt: regexp2.MustCompile(net, regexp2.Multiline)}, behavior: splitIsolated})
			}
			bad := 0
			for _, line := range lines[1:] {
				var r struct {
					Case  *int    `json:"case"`
					Text  *string `json:"text"`
					Spans []int   `json:"spans"`
				}
				if err := json.Unmarshal(line, &r); err != nil {
					t.Fatal(err)
				}
				text := ""
				if r.Case != nil {
					text = cases[*r.Case].A
				} else {
					text = *r.Text
				}
				for k, p := range engines {
					var got []int
					for _, piece := range p.split(newText(text, 0, true), nil) {
						got = append(got, int(piece.al[0].start), int(piece.al[len(piece.al)-1].end))
					}
					if !slices.Equal(got, r.Spans) && !(len(got) == 0 && len(r.Spans) == 0) {
						bad++
						if bad <= 5 {
							t.Errorf("%s (engine %d): %s\n got %v\nwant %v", name, k, show(text), pieces(text, got), pieces(text, r.Spans))
						}
					}
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d texts differ", name, bad, len(lines)-1)
			}
		})
	}
}

func pieces(s string, spans []int) []string {
	var out []string
	for i := 0; i+1 < len(spans); i += 2 {
		out = append(out, s[spans[i]:spans[i+1]])
	}
	return out
}

// TestOnigToNET checks the rewriting of Oniguruma patterns for regexp2.
func TestOnigToNET(t *testing.T) {
	for _, c := range []struct {
		in, out string
		bt      bool
	}{
		{`a?+b`, `(?>a?)b`, true},
		{`[^\r\n\p{L}]?+\p{L}+`, `(?>[^\r\n\p{L}]?)\p{L}+`, true},
		{`(ab)++c*+`, `(?>(ab)+)(?>c*)`, true},
		{`\s+(?!\S)`, `[` + netSpace + `]+(?![^` + netSpace + `])`, true},
		{`[\w-]\d`, `[` + netWord + `-]\p{Nd}`, false},
		{`\x{3000}\x{1F600}`, `\u3000` + "\U0001F600", false},
		{`(?i:'s)\p{^L}`, `(?i:'s)\P{L}`, false},
		{`[\[\]]{1,3}+`, `(?:[\[\]]{1,3})+`, false},
	} {
		got, bt, err := onigToNET(c.in)
		if err != nil || got != c.out || bt != c.bt {
			t.Errorf("onigToNET(%q) = %q, %v, %v; want %q, %v", c.in, got, bt, err, c.out, c.bt)
		}
	}
}

// TestOnigAnchors: ^ and $ match at every line and \b is Unicode-aware, as
// in Oniguruma. Spans from tokenizers 0.22.2:
// Split(Regex(p), "isolated").pre_tokenize_str("a\nax a\r\nx éx").
func TestOnigAnchors(t *testing.T) {
	text := "a\nax a\r\nx éx"
	for _, c := range []struct {
		pat   string
		spans []int // characters
	}{
		{`^a`, []int{0, 1, 1, 2, 2, 3, 3, 12}},
		{`a$`, []int{0, 1, 1, 12}},
		{`\bx`, []int{0, 8, 8, 9, 9, 12}},
		{`.+`, []int{0, 1, 1, 2, 2, 7, 7, 8, 8, 12}},
	} {
		re, err := compileOnig(c.pat)
		if err != nil {
			t.Fatal(err)
		}
		p := &splitPre{re: re, behavior: splitIsolated}
		var got []int
		for _, piece := range p.split(newText(text, 0, true), nil) {
			got = append(got, int(piece.al[0].start), int(piece.al[len(piece.al)-1].end))
		}
		var want []int
		for _, ch := range c.spans {
			want = append(want, len(string([]rune(text)[:ch])))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: got %v, want %v", c.pat, pieces(text, got), pieces(text, want))
		}
	}
}
