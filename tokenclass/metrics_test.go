package tokenclass

import (
	"compress/gzip"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// seqevalCase is one corpus of tokenclass/testdata/seqeval_cases.json.gz,
// made by testmodels/seqeval_oracle.py with seqeval 1.2.2.
type seqevalCase struct {
	Scheme     string                     `json:"scheme"`
	True       [][]string                 `json:"true"`
	Pred       [][]string                 `json:"pred"`
	Warn       map[string]json.RawMessage `json:"warn"`
	ZD1        map[string]json.RawMessage `json:"zd1"`
	Suffix     map[string]json.RawMessage `json:"suffix"`
	Accuracy   *float64                   `json:"accuracy"`
	Text       string                     `json:"text"`
	TextStrict string                     `json:"text_strict"`
}

type seqevalReport struct {
	Error    string  `json:"error"`
	Types    [][]any `json:"types"`
	Micro    []any   `json:"micro"`
	Macro    []any   `json:"macro"`
	Weighted []any   `json:"weighted"`
}

func loadSeqevalCases(t *testing.T) (cases []seqevalCase, pairs map[string]int) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "seqeval_cases.json.gz"))
	if err != nil {
		t.Fatalf("%v (make it with $FT_PYTHON testmodels/seqeval_oracle.py)", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Pairs map[string]int `json:"pairs"`
		Cases []seqevalCase  `json:"cases"`
	}
	if err := json.NewDecoder(z).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Cases, doc.Pairs
}

// num reads a fixture number; null stands for NaN (JSON has none).
func num(t *testing.T, v any) float64 {
	t.Helper()
	switch x := v.(type) {
	case nil:
		return math.NaN()
	case float64:
		return x
	}
	t.Fatalf("not a number: %v", v)
	return 0
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12
}

func checkScores(t *testing.T, where string, got Scores, want []any) {
	t.Helper()
	if len(want) != 4 {
		t.Fatalf("%s: fixture row %v", where, want)
	}
	p, r, f, s := num(t, want[0]), num(t, want[1]), num(t, want[2]), int(num(t, want[3]))
	if !sameFloat(got.Precision, p) || !sameFloat(got.Recall, r) || !sameFloat(got.F1, f) || got.Support != s {
		t.Errorf("%s: got P %v R %v F1 %v support %d, seqeval P %v R %v F1 %v support %d",
			where, got.Precision, got.Recall, got.F1, got.Support, p, r, f, s)
	}
}

func TestEvaluateMatchesSeqeval(t *testing.T) {
	cases, pairs := loadSeqevalCases(t)
	for _, s := range []string{"IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"} {
		if pairs[s] < 1000 {
			t.Errorf("fixture has %d sequence pairs of %s, want at least 1000", pairs[s], s)
		}
	}
	var compared, refused, nanMacro int
	for ci, c := range cases {
		sufTrue, sufPred := toSuffix(c.True), toSuffix(c.Pred)
		for _, zd := range []struct {
			name   string
			val    float64
			suffix bool
			reps   map[string]json.RawMessage
		}{{"warn", 0, false, c.Warn}, {"zd1", 1, false, c.ZD1}, {"suffix", 0, true, c.Suffix}} {
			gold, pred := c.True, c.Pred
			if zd.suffix {
				gold, pred = sufTrue, sufPred
			}
			for key, raw := range zd.reps {
				var want seqevalReport
				if err := json.Unmarshal(raw, &want); err != nil {
					t.Fatal(err)
				}
				opt := MetricOptions{ZeroDivision: zd.val, Suffix: zd.suffix}
				switch key {
				case "default":
				case "strict":
					sc, err := ParseScheme(c.Scheme)
					if err != nil {
						t.Fatal(err)
					}
					opt.Mode, opt.Scheme = Strict, sc
				case "strict_auto":
					opt.Mode = Strict
				default:
					t.Fatalf("fixture key %q", key)
				}
				where := func() string { return fmt.Sprintf("case %d (%s) %s %s", ci, c.Scheme, key, zd.name) }
				got, err := Evaluate(gold, pred, opt)
				if want.Error != "" {
					refused++
					if err == nil {
						t.Errorf("%s: seqeval refused (%s) but Evaluate returned %+v", where(), want.Error, got)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s: %v", where(), err)
					continue
				}
				compared++
				if len(got.Types) != len(want.Types) {
					t.Errorf("%s: types %v, seqeval %v", where(), got.Types, want.Types)
					continue
				}
				for k, wt := range want.Types {
					if got.Types[k].Type != wt[0].(string) {
						t.Errorf("%s: type %d is %q, seqeval %q", where(), k, got.Types[k].Type, wt[0])
					}
					checkScores(t, where()+" "+got.Types[k].Type, got.Types[k].Scores, wt[1:])
				}
				checkScores(t, where()+" micro", got.Micro, want.Micro)
				checkScores(t, where()+" macro", got.Macro, want.Macro)
				checkScores(t, where()+" weighted", got.Weighted, want.Weighted)
				if math.IsNaN(got.Macro.F1) {
					nanMacro++
				}
			}
		}
		acc, err := Accuracy(c.True, c.Pred)
		switch {
		case c.Accuracy == nil && err == nil && len(c.True) == len(c.Pred):
			t.Errorf("case %d: seqeval's accuracy divides by zero, Accuracy gave %v", ci, acc)
		case c.Accuracy != nil && err == nil && !sameFloat(acc, *c.Accuracy):
			t.Errorf("case %d: accuracy %v, seqeval %v", ci, acc, *c.Accuracy)
		case c.Accuracy != nil && err != nil && checkConsistent(c.True, c.Pred) == nil:
			t.Errorf("case %d: accuracy: %v", ci, err)
		}
		if c.Text != "" {
			rep, err := Evaluate(c.True, c.Pred, MetricOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Format(4); got != c.Text {
				t.Errorf("case %d: text report\n%s\nseqeval\n%s", ci, got, c.Text)
			}
		}
		if c.TextStrict != "" {
			sc, _ := ParseScheme(c.Scheme)
			rep, err := Evaluate(c.True, c.Pred, MetricOptions{Mode: Strict, Scheme: sc})
			if err != nil {
				t.Fatal(err)
			}
			if got := rep.Format(4); got != c.TextStrict {
				t.Errorf("case %d: strict text report\n%s\nseqeval\n%s", ci, got, c.TextStrict)
			}
		}
	}
	t.Logf("%d reports compared, %d refused by both, %d with NaN macro; pairs %v", compared, refused, nanMacro, pairs)
	if compared < 1000 || refused == 0 || nanMacro == 0 {
		t.Errorf("fixture too narrow: %d compared, %d refused, %d NaN macro", compared, refused, nanMacro)
	}
}

// Hand-derived entities of malformed sequences (seqeval's own unit tests
// state the same ones).
func TestMalformedEntities(t *testing.T) {
	tests := []struct {
		name string
		tags []string
		opt  MetricOptions
		want map[string]int // type -> entity count
	}{
		{"I without B starts an entity", []string{"I-PER", "I-PER", "O"}, MetricOptions{}, map[string]int{"PER": 1}},
		{"type change splits", []string{"B-PER", "I-LOC", "O"}, MetricOptions{}, map[string]int{"PER": 1, "LOC": 1}},
		{"strict IOB2: I without B is no entity", []string{"I-PER", "I-PER", "O"}, MetricOptions{Mode: Strict, Scheme: IOB2}, map[string]int{}},
		{"strict IOB2: type change ends the span, the rest is no entity", []string{"B-PER", "I-LOC", "O"}, MetricOptions{Mode: Strict, Scheme: IOB2}, map[string]int{"PER": 1}},
		{"strict IOBES: B without E is no entity", []string{"B-PER", "I-PER", "O", "S-LOC"}, MetricOptions{Mode: Strict, Scheme: IOBES}, map[string]int{"LOC": 1}},
		{"strict IOB1: B after I of the same type starts one", []string{"I-PER", "B-PER", "O"}, MetricOptions{Mode: Strict, Scheme: IOB1}, map[string]int{"PER": 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, err := Evaluate([][]string{tc.tags}, [][]string{tc.tags}, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, ts := range rep.Types {
				got[ts.Type] = ts.Support
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("entities %v, want %v", got, tc.want)
			}
		})
	}
}

func TestEvaluateErrors(t *testing.T) {
	tests := []struct {
		name       string
		gold, pred [][]string
		opt        MetricOptions
		want       string
	}{
		{"lengths", [][]string{{"O"}}, [][]string{{"O", "O"}}, MetricOptions{}, "sequence 0: 1 true tags but 2 predicted"},
		{"counts", [][]string{{"O"}}, nil, MetricOptions{}, "1 true sequences but 0 predicted"},
		{"empty tag", [][]string{{""}}, [][]string{{"O"}}, MetricOptions{}, "true sequence 0, token 0: empty tag"},
		{"prefix not in scheme", [][]string{{"B-PER"}}, [][]string{{"S-PER"}}, MetricOptions{Mode: Strict, Scheme: IOB2}, `predicted sequence 0, token 0: tag "S-PER" has a prefix that IOB2 does not allow`},
		{"undetectable", [][]string{{"I-PER", "O"}}, [][]string{{"O", "O"}}, MetricOptions{Mode: Strict}, "cannot detect the tagging scheme"},
		{"zero division", [][]string{{"O"}}, [][]string{{"O"}}, MetricOptions{ZeroDivision: 0.5}, "zero-division value 0.5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Evaluate(tc.gold, tc.pred, tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// toSuffix is the oracle's to_suffix: "B-PER" becomes "PER-B" (the part
// after the first "-" moved before it).
func toSuffix(seqs [][]string) [][]string {
	out := make([][]string, len(seqs))
	for i, s := range seqs {
		out[i] = make([]string, len(s))
		for j, tag := range s {
			if a, b, ok := strings.Cut(tag, "-"); ok {
				tag = b + "-" + a
			}
			out[i][j] = tag
		}
	}
	return out
}

// evaluate's seqeval card example: MISC 0/1 found, PER 1/1; 8 of 10 tokens right.
func TestRunNERMetrics(t *testing.T) {
	gold := [][]string{{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	pred := [][]string{{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}}
	rep, err := Evaluate(gold, pred, MetricOptions{})
	if err != nil {
		t.Fatal(err)
	}
	acc, err := Accuracy(gold, pred)
	if err != nil {
		t.Fatal(err)
	}
	got := RunNERMetrics(rep, acc, false)
	want := map[string]float64{"precision": 0.5, "recall": 0.5, "f1": 0.5, "accuracy": 0.8}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = RunNERMetrics(rep, acc, true)
	want = map[string]float64{
		"MISC_precision": 0, "MISC_recall": 0, "MISC_f1": 0, "MISC_number": 1,
		"PER_precision": 1, "PER_recall": 1, "PER_f1": 1, "PER_number": 1,
		"overall_precision": 0.5, "overall_recall": 0.5, "overall_f1": 0.5, "overall_accuracy": 0.8,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
