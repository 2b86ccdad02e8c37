package main

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ft/finetune"
	"ft/sweep"
)

func TestPlotMetrics(t *testing.T) {
	dir := t.TempDir()
	jl := filepath.Join(dir, "metrics.jsonl")
	l, err := finetune.OpenMetricsLog(jl)
	if err != nil {
		t.Fatal(err)
	}
	for s := 1; s <= 100; s++ {
		v := map[string]float64{"loss": 1 / math.Sqrt(float64(s)), "learning_rate": 5e-5 * (1 - float64(s)/100)}
		if s%25 == 0 {
			v["eval_loss"] = 0.8 / math.Sqrt(float64(s))
			v["eval_accuracy"] = 0.5 + 0.004*float64(s)
			v["eval_f1_macro"] = 0.45 + 0.004*float64(s)
			v["eval_runtime"] = 3
		}
		if s == 50 {
			v["loss"] = math.NaN()
		}
		l.Write(finetune.Record{Step: s, Epoch: float64(s) / 50, Values: v})
	}
	l.Close()
	out := filepath.Join(dir, "curves.png")
	if err := plotMetricsFile(jl, out); err != nil {
		t.Fatal(err)
	}
	if b := readPNG(t, out).Bounds(); b.Dx() != 900 || b.Dy() != 900 {
		t.Errorf("image %v, want 900x900 (three panels)", b)
	}
	if err := plotMetrics(nil, out); err == nil {
		t.Error("an empty log plotted")
	}
}

// TestPlotSweep draws the trials of a sweep against the learning rate.
func TestPlotSweep(t *testing.T) {
	var res []sweep.TrialResult
	for i, c := range []struct{ lr, acc float64 }{{1e-5, 0.5}, {1e-4, 0.8}, {1e-3, 0.9}, {1e-2, 0.8}, {1e-3, 0.85}} {
		res = append(res, sweep.TrialResult{Number: i, Params: map[string]float64{"learning_rate": c.lr},
			Metrics: map[string]float64{"accuracy": c.acc}, Seconds: 1, Time: time.Unix(0, 0)})
	}
	res = append(res, sweep.TrialResult{Number: 5, Params: map[string]float64{"learning_rate": 0.5}, Error: "diverged"})
	pngPath := filepath.Join(t.TempDir(), "lr.png")
	if err := plotSweep(res, "learning_rate", "accuracy", true, pngPath); err != nil {
		t.Fatal(err)
	}
	if b := readPNG(t, pngPath).Bounds(); b.Dx() < 400 {
		t.Errorf("lr.png is %v, want at least 400 wide", b)
	}
	if err := plotSweep(res, "learning_rate", "f1", true, pngPath); err == nil {
		t.Error("a metric no trial has was plotted")
	}
}

// readPNG decodes a PNG file.
func readPNG(t *testing.T, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return img
}
