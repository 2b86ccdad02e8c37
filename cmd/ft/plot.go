package main

// Plotting lives beside the CLI, so that library users of finetune and
// sweep do not pull gonum/plot (fonts, a PDF writer) into their builds.

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"ft/finetune"
	"ft/onnx"
	"ft/sweep"
)

// plotSkip are eval keys that are timings, not metrics.
var plotSkip = map[string]bool{
	"eval_runtime": true, "eval_samples_per_second": true, "eval_steps_per_second": true,
}

// plotMetricsFile draws the curves of a metrics.jsonl file into a PNG.
func plotMetricsFile(jsonlPath, pngPath string) error {
	recs, err := finetune.ReadMetricsLog(jsonlPath)
	if err != nil {
		return err
	}
	return plotMetrics(recs, pngPath)
}

// plotMetrics draws a PNG with one panel per kind of curve, against the
// optimizer step: the losses (training loss and eval_loss), the evaluation
// metrics (every other eval_* value), and the learning rate. Panels without
// data are left out. Non-finite values are skipped.
func plotMetrics(recs []finetune.Record, pngPath string) error {
	series := map[string]plotter.XYs{}
	minStep, maxStep := math.Inf(1), math.Inf(-1)
	for _, r := range recs {
		minStep = math.Min(minStep, float64(r.Step))
		maxStep = math.Max(maxStep, float64(r.Step))
		for k, v := range r.Values {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				continue
			}
			series[k] = append(series[k], plotter.XY{X: float64(r.Step), Y: v})
		}
	}
	var metricKeys []string
	for k := range series {
		if strings.HasPrefix(k, "eval_") && k != "eval_loss" && !plotSkip[k] {
			metricKeys = append(metricKeys, k)
		}
	}
	sort.Strings(metricKeys)
	type panel struct {
		title, ylabel string
		keys          []string
		legendTop     bool // where the curves usually leave room
	}
	panels := []panel{
		{"Loss", "loss", []string{"loss", "eval_loss"}, true},
		{"Evaluation", "metric", metricKeys, false},
		{"Learning rate", "learning rate", []string{"learning_rate"}, true},
	}
	var plots [][]*plot.Plot
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "step"
		p.Y.Label.Text = pn.ylabel
		p.Add(plotter.NewGrid())
		p.Legend.Top = pn.legendTop
		p.X.Min, p.X.Max = minStep, maxStep // one step axis for all panels
		n := 0
		for _, k := range pn.keys {
			xy := series[k]
			if len(xy) == 0 {
				continue
			}
			sort.SliceStable(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return fmt.Errorf("plot %s: %w", k, err)
			}
			line.Color = plotutil.Color(n)
			points.Color = plotutil.Color(n)
			points.Shape = plotutil.Shape(n)
			points.Radius = vg.Points(2)
			if len(xy) > 60 { // dense training curves: the line alone
				p.Add(line)
				p.Legend.Add(k, line)
			} else {
				p.Add(line, points)
				p.Legend.Add(k, line, points)
			}
			n++
		}
		if n > 0 {
			plots = append(plots, []*plot.Plot{p})
		}
	}
	if len(plots) == 0 {
		return fmt.Errorf("plot: the metrics log has no values to draw")
	}
	img := vgimg.NewWith(vgimg.UseWH(9*vg.Inch, vg.Length(len(plots))*3*vg.Inch), vgimg.UseDPI(100))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: len(plots), Cols: 1, PadX: vg.Millimeter, PadY: 4 * vg.Millimeter,
		PadTop: 2 * vg.Millimeter, PadBottom: 2 * vg.Millimeter, PadLeft: 2 * vg.Millimeter, PadRight: 4 * vg.Millimeter}
	canvases := plot.Align(plots, tiles, dc)
	for i := range plots {
		plots[i][0].Draw(canvases[i][0])
	}
	tmp, err := os.CreateTemp(filepath.Dir(pngPath), ".plot-*.png")
	if err != nil {
		return err
	}
	tmp.Chmod(0o644) // CreateTemp makes 0600 files; a plot is for sharing
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(tmp); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), pngPath)
}

// plotSweep draws the metric of every finished trial against one parameter
// (log x axis when all its values are positive, as for the learning rate),
// with a line through the best trial at each value, into a PNG.
func plotSweep(rs []sweep.TrialResult, param, metric string, greater bool, pngPath string) error {
	var pts plotter.XYs
	best := map[float64]float64{}
	for _, r := range rs {
		x, okx := r.Params[param]
		y, oky := r.Metrics[metric]
		if r.Error != "" || !okx || !oky || math.IsNaN(y) || math.IsInf(y, 0) {
			continue
		}
		pts = append(pts, plotter.XY{X: x, Y: y})
		if b, ok := best[x]; !ok || (greater && y > b) || (!greater && y < b) {
			best[x] = y
		}
	}
	if len(pts) == 0 {
		return fmt.Errorf("plot: no finished trial has both %s and %s", param, metric)
	}
	var line plotter.XYs
	for x, y := range best {
		line = append(line, plotter.XY{X: x, Y: y})
	}
	sort.Slice(line, func(i, j int) bool { return line[i].X < line[j].X })
	p := plot.New()
	p.Title.Text = "eval " + metric + " against " + param + " (dots: trials; line: the best at each value)"
	p.X.Label.Text = param
	p.Y.Label.Text = metric
	p.Add(plotter.NewGrid())
	lo, hi := line[0].X, line[len(line)-1].X
	if lo > 0 {
		p.X.Scale = plot.LogScale{}
		p.X.Tick.Marker = plot.LogTicks{Prec: -1}
		// a margin of a fifth of a decade (and room for a single value)
		p.X.Min, p.X.Max = lo/math.Pow(10, 0.2), hi*math.Pow(10, 0.2)
	} else if lo == hi {
		p.X.Min, p.X.Max = lo-1, hi+1
	}
	l, err := plotter.NewLine(line)
	if err != nil {
		return err
	}
	l.Color = plotutil.Color(0)
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return err
	}
	sc.Color = plotutil.Color(0)
	sc.Radius = vg.Points(3)
	p.Add(l, sc)
	// a margin so that no dot sits on the frame
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
	}
	pad := 0.08 * (yhi - ylo)
	if pad == 0 {
		pad = 0.05*math.Abs(ylo) + 1e-3
	}
	p.Y.Min, p.Y.Max = ylo-pad, yhi+pad
	return savePlot(p, pngPath)
}

func savePlot(p *plot.Plot, pngPath string) error {
	w, err := p.WriterTo(7*vg.Inch, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return err
	}
	return onnx.WriteFileAtomic(pngPath, b.Bytes())
}
