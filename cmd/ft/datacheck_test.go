package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/dataset"
)

// TestDataCheckSST2 runs the command of issue #10's acceptance line and
// compares every count it prints (--json and text) with the independent
// counts of testmodels/data_check_oracle.py.
func TestDataCheckSST2(t *testing.T) {
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data", "sst2", "train.tsv")); err != nil {
		t.Skip("../shared/data/sst2 not found (the shared data folder beside the repository)")
	}
	b, err := os.ReadFile(filepath.Join("..", "..", "dataset", "testdata", "datacheck", "sst2_train_dev.json"))
	if err != nil {
		t.Fatalf("%v (make it with $FT_PYTHON testmodels/data_check_oracle.py)", err)
	}
	var g struct {
		TrainCounts, EvalCounts  oracleFile
		Exact                    map[string]int
		TrainInEval, EvalInTrain map[string]int
	}
	gj := strings.NewReplacer("train_counts", "TrainCounts", "eval_counts", "EvalCounts", "train_in_eval", "TrainInEval", "eval_in_train", "EvalInTrain").Replace(string(b))
	if err := json.Unmarshal([]byte(gj), &g); err != nil {
		t.Fatal(err)
	}
	args := []string{"data", "check", "../shared/data/sst2/train.tsv", "--eval", "../shared/data/sst2/dev.tsv"}
	code, out, stderr := runIn(t, append(args, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r dataset.DataCheck
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("--json output is not a DataCheck: %v", err)
	}
	if r.Schema != dataset.DataCheckSchema || r.MaxLength != 128 || !strings.Contains(r.Tokenizer, "tiny-bert") {
		t.Errorf("schema %q, max_length %d, tokenizer %q", r.Schema, r.MaxLength, r.Tokenizer)
	}
	for _, f := range []struct {
		name string
		got  *dataset.FileCheck
		want oracleFile
	}{{"train", r.Train, g.TrainCounts}, {"eval", r.Eval, g.EvalCounts}} {
		got := fmt.Sprint(f.got.Rows, f.got.CheckedRows, f.got.EmptyText.Rows, f.got.EmptyLabel.Rows,
			f.got.Duplicates.Rows, f.got.Duplicates.Groups, f.got.Duplicates.RowsByteExact,
			f.got.Conflicts.Texts, f.got.Conflicts.Rows, f.got.Conflicts.TextsByteExact, f.got.Lengths.Truncated, f.got.Lengths.Max)
		w := f.want
		want := fmt.Sprint(w.Rows, w.CheckedRows, w.EmptyText, w.EmptyLabel,
			w.Duplicates["rows"], w.Duplicates["groups"], w.Duplicates["rows_byte_exact"],
			w.Conflicts["texts"], w.Conflicts["rows"], w.Conflicts["texts_byte_exact"], w.Lengths.Truncated["128"], w.Lengths.Max)
		if got != want {
			t.Errorf("%s: rows, checked, empty text, empty label, duplicate rows/groups/byte-exact, conflict texts/rows/byte-exact, truncated at 128, max tokens:\n got %s\nwant %s", f.name, got, want)
		}
		for _, l := range f.got.Labels {
			if l.Rows != w.Labels[l.Label] {
				t.Errorf("%s label %s: %d rows, oracle %d", f.name, l.Label, l.Rows, w.Labels[l.Label])
			}
		}
	}
	e := r.Overlap.Exact
	if got, want := fmt.Sprint(e.Texts, e.TextsByteExact, e.TrainRows, e.EvalRows, e.LabelDisagree),
		fmt.Sprint(g.Exact["texts"], g.Exact["texts_byte_exact"], g.Exact["train_rows"], g.Exact["eval_rows"], g.Exact["label_disagree"]); got != want {
		t.Errorf("exact overlap: got %s, oracle %s", got, want)
	}
	for _, c := range []struct {
		name string
		got  *dataset.Containment
		want map[string]int
	}{{"train in eval", r.Overlap.TrainInEval, g.TrainInEval}, {"eval in train", r.Overlap.EvalInTrain, g.EvalInTrain}} {
		if got, want := fmt.Sprint(c.got.InnerTexts, c.got.InnerRows, c.got.OuterRows),
			fmt.Sprint(c.want["inner_texts"], c.want["inner_rows"], c.want["outer_rows"]); got != want {
			t.Errorf("%s: got %s, oracle %s", c.name, got, want)
		}
		if len(c.got.Examples) != 3 {
			t.Errorf("%s: %d examples, want 3 (the default)", c.name, len(c.got.Examples))
		}
	}

	// The text summary says the same numbers.
	code, out, stderr = runIn(t, args...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	tr := g.TrainCounts
	for _, want := range []string{
		"tokenizer  the bundled tiny BERT's",
		fmt.Sprintf("%d rows repeat an earlier row (same text and label) in %d groups", tr.Duplicates["rows"], tr.Duplicates["groups"]),
		fmt.Sprintf("%d texts have more than one label (%d rows)", tr.Conflicts["texts"], tr.Conflicts["rows"]),
		fmt.Sprintf("%d texts in both files (%d byte-exact): %d train rows, %d eval rows", g.Exact["texts"], g.Exact["texts_byte_exact"], g.Exact["train_rows"], g.Exact["eval_rows"]),
		fmt.Sprintf("train in eval %d train texts (%d rows) appear inside longer eval texts (%d eval rows contain one)", g.TrainInEval["inner_texts"], g.TrainInEval["inner_rows"], g.TrainInEval["outer_rows"]),
		fmt.Sprintf("eval in train %d eval texts (%d rows) appear inside longer train texts (%d train rows contain one)", g.EvalInTrain["inner_texts"], g.EvalInTrain["inner_rows"], g.EvalInTrain["outer_rows"]),
		"../shared/data/sst2/train.tsv:3939 (0)", // a conflict example names file:line
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
}

type oracleFile struct {
	Rows        int            `json:"rows"`
	CheckedRows int            `json:"checked_rows"`
	Labels      map[string]int `json:"labels"`
	EmptyText   int            `json:"empty_text"`
	EmptyLabel  int            `json:"empty_label"`
	Duplicates  map[string]int `json:"duplicates"`
	Conflicts   map[string]int `json:"conflicts"`
	Lengths     struct {
		Max       int            `json:"max"`
		Truncated map[string]int `json:"truncated"`
	} `json:"lengths"`
}

func TestDataCheckFlagsAndErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	train := write("train.tsv", "sentence\tlabel\na fine film\t1\na fine film\t1\nfine\t0\n")
	eval := write("eval.tsv", "sentence\tlabel\nfine\t1\n")
	cases := []struct {
		name string
		args []string
		code int
		want []string // in stdout (code 0) or stderr
	}{
		{"no subcommand", []string{"data"}, 1, []string{"missing subcommand"}},
		{"unknown subcommand", []string{"data", "clean"}, 1, []string{`unknown subcommand "clean"`}},
		{"no file", []string{"data", "check"}, 1, []string{"give the training file"}},
		{"two files", []string{"data", "check", train, eval}, 1, []string{"unexpected argument", "--eval"}},
		{"missing file", []string{"data", "check", filepath.Join(dir, "nope.tsv")}, 1, []string{"nope.tsv"}},
		{"bad max length", []string{"data", "check", train, "--max-length", "0"}, 1, []string{"--max-length must be positive"}},
		{"bad model", []string{"data", "check", train, "--model", dir}, 1, []string{"tokenizer.json"}},
		{"wrong column", []string{"data", "check", train, "--text-column", "text"}, 1, []string{`text column "text" not found`, "sentence"}},
		{"flags before the file, --train", []string{"data", "check", "--eval", eval, "--train", train}, 0,
			[]string{"1 rows repeat an earlier row", "1 texts in both files", "1 with other labels", "0 train texts (0 rows) appear inside longer eval texts (0 eval rows", "1 eval texts (1 rows) appear inside longer train texts (2 train rows"}},
		{"--model names labels and tokenizer", []string{"data", "check", train, "--model", "internal/bundled/tiny-bert", "--examples", "0"}, 0,
			[]string{"tokenizer  internal/bundled/tiny-bert/tokenizer.json", "negative 1 (33.3%), positive 2 (66.7%)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, stdout, stderr := runIn(t, c.args...)
			if code != c.code {
				t.Fatalf("exit %d, want %d\nstdout %s\nstderr %s", code, c.code, stdout, stderr)
			}
			text := stdout
			if c.code != 0 {
				text = stderr
				if strings.Contains(stderr, "panic") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 && c.name != "no file" {
					t.Errorf("want a one-line error, got:\n%s", stderr)
				}
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("output lacks %q:\n%s", w, text)
				}
			}
		})
	}
}

func TestDataCheckHelpExplainsEveryFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"data", "check", "--help"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d", code)
	}
	help := errb.String()
	for _, w := range []string{"Usage: ft data check TRAIN", "lower-casing", "in the middle of a word", "-json", "-max-length", "-text-column", "-text-pair-column", "-label-column", "-problem-type", "-model", "-eval", "-examples"} {
		if !strings.Contains(help, w) {
			t.Errorf("ft data check --help lacks %q", w)
		}
	}
}
