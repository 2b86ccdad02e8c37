package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"html"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strings"

	"ft/explain"
	"ft/finetune"
	"ft/graph"
	"ft/onnx"
	"ft/tokenize"
)

func runExplain(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "", "text-classification export folder (fine-tuned by ft run, or any export with a logits output)")
	file := fs.String("file", "", "read texts from this file, one per line (default: the arguments, else standard input)")
	target := fs.String("target", "", "explain this label's logit (default: the predicted label)")
	steps := fs.Int("steps", 50, "integrated-gradients steps (trapezoid rule on α = k/steps)")
	baseline := fs.String("baseline", "pad", "integrated-gradients baseline for ordinary tokens: pad (the [PAD] embedding) or zero; special tokens keep their embedding")
	maxLength := fs.Int("max-length", 128, "truncate texts to this many tokens")
	batch := fs.Int("batch-size", 16, "integrated-gradients steps computed in one forward/backward pass")
	jsonOut := fs.Bool("json", false, "print one JSON line per text with every token's scores instead of coloured lines")
	htmlOut := fs.String("html", "", "also write a self-contained HTML page of the explanations to this file")
	noColor := fs.Bool("no-color", false, "no ANSI colours (also off when standard output is not a terminal or NO_COLOR is set)")
	words := fs.Bool("words", false, "merge word pieces into words (scores summed) for display; JSON keeps tokens")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft explain --model DIR [flags] [TEXT ...]

Explains predictions token by token. For each text (arguments, --file, or standard input: one
per line) it prints the predicted label with its probabilities and two scores per token for the
target label's logit f, both from gradients with respect to the word embeddings e (before
position and token-type embeddings are added):

  gradient × input      Σ_h ∂f/∂e_ih · e_ih
  integrated gradients  Σ_h (e − b)_ih · ∫₀¹ ∂f/∂e_ih(b + α(e − b)) dα   (--steps, --baseline)

Integrated gradients satisfy completeness: the scores sum to f(x) − f(baseline), which is
printed as a check. Green supports the target label, red speaks against it.

Flags:
`)
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *model == "" {
		return fmt.Errorf("give --model DIR")
	}
	for _, c := range []struct {
		name   string
		v, max int
		what   string
	}{
		{"--steps", *steps, explain.MaxSteps, "integrated-gradients steps"},
		{"--batch-size", *batch, maxCount, "steps a pass"},
		{"--max-length", *maxLength, maxCount, "tokens"},
	} {
		if err := checkInt(c.name, c.v, 1, c.max, c.what); err != nil {
			return err
		}
	}
	texts, err := readTexts(fs.Args(), *file)
	if err != nil {
		return err
	}
	if len(texts) == 0 {
		return fmt.Errorf("no texts to explain: give them as arguments, with --file, or on standard input")
	}
	if err := checkModelPath(*model); err != nil {
		return err
	}
	m, err := finetune.LoadModel(*model, finetune.ModelOptions{Graph: graph.OptionsFromEnv()})
	if err != nil {
		return fmt.Errorf("%w (ft explain explains a classifier's logits: fine-tune the export with ft run first and explain OUTPUT-DIR/model)", err)
	}
	tok, err := tokenize.Load(*model)
	if err != nil {
		return err
	}
	x, err := explain.New(m, tok)
	if err != nil {
		return err
	}
	ex, err := x.Explain(context.Background(), texts, explain.Options{
		Target: *target, Steps: *steps, Baseline: *baseline, MaxLength: *maxLength, BatchSize: *batch})
	if err != nil {
		return err
	}
	if *jsonOut {
		enc := json.NewEncoder(stdout)
		for _, e := range ex {
			if err := enc.Encode(e); err != nil {
				return err
			}
		}
	} else {
		color := !*noColor && os.Getenv("NO_COLOR") == "" && isTerminal(stdout)
		for i, e := range ex {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			printExplanation(stdout, &e, color, *words)
		}
	}
	for _, e := range ex {
		if d := e.Logit - e.BaselineLogit; e.CompletenessError > 0.01 && math.Abs(d) >= 1e-3 {
			fmt.Fprintf(stderr, "warning: %q: integrated gradients sum to %.4f but f(x) − f(baseline) = %.4f (%.1f %% off): raise --steps (ReLU kinks make the integral converge slowly), or use --baseline pad (models that normalise the word embeddings alone, such as DeBERTa-v2 and ModernBERT, change abruptly near the zero baseline)\n",
				e.Text, e.IGSum, d, 100*e.CompletenessError)
		}
	}
	if *htmlOut != "" {
		if err := onnx.WriteFileAtomic(*htmlOut, []byte(explanationHTML(ex, *words))); err != nil {
			return err
		}
		if *jsonOut {
			fmt.Fprintf(stderr, "wrote %s\n", *htmlOut)
		} else {
			fmt.Fprintf(stdout, "\nwrote %s\n", *htmlOut)
		}
	}
	return nil
}

// piece is one displayed unit (token or word) with its scores.
type piece struct {
	text      string
	special   bool
	gi, ig    float64
	continues bool // glued to the previous piece (a word piece)
}

func pieces(e *explain.Explanation, words bool) []piece {
	var ps []piece
	if words {
		for _, w := range e.Words() {
			ps = append(ps, piece{text: strings.TrimLeft(w.Text, " "), special: w.Special, gi: w.GradInput, ig: w.IG})
		}
		return ps
	}
	for _, t := range e.Tokens {
		ps = append(ps, piece{text: strings.TrimLeft(t.Text, " "), special: t.Special, gi: t.GradInput, ig: t.IG, continues: t.Continues})
	}
	return ps
}

// shade blends white towards green (s > 0) or red (s < 0) by |s| ∈ [0, 1].
func shade(s float64) (r, g, b int) {
	a := math.Min(1, math.Abs(s))
	to := [3]float64{60, 180, 75}
	if s < 0 {
		to = [3]float64{220, 50, 47}
	}
	mix := func(c float64) int { return int(math.Round(255*(1-a) + c*a)) }
	return mix(to[0]), mix(to[1]), mix(to[2])
}

func maxAbs(ps []piece, ig bool) float64 {
	m := 0.0
	for _, p := range ps {
		v := p.gi
		if ig {
			v = p.ig
		}
		m = math.Max(m, math.Abs(v))
	}
	if m == 0 {
		m = 1
	}
	return m
}

func labelsLine(e *explain.Explanation) string {
	var b strings.Builder
	for _, l := range sortedKeys(e.Probabilities) {
		fmt.Fprintf(&b, " %s %.3f", l, e.Probabilities[l])
	}
	return b.String()
}

func sortedKeys(m map[string]float64) []string {
	return slices.Sorted(maps.Keys(m))
}

func printExplanation(w io.Writer, e *explain.Explanation, color, words bool) {
	fmt.Fprintf(w, "%q\n  label %s (%.3f)   probabilities:%s\n", e.Text, e.Label, e.Score, labelsLine(e))
	fmt.Fprintf(w, "  target %s: logit %.4f, at the %s baseline %.4f\n", e.Target, e.Logit, e.Baseline, e.BaselineLogit)
	ps := pieces(e, words)
	line := func(title string, ig bool) {
		scale := maxAbs(ps, ig)
		fmt.Fprintf(w, "  %-22s", title)
		for i, p := range ps {
			v := p.gi
			if ig {
				v = p.ig
			}
			if i > 0 && !(p.continues && color) {
				fmt.Fprint(w, " ")
			}
			if color {
				r, g, b := shade(v / scale)
				fmt.Fprintf(w, "\x1b[30;48;2;%d;%d;%dm%s\x1b[0m", r, g, b, p.text)
			} else {
				fmt.Fprintf(w, "%s[%+.3g]", p.text, v)
			}
		}
		fmt.Fprintln(w)
	}
	line("gradient × input", false)
	line("integrated gradients", true)
	fmt.Fprintf(w, "  completeness: Σ IG = %.4f, f(x) − f(baseline) = %.4f (%.2f %% off, %d steps)\n",
		e.IGSum, e.Logit-e.BaselineLogit, 100*e.CompletenessError, e.Steps)
}

// explanationHTML renders one self-contained page (inline CSS, no scripts,
// no external assets); every text from the user or the model is escaped.
func explanationHTML(ex []explain.Explanation, words bool) string {
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>ft explain</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
.ex{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}
.text{font-size:1.1em;font-weight:600}
.meta{color:#555;margin:.3em 0}
.row{margin:.5em 0;line-height:2em}
.row b{display:inline-block;width:13em;font-weight:500;color:#555}
.t{padding:.15em .25em;border-radius:3px;margin-right:.15em}
.sp{font-style:italic;color:#666}
.legend span{padding:.15em .5em;border-radius:3px}
</style></head><body>
<h1>ft explain</h1>
<p class="legend">Scores of each token for the target label's logit, from gradients with respect to the word embeddings.
<span style="background:rgb(60,180,75)">supports the target</span>
<span style="background:rgb(220,50,47)">speaks against it</span>;
hover a token for its score.</p>
`)
	esc := html.EscapeString
	for _, e := range ex {
		ps := pieces(&e, words)
		fmt.Fprintf(&b, "<div class=\"ex\">\n<div class=\"text\">%s</div>\n", esc(e.Text))
		fmt.Fprintf(&b, "<div class=\"meta\">label <b>%s</b> (%.3f) &middot; probabilities:", esc(e.Label), e.Score)
		for _, l := range sortedKeys(e.Probabilities) {
			fmt.Fprintf(&b, " %s %.3f", esc(l), e.Probabilities[l])
		}
		fmt.Fprintf(&b, "</div>\n<div class=\"meta\">target <b>%s</b>: logit %.4f, at the %s baseline %.4f; &Sigma; IG = %.4f vs f(x) &minus; f(baseline) = %.4f (%.2f %% off, %d steps)</div>\n",
			esc(e.Target), e.Logit, esc(e.Baseline), e.BaselineLogit, e.IGSum, e.Logit-e.BaselineLogit, 100*e.CompletenessError, e.Steps)
		for _, ig := range []bool{false, true} {
			title := "gradient &times; input"
			if ig {
				title = "integrated gradients"
			}
			fmt.Fprintf(&b, "<div class=\"row\"><b>%s</b>", title)
			scale := maxAbs(ps, ig)
			for _, p := range ps {
				v := p.gi
				if ig {
					v = p.ig
				}
				r, g, bl := shade(v / scale)
				cls := "t"
				if p.special {
					cls += " sp"
				}
				fmt.Fprintf(&b, "<span class=\"%s\" style=\"background:rgb(%d,%d,%d)\" title=\"%+.3g\">%s</span>", cls, r, g, bl, v, esc(p.text))
			}
			b.WriteString("</div>\n")
		}
		b.WriteString("</div>\n")
	}
	b.WriteString("</body></html>\n")
	return b.String()
}
