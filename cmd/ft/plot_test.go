package main

import (
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gonum.org/v1/plot/plotutil"

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
	if err := plotMetricsFile(jl, out, 75, "accuracy"); err != nil {
		t.Fatal(err)
	}
	if b := readPNG(t, out).Bounds(); b.Dx() != 900 || b.Dy() != 900 {
		t.Errorf("image %v, want 900x900 (three panels)", b)
	}
	if err := plotMetrics(nil, out, 0, ""); err == nil {
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

// TestCurvePlotsReadable: the legend has room right of the last step, the
// best step is marked in every panel, the curves of a panel have distinct
// colours, and the step axis has about ten labelled ticks (issue 22, 10).
func TestCurvePlotsReadable(t *testing.T) {
	var recs []finetune.Record
	for s := 1; s <= 100; s++ {
		v := map[string]float64{"loss": 1 / math.Sqrt(float64(s)), "learning_rate": 5e-5 * (1 - float64(s)/100)}
		if s%25 == 0 {
			v["eval_loss"], v["eval_accuracy"], v["eval_f1_macro"] = 0.5, 0.7, 0.69
		}
		recs = append(recs, finetune.Record{Step: s, Values: v})
	}
	plots, legends, err := curvePlots(recs, 75, "accuracy")
	if err != nil {
		t.Fatal(err)
	}
	if len(plots) != 3 {
		t.Fatalf("%d panels", len(plots))
	}
	for i, row := range plots {
		p := row[0]
		if p.X.Max < 100+legendRoom*99 {
			t.Errorf("panel %s: x axis ends at %v: no room for the legend right of step 100", p.Title.Text, p.X.Max)
		}
		if l := legends[i]; l[len(l)-1] != "best accuracy: step 75" {
			t.Errorf("panel %s: legend %v does not mark the best step", p.Title.Text, l)
		}
		labelled := 0
		for _, tk := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
			if tk.Label != "" {
				labelled++
				if tk.Value > 100 {
					t.Errorf("tick %v beyond the last step", tk.Value)
				}
			}
		}
		if labelled != 10 { // 10, 20, ..., 100
			t.Errorf("panel %s: %d labelled step ticks, want 10", p.Title.Text, labelled)
		}
	}
	// the palette: every pair of the first six colours (a classifier's
	// six eval metrics) is at least 120 apart (sum over R, G, B);
	// plotutil's default had two reds 65 apart
	if d := minColorDistance(plotutil.SoftColors[:6]); d >= 120 {
		t.Errorf("plotutil's palette %d apart: the test does not tell", d)
	}
	var ours []color.Color
	for _, c := range plotColors[:6] {
		ours = append(ours, c)
	}
	if d := minColorDistance(ours); d < 120 {
		t.Errorf("two colours only %d apart", d)
	}
	for _, c := range []struct{ x, want float64 }{{0.5, 1}, {1, 1}, {1.5, 2}, {3, 5}, {9.9, 10}, {12, 20}, {450, 500}} {
		if got := niceStep(c.x); got != c.want {
			t.Errorf("niceStep(%v) = %v, want %v", c.x, got, c.want)
		}
	}
}

func minColorDistance(cs []color.Color) int {
	best := 1 << 30
	for i := range cs {
		for j := i + 1; j < len(cs); j++ {
			r1, g1, b1, _ := cs[i].RGBA()
			r2, g2, b2, _ := cs[j].RGBA()
			d := absDiff(r1>>8, r2>>8) + absDiff(g1>>8, g2>>8) + absDiff(b1>>8, b2>>8)
			best = min(best, d)
		}
	}
	return best
}

func absDiff(a, b uint32) int {
	if a > b {
		return int(a - b)
	}
	return int(b - a)
}

// TestSweepPlotReadable: lr.png's title fits its width and every learning
// rate tried is labelled on the axis (issue 22, 10).
func TestSweepPlotReadable(t *testing.T) {
	var res []sweep.TrialResult
	lrs := []float64{1e-5, 3e-5, 1e-4, 3e-4, 1e-3}
	for i, lr := range lrs {
		res = append(res, sweep.TrialResult{Number: i, Params: map[string]float64{"learning_rate": lr},
			Metrics: map[string]float64{"f1_macro": 0.5 + 0.01*float64(i)}})
	}
	p, err := sweepPlot(res, "learning_rate", "f1_macro", true)
	if err != nil {
		t.Fatal(err)
	}
	if w := p.Title.TextStyle.Width(p.Title.Text); w > sweepPlotWidth {
		t.Errorf("title %q is %v wide, the plot %v", p.Title.Text, w, sweepPlotWidth)
	}
	labels := map[string]bool{}
	for _, tk := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		labels[tk.Label] = true
	}
	for _, want := range []string{"1e-05", "3e-05", "0.0001", "0.0003", "0.001"} {
		if !labels[want] {
			t.Errorf("learning rate %s not labelled (labels %v)", want, labels)
		}
	}
}
