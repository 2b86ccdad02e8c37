package finetune

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRecordJSON(t *testing.T) {
	tests := []struct {
		rec  Record
		want string
	}{
		{Record{Step: 10, Epoch: 0.5, Values: map[string]float64{"learning_rate": 5e-5, "loss": 0.6931, "grad_norm": 1.5}},
			`{"step":10,"epoch":0.5,"loss":0.6931,"learning_rate":5e-05,"grad_norm":1.5}`},
		{Record{Step: 20, Epoch: 1, Values: map[string]float64{"eval_loss": 0.4, "eval_accuracy": 0.9, "loss": math.NaN()}},
			`{"step":20,"epoch":1,"loss":null,"eval_accuracy":0.9,"eval_loss":0.4}`},
		{Record{Step: 0}, `{"step":0,"epoch":0}`},
	}
	for _, tc := range tests {
		b, err := tc.rec.MarshalJSON()
		if err != nil || string(b) != tc.want {
			t.Errorf("got %s, %v; want %s", b, err, tc.want)
		}
	}
}

func TestMetricsLog(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "run", "metrics.jsonl")
	l, err := OpenMetricsLog(path)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 3; s++ {
		if err := l.Write(Record{Step: s, Epoch: float64(s) / 3, Values: map[string]float64{"loss": 1 / float64(s)}}); err != nil {
			t.Fatal(err)
		}
		// Flushed at once: the line is in the file before Close.
		b, _ := os.ReadFile(path)
		if n := bytes.Count(b, []byte("\n")); n != s {
			t.Fatalf("after %d writes the file has %d lines", s, n)
		}
	}
	l.Close()
	// A crash leaves a torn line; reopening ends it and appends after it.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"step":4,"ep`)
	f.Close()
	if recs, err := ReadMetricsLog(path); err != nil || len(recs) != 3 {
		t.Fatalf("reading with a torn last line: %d records, %v", len(recs), err)
	}
	l, err = OpenMetricsLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Write(Record{Step: 4, Epoch: 1.25, Values: map[string]float64{"eval_loss": 0.3, "eval_accuracy": math.Inf(1)}}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	_, err = ReadMetricsLog(path)
	if err == nil || !strings.Contains(err.Error(), "metrics.jsonl:4:") {
		t.Fatalf("a torn line in the middle: %v, want an error naming line 4", err)
	}
	// Drop the torn line and read everything back.
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	clean := strings.Join(append(lines[:3], lines[4:]...), "\n") + "\n"
	os.WriteFile(path, []byte(clean), 0o644)
	recs, err := ReadMetricsLog(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[3].Step != 4 || recs[3].Epoch != 1.25 || recs[3].Values["eval_loss"] != 0.3 ||
		!math.IsNaN(recs[3].Values["eval_accuracy"]) || recs[1].Values["loss"] != 0.5 {
		t.Errorf("records %+v", recs)
	}
}
