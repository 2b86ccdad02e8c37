package dataset

import (
	"bytes"
	"strings"
	"testing"
)

// fuzzRead parses data as path with options chosen by mode, and checks what
// Parse promises: an error of one line that names the file, or
// examples with a text and labels inside the label map; never a panic.
func fuzzRead(t *testing.T, path string, data []byte, mode uint8) {
	opt := ReadOptions{Header: HeaderMode(mode % 3)}
	switch mode / 3 % 5 {
	case 1:
		opt.Unlabeled = true
	case 2:
		opt.Problem = MultiLabel
	case 3:
		opt.Problem = Regression
	case 4:
		opt.Problem = SingleLabel
		opt.Labels, _ = NewLabelMap([]string{"neg", "pos", "0", "1"}, "the training file")
	}
	if mode&0x80 != 0 {
		opt.ID2Label = []string{"World", "Sports"}
	}
	d, err := Parse(path, data, opt)
	if err != nil {
		msg := err.Error()
		if strings.Contains(msg, "\n") {
			t.Fatalf("error spans lines: %q", msg)
		}
		if !strings.HasPrefix(msg, path+":") {
			t.Fatalf("error does not start with the file name: %q", msg)
		}
		return
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	for i, ex := range d.Examples {
		if strings.TrimSpace(ex.Text) == "" {
			t.Fatalf("example %d has an empty text", i)
		}
		if ex.Line < 1 || ex.Line > lines {
			t.Fatalf("example %d: line %d of a %d-line file", i, ex.Line, lines)
		}
		if d.Labels != nil {
			if d.Problem == SingleLabel && (ex.Label < 0 || ex.Label >= d.Labels.Len()) {
				t.Fatalf("example %d: label id %d of %d", i, ex.Label, d.Labels.Len())
			}
			for _, id := range ex.Labels {
				if id < 0 || id >= d.Labels.Len() {
					t.Fatalf("example %d: label id %d of %d", i, id, d.Labels.Len())
				}
			}
		}
	}
	if !opt.Unlabeled && d.Len() > 0 {
		if _, err := d.LabelTensor([]int{0}); err != nil && d.Problem != ProblemAuto {
			t.Fatalf("LabelTensor: %v", err)
		}
	}
}

// FuzzReadCSV: any bytes as a .csv file.
func FuzzReadCSV(f *testing.F) {
	for _, s := range []string{
		"text,label\nhello,pos\nworld,neg\n",
		"sentence1,sentence2,label\n\"a, b\",\"c \"\"d\"\"\",1\nx,y,0\n",
		"a,1\nb,0\n",
		"text,labels\na,\"[\"\"x\"\",\"\"y\"\"]\"\nb,\"[]\"\n",
		"text,label\na,1.5\nb,-2\n",
		"\xef\xbb\xbftext,label\r\nx,World\r\n",
		"text,label\n\"never closed,1\n",
		"text,label\nbad \xff byte,1\n",
		"",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(13))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) { fuzzRead(t, "f.csv", data, mode) })
}

// FuzzReadTSV: any bytes as a .tsv file.
func FuzzReadTSV(f *testing.F) {
	for _, s := range []string{
		"sentence\tlabel\nit is good\t1\nbad\t0\n",
		"a\tWorld\nb\tSports\n",
		"text\ttext_pair\tlabel\nq\ta\tyes\nq2\ta2\tno\n",
		"text\tlabels\na\tx,y\nb\ty\n",
		"sentence\tlabel\n\"quoted\ttab\"\t1\n",
		"\xff\xfet\x00e\x00",
		"sentence\tlabel\na\t1\nb\tc\t0\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(4))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) { fuzzRead(t, "f.tsv", data, mode) })
}

// FuzzReadJSONL: any bytes as a .jsonl file.
func FuzzReadJSONL(f *testing.F) {
	for _, s := range []string{
		`{"text": "good", "label": "pos"}` + "\n" + `{"text": "bad", "label": "neg"}` + "\n",
		`{"sentence1": "a", "sentence2": "b", "label": 1}` + "\n",
		`{"text": "a", "labels": ["x", "y"]}` + "\n" + `{"text": "b", "labels": []}` + "\n",
		`{"text": "a", "label": 0.5}` + "\n",
		`{"text": 5, "label": 1}` + "\n",
		`{"text": "a", "label": null}` + "\n",
		`{"text": "a", "label": {"x": 1}}` + "\n",
		`{"text": "\ud800", "label": true}` + "\n",
		"[1, 2]\n",
		`{"text": "a", "text": "b", "label": 1}`,
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(130))
	}
	f.Fuzz(func(t *testing.T, data []byte, mode uint8) { fuzzRead(t, "f.jsonl", data, mode) })
}
