package dataset

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"ft/tokenize"
)

const dcTokenizerDir = "../internal/bundled/tiny-bert"

// dcCounts is every count of a FileCheck, for comparing against hand-derived
// or oracle values.
type dcCounts struct {
	Rows, Checked, EmptyText, EmptyLabel int
	Labels                               map[string]int
	DupRows, DupGroups, DupRowsByte      int
	ConfTexts, ConfRows, ConfTextsByte   int
}

func countsOf(f *FileCheck) dcCounts {
	c := dcCounts{Rows: f.Rows, Checked: f.CheckedRows, EmptyText: f.EmptyText.Rows, EmptyLabel: f.EmptyLabel.Rows,
		Labels:  map[string]int{},
		DupRows: f.Duplicates.Rows, DupGroups: f.Duplicates.Groups, DupRowsByte: f.Duplicates.RowsByteExact,
		ConfTexts: f.Conflicts.Texts, ConfRows: f.Conflicts.Rows, ConfTextsByte: f.Conflicts.TextsByteExact}
	for _, l := range f.Labels {
		c.Labels[l.Label] = l.Rows
	}
	return c
}

func containOf(c *Containment) [3]int {
	if c == nil {
		return [3]int{-1, -1, -1}
	}
	return [3]int{c.InnerTexts, c.InnerRows, c.OuterRows}
}

func exactOf(e ExactOverlap) [5]int {
	return [5]int{e.Texts, e.TextsByteExact, e.TrainRows, e.EvalRows, e.LabelDisagree}
}

func refLines(rs []RowRef) []int {
	var l []int
	for _, r := range rs {
		l = append(l, r.Line)
	}
	return l
}

// dcFile is a file TestCheckDataHand writes.
type dcFile struct{ name, body string }

// checkDataHandCase is a pair of files and the report wanted of them.
type checkDataHandCase struct {
	name        string
	train, eval dcFile
	read        ReadOptions
	wantTrain   dcCounts
	wantEval    *dcCounts
	exact       [5]int // texts, byte-exact texts, train rows, eval rows, label disagree
	trainInEval [3]int // inner texts, inner rows, outer rows
	evalInTrain [3]int
	notInTrain  []string
	targets     *TargetStats
	check       func(t *testing.T, r *DataCheck)
}

// checkDataHandCases are small files whose counts are derived by hand in
// the comments.
var checkDataHandCases = []checkDataHandCase{
	{
		name: "tsv train, csv eval",
		train: dcFile{"train.tsv", "text\tlabel\n" +
			"Good movie\t1\n" + //      2
			"good   MOVIE\t1\n" + //    3  repeats 2 (normalised only)
			"Good movie\t1\n" + //      4  repeats 2 (byte-exact too)
			"bad\t0\n" + //             5
			"bad\t1\n" + //             6  conflicts with 5 (byte-exact too)
			"\t1\n" + //                7  empty text
			"   \t0\n" + //             8  empty text
			"badly made\t0\n" + //      9
			"a bad movie .\t0\n" + //  10
			"x\t\n" + //               11  empty label
			"the end\t1\n" + //        12
			"The End\t0\n"}, //        13  conflicts with 12 (normalised only)
		eval: dcFile{"eval.csv", "sentence,label\n" +
			"bad,0\n" + //                  2  = train "bad" (labels {0,1} there: disagree)
			"a bad movie . really,0\n" + // 3  holds train "a bad movie ." and "bad"
			"\"Good Movie\",1\n" + //       4  = train "good movie" (normalised only; labels agree)
			"badly,0\n" + //                5  "bad" is not inside "badly"; "badly" is inside train "badly made"
			"movie,1\n" + //                6  inside train "good movie" (x3), "a bad movie ."
			"the end is near,1\n"}, //      7  holds train "the end" (2 rows)
		// train: 12 rows, 3 empty, 9 checked: 0 = lines 5, 8?no(empty), 9, 10, 13 -> 4; 1 = 2, 3, 4, 6, 12 -> 5
		wantTrain: dcCounts{Rows: 12, Checked: 9, EmptyText: 2, EmptyLabel: 1, Labels: map[string]int{"0": 4, "1": 5},
			DupRows: 2, DupGroups: 1, DupRowsByte: 1, ConfTexts: 2, ConfRows: 4, ConfTextsByte: 1},
		wantEval: &dcCounts{Rows: 6, Checked: 6, Labels: map[string]int{"0": 3, "1": 3}},
		// shared: "bad" (train 2 rows, eval 1), "good movie" (train 3, eval 1); byte-exact only "bad"
		exact: [5]int{2, 1, 5, 2, 1},
		// train texts inside longer eval texts: "bad" (2 rows), "a bad movie ." (1), "the end" (2);
		// eval rows holding one: lines 3 and 7
		trainInEval: [3]int{3, 5, 2},
		// eval texts inside longer train texts: "bad", "badly", "movie" (1 row each);
		// train rows holding one: "good movie" x3, "badly made", "a bad movie ."
		evalInTrain: [3]int{3, 3, 5},
		check:       checkHandExamples,
	},
	{
		name: "jsonl sentence pairs, string labels",
		train: dcFile{"train.jsonl", `{"text": "a", "text_pair": "b", "label": "yes"}
{"text": "A", "text_pair": "b ", "label": "yes"}
{"text": "a", "text_pair": "c", "label": "no"}
{"text": "a", "text_pair": "c", "label": "yes"}
{"text": "", "text_pair": "c", "label": "no"}
{"text": "d", "text_pair": "e", "label": ""}
`},
		eval: dcFile{"eval.jsonl", `{"text": "a", "text_pair": "b", "label": "maybe"}
{"text": "b", "text_pair": "a", "label": "no"}
`},
		// line 2 repeats line 1 once normalised ("b " vs "b"); (a, c) has labels no and yes
		wantTrain: dcCounts{Rows: 6, Checked: 4, EmptyText: 1, EmptyLabel: 1, Labels: map[string]int{"no": 1, "yes": 3},
			DupRows: 1, DupGroups: 1, DupRowsByte: 0, ConfTexts: 1, ConfRows: 2, ConfTextsByte: 1},
		wantEval: &dcCounts{Rows: 2, Checked: 2, Labels: map[string]int{"maybe": 1, "no": 1}},
		// (a, b): train lines 1 and 2, eval line 1 (maybe vs yes); (b, a) is another pair
		exact:       [5]int{1, 1, 2, 1, 1},
		trainInEval: [3]int{-1, -1, -1},
		evalInTrain: [3]int{-1, -1, -1},
		notInTrain:  []string{"maybe"},
	},
	{
		name:  "label map from the model: an eval class the training file never uses",
		train: dcFile{"train.tsv", "text\tlabel\nfine\tpos\nawful\tneg\n"},
		eval:  dcFile{"eval.tsv", "text\tlabel\nso so\tneutral\nfine\tpos\n"},
		read:  ReadOptions{ID2Label: []string{"neg", "pos", "neutral"}},
		// both files take the model's map (their labels are among its names)
		wantTrain:   dcCounts{Rows: 2, Checked: 2, Labels: map[string]int{"neg": 1, "pos": 1, "neutral": 0}},
		wantEval:    &dcCounts{Rows: 2, Checked: 2, Labels: map[string]int{"neg": 0, "pos": 1, "neutral": 1}},
		exact:       [5]int{1, 1, 1, 1, 0},
		trainInEval: [3]int{0, 0, 0},
		evalInTrain: [3]int{0, 0, 0},
		notInTrain:  []string{"neutral"},
	},
	{
		name:  "csv without header, regression, no eval",
		train: dcFile{"train.csv", "great,4.5\nbad,1.0\ngreat,4.5\nBad,2\n"},
		// "great"/4.5 twice; "bad" has targets 1 and 2 (not byte-exact: "Bad")
		wantTrain: dcCounts{Rows: 4, Checked: 4, Labels: map[string]int{},
			DupRows: 1, DupGroups: 1, DupRowsByte: 1, ConfTexts: 1, ConfRows: 2, ConfTextsByte: 0},
		targets: &TargetStats{Min: 1, Max: 4.5, Mean: 3, Median: 3.25},
	},
}

// TestCheckDataHand checks every count on small files whose counts are
// derived by hand in the comments.
func TestCheckDataHand(t *testing.T) {
	for _, tc := range checkDataHandCases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			trainPath := filepath.Join(dir, tc.train.name)
			if err := os.WriteFile(trainPath, []byte(tc.train.body), 0o644); err != nil {
				t.Fatal(err)
			}
			evalPath := ""
			if tc.eval.name != "" {
				evalPath = filepath.Join(dir, tc.eval.name)
				if err := os.WriteFile(evalPath, []byte(tc.eval.body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			r, err := CheckData(trainPath, evalPath, CheckOptions{Read: tc.read})
			if err != nil {
				t.Fatal(err)
			}
			checkDataHandReport(t, r, &tc)
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

// checkDataHandReport compares the counts of a report with those wanted.
func checkDataHandReport(t *testing.T, r *DataCheck, tc *checkDataHandCase) {
	t.Helper()
	if got := countsOf(r.Train); !reflect.DeepEqual(got, tc.wantTrain) {
		t.Errorf("train counts\n got %+v\nwant %+v", got, tc.wantTrain)
	}
	if tc.targets != nil && !reflect.DeepEqual(r.Train.Targets, tc.targets) {
		t.Errorf("targets %+v, want %+v", r.Train.Targets, tc.targets)
	}
	if tc.wantEval == nil {
		if r.Eval != nil || r.Overlap != nil {
			t.Errorf("no eval file, but the report has eval %v / overlap %v", r.Eval, r.Overlap)
		}
	} else {
		if got := countsOf(r.Eval); !reflect.DeepEqual(got, *tc.wantEval) {
			t.Errorf("eval counts\n got %+v\nwant %+v", got, *tc.wantEval)
		}
		if got := exactOf(r.Overlap.Exact); got != tc.exact {
			t.Errorf("exact overlap %v, want %v", got, tc.exact)
		}
		if got := containOf(r.Overlap.TrainInEval); got != tc.trainInEval {
			t.Errorf("train in eval %v, want %v", got, tc.trainInEval)
		}
		if got := containOf(r.Overlap.EvalInTrain); got != tc.evalInTrain {
			t.Errorf("eval in train %v, want %v", got, tc.evalInTrain)
		}
		var nit []string
		for _, l := range r.Eval.LabelsNotInTrain {
			nit = append(nit, l.Label)
		}
		if !slices.Equal(nit, tc.notInTrain) {
			t.Errorf("eval labels not in train %v, want %v", nit, tc.notInTrain)
		}
	}
}

// checkHandExamples checks the example rows of the first case of
// checkDataHandCases.
func checkHandExamples(t *testing.T, r *DataCheck) {
	t.Helper()
	tr := r.Train
	if got := refLines(tr.EmptyText.Examples); !slices.Equal(got, []int{7, 8}) {
		t.Errorf("empty text examples at lines %v, want [7 8]", got)
	}
	if got := refLines(tr.EmptyLabel.Examples); !slices.Equal(got, []int{11}) {
		t.Errorf("empty label examples at lines %v, want [11]", got)
	}
	if len(tr.Duplicates.Examples) != 1 || !slices.Equal(refLines(tr.Duplicates.Examples[0].Rows), []int{2, 3, 4}) {
		t.Errorf("duplicate examples %+v, want one group of lines 2, 3, 4", tr.Duplicates.Examples)
	}
	var conf [][]int
	for _, g := range tr.Conflicts.Examples {
		conf = append(conf, refLines(g.Rows))
	}
	if !reflect.DeepEqual(conf, [][]int{{5, 6}, {12, 13}}) {
		t.Errorf("conflict examples at lines %v, want [[5 6] [12 13]]", conf)
	}
	// longest inner text first: "a bad movie ." (train:10 in eval:3),
	// "the end" (train:12 in eval:7), "bad" (train:5 in eval:3)
	var pairs [][2]int
	for _, e := range r.Overlap.TrainInEval.Examples {
		pairs = append(pairs, [2]int{e.Inner.Line, e.Outer.Line})
	}
	if !reflect.DeepEqual(pairs, [][2]int{{10, 3}, {12, 7}, {5, 3}}) {
		t.Errorf("train-in-eval examples (train line, eval line) %v, want [[10 3] [12 7] [5 3]]", pairs)
	}
}

func TestCheckDataErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	tests := []struct {
		name, train, want string
	}{
		{"all rows empty", write("empty.tsv", "text\tlabel\n\t1\n  \t0\n"), "no row has both a text and a label (2 rows, 2 with an empty text, 0 with an empty label)"},
		{"bad field count", write("fields.tsv", "text\tlabel\na\t1\nb\t0\textra\n"), "fields.tsv:3: 3 fields"},
		{"missing file", filepath.Join(dir, "nope.tsv"), "nope.tsv"},
		{"unknown extension", write("data.txt", "a\t1\n"), "cannot tell the format"},
		{"not utf-8", write("latin1.tsv", "text\tlabel\ncaf\xe9\t1\n"), "latin1.tsv:2: byte 0xe9"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckData(tc.train, "", CheckOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestFindContainedBruteForce compares the automaton with the definition on
// random symbol strings.
func TestFindContainedBruteForce(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	gen := func(n, maxLen int) [][]int32 {
		seen := map[string]bool{}
		var out [][]int32
		for len(out) < n {
			s := make([]int32, 1+rng.Intn(maxLen))
			for i := range s {
				s[i] = int32(rng.Intn(3))
			}
			if k := fmt.Sprint(s); !seen[k] {
				seen[k] = true
				out = append(out, s)
			}
		}
		return out
	}
	inside := func(p, h []int32) bool {
		if len(p) >= len(h) {
			return false
		}
		for i := 0; i+len(p) <= len(h); i++ {
			if slices.Equal(p, h[i:i+len(p)]) {
				return true
			}
		}
		return false
	}
	for trial := 0; trial < 200; trial++ {
		pats, hays := gen(1+rng.Intn(20), 5), gen(1+rng.Intn(20), 8)
		found, contains := findContained(pats, hays)
		for p, pt := range pats {
			first := -1
			for h, hy := range hays {
				if inside(pt, hy) {
					first = h
					break
				}
			}
			if (found[p] >= 0) != (first >= 0) {
				t.Fatalf("trial %d: pattern %v found in haystack %d, brute force says %d (haystacks %v)", trial, pt, found[p], first, hays)
			}
			if found[p] >= 0 && !inside(pt, hays[found[p]]) {
				t.Fatalf("trial %d: pattern %v reported inside %v, which does not hold it", trial, pt, hays[found[p]])
			}
		}
		for h, hy := range hays {
			want := false
			for _, pt := range pats {
				want = want || inside(pt, hy)
			}
			if contains[h] != want {
				t.Fatalf("trial %d: haystack %v contains a pattern: got %v, brute force %v (patterns %v)", trial, hy, contains[h], want, pats)
			}
		}
	}
}

func TestWordTokens(t *testing.T) {
	syms := map[string]int32{" ": 0}
	tok := func(s string) []string {
		ids := dcWordTokens(s, syms)
		names := map[int32]string{}
		for k, v := range syms {
			names[v] = k
		}
		var out []string
		for _, id := range ids {
			out = append(out, names[id])
		}
		return out
	}
	tests := []struct {
		in   string
		want []string
	}{
		{"a bad movie .", []string{"a", " ", "bad", " ", "movie", " ", "."}},
		{"don't", []string{"don", "'", "t"}},
		{"snake_case x2", []string{"snake_case", " ", "x2"}},
		{"café!", []string{"café", "!"}},
	}
	for _, tc := range tests {
		if got := tok(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("dcWordTokens(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestContainedAt(t *testing.T) {
	tests := []struct {
		outer, inner string
		want         int
	}{
		{"a bad movie .", "bad movie", 2},
		{"badly bad", "bad", 6},
		{"badly", "bad", -1},
		{"unbad", "bad", -1},
		{"A  Bad\tmovie", "bad MOVIE", 2},
		{"movie.", "movie", 0},
		{"movie.", "movie .", -1},
		{"it's", "'s", 2},
		{"x", "", -1},
	}
	for _, tc := range tests {
		if got := ContainedAt(tc.outer, tc.inner); got != tc.want {
			t.Errorf("ContainedAt(%q, %q) = %d, want %d", tc.outer, tc.inner, got, tc.want)
		}
	}
}

// dcGolden is what testmodels/data_check_oracle.py writes.
type dcGolden struct {
	Train, Eval string
	TrainCounts dcOracleFile `json:"train_counts"`
	EvalCounts  dcOracleFile `json:"eval_counts"`
	Exact       struct {
		Texts          int `json:"texts"`
		TextsByteExact int `json:"texts_byte_exact"`
		TrainRows      int `json:"train_rows"`
		EvalRows       int `json:"eval_rows"`
		LabelDisagree  int `json:"label_disagree"`
	} `json:"exact"`
	TrainInEval dcOracleContain `json:"train_in_eval"`
	EvalInTrain dcOracleContain `json:"eval_in_train"`
}

type dcOracleContain struct {
	InnerTexts int `json:"inner_texts"`
	InnerRows  int `json:"inner_rows"`
	OuterRows  int `json:"outer_rows"`
}

type dcOracleFile struct {
	Rows       int            `json:"rows"`
	Checked    int            `json:"checked_rows"`
	Labels     map[string]int `json:"labels"`
	EmptyText  int            `json:"empty_text"`
	EmptyLabel int            `json:"empty_label"`
	Duplicates struct {
		Rows          int `json:"rows"`
		Groups        int `json:"groups"`
		RowsByteExact int `json:"rows_byte_exact"`
	} `json:"duplicates"`
	Conflicts struct {
		Texts          int `json:"texts"`
		Rows           int `json:"rows"`
		TextsByteExact int `json:"texts_byte_exact"`
	} `json:"conflicts"`
	Lengths struct {
		Min, Max, P50, P90, P95, P99 int
		Mean                         float64
		Truncated                    map[string]int
	} `json:"lengths"`
}

func (o dcOracleFile) counts() dcCounts {
	return dcCounts{Rows: o.Rows, Checked: o.Checked, EmptyText: o.EmptyText, EmptyLabel: o.EmptyLabel, Labels: o.Labels,
		DupRows: o.Duplicates.Rows, DupGroups: o.Duplicates.Groups, DupRowsByte: o.Duplicates.RowsByteExact,
		ConfTexts: o.Conflicts.Texts, ConfRows: o.Conflicts.Rows, ConfTextsByte: o.Conflicts.TextsByteExact}
}

// ReadDataCheckGolden reads one golden of testmodels/data_check_oracle.py.
func readDataCheckGolden(t *testing.T, name string) dcGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "datacheck", name))
	if err != nil {
		t.Fatalf("%v (make it with $FT_PYTHON testmodels/data_check_oracle.py)", err)
	}
	var g dcGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return g
}

// TestCheckDataSST2Oracle compares every count on the real SST-2 files with
// testmodels/data_check_oracle.py (plain Python and HF tokenizers).
func TestCheckDataSST2Oracle(t *testing.T) {
	data := sharedData(t, "sst2/train.tsv")
	tok, err := tokenize.Load(dcTokenizerDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		golden    string
		maxLength int
	}{
		{"sst2_train_dev.json", 32},
		{"sst2_train_test.json", 16},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			g := readDataCheckGolden(t, tc.golden)
			r, err := CheckData(filepath.Join(data, g.Train), filepath.Join(data, g.Eval),
				CheckOptions{Tokenizer: tok, TokenizerName: "tiny-bert", MaxLength: tc.maxLength, Examples: 5})
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name string
				got  *FileCheck
				want dcOracleFile
			}{{"train", r.Train, g.TrainCounts}, {"eval", r.Eval, g.EvalCounts}} {
				if got, want := countsOf(f.got), f.want.counts(); !reflect.DeepEqual(got, want) {
					t.Errorf("%s counts\n got %+v\nwant %+v", f.name, got, want)
				}
				l, w := f.got.Lengths, f.want.Lengths
				got := [6]int{l.Min, l.P50, l.P90, l.P95, l.P99, l.Max}
				want := [6]int{w.Min, w.P50, w.P90, w.P95, w.P99, w.Max}
				if got != want || math.Abs(l.Mean-w.Mean) > 1e-9 {
					t.Errorf("%s token lengths min/p50/p90/p95/p99/max %v mean %v, tokenizers says %v mean %v", f.name, got, l.Mean, want, w.Mean)
				}
				if wt := w.Truncated[fmt.Sprint(tc.maxLength)]; l.Truncated != wt {
					t.Errorf("%s: %d rows longer than %d tokens, tokenizers says %d", f.name, l.Truncated, tc.maxLength, wt)
				}
				checkRefs(t, f.got)
			}
			e := g.Exact
			if got, want := exactOf(r.Overlap.Exact), [5]int{e.Texts, e.TextsByteExact, e.TrainRows, e.EvalRows, e.LabelDisagree}; got != want {
				t.Errorf("exact overlap (texts, byte-exact, train rows, eval rows, label disagree) %v, oracle %v", got, want)
			}
			for _, c := range []struct {
				name string
				got  *Containment
				want dcOracleContain
			}{{"train in eval", r.Overlap.TrainInEval, g.TrainInEval}, {"eval in train", r.Overlap.EvalInTrain, g.EvalInTrain}} {
				if got, want := containOf(c.got), [3]int{c.want.InnerTexts, c.want.InnerRows, c.want.OuterRows}; got != want {
					t.Errorf("%s (inner texts, inner rows, outer rows) %v, oracle %v", c.name, got, want)
				}
				for _, ex := range c.got.Examples {
					in, out := NormalizeText(ex.Inner.Text), NormalizeText(ex.Outer.Text)
					if len(in) >= len(out) || !strings.Contains(out, in) || ContainedAt(out, in) < 0 {
						t.Errorf("%s example: %q is not inside %q", c.name, in, out)
					}
					checkLine(t, ex.Inner)
					checkLine(t, ex.Outer)
				}
			}
		})
	}
}

// checkRefs checks that the example rows of a file check point at lines
// that hold the texts they claim, and that the groups are what they say.
func checkRefs(t *testing.T, f *FileCheck) {
	t.Helper()
	for _, g := range f.Duplicates.Examples {
		for _, r := range g.Rows {
			checkLine(t, r)
			if NormalizeText(r.Text) != NormalizeText(g.Text) || r.Label != g.Rows[0].Label {
				t.Errorf("duplicate group %q: row %s has %q label %s", g.Text, r, r.Text, r.Label)
			}
		}
	}
	for _, g := range f.Conflicts.Examples {
		labels := map[string]bool{}
		for _, r := range g.Rows {
			checkLine(t, r)
			labels[r.Label] = true
		}
		if len(labels) < 2 {
			t.Errorf("conflict group %q has one label: %+v", g.Text, g.Rows)
		}
	}
	for _, r := range f.Lengths.Longest {
		checkLine(t, r)
	}
}

var dcLines = map[string][]string{}

// checkLine reads the file a RowRef names and checks its line starts with
// the row's text.
func checkLine(t *testing.T, r RowRef) {
	t.Helper()
	lines, ok := dcLines[r.File]
	if !ok {
		f, err := os.Open(r.File)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines = append(lines, sc.Text())
		}
		f.Close()
		dcLines[r.File] = lines
	}
	if r.Line < 1 || r.Line > len(lines) || !strings.HasPrefix(lines[r.Line-1], r.Text+"\t") {
		t.Errorf("%s does not hold %q", r, r.Text)
	}
}
