package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/explain"
)

const explainModel = "internal/bundled/tiny-bert"

func TestExplainCommandJSON(t *testing.T) {
	code, out, stderr := runIn(t, "explain", "--model", explainModel, "--json", "--steps", "8", "a fine film", "dull and unforgettable")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	n := 0
	for sc.Scan() {
		var e explain.Explanation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("line %d is not an explanation: %v\n%s", n+1, err, sc.Text())
		}
		n++
		if e.Target != e.Label || e.Steps != 8 || e.Baseline != "pad" {
			t.Errorf("%q: target %q label %q steps %d baseline %q; want the predicted label, 8 steps, pad", e.Text, e.Target, e.Label, e.Steps, e.Baseline)
		}
		if len(e.Tokens) < 3 || e.Tokens[0].Token != "[CLS]" || !e.Tokens[0].Special || e.Tokens[len(e.Tokens)-1].Token != "[SEP]" {
			t.Errorf("%q: tokens %+v, want [CLS] … [SEP]", e.Text, e.Tokens)
		}
		sum := 0.0
		for _, tk := range e.Tokens {
			sum += tk.IG
		}
		if d := sum - e.IGSum; d > 1e-12 || d < -1e-12 {
			t.Errorf("%q: token IG sums to %g, ig_sum says %g", e.Text, sum, e.IGSum)
		}
	}
	if n != 2 {
		t.Fatalf("%d JSON lines for 2 texts:\n%s", n, out)
	}
}

func TestExplainCommandText(t *testing.T) {
	code, out, stderr := runIn(t, "explain", "--model", explainModel, "--steps", "4", "--target", "negative", "--words", "unforgettable")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{`"unforgettable"`, "target negative", "gradient × input", "integrated gradients", "unforgettable[", "completeness: Σ IG"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour codes when standard output is not a terminal:\n%q", out)
	}
}

func TestExplainColourLine(t *testing.T) {
	e := &explain.Explanation{Text: "t", Label: "a", Target: "a", Probabilities: map[string]float64{"a": 1}, Tokens: []explain.TokenScore{
		{Token: "good", Text: "good", GradInput: 2, IG: 2}, {Token: "bad", Text: "bad", GradInput: -1, IG: -2}, {Token: "the", Text: "the"}}}
	var b bytes.Buffer
	printExplanation(&b, e, true, false)
	for _, want := range []string{
		"\x1b[30;48;2;60;180;75mgood\x1b[0m",    // the largest positive score: full green
		"\x1b[30;48;2;220;50;47mbad\x1b[0m",     // IG −2 of max 2: full red
		"\x1b[30;48;2;255;255;255mthe\x1b[0m",   // 0: white
		"\x1b[30;48;2;238;153;151mbad\x1b[0m"} { // grad×input −1 of max 2: half red
		if !strings.Contains(b.String(), want) {
			t.Errorf("coloured output lacks %q:\n%q", want, b.String())
		}
	}
}

func TestExplainCommandHTMLEscapes(t *testing.T) {
	dir := t.TempDir()
	page := filepath.Join(dir, "explain.html")
	text := `<script>alert("x")</script> & "quotes"`
	code, _, stderr := runIn(t, "explain", "--model", explainModel, "--steps", "2", "--html", page, text)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(page)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if !strings.HasPrefix(s, "<!DOCTYPE html>") || !strings.HasSuffix(s, "</html>\n") {
		t.Errorf("not a complete HTML page")
	}
	if strings.Contains(strings.ToLower(s), "<script") {
		t.Errorf("the page contains a <script> tag: user text was not escaped")
	}
	if !strings.Contains(s, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &#34;quotes&#34;") {
		t.Errorf("the escaped text is missing from the page")
	}
	for _, ext := range []string{"src=", "href=", "http://", "https://", "@import", "url("} {
		if strings.Contains(s, ext) {
			t.Errorf("the page refers to an external asset (%s)", ext)
		}
	}
}

func TestExplainCommandErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown target", []string{"--model", explainModel, "--target", "neutral", "fine"}, []string{`unknown target label "neutral"`, "negative, positive"}},
		{"bad baseline", []string{"--model", explainModel, "--baseline", "mean", "fine"}, []string{`unknown baseline "mean"`}},
		{"bad steps", []string{"--model", explainModel, "--steps", "0", "fine"}, []string{"--steps"}},
		{"no model", []string{"fine"}, []string{"--model"}},
		{"no tokenizer", []string{"--model", "testmodels/fixtures/bert", "fine"}, []string{"tokenizer.json"}},
		{"no head", []string{"--model", "testmodels/fixtures/bert-fe", "fine"}, []string{"feature-extraction", "ft run"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runIn(t, append([]string{"explain"}, c.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Errorf("error is not one line:\n%s", stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr %q does not say %q", stderr, w)
				}
			}
		})
	}
}

func TestExplainHelpExplainsEveryFlag(t *testing.T) {
	code, _, help := runIn(t, "explain", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"model", "file", "target", "steps", "baseline", "max-length", "batch-size", "json", "html", "no-color", "words"} {
		if !strings.Contains(help, "-"+f) {
			t.Errorf("--%s is not in ft explain --help", f)
		}
	}
}
