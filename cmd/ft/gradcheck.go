package main

import (
	"flag"
	"fmt"
	"io"
	"math"
	"sort"

	"ft/graph"
)

func runGradcheck(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gradcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	batch := fs.Int("batch-size", 2, "rows of the random batch")
	seq := fs.Int("seq-len", 8, "sequence length of random text inputs")
	seed := fs.Uint64("seed", 1, "seed for inputs, loss weights and the parameter sample")
	maxParams := fs.Int("max-params", 0, "check at most this many parameters by finite differences (0: all)")
	eps := fs.Float64("eps", 5e-2, "largest finite-difference step, relative to each parameter's RMS (rounding noise shrinks as it grows; the 4-point stencil keeps truncation small)")
	tol := fs.Float64("tol", 1e-3, "relative error above which a line is flagged")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft gradcheck [flags] MODEL

Compares ft's analytic gradients with finite differences on a random batch,
for the loss Σ w·output with fixed random weights w:
  - per op type: each node on the backward path, in float64, on its recorded inputs;
  - per parameter: the derivative along sign(gradient), in float32 (4-point stencil).
Prints the worst relative error per op type and per parameter.

`)
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return fmt.Errorf("give one MODEL (a .onnx file or an export folder)")
	}
	for _, c := range []struct {
		flag   string
		v, max int
		what   string
	}{{"--batch-size", *batch, 1 << 16, "rows of the random batch"}, {"--seq-len", *seq, 1 << 16, "tokens a row"}} {
		if err := checkInt(c.flag, c.v, 1, c.max, c.what); err != nil {
			return err
		}
	}
	if err := checkInt("--max-params", *maxParams, 0, maxCount, "0: all"); err != nil {
		return err
	}
	if err := checkFloat("--eps", *eps, math.SmallestNonzeroFloat64, 1, false, "a number in (0, 1]"); err != nil {
		return err
	}
	if err := checkFloat("--tol", *tol, 0, math.MaxFloat64, false, "a finite number >= 0"); err != nil {
		return err
	}
	g, err := graph.LoadWith(fs.Arg(0), graph.OptionsFromEnv())
	if err != nil {
		return err
	}
	rep, err := g.GradCheck(graph.GradCheckOptions{Batch: *batch, SeqLen: *seq, Seed: *seed, MaxParams: *maxParams, Eps: *eps})
	if err != nil {
		return err
	}
	flag := func(e float64) string {
		if e > *tol {
			return "  <-- over tolerance"
		}
		return ""
	}
	worst := 0.0
	fmt.Fprintf(stdout, "per op type (float64, node by node)\n  %-22s %6s %10s  %s\n", "op", "nodes", "rel.err", "worst node")
	for _, o := range rep.OpType {
		worst = max(worst, o.RelErr)
		fmt.Fprintf(stdout, "  %-22s %6d %10.2e  %s%s\n", o.OpType, o.Nodes, o.RelErr, o.Node, flag(o.RelErr))
	}
	ps := append([]graph.ParamError(nil), rep.Params...)
	sort.SliceStable(ps, func(i, j int) bool { return ps[i].RelErr > ps[j].RelErr })
	w := 10
	for _, p := range ps {
		w = max(w, len(p.Name))
	}
	fmt.Fprintf(stdout, "\nper parameter (float32, derivative along sign(grad))\n  %-*s %12s %12s %10s %10s\n", w, "parameter", "analytic", "numeric", "fd noise", "rel.err")
	for _, p := range ps {
		worst = max(worst, p.RelErr)
		note := ""
		if p.BelowNoise {
			note = "  (gradient below float32 finite-difference resolution)"
		}
		fmt.Fprintf(stdout, "  %-*s %12.5e %12.5e %10.1e %10.2e%s%s\n", w, p.Name, p.Analytic, p.Numeric, p.Noise, p.RelErr, flag(p.RelErr), note)
	}
	fmt.Fprintf(stdout, "\nworst relative error %.2e (tolerance %.0e): ", worst, *tol)
	if worst > *tol {
		fmt.Fprintln(stdout, "FAIL")
		return fmt.Errorf("gradients disagree with finite differences")
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
