package finetune

import (
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
)

// plotSkip are eval keys that are timings, not metrics.
var plotSkip = map[string]bool{
	"eval_runtime": true, "eval_samples_per_second": true, "eval_steps_per_second": true,
}

// PlotMetricsFile draws the curves of a metrics.jsonl file into a PNG.
func PlotMetricsFile(jsonlPath, pngPath string) error {
	recs, err := ReadMetricsLog(jsonlPath)
	if err != nil {
		return err
	}
	return PlotMetrics(recs, pngPath)
}

// PlotMetrics draws a PNG with one panel per kind of curve, against the
// optimizer step: the losses (training loss and eval_loss), the evaluation
// metrics (every other eval_* value), and the learning rate. Panels without
// data are left out. Non-finite values are skipped.
func PlotMetrics(recs []Record, pngPath string) error {
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
