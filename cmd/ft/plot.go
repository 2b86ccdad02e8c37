package main

// Plotting lives beside the CLI, so that library users of finetune and
// sweep do not pull gonum/plot (fonts, a PDF writer) into their builds.

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
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

// plotMetricsFile draws the curves of a metrics.jsonl file into a PNG,
// marking bestStep (the best evaluation by metric; 0: none).
func plotMetricsFile(jsonlPath, pngPath string, bestStep int, metric string) error {
	recs, err := finetune.ReadMetricsLog(jsonlPath)
	if err != nil {
		return err
	}
	return plotMetrics(recs, pngPath, bestStep, metric)
}

// plotColors are matplotlib's "tab10" colours (what transformers users
// see in their own plots): ten hues far apart, so that no two curves of a
// panel look alike. plotutil's default palette has pairs close in hue.
var plotColors = []color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff},
}

func plotColor(i int) color.Color { return plotColors[i%len(plotColors)] }

// legendRoom is the part of the step axis added right of the last step,
// where the legends go, so that they never cover the last points.
const legendRoom = 0.45

// plotMetrics draws a PNG with one panel per kind of curve, against the
// optimizer step: the losses (training loss and eval_loss), the evaluation
// metrics (every other eval_* value), and the learning rate. Panels without
// data are left out. Non-finite values are skipped. A dashed vertical line
// marks bestStep (when > 0) in every panel.
func plotMetrics(recs []finetune.Record, pngPath string, bestStep int, metric string) error {
	plots, _, err := curvePlots(recs, bestStep, metric)
	if err != nil {
		return err
	}
	return renderPanels(plots, pngPath)
}

// curvePlots builds the panels of plotMetrics, and the legend entries of
// each.
func curvePlots(recs []finetune.Record, bestStep int, metric string) ([][]*plot.Plot, [][]string, error) {
	var legends [][]string
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
	xMax := maxStep + legendRoom*math.Max(maxStep-minStep, 1)
	var plots [][]*plot.Plot
	for _, pn := range panels {
		p := plot.New()
		p.Title.Text = pn.title
		p.X.Label.Text = "step"
		p.Y.Label.Text = pn.ylabel
		p.Add(plotter.NewGrid())
		p.Legend.Top = pn.legendTop
		p.X.Min, p.X.Max = minStep, xMax // one step axis for all panels, with room for the legend
		p.X.Tick.Marker = stepTicks{last: maxStep}
		n := 0
		var legend []string
		for _, k := range pn.keys {
			xy := series[k]
			if len(xy) == 0 {
				continue
			}
			legend = append(legend, k)
			sort.SliceStable(xy, func(i, j int) bool { return xy[i].X < xy[j].X })
			line, points, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, nil, fmt.Errorf("plot %s: %w", k, err)
			}
			line.Color = plotColor(n)
			line.Width = vg.Points(1.2)
			points.Color = plotColor(n)
			points.Shape = plotutil.Shape(n)
			points.Radius = vg.Points(2.5)
			if len(xy) > 60 { // dense training curves: the line alone
				p.Add(line)
				p.Legend.Add(k, line)
			} else {
				p.Add(line, points)
				p.Legend.Add(k, line, points)
			}
			n++
		}
		if n == 0 {
			continue
		}
		if bestStep > 0 {
			// a vertical line through the best evaluation, across the
			// panel's data range
			lo, hi := math.Inf(1), math.Inf(-1)
			for _, k := range pn.keys {
				for _, q := range series[k] {
					lo, hi = math.Min(lo, q.Y), math.Max(hi, q.Y)
				}
			}
			pad := 0.02 * math.Max(hi-lo, 1e-12)
			bl, err := plotter.NewLine(plotter.XYs{{X: float64(bestStep), Y: lo - pad}, {X: float64(bestStep), Y: hi + pad}})
			if err != nil {
				return nil, nil, err
			}
			bl.Color = color.Black
			bl.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
			p.Add(bl)
			label := fmt.Sprintf("best: step %d", bestStep)
			if metric != "" {
				label = fmt.Sprintf("best %s: step %d", metric, bestStep)
			}
			p.Legend.Add(label, bl)
			legend = append(legend, label)
		}
		plots = append(plots, []*plot.Plot{p})
		legends = append(legends, legend)
	}
	if len(plots) == 0 {
		return nil, nil, fmt.Errorf("plot: the metrics log has no values to draw")
	}
	return plots, legends, nil
}

// renderPanels draws the panels one under the other into a PNG.
func renderPanels(plots [][]*plot.Plot, pngPath string) error {
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
	p, err := sweepPlot(rs, param, metric, greater)
	if err != nil {
		return err
	}
	return savePlot(p, pngPath)
}

// sweepPlotWidth is lr.png's width.
const sweepPlotWidth = 7 * vg.Inch

// sweepPlot builds the plot of plotSweep.
func sweepPlot(rs []sweep.TrialResult, param, metric string, greater bool) (*plot.Plot, error) {
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
		return nil, fmt.Errorf("plot: no finished trial has both %s and %s", param, metric)
	}
	var line plotter.XYs
	for x, y := range best {
		line = append(line, plotter.XY{X: x, Y: y})
	}
	sort.Slice(line, func(i, j int) bool { return line[i].X < line[j].X })
	p := plot.New()
	p.Title.Text = "eval " + metric + " against " + param
	p.X.Label.Text = param
	p.Y.Label.Text = metric
	p.Add(plotter.NewGrid())
	lo, hi := line[0].X, line[len(line)-1].X
	if lo > 0 {
		p.X.Scale = plot.LogScale{}
		// a margin of a fifth of a decade (and room for a single value)
		p.X.Min, p.X.Max = lo/math.Pow(10, 0.2), hi*math.Pow(10, 0.2)
	} else if lo == hi {
		p.X.Min, p.X.Max = lo-1, hi+1
	}
	l, err := plotter.NewLine(line)
	if err != nil {
		return nil, err
	}
	// every value tried is labelled on the axis
	p.X.Tick.Marker = valueTicks(line)
	l.Color = plotColor(0)
	sc, err := plotter.NewScatter(pts)
	if err != nil {
		return nil, err
	}
	sc.Color = plotColor(1)
	sc.Radius = vg.Points(3)
	p.Add(l, sc)
	p.Legend.Add("trials", sc)
	p.Legend.Add("best at each value", l)
	p.Legend.Top = true
	// a margin so that no dot sits on the frame
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		ylo, yhi = math.Min(ylo, q.Y), math.Max(yhi, q.Y)
	}
	pad := 0.08 * (yhi - ylo)
	if pad == 0 {
		pad = 0.05*math.Abs(ylo) + 1e-3
	}
	// and room above the dots for the legend (top right)
	p.Y.Min, p.Y.Max = ylo-pad, yhi+pad+0.35*(yhi-ylo+2*pad)
	return p, nil
}

// valueTicks labels each x value of pts (the values a sweep tried).
func valueTicks(pts plotter.XYs) plot.ConstantTicks {
	var t plot.ConstantTicks
	for _, q := range pts {
		t = append(t, plot.Tick{Value: q.X, Label: strconv.FormatFloat(q.X, 'g', 3, 64)})
	}
	return t
}

// stepTicks puts about ten labelled ticks on a step axis, at round steps
// (1, 2 or 5 times a power of ten), up to the last step (the room right of
// it is the legend's).
type stepTicks struct{ last float64 }

func (s stepTicks) Ticks(lo, hi float64) []plot.Tick {
	hi = math.Min(hi, s.last)
	if hi <= lo {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'f', -1, 64)}}
	}
	step := niceStep((hi - lo) / 10)
	var ticks []plot.Tick
	for v := math.Ceil(lo/step) * step; v <= hi+step*1e-9; v += step {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.FormatFloat(v, 'f', -1, 64)})
		for k := 1; k < 5; k++ { // unlabelled minor ticks
			if m := v + step*float64(k)/5; m <= hi {
				ticks = append(ticks, plot.Tick{Value: m})
			}
		}
	}
	return ticks
}

// niceStep rounds x up to 1, 2 or 5 times a power of ten (at least 1: a
// step is an integer).
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

func savePlot(p *plot.Plot, pngPath string) error {
	w, err := p.WriterTo(sweepPlotWidth, 4.5*vg.Inch, "png")
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if _, err := w.WriteTo(&b); err != nil {
		return err
	}
	return onnx.WriteFileAtomic(pngPath, b.Bytes())
}
