package dataset

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDatasetProblems: each problem a user's file may have gets a one-line
// error that names the file (and the line where there is one).
func TestDatasetProblems(t *testing.T) {
	train, err := Parse("train.tsv", []byte("a\tpos\nb\tneg\nc\tpos\n"), ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	evalOpt := ReadOptions{Labels: train.Labels, Problem: train.Problem}
	cases := []struct {
		name, file, in string
		opt            ReadOptions
		want           string
	}{
		{"empty file", "train.csv", "", ReadOptions{}, "train.csv: the file is empty: it needs one example per line"},
		{"empty jsonl", "train.jsonl", "\n\n", ReadOptions{}, "train.jsonl: the file is empty"},
		{"missing text column", "train.csv", "review,label\ngood,1\n", ReadOptions{}, `train.csv: no text column: looked for "text", "sentence", "sentence1"; the columns are: review, label (choose one with ReadOptions.TextColumn)`},
		{"missing named label column", "train.csv", "text,stars\ngood,1\n", ReadOptions{LabelColumn: "label"}, `train.csv: label column "label" not found; the columns are: text, stars (choose one with ReadOptions.LabelColumn)`},
		{"missing jsonl key", "train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"b\"}\n", ReadOptions{}, `train.jsonl:2: the object has no "label" key; every example needs a label`},
		{"label unseen in training", "dev.tsv", "c\tpos\nd\tmaybe\n", evalOpt, `dev.tsv:2: unknown label "maybe": the labels (from the training file) are: neg, pos; fix the row or train with this label`},
		{"Latin-1 byte in CSV", "train.csv", "text,label\ngood,1\ncaf\xe9 au lait,0\n", ReadOptions{}, "train.csv:3: byte 0xe9 at column 4 is not UTF-8; save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)"},
		{"bad byte in TSV label", "train.tsv", "a\tpos\nb\tne\xffg\n", ReadOptions{}, "train.tsv:2: byte 0xff at column 5 is not UTF-8"},
		{"bad byte in JSONL", "train.jsonl", "{\"text\": \"a\", \"label\": 1}\n{\"text\": \"\xc3\x28\", \"label\": 0}\n", ReadOptions{}, "train.jsonl:2: byte 0xc3 at column 11 is not UTF-8"},
		{"UTF-16 file", "train.tsv", "\xff\xfea\x00\t\x001\x00", ReadOptions{}, "train.tsv:1: the file is UTF-16 text; save it as UTF-8"},
		{"column name with a line break", "train.csv", "\"re\nview\",label\ngood,1\n", ReadOptions{}, `the columns are: "re\nview", label`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(c.file, []byte(c.in), c.opt)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v\nwant one containing %q", err, c.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error spans lines: %q", err)
			}
		})
	}
}

// TestLongLines: a 1 MB line (and a 1 MB quoted field spanning lines) reads
// like any other; the readers have no line-length limit (files are read
// whole; the tokenizer truncates to the model's length later).
func TestLongLines(t *testing.T) {
	long := strings.Repeat("word ", 1<<20/5) // 1 MB
	dir := t.TempDir()
	for _, c := range []struct{ file, content string }{
		{"train.tsv", "sentence\tlabel\nshort\t0\n" + long + "\t1\n"},
		{"train.csv", "text,label\nshort,0\n\"" + long + "\n" + long + "\",1\n"},
		{"train.jsonl", "{\"text\": \"short\", \"label\": 0}\n{\"text\": \"" + long + "\", \"label\": 1}\n"},
	} {
		p := filepath.Join(dir, c.file)
		if err := os.WriteFile(p, []byte(c.content), 0o644); err != nil {
			t.Fatal(err)
		}
		d, err := Read(p, ReadOptions{})
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		if d.Len() != 2 || len(d.Examples[1].Text) < len(long) || d.Examples[1].Label != 1 {
			t.Fatalf("%s: %d examples, second text %d bytes, label %d", c.file, d.Len(), len(d.Examples[1].Text), d.Examples[1].Label)
		}
		if want := 3; c.file == "train.jsonl" {
			if d.Examples[1].Line != 2 {
				t.Fatalf("%s: line %d", c.file, d.Examples[1].Line)
			}
		} else if d.Examples[1].Line != want {
			t.Fatalf("%s: line %d, want %d", c.file, d.Examples[1].Line, want)
		}
	}
}
