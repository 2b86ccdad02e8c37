package dataset

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ft/internal/testfixture"
)

// sharedData returns the folder of the shared real data sets (FT_DATA, or
// ../../shared/data), or skips t when it does not hold want (a file in it,
// as "sst2/train.tsv").
func sharedData(t *testing.T, want string) string {
	t.Helper()
	dir := os.Getenv("FT_DATA")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "data")
	}
	if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(want))); err != nil {
		t.Skipf("real data not found at %s (set FT_DATA to the shared/data folder)", dir)
	}
	return dir
}

func TestParseDelimitedLikePythonCSV(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		delim byte
		want  [][]string
		lines []int
	}{
		{"plain tsv", "a\tb\nc\td\n", '\t', [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}},
		{"no final newline", "a\tb\nc\td", '\t', [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}},
		{"crlf", "a,b\r\nc,d\r\n", ',', [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 2}},
		{"blank lines skipped", "a,b\n\n\nc,d\n", ',', [][]string{{"a", "b"}, {"c", "d"}}, []int{1, 4}},
		{"quoted with doubled quotes", "\"say \"\"hi\"\"\"\t1\n", '\t', [][]string{{`say "hi"`, "1"}}, []int{1}},
		{"quoted delimiter", "\"a,b\",c\n", ',', [][]string{{"a,b", "c"}}, []int{1}},
		{"quoted newline", "\"a\nb\",c\nd,e\n", ',', [][]string{{"a\nb", "c"}, {"d", "e"}}, []int{1, 3}},
		{"quote inside unquoted field kept", "it \"is\" x\t0\n", '\t', [][]string{{`it "is" x`, "0"}}, []int{1}},
		{"text after closing quote kept", "\"ab\"cd\t0\n", '\t', [][]string{{"abcd", "0"}}, []int{1}},
		{"empty fields", "\t\n", '\t', [][]string{{"", ""}}, []int{1}},
		{"agnews style", "\"\\\\\"\"Sven\"\"\\\\\"\tSci/Tech\n", '\t', [][]string{{`\\"Sven"\\`, "Sci/Tech"}}, []int{1}},
		{"escaped backslash kept", "a\\$b\t1\n", '\t', [][]string{{`a\$b`, "1"}}, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recs, err := parseDelimited("x", []byte(tc.in), tc.delim)
			if err != nil {
				t.Fatal(err)
			}
			var got [][]string
			var lines []int
			for _, r := range recs {
				got = append(got, r.cells)
				lines = append(lines, r.line)
			}
			if !reflect.DeepEqual(got, tc.want) || !reflect.DeepEqual(lines, tc.lines) {
				t.Errorf("got %q at lines %v, want %q at %v", got, lines, tc.want, tc.lines)
			}
		})
	}
}

// parseWant is what TestParseDataset expects of a parsed file; a nil
// slice is not checked.
type parseWant struct {
	header            bool
	text, pair, label string
	problem           ProblemType
	labels            []string
	source            string
	texts, pairs      []string
	ids               []int
	multi             [][]int
	targets           []float64
	lines             []int
}

// parseDatasetCases are the files TestParseDataset reads, with what it expects.
var parseDatasetCases = []struct {
	name string
	file string
	in   string
	opt  ReadOptions
	want parseWant
}{
	{
		name: "sst2 header", file: "train.tsv",
		in: "sentence\tlabel\nfine \t1\nbad\t0\n",
		want: parseWant{header: true, text: "sentence", label: "label", problem: SingleLabel, labels: []string{"0", "1"}, source: SourceFile,
			texts: []string{"fine ", "bad"}, ids: []int{1, 0}, lines: []int{2, 3}},
	},
	{
		name: "agnews no header, string labels", file: "dev.tsv",
		in: "a b\tWorld\nc \"d\" e\tSports\n\"q \"\"x\"\"\"\tWorld\n",
		want: parseWant{header: false, text: "0", label: "1", problem: SingleLabel, labels: []string{"Sports", "World"}, source: SourceFile,
			texts: []string{"a b", `c "d" e`, `q "x"`}, ids: []int{1, 0, 1}, lines: []int{1, 2, 3}},
	},
	{
		name: "header with other names detected by label cell", file: "d.csv",
		in:  "review,text,sentiment\nr1,good,pos\nr2,bad,neg\n",
		opt: ReadOptions{LabelColumn: "sentiment"},
		want: parseWant{header: true, text: "text", label: "sentiment", problem: SingleLabel, labels: []string{"neg", "pos"}, source: SourceFile,
			texts: []string{"good", "bad"}, ids: []int{1, 0}, lines: []int{2, 3}},
	},
	{
		name: "no header forced, columns by index", file: "d.csv",
		in:  "label,text\n1,a\n0,b\n",
		opt: ReadOptions{Header: HeaderAbsent, TextColumn: "1", LabelColumn: "0"},
		want: parseWant{header: false, text: "1", label: "0", problem: SingleLabel, labels: []string{"0", "1", "label"}, source: SourceFile,
			texts: []string{"text", "a", "b"}, ids: []int{2, 1, 0}},
	},
	{
		name: "sentence pairs", file: "mrpc.tsv",
		in: "sentence1\tsentence2\tlabel\na\tb\t1\nc\td\t0\n",
		want: parseWant{header: true, text: "sentence1", pair: "sentence2", label: "label", problem: SingleLabel, labels: []string{"0", "1"}, source: SourceFile,
			texts: []string{"a", "c"}, pairs: []string{"b", "d"}, ids: []int{1, 0}},
	},
	{
		name: "case-insensitive default names", file: "d.csv",
		in:   "Text,Label\nx,b\ny,a\n",
		want: parseWant{header: true, text: "Text", label: "Label", problem: SingleLabel, labels: []string{"a", "b"}, source: SourceFile, ids: []int{1, 0}},
	},
	{
		name: "integer labels sort numerically", file: "d.csv",
		in:   "text,label\na,10\nb,9\nc,2.0\n",
		want: parseWant{header: true, text: "text", label: "label", problem: SingleLabel, labels: []string{"2", "9", "10"}, source: SourceFile, ids: []int{2, 1, 0}},
	},
	{
		name: "id2label by name", file: "d.csv",
		in:   "text,label\na,positive\nb,negative\n",
		opt:  ReadOptions{ID2Label: []string{"negative", "positive", "neutral"}},
		want: parseWant{header: true, text: "text", label: "label", problem: SingleLabel, labels: []string{"negative", "positive", "neutral"}, source: SourceConfig, ids: []int{1, 0}},
	},
	{
		name: "id2label by integer id", file: "d.tsv",
		in:   "sentence\tlabel\na\t1\nb\t0\n",
		opt:  ReadOptions{ID2Label: []string{"LABEL_0", "LABEL_1"}},
		want: parseWant{header: true, text: "sentence", label: "label", problem: SingleLabel, labels: []string{"LABEL_0", "LABEL_1"}, source: SourceConfig, ids: []int{1, 0}},
	},
	{
		name: "id2label that does not fit", file: "d.tsv",
		in:   "sentence\tlabel\na\t2\nb\t0\n",
		opt:  ReadOptions{ID2Label: []string{"LABEL_0", "LABEL_1"}},
		want: parseWant{header: true, text: "sentence", label: "label", problem: SingleLabel, labels: []string{"0", "2"}, source: SourceFile, ids: []int{1, 0}},
	},
	{
		name: "regression detected", file: "stsb.tsv",
		in:   "sentence1\tsentence2\tlabel\na\tb\t3.8\nc\td\t0\n",
		want: parseWant{header: true, text: "sentence1", pair: "sentence2", label: "label", problem: Regression, targets: []float64{3.8, 0}},
	},
	{
		name: "multi-label JSON list in TSV", file: "d.tsv",
		in: "text\tlabels\na\t[\"x\",\"y\"]\nb\t[\"z\"]\nc\t[]\n",
		want: parseWant{header: true, text: "text", label: "labels", problem: MultiLabel, labels: []string{"x", "y", "z"}, source: SourceFile,
			multi: [][]int{{0, 1}, {2}, {}}},
	},
	{
		name: "multi-label comma cells when asked", file: "d.csv",
		in:  "text,label\na,\"y, x\"\nb,z\n",
		opt: ReadOptions{Problem: MultiLabel},
		want: parseWant{header: true, text: "text", label: "label", problem: MultiLabel, labels: []string{"x", "y", "z"}, source: SourceFile,
			multi: [][]int{{0, 1}, {2}}},
	},
	{
		name: "jsonl", file: "d.jsonl",
		in: "{\"id\": 3, \"text\": \"a\", \"label\": 1}\n\n{\"text\": \"b\", \"label\": 0, \"id\": 4}\n",
		want: parseWant{header: true, text: "text", label: "label", problem: SingleLabel, labels: []string{"0", "1"}, source: SourceFile,
			texts: []string{"a", "b"}, ids: []int{1, 0}, lines: []int{1, 3}},
	},
	{
		name: "jsonl multi-label arrays and pairs", file: "d.jsonl",
		in: "{\"text\": \"a\", \"text_pair\": \"p\", \"labels\": [\"x\", 2]}\n{\"text\": \"b\", \"text_pair\": \"q\", \"labels\": []}\n",
		want: parseWant{header: true, text: "text", pair: "text_pair", label: "labels", problem: MultiLabel, labels: []string{"2", "x"}, source: SourceFile,
			multi: [][]int{{0, 1}, {}}},
	},
	{
		name: "jsonl regression", file: "d.jsonl",
		in:   "{\"sentence\": \"a\", \"label\": 0.25}\n{\"sentence\": \"b\", \"label\": 1}\n",
		want: parseWant{header: true, text: "sentence", label: "label", problem: Regression, targets: []float64{0.25, 1}},
	},
	{
		name: "format override", file: "data.txt",
		in:   "text,label\na,1\n",
		opt:  ReadOptions{Format: FormatCSV},
		want: parseWant{header: true, text: "text", label: "label", problem: SingleLabel, labels: []string{"1"}, source: SourceFile, ids: []int{0}},
	},
	{
		name: "unlabeled", file: "d.tsv",
		in:   "sentence\nhello\n",
		opt:  ReadOptions{Unlabeled: true, Header: HeaderPresent},
		want: parseWant{header: true, text: "sentence", texts: []string{"hello"}},
	},
	{
		name: "byte order mark", file: "d.csv",
		in:   "\xef\xbb\xbftext,label\na,b\n",
		want: parseWant{header: true, text: "text", label: "label", problem: SingleLabel, labels: []string{"b"}, source: SourceFile},
	},
}

func TestParseDataset(t *testing.T) {
	for _, tc := range parseDatasetCases {
		t.Run(tc.name, func(t *testing.T) {
			d, err := Parse(tc.file, []byte(tc.in), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkParsed(t, tc.file, d, tc.want)
		})
	}
}

// checkParsed compares a parsed dataset with w.
func checkParsed(t *testing.T, file string, d *Dataset, w parseWant) {
	t.Helper()
	if d.HasHeader != w.header || d.TextColumn != w.text || d.TextPairColumn != w.pair || d.LabelColumn != w.label || d.Problem != w.problem {
		t.Errorf("header=%v text=%q pair=%q label=%q problem=%v, want %v %q %q %q %v",
			d.HasHeader, d.TextColumn, d.TextPairColumn, d.LabelColumn, d.Problem, w.header, w.text, w.pair, w.label, w.problem)
	}
	if w.labels != nil && len(w.labels) > 0 {
		if d.Labels == nil || !reflect.DeepEqual(d.Labels.Names, w.labels) || d.Labels.Source != w.source {
			t.Errorf("labels %+v, want %q from %s", d.Labels, w.labels, w.source)
		}
	}
	var texts, pairs []string
	var ids, lines []int
	var multi [][]int
	var targets []float64
	for _, ex := range d.Examples {
		texts = append(texts, ex.Text)
		pairs = append(pairs, ex.TextPair)
		ids = append(ids, ex.Label)
		lines = append(lines, ex.Line)
		l := ex.Labels
		if l == nil {
			l = []int{}
		}
		multi = append(multi, l)
		targets = append(targets, ex.Target)
	}
	check := func(what string, got, want any, set bool) {
		if set && !reflect.DeepEqual(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("texts", texts, w.texts, w.texts != nil)
	check("pairs", pairs, w.pairs, w.pairs != nil)
	check("ids", ids, w.ids, w.ids != nil)
	check("labels", multi, w.multi, w.multi != nil)
	check("targets", targets, w.targets, w.targets != nil)
	check("lines", lines, w.lines, w.lines != nil)
	if s := d.Summary(); !strings.Contains(s, file) {
		t.Errorf("summary %q does not name the file", s)
	}
}

func TestParseDatasetErrors(t *testing.T) {
	tests := []struct {
		name string
		file string
		in   string
		opt  ReadOptions
		want []string // substrings of the error
	}{
		{"empty file", "train.tsv", "", ReadOptions{}, []string{"train.tsv: the file is empty"}},
		{"blank file", "train.csv", "\n \n", ReadOptions{}, []string{"train.csv: the file is empty"}},
		{"empty jsonl", "train.jsonl", "\n", ReadOptions{}, []string{"the file is empty"}},
		{"header only", "train.tsv", "sentence\tlabel\n", ReadOptions{}, []string{"header but no examples"}},
		{"unknown extension", "train.parquet", "x", ReadOptions{}, []string{"train.parquet", "extension", ".csv"}},
		{"wrong column count", "t.tsv", "sentence\tlabel\na\t1\nb\tc\t0\n", ReadOptions{}, []string{"t.tsv:3:", "3 fields", "2", "TAB"}},
		{"empty text", "t.tsv", "sentence\tlabel\na\t1\n \t0\n", ReadOptions{}, []string{"t.tsv:3:", "text", "empty"}},
		{"empty label", "t.tsv", "sentence\tlabel\na\t1\nb\t\n", ReadOptions{}, []string{"t.tsv:3:", "label", "empty"}},
		{"unparsable regression label", "t.tsv", "sentence\tlabel\na\t1.5\nb\tx\n", ReadOptions{Problem: Regression}, []string{"t.tsv:3:", `"x"`, "not a number"}},
		{"wrong text column", "t.csv", "review,label\na,1\n", ReadOptions{TextColumn: "body"}, []string{`"body" not found`, "review, label", "ReadOptions.TextColumn"}},
		{"no default text column", "t.csv", "review,label\na,1\n", ReadOptions{}, []string{"no text column", `"sentence"`, "review, label"}},
		{"wrong label column", "t.csv", "text,label\na,1\n", ReadOptions{LabelColumn: "y"}, []string{`"y" not found`, "text, label", "ReadOptions.LabelColumn"}},
		{"name without header", "t.tsv", "a\tWorld\nb\tWorld\n", ReadOptions{TextColumn: "body", Header: HeaderAbsent}, []string{"no header", "0..1"}},
		{"unterminated quote", "t.tsv", "sentence\tlabel\n\"abc\t1\nx\t0\n", ReadOptions{}, []string{"t.tsv:2:", "never closes"}},
		{"jsonl not an object", "t.jsonl", "{\"text\":\"a\",\"label\":1}\n[1]\n", ReadOptions{}, []string{"t.jsonl:2:", "JSON object"}},
		{"jsonl bad json", "t.jsonl", "{\"text\":\"a\",\"label\":1\n", ReadOptions{}, []string{"t.jsonl:1:", "not a valid JSON"}},
		{"jsonl missing label", "t.jsonl", "{\"text\":\"a\",\"label\":1}\n{\"text\":\"b\"}\n", ReadOptions{}, []string{"t.jsonl:2:", `"label"`}},
		{"jsonl null label", "t.jsonl", "{\"text\":\"a\",\"label\":null}\n", ReadOptions{}, []string{"t.jsonl:1:", "missing"}},
		{"jsonl text not string", "t.jsonl", "{\"text\":5,\"label\":1}\n", ReadOptions{}, []string{"t.jsonl:1:", "must be a string"}},
		{"list label in single-label", "t.tsv", "text\tlabel\na\t[\"x\"]\n", ReadOptions{Problem: SingleLabel}, []string{"t.tsv:2:", "list"}},
		{"empty multi-label cell", "t.tsv", "text\tlabel\na\t\n", ReadOptions{Problem: MultiLabel}, []string{"t.tsv:2:", "[]"}},
		{"same column for text and label", "t.tsv", "a\tb\n", ReadOptions{Header: HeaderAbsent, LabelColumn: "0"}, []string{"both be column 0"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file, []byte(tc.in), tc.opt)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestEvalFileUsesTrainingLabels(t *testing.T) {
	train, err := Parse("train.tsv", []byte("a\tWorld\nb\tSports\nc\tBusiness\nd\tWorld\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opt := ReadOptions{Labels: train.Labels, Problem: train.Problem}
	ev, err := Parse("dev.tsv", []byte("x\tSports\ny\tWorld\n"), opt) // no repeated label: the label map tells it is data
	if err != nil {
		t.Fatal(err)
	}
	if got := []int{ev.Examples[0].Label, ev.Examples[1].Label}; !reflect.DeepEqual(got, []int{1, 2}) {
		t.Errorf("eval ids %v, want [1 2]", got)
	}
	_, err = Parse("dev.tsv", []byte("x\tSports\ny\tSci/Tech\n"), opt)
	if err == nil {
		t.Fatal("unknown label accepted")
	}
	for _, w := range []string{"dev.tsv:2:", `"Sci/Tech"`, "Business, Sports, World"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestLabelTensor(t *testing.T) {
	d, err := Parse("d.tsv", []byte("text\tlabels\na\t[\"x\",\"y\"]\nb\t[\"z\"]\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lt, err := d.LabelTensor([]int{1, 0})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(lt.Shape, []int{2, 3}) || !reflect.DeepEqual(lt.F32(), []float32{0, 0, 1, 1, 1, 0}) {
		t.Errorf("multi-hot %v", lt)
	}
	d, _ = Parse("d.tsv", []byte("text\tlabel\na\tb\nc\ta\n"), ReadOptions{})
	lt, _ = d.LabelTensor([]int{0, 1, 0})
	if !reflect.DeepEqual(lt.I64(), []int64{1, 0, 1}) {
		t.Errorf("ids %v", lt)
	}
	d, _ = Parse("d.tsv", []byte("text\tlabel\na\t0.5\nc\t2\n"), ReadOptions{})
	lt, _ = d.LabelTensor([]int{1})
	if !reflect.DeepEqual(lt.F32(), []float32{2}) {
		t.Errorf("targets %v", lt)
	}
	texts, pairs := d.Texts([]int{1, 0})
	if !reflect.DeepEqual(texts, []string{"c", "a"}) || pairs != nil {
		t.Errorf("texts %q pairs %q", texts, pairs)
	}
}

// TestRealData reads the shared SST-2 and AG News files and compares every
// text and label with what Python's csv module reads (fixture data.json).
func TestRealData(t *testing.T) {
	dir := sharedData(t, "sst2/train.tsv")
	var fx struct {
		Files []struct {
			File           string         `json:"file"`
			Rows           int            `json:"rows"`
			SHA256         string         `json:"sha256"`
			Labels         map[string]int `json:"labels"`
			QuotedRows     int            `json:"quoted_rows"`
			QuotedExamples []struct {
				Row  int    `json:"row"`
				Text string `json:"text"`
			} `json:"quoted_examples"`
		} `json:"files"`
	}
	testfixture.JSON(t, "data.json", &fx)
	if len(fx.Files) != 5 {
		t.Fatalf("fixture lists %d files, want 5", len(fx.Files))
	}
	for _, f := range fx.Files {
		t.Run(f.File, func(t *testing.T) {
			d, err := Read(filepath.Join(dir, f.File), ReadOptions{})
			if err != nil {
				t.Fatal(err)
			}
			t.Log(d.Summary())
			if d.Len() != f.Rows {
				t.Fatalf("%d rows, Python's csv reads %d", d.Len(), f.Rows)
			}
			wantHeader := strings.HasPrefix(f.File, "sst2")
			if d.HasHeader != wantHeader {
				t.Errorf("header detected = %v, want %v", d.HasHeader, wantHeader)
			}
			h := sha256.New()
			counts := map[string]int{}
			for _, ex := range d.Examples {
				name := d.Labels.Name(ex.Label)
				h.Write([]byte(ex.Text))
				h.Write([]byte{0x1f})
				h.Write([]byte(name))
				h.Write([]byte{0x1e})
				counts[name]++
			}
			if got := hex.EncodeToString(h.Sum(nil)); got != f.SHA256 {
				t.Errorf("texts and labels differ from Python's csv module (sha256 %s, want %s)", got, f.SHA256)
			}
			if !reflect.DeepEqual(counts, f.Labels) {
				t.Errorf("label counts %v, want %v", counts, f.Labels)
			}
			for _, q := range f.QuotedExamples {
				if got := d.Examples[q.Row].Text; got != q.Text {
					t.Errorf("row %d: %q, want %q", q.Row, got, q.Text)
				}
			}
		})
	}
	// The AG News test file has 278 CSV-quoted rows.
	for _, f := range fx.Files {
		if f.File == "agnews/test.tsv" && f.QuotedRows != 278 {
			t.Errorf("agnews/test.tsv: %d quoted rows, the data README says 278", f.QuotedRows)
		}
	}
}

func TestPermutationAndBatches(t *testing.T) {
	p := Permutation(10, 42, 0)
	// Golden: a change here changes every training run's data order.
	want := []int{6, 2, 5, 3, 4, 7, 0, 1, 9, 8}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("Permutation(10, 42, 0) = %v, want %v", p, want)
	}
	if reflect.DeepEqual(Permutation(10, 42, 1), p) {
		t.Error("epoch 1 has the same order as epoch 0")
	}
	if !reflect.DeepEqual(Permutation(10, 42, 0), p) {
		t.Error("not deterministic")
	}
	seen := make([]bool, 1000)
	for _, v := range Permutation(1000, 7, 3) {
		if seen[v] {
			t.Fatalf("%d twice", v)
		}
		seen[v] = true
	}
	tests := []struct {
		n, size  int
		dropLast bool
		want     [][]int
	}{
		{5, 2, false, [][]int{{0, 1}, {2, 3}, {4}}},
		{5, 2, true, [][]int{{0, 1}, {2, 3}}},
		{4, 2, true, [][]int{{0, 1}, {2, 3}}},
		{3, 8, false, [][]int{{0, 1, 2}}},
		{0, 8, false, nil},
	}
	for _, tc := range tests {
		got, err := EpochBatches(tc.n, tc.size, false, 0, 0, tc.dropLast)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("EpochBatches(%d, %d, drop=%v) = %v, %v; want %v", tc.n, tc.size, tc.dropLast, got, err, tc.want)
		}
	}
	if _, err := Batches([]int{1}, 0, false); err == nil {
		t.Error("batch size 0 accepted")
	}
	b, _ := EpochBatches(10, 4, true, 42, 0, false)
	if !reflect.DeepEqual(b, [][]int{{6, 2, 5, 3}, {4, 7, 0, 1}, {9, 8}}) {
		t.Errorf("shuffled batches %v", b)
	}
	for _, tc := range []struct{ n, bs, acc, want int }{{100, 8, 1, 13}, {100, 8, 4, 3}, {3, 8, 4, 1}, {96, 8, 1, 12}} {
		if got := StepsPerEpoch(tc.n, tc.bs, tc.acc, false); got != tc.want {
			t.Errorf("StepsPerEpoch(%d, %d, %d) = %d, want %d", tc.n, tc.bs, tc.acc, got, tc.want)
		}
	}
}

// TestIDColumnRefused: a label column with a distinct value in (almost)
// every row — an id column — is refused at loading, naming the column,
// instead of training a 100k-wide head that dies in evaluation.
func TestIDColumnRefused(t *testing.T) {
	file := func(rows, labels int) []byte {
		var b strings.Builder
		b.WriteString("text\tid\n")
		for i := 0; i < rows; i++ {
			fmt.Fprintf(&b, "row %d\tx%d\n", i, i%labels)
		}
		return []byte(b.String())
	}
	_, err := Parse("ids.tsv", file(100000, 100000), ReadOptions{LabelColumn: "id"})
	if err == nil || !strings.Contains(err.Error(), `ids.tsv: column id looks like an id column`) || !strings.Contains(err.Error(), "100000 distinct labels in 100000 rows") {
		t.Fatalf("got %v", err)
	}
	// many classes with two rows each are labels
	d, err := Parse("many.tsv", file(4000, 2000), ReadOptions{LabelColumn: "id"})
	if err != nil || d.Labels.Len() != 2000 {
		t.Fatalf("2000 labels in 4000 rows: %v", err)
	}
	// an evaluation file read with the training labels is not checked
	if _, err := Parse("eval.tsv", file(2000, 2000), ReadOptions{LabelColumn: "id", Labels: d.Labels}); err != nil {
		t.Fatal(err)
	}
}

// TestStrayQuote: a quote that opens a field and is closed lines later
// merges rows. Followed by text, or giving the row the wrong number of
// fields, it is refused naming the lines where the quoted field began and
// ended; with the right number of fields the dataset carries a warning. A
// quoted field of prose over several lines is read as before.
func TestStrayQuote(t *testing.T) {
	for _, c := range []struct {
		name, file, data string
		err, warn        string
	}{
		{"csv text after the quote", "a.csv", "text,label\n\"a good film,1\na bad film,0\n\"fine\",1\nok,0\n", "a.csv:2: a quoted field begins on line 2 and ends on line 4 followed by text", ""},
		{"tsv text after the quote", "a.tsv", "text\tlabel\n\"a good film\t1\na bad film\t0\n\"fine\"\t1\nok\t0\n", "a.tsv:2: a quoted field begins on line 2 and ends on line 4 followed by text", ""},
		{"csv fields", "b.csv", "text,label\n\"a good film,1\na bad film,0\nfine\",1,2\nok,0\n", "b.csv:2: 3 fields, but the header has 2 (columns text, label); a quoted field begins on line 2 and ends on line 4", ""},
		{"csv merged rows", "c.csv", "text,label\n\"a good film,1\na bad film,0\nfine\",1\nok,0\n", "", "c.csv:2: a quoted field begins on line 2 and ends on line 4, and 2 of its lines look like rows"},
		{"csv prose", "d.csv", "text,label\n\"Dear all\nthe film was fine\",1\nok,0\n", "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.file, []byte(c.data), ReadOptions{})
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, want an error with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.warn == "" && len(d.Warnings) > 0 || c.warn != "" && (len(d.Warnings) != 1 || !strings.Contains(d.Warnings[0], c.warn)) {
				t.Fatalf("warnings %q, want %q", d.Warnings, c.warn)
			}
		})
	}
}

// TestFormatOf: the extensions FormatOf knows are the names ParseFormat
// knows, in any case; others, and none, are refused naming the file.
func TestFormatOf(t *testing.T) {
	for _, tc := range []struct {
		path string
		want Format // "" for an error
	}{
		{"train.csv", FormatCSV}, {"dir.v2/Train.CSV", FormatCSV},
		{"dev.tsv", FormatTSV}, {"dev.tab", FormatTSV},
		{"d.jsonl", FormatJSONL}, {"d.ndjson", FormatJSONL}, {"d.JSON", FormatJSONL},
		{"data.txt", ""}, {"csv", ""}, {"data.", ""}, {"data.csv.gz", ""},
	} {
		got, err := FormatOf(tc.path)
		if got != tc.want || (err == nil) != (tc.want != "") {
			t.Errorf("FormatOf(%q) = %q, %v; want %q", tc.path, got, err, tc.want)
		}
		if err != nil && !strings.Contains(err.Error(), tc.path) {
			t.Errorf("FormatOf(%q): error %q does not name the file", tc.path, err)
		}
	}
}
