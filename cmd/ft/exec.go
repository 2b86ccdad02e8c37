package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"ft/graph"
	"ft/kernels"
	"ft/npy"
	"ft/onnx"
	"ft/tensor"
)

// listFlag is a repeatable string flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, " ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

type execFlags struct {
	fs                                *flag.FlagSet
	input, dim                        listFlag
	inputs, saveInputs, output, names string
	compare                           string
	random, asJSON, bf16              bool
	seed                              uint64
	atol, rtol                        float64
	bench, warmup, threads            int
}

func newExecFlags(stderr io.Writer) *execFlags {
	f := &execFlags{fs: flag.NewFlagSet("exec", flag.ContinueOnError)}
	fs := f.fs
	fs.SetOutput(stderr)
	fs.Var(&f.input, "input", "the value of graph input `NAME=FILE.npy` (repeatable)")
	fs.StringVar(&f.inputs, "inputs", "", "`FILE.npz` holding graph inputs by name (numpy.savez); --input overrides single ones")
	fs.BoolVar(&f.random, "random", false, "draw the inputs no file gives: integer inputs that index an embedding table get ids below its size,\ninputs named *mask* get ones, other integers zeros, floats uniform in [-1, 1]")
	fs.Var(&f.dim, "dim", "size of a symbolic dimension, `NAME=VALUE`, for --random (repeatable),\ne.g. --dim batch_size=32 --dim sequence_length=128; dimensions of inputs read from files are taken from them")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of --random (the same seed gives the same inputs)")
	fs.StringVar(&f.saveInputs, "save-inputs", "", "write the inputs used (read or drawn) to `FILE.npz`, e.g. to feed ONNX Runtime the same values")
	fs.StringVar(&f.output, "output", "", "write the computed outputs to `FILE.npz` (numpy.load reads it)")
	fs.StringVar(&f.names, "outputs", "", "comma-separated `NAMES` of the values to compute (default: every graph output)")
	fs.StringVar(&f.compare, "compare", "", "compare each output with the array of the same name in `REF.npz` (max absolute and\nrelative error, index of the worst element); exit status 1 when one is out of tolerance")
	fs.Float64Var(&f.atol, "atol", 1e-5, "absolute tolerance of --compare: every element must satisfy |ours - ref| <= atol + rtol*|ref|")
	fs.Float64Var(&f.rtol, "rtol", 1e-5, "relative tolerance of --compare (see --atol)")
	fs.IntVar(&f.bench, "bench", 0, "time `N` runs after warm-up: median and spread of latency, samples per second\n(batch = first input's first dimension) and peak resident memory")
	fs.IntVar(&f.warmup, "warmup", 2, "untimed runs before the timed ones of --bench (besides the first run)")
	fs.IntVar(&f.threads, "threads", 0, "worker threads for GEMM and the parallel loops (sets GOMAXPROCS; 0: all cores)")
	fs.BoolVar(&f.asJSON, "json", false, "print the report as JSON")
	fs.BoolVar(&f.bf16, "bf16", false, "matrix products in bfloat16 with float32 accumulation (as ft run --bf16)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft exec MODEL [flags]

Runs MODEL (a .onnx file or an export folder) once on the given inputs, and optionally writes
the outputs, compares them with a reference (e.g. ONNX Runtime's) and times repeated runs:

  ft exec out/ --inputs inputs.npz --compare ort_outputs.npz --atol 1e-4
  ft exec out/ --random --dim batch_size=32 --dim sequence_length=128 --bench 20 --threads 2
  ft exec out/ --input input_ids=ids.npy --input attention_mask=mask.npy --output out.npz

.npy/.npz files are numpy's (float32, float64, int64, int32, bool, uint8, int8; C order).

Flags:
`)
		printFlags(fs.Output(), fs)
	}
	return f
}

// execReport is what ft exec prints (--json: as is).
type execReport struct {
	Model      string         `json:"model"`
	Threads    int            `json:"threads"`
	Inputs     []execIO       `json:"inputs"`
	Outputs    []execIO       `json:"outputs"`
	FirstRunMs float64        `json:"first_run_ms"`
	Compare    *compareReport `json:"compare,omitempty"`
	Bench      *benchReport   `json:"bench,omitempty"`
}

type execIO struct {
	Name   string `json:"name"`
	DType  string `json:"dtype"`
	Shape  []int  `json:"shape"`
	Source string `json:"source,omitempty"`
}

type compareReport struct {
	Reference      string       `json:"reference"`
	Atol           float64      `json:"atol"`
	Rtol           float64      `json:"rtol"`
	Outputs        []compareRow `json:"outputs"`
	NotInReference []string     `json:"not_in_reference,omitempty"`
	Pass           bool         `json:"pass"`
}

type compareRow struct {
	Output string `json:"output"`
	// Problem is set when the arrays cannot be compared element by element.
	Problem string    `json:"problem,omitempty"`
	MaxAbs  jsonFloat `json:"max_abs_error"`
	MaxRel  jsonFloat `json:"max_rel_error"`
	// Worst is the index of the element furthest out of tolerance
	// (|ours - ref| / (atol + rtol*|ref|) largest), with both values.
	Worst []int     `json:"worst_index"`
	Ours  jsonFloat `json:"ours"`
	Ref   jsonFloat `json:"reference"`
	Bad   int       `json:"elements_out_of_tolerance"`
	OK    bool      `json:"ok"`
}

type benchReport struct {
	Runs          int       `json:"runs"`
	Warmup        int       `json:"warmup"`
	Threads       int       `json:"threads"`
	Batch         int       `json:"batch"`
	MedianMs      float64   `json:"median_ms"`
	MinMs         float64   `json:"min_ms"`
	MeanMs        float64   `json:"mean_ms"`
	P90Ms         float64   `json:"p90_ms"`
	MaxMs         float64   `json:"max_ms"`
	StdMs         float64   `json:"std_ms"`
	SamplesPerSec float64   `json:"samples_per_s"`
	PeakRSSBytes  int64     `json:"peak_rss_bytes"` // 0 where the OS does not say
	LatenciesMs   []float64 `json:"latencies_ms"`
}

// jsonFloat writes Inf and NaN (which JSON lacks) as strings.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	v := float64(f)
	if math.IsInf(v, 0) || math.IsNaN(v) {
		return []byte(strconv.Quote(strconv.FormatFloat(v, 'g', -1, 64))), nil
	}
	return []byte(strconv.FormatFloat(v, 'g', -1, 64)), nil
}

func runExec(args []string, stdout, stderr io.Writer) error {
	f := newExecFlags(stderr)
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if err := f.check(); err != nil {
		return err
	}
	// Threads first: the shared worker pool takes GOMAXPROCS when it starts
	// (at the first parallel loop, possibly while the model loads).
	if f.threads > 0 {
		prev := runtime.GOMAXPROCS(f.threads)
		defer runtime.GOMAXPROCS(prev)
	}
	threads := min(runtime.GOMAXPROCS(0), kernels.Workers())
	if f.threads > 0 && threads != f.threads {
		fmt.Fprintf(stderr, "ft exec: note: the worker pool was started with %d threads before --threads %d; running on %d\n", kernels.Workers(), f.threads, threads)
	}

	gopt := graph.OptionsFromEnv()
	gopt.BF16 = f.bf16
	g, err := graph.LoadWith(f.fs.Arg(0), gopt)
	if err != nil {
		return err
	}
	rep := &execReport{Model: g.Model.Path, Threads: threads}
	feeds, order, err := execFeeds(g, f, rep)
	if err != nil {
		return err
	}
	want, err := execOutputNames(g, f.names)
	if err != nil {
		return err
	}
	if f.saveInputs != "" {
		var arrs []npy.Array
		for _, n := range order {
			arrs = append(arrs, npy.Array{Name: n, Tensor: feeds[n]})
		}
		if err := writeNPZ(f.saveInputs, arrs); err != nil {
			return err
		}
	}

	start := time.Now()
	res, err := g.Run(feeds, want...)
	if err != nil {
		return err
	}
	rep.FirstRunMs = ms(time.Since(start))
	var outs []npy.Array
	for _, n := range want {
		t := res[n]
		rep.Outputs = append(rep.Outputs, execIO{Name: n, DType: t.DType().String(), Shape: t.Shape})
		outs = append(outs, npy.Array{Name: n, Tensor: t})
	}
	if f.output != "" {
		if err := writeNPZ(f.output, outs); err != nil {
			return err
		}
	}
	if f.compare != "" {
		if rep.Compare, err = compareOutputs(f.compare, outs, f.atol, f.rtol); err != nil {
			return err
		}
	}
	if f.bench > 0 {
		batch := 1
		if len(order) > 0 && len(feeds[order[0]].Shape) > 0 {
			batch = feeds[order[0]].Shape[0]
		}
		if rep.Bench, err = benchmark(g, feeds, want, f.bench, f.warmup, threads, batch); err != nil {
			return err
		}
	}

	if f.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printExec(stdout, rep)
	}
	if c := rep.Compare; c != nil && !c.Pass {
		return compareFailure(c)
	}
	return nil
}

// check validates the flags of ft exec that need no model.
func (f *execFlags) check() error {
	if f.fs.NArg() != 1 {
		return fmt.Errorf("give one MODEL (a .onnx file or an export folder); got %d arguments (see ft exec --help)", f.fs.NArg())
	}
	if err := checkInt("--bench", f.bench, 0, maxBenchRuns, "timed runs (each keeps its latency)"); err != nil {
		return err
	}
	if err := checkInt("--warmup", f.warmup, 0, maxBenchRuns, "untimed runs"); err != nil {
		return err
	}
	if err := checkInt("--threads", f.threads, 0, maxThreads(), fmt.Sprintf("0: all %d cores; at most 4 threads a core", runtime.NumCPU())); err != nil {
		return err
	}
	if f.atol < 0 || f.rtol < 0 || math.IsNaN(f.atol) || math.IsNaN(f.rtol) {
		return fmt.Errorf("--atol and --rtol must be non-negative numbers")
	}
	return nil
}

// execOutputNames resolves --outputs (comma-separated value names) against
// the graph; empty means the graph outputs.
func execOutputNames(g *graph.Graph, names string) ([]string, error) {
	if names == "" {
		return g.OutputNames(), nil
	}
	var want []string
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if _, ok := g.ValueID(n); !ok {
			return nil, fmt.Errorf("--outputs: the model has no value %q (its outputs: %s)", n, strings.Join(g.OutputNames(), ", "))
		}
		want = append(want, n)
	}
	return want, nil
}

// compareFailure is the error of a --compare that found outputs out of
// tolerance.
func compareFailure(c *compareReport) error {
	var bad []string
	for _, r := range c.Outputs {
		if r.OK {
			continue
		}
		if r.Problem != "" {
			bad = append(bad, fmt.Sprintf("%q (%s)", r.Output, r.Problem))
		} else {
			bad = append(bad, fmt.Sprintf("%q (%d elements; worst at %s: ours %s, reference %s, |diff| %s)",
				r.Output, r.Bad, indexString(r.Worst), fmtVal(float64(r.Ours)), fmtVal(float64(r.Ref)), fmtVal(math.Abs(float64(r.Ours-r.Ref)))))
		}
	}
	return fmt.Errorf("%d of %d outputs out of tolerance (atol %g, rtol %g) against %s: %s",
		len(bad), len(c.Outputs), c.Atol, c.Rtol, c.Reference, strings.Join(bad, "; "))
}

// declared is a graph input's declared type and shape.
type declared struct {
	dtype tensor.DType
	dims  []*onnx.TensorShapeProto_Dimension // nil: rank unknown
}

func declaredOf(g *graph.Graph, name string) declared {
	id, _ := g.ValueID(name)
	tt := g.Values[id].Info.GetType().GetTensorType()
	d := declared{dtype: onnx.DTypeOf(tt.GetElemType())}
	if sh := tt.GetShape(); sh != nil {
		d.dims = sh.Dim
		if d.dims == nil {
			d.dims = []*onnx.TensorShapeProto_Dimension{}
		}
	}
	return d
}

// execFeeds gathers the inputs from --inputs, --input and --random, in graph
// input order, and records where each came from.
func execFeeds(g *graph.Graph, f *execFlags, rep *execReport) (map[string]*tensor.Tensor, []string, error) {
	names := g.InputNames()
	isInput := map[string]bool{}
	for _, n := range names {
		isInput[n] = true
	}
	feeds := map[string]*tensor.Tensor{}
	source := map[string]string{}
	if err := readGivenInputs(f, isInput, strings.Join(names, ", "), feeds, source); err != nil {
		return nil, nil, err
	}
	dims := map[string]int{}
	dimFrom := map[string]string{}
	for _, spec := range f.dim {
		name, val, ok := strings.Cut(spec, "=")
		n, err := strconv.Atoi(val)
		if !ok || name == "" || err != nil || n < 1 {
			return nil, nil, fmt.Errorf("--dim %q: write NAME=VALUE with a positive VALUE, e.g. --dim batch_size=32", spec)
		}
		dims[name], dimFrom[name] = n, "--dim"
	}
	symbolic, err := checkGivenInputs(g, names, feeds, source, dims, dimFrom)
	if err != nil {
		return nil, nil, err
	}
	for _, spec := range f.dim {
		name, _, _ := strings.Cut(spec, "=")
		if !symbolic[name] {
			var known []string
			for s := range symbolic {
				known = append(known, s)
			}
			sort.Strings(known)
			return nil, nil, fmt.Errorf("--dim %s: no input has a dimension named %q (symbolic dimensions: %s)", spec, name, orNone(known))
		}
	}
	var missing []string
	for _, n := range names {
		if _, ok := feeds[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 && !f.random {
		return nil, nil, fmt.Errorf("no value for input %s: give --input NAME=FILE.npy, --inputs FILE.npz, or --random", strings.Join(missing, ", "))
	}
	if err := drawMissingInputs(g, missing, dims, f.seed, feeds, source); err != nil {
		return nil, nil, err
	}
	for _, n := range names {
		t := feeds[n]
		rep.Inputs = append(rep.Inputs, execIO{Name: n, DType: t.DType().String(), Shape: t.Shape, Source: source[n]})
	}
	return feeds, names, nil
}

// readGivenInputs reads --inputs and --input into feeds, noting in source
// the file each came from. list names the graph inputs for the errors.
func readGivenInputs(f *execFlags, isInput map[string]bool, list string, feeds map[string]*tensor.Tensor, source map[string]string) error {
	if f.inputs != "" {
		arrs, err := npy.ReadNPZFile(f.inputs)
		if err != nil {
			return err
		}
		for _, a := range arrs {
			if !isInput[a.Name] {
				return fmt.Errorf("%s: array %q is not an input of the model (its inputs: %s)", f.inputs, a.Name, list)
			}
			feeds[a.Name], source[a.Name] = a.Tensor, f.inputs
		}
	}
	for _, spec := range f.input {
		name, file, ok := strings.Cut(spec, "=")
		if !ok || name == "" || file == "" {
			return fmt.Errorf("--input %q: write NAME=FILE.npy", spec)
		}
		if !isInput[name] {
			return fmt.Errorf("--input %s: the model has no input %q (its inputs: %s)", spec, name, list)
		}
		t, err := npy.ReadFile(file)
		if err != nil {
			return err
		}
		feeds[name], source[name] = t, file
	}
	return nil
}

// checkGivenInputs checks the given inputs against their declaration and
// learns the sizes of their symbolic dimensions into dims (dimFrom says
// who set each). It returns the set of symbolic dimension names.
func checkGivenInputs(g *graph.Graph, names []string, feeds map[string]*tensor.Tensor, source map[string]string, dims map[string]int, dimFrom map[string]string) (map[string]bool, error) {
	symbolic := map[string]bool{}
	for _, n := range names {
		d := declaredOf(g, n)
		for _, dm := range d.dims {
			if p := dm.GetDimParam(); p != "" {
				symbolic[p] = true
			}
		}
		t, ok := feeds[n]
		if !ok {
			continue
		}
		if d.dtype != tensor.Invalid && t.DType() != d.dtype {
			return nil, fmt.Errorf("%s: input %q is %s, the model takes %s (convert it, e.g. a.astype(np.%s))", source[n], n, t.DType(), d.dtype, d.dtype)
		}
		if d.dims == nil {
			continue
		}
		if len(d.dims) != len(t.Shape) {
			return nil, fmt.Errorf("%s: input %q has shape %v, the model takes rank %d (%s)", source[n], n, t.Shape, len(d.dims), dimsString(d.dims))
		}
		for i, dm := range d.dims {
			if v := dm.GetDimValue(); v > 0 && int(v) != t.Shape[i] {
				return nil, fmt.Errorf("%s: input %q has shape %v, the model takes %s", source[n], n, t.Shape, dimsString(d.dims))
			}
			p := dm.GetDimParam()
			if p == "" {
				continue
			}
			if have, ok := dims[p]; ok && have != t.Shape[i] {
				return nil, fmt.Errorf("%s: input %q has %s = %d (axis %d), but %s gives %s = %d", source[n], n, p, t.Shape[i], i, dimFrom[p], p, have)
			}
			dims[p], dimFrom[p] = t.Shape[i], fmt.Sprintf("input %q", n)
		}
	}
	return symbolic, nil
}

// drawMissingInputs draws the missing inputs for --random, in order, from
// one generator seeded with seed.
func drawMissingInputs(g *graph.Graph, missing []string, dims map[string]int, seed uint64, feeds map[string]*tensor.Tensor, source map[string]string) error {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	var unsized []string
	for _, n := range missing {
		d := declaredOf(g, n)
		if d.dims == nil {
			return fmt.Errorf("input %q declares no shape, so --random cannot draw it: give it with --input %s=FILE.npy", n, n)
		}
		shape := make([]int, len(d.dims))
		for i, dm := range d.dims {
			switch p, v := dm.GetDimParam(), dm.GetDimValue(); {
			case v > 0:
				shape[i] = int(v)
			case p != "":
				if s, ok := dims[p]; ok {
					shape[i] = s
				} else if !slices.Contains(unsized, p) {
					unsized = append(unsized, p)
				}
			default:
				return fmt.Errorf("input %q: axis %d has neither a size nor a name, so --random cannot draw it: give it with --input %s=FILE.npy", n, i, n)
			}
		}
		if len(unsized) > 0 {
			continue
		}
		t, how, err := drawInput(g, n, d.dtype, shape, rng)
		if err != nil {
			return err
		}
		feeds[n], source[n] = t, "random: "+how
	}
	if len(unsized) > 0 {
		var s []string
		for _, p := range unsized {
			s = append(s, "--dim "+p+"=N")
		}
		return fmt.Errorf("--random needs the size of %s: give %s", strings.Join(unsized, ", "), strings.Join(s, " "))
	}
	return nil
}

// drawInput draws a random value for input name, suited to what the graph
// does with it, and says how.
func drawInput(g *graph.Graph, name string, dt tensor.DType, shape []int, rng *rand.Rand) (*tensor.Tensor, string, error) {
	if dt == tensor.Invalid {
		return nil, "", fmt.Errorf("input %q: --random cannot draw its element type; give it with --input %s=FILE.npy", name, name)
	}
	if err := tensor.CheckAlloc(dt, shape); err != nil {
		// before allocating: a huge --dim is an error, not a crash
		return nil, "", fmt.Errorf("input %q of shape %v (from --dim): %v", name, shape, err)
	}
	t := tensor.Zeros(dt, shape...)
	id, _ := g.ValueID(name)
	isMask := strings.Contains(strings.ToLower(name), "mask")
	if dt == tensor.Int64 || dt == tensor.Int32 {
		if limit, table := indexLimit(g, id); limit > 0 {
			switch d := t.Data.(type) {
			case []int64:
				for i := range d {
					d[i] = int64(rng.IntN(limit))
				}
			case []int32:
				for i := range d {
					d[i] = int32(rng.IntN(limit))
				}
			}
			return t, fmt.Sprintf("ids in [0, %d) (rows of %s)", limit, table), nil
		}
	}
	switch d := t.Data.(type) {
	case []float32:
		if isMask {
			for i := range d {
				d[i] = 1
			}
			return t, "ones (a mask)", nil
		}
		for i := range d {
			d[i] = float32(2*rng.Float64() - 1)
		}
		return t, "uniform in [-1, 1]", nil
	case []float64:
		if isMask {
			for i := range d {
				d[i] = 1
			}
			return t, "ones (a mask)", nil
		}
		for i := range d {
			d[i] = 2*rng.Float64() - 1
		}
		return t, "uniform in [-1, 1]", nil
	case []bool:
		for i := range d {
			d[i] = true
		}
		return t, "true", nil
	}
	if isMask {
		switch d := t.Data.(type) {
		case []int64:
			for i := range d {
				d[i] = 1
			}
		case []int32:
			for i := range d {
				d[i] = 1
			}
		case []uint8:
			for i := range d {
				d[i] = 1
			}
		case []int8:
			for i := range d {
				d[i] = 1
			}
		}
		return t, "ones (a mask)", nil
	}
	return t, "zeros", nil
}

// indexLimit follows a value through shape-only ops (Cast, Reshape, ...) to
// the Gather nodes that index a constant table with it, and returns the
// smallest number of rows among those tables (0 if none) and its name.
func indexLimit(g *graph.Graph, id int) (int, string) {
	limit, table := 0, ""
	seen := map[int]bool{}
	var walk func(id, depth int)
	walk = func(id, depth int) {
		if seen[id] || depth > 6 {
			return
		}
		seen[id] = true
		for _, n := range g.Nodes {
			for k, in := range n.In {
				if in != id {
					continue
				}
				switch {
				case n.OpType == "Gather" && k == 1 && n.In[0] >= 0 && g.Values[n.In[0]].Const != nil:
					tv := g.Values[n.In[0]]
					axis := 0
					for _, a := range n.Proto.GetAttribute() {
						if a.GetName() == "axis" {
							axis = int(a.GetI())
						}
					}
					if axis < 0 {
						axis += len(tv.Const.Shape)
					}
					if axis >= 0 && axis < len(tv.Const.Shape) {
						if rows := tv.Const.Shape[axis]; rows > 0 && (limit == 0 || rows < limit) {
							limit, table = rows, tv.Name
							if tv.Param != nil {
								table = tv.Param.Name
							}
						}
					}
				case k == 0 && len(n.Out) > 0 && n.Out[0] >= 0 && slices.Contains([]string{"Cast", "Identity", "Reshape", "Unsqueeze", "Squeeze", "Flatten", "Expand"}, n.OpType):
					walk(n.Out[0], depth+1)
				}
			}
		}
	}
	walk(id, 0)
	return limit, table
}

// compareOutputs compares each output with the reference array of the same
// name: elementwise |ours - ref| <= atol + rtol*|ref| (numpy.allclose), NaN
// matching NaN.
func compareOutputs(path string, outs []npy.Array, atol, rtol float64) (*compareReport, error) {
	refs, err := npy.ReadNPZFile(path)
	if err != nil {
		return nil, err
	}
	c := &compareReport{Reference: path, Atol: atol, Rtol: rtol, Pass: true}
	byName := map[string]*tensor.Tensor{}
	var computed []string
	for _, o := range outs {
		byName[o.Name] = o.Tensor
		computed = append(computed, o.Name)
	}
	refNames := map[string]bool{}
	for _, r := range refs {
		refNames[r.Name] = true
		if _, ok := byName[r.Name]; !ok {
			return nil, fmt.Errorf("%s: array %q is not among the computed outputs (%s); name it with --outputs", path, r.Name, strings.Join(computed, ", "))
		}
	}
	for _, o := range outs {
		if !refNames[o.Name] {
			c.NotInReference = append(c.NotInReference, o.Name)
		}
	}
	for _, r := range refs {
		row := compareTensors(byName[r.Name], r.Tensor, atol, rtol)
		row.Output = r.Name
		c.Outputs = append(c.Outputs, row)
		c.Pass = c.Pass && row.OK
	}
	if len(c.Outputs) == 0 {
		return nil, fmt.Errorf("%s holds no arrays to compare with (computed: %s)", path, strings.Join(computed, ", "))
	}
	return c, nil
}

func compareTensors(ours, ref *tensor.Tensor, atol, rtol float64) compareRow {
	if !slices.Equal(ours.Shape, ref.Shape) {
		return compareRow{Problem: fmt.Sprintf("shape %v, reference %v", ours.Shape, ref.Shape)}
	}
	a, b := ours.Float64s(), ref.Float64s()
	row := compareRow{OK: true}
	worst, worstRatio, worstDiff := -1, -1.0, -1.0
	for i := range a {
		x, y := a[i], b[i]
		var d float64
		switch {
		case x == y || (math.IsNaN(x) && math.IsNaN(y)):
			d = 0
		case math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0):
			d = math.Inf(1)
		default:
			d = math.Abs(x - y)
		}
		if d > float64(row.MaxAbs) {
			row.MaxAbs = jsonFloat(d)
		}
		if d > 0 {
			rel := math.Inf(1)
			if y != 0 && !math.IsNaN(y) {
				rel = d / math.Abs(y)
			}
			row.MaxRel = jsonFloat(math.Max(float64(row.MaxRel), rel))
		}
		tol := atol + rtol*math.Abs(y)
		if math.IsInf(d, 1) || d > tol {
			row.Bad++
		}
		ratio := 0.0
		switch {
		case math.IsInf(d, 1):
			ratio = math.Inf(1)
		case d > 0:
			ratio = d / tol // +Inf when tol is 0
		}
		if ratio > worstRatio || (ratio == worstRatio && d > worstDiff) {
			worst, worstRatio, worstDiff = i, ratio, d
		}
	}
	row.OK = row.Bad == 0
	if worst >= 0 {
		row.Worst = unravel(worst, ours.Shape)
		row.Ours, row.Ref = jsonFloat(a[worst]), jsonFloat(b[worst])
	}
	return row
}

// unravel turns a flat row-major index into one index per axis.
func unravel(i int, shape []int) []int {
	idx := make([]int, len(shape))
	for k := len(shape) - 1; k >= 0; k-- {
		if shape[k] > 0 {
			idx[k] = i % shape[k]
			i /= shape[k]
		}
	}
	return idx
}

// maxBenchRuns bounds --bench and --warmup (the latencies are kept).
const maxBenchRuns = 1000000

// maxThreads is the most --threads takes: 4 a core (more threads than
// that only contend; 100000 could not even be started).
func maxThreads() int { return 4 * runtime.NumCPU() }

func benchmark(g *graph.Graph, feeds map[string]*tensor.Tensor, want []string, runs, warmup, threads, batch int) (*benchReport, error) {
	for range warmup {
		if _, err := g.Run(feeds, want...); err != nil {
			return nil, err
		}
	}
	lat := make([]float64, runs)
	for i := range lat {
		start := time.Now()
		if _, err := g.Run(feeds, want...); err != nil {
			return nil, err
		}
		lat[i] = ms(time.Since(start))
	}
	b := &benchReport{Runs: runs, Warmup: warmup, Threads: threads, Batch: batch, LatenciesMs: lat}
	s := slices.Clone(lat)
	sort.Float64s(s)
	n := len(s)
	b.MinMs, b.MaxMs = s[0], s[n-1]
	b.MedianMs = s[n/2]
	if n%2 == 0 {
		b.MedianMs = (s[n/2-1] + s[n/2]) / 2
	}
	b.P90Ms = s[min(n-1, int(math.Ceil(0.9*float64(n)))-1)]
	for _, v := range s {
		b.MeanMs += v / float64(n)
	}
	for _, v := range s {
		b.StdMs += (v - b.MeanMs) * (v - b.MeanMs)
	}
	if n > 1 {
		b.StdMs = math.Sqrt(b.StdMs / float64(n-1))
	} else {
		b.StdMs = 0
	}
	if b.MedianMs > 0 {
		b.SamplesPerSec = float64(batch) / (b.MedianMs / 1000)
	}
	b.PeakRSSBytes = peakRSS()
	return b, nil
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func writeNPZ(path string, arrs []npy.Array) error {
	b, err := npy.EncodeNPZ(arrs, false)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return onnx.WriteFileAtomic(path, b)
}

func printExec(w io.Writer, r *execReport) {
	fmt.Fprintf(w, "model    %s\n", r.Model)
	width := 8
	for _, io := range append(slices.Clone(r.Inputs), r.Outputs...) {
		width = max(width, len(io.Name))
	}
	for i, io := range r.Inputs {
		label := ""
		if i == 0 {
			label = "inputs"
		}
		fmt.Fprintf(w, "%-8s %-*s %-8s %-16s %s\n", label, width, io.Name, io.DType, shapeString(io.Shape), io.Source)
	}
	for i, io := range r.Outputs {
		label := ""
		if i == 0 {
			label = "outputs"
		}
		fmt.Fprintf(w, "%-8s %-*s %-8s %s\n", label, width, io.Name, io.DType, shapeString(io.Shape))
	}
	fmt.Fprintf(w, "first run %.1f ms on %d threads\n", r.FirstRunMs, r.Threads)
	if c := r.Compare; c != nil {
		fmt.Fprintf(w, "\ncompare with %s: every element |ours - ref| <= %g + %g*|ref|\n", c.Reference, c.Atol, c.Rtol)
		fmt.Fprintf(w, "  %-*s %12s %12s  %-14s %14s %14s  %s\n", width, "output", "max abs err", "max rel err", "worst index", "ours", "reference", "result")
		for _, row := range c.Outputs {
			if row.Problem != "" {
				fmt.Fprintf(w, "  %-*s %s  FAIL\n", width, row.Output, row.Problem)
				continue
			}
			result := "ok"
			if !row.OK {
				result = fmt.Sprintf("FAIL (%d elements out of tolerance)", row.Bad)
			}
			fmt.Fprintf(w, "  %-*s %12.3g %12.3g  %-14s %14s %14s  %s\n", width, row.Output, float64(row.MaxAbs), float64(row.MaxRel),
				indexString(row.Worst), fmtVal(float64(row.Ours)), fmtVal(float64(row.Ref)), result)
		}
		if len(c.NotInReference) > 0 {
			fmt.Fprintf(w, "  not in the reference (not compared): %s\n", strings.Join(c.NotInReference, ", "))
		}
	}
	if b := r.Bench; b != nil {
		fmt.Fprintf(w, "\nbench    %d runs after %d warm-up runs, %d threads, batch %d\n", b.Runs, b.Warmup, b.Threads, b.Batch)
		fmt.Fprintf(w, "latency  median %.2f ms  (min %.2f  mean %.2f  p90 %.2f  max %.2f  std %.2f)\n", b.MedianMs, b.MinMs, b.MeanMs, b.P90Ms, b.MaxMs, b.StdMs)
		fmt.Fprintf(w, "speed    %.1f samples/s (batch / median latency)\n", b.SamplesPerSec)
		if b.PeakRSSBytes > 0 {
			fmt.Fprintf(w, "peak RSS %.1f MiB (whole process, model loading included)\n", float64(b.PeakRSSBytes)/(1<<20))
		} else {
			fmt.Fprintf(w, "peak RSS unknown on this OS\n")
		}
	}
}

func shapeString(s []int) string {
	parts := make([]string, len(s))
	for i, d := range s {
		parts[i] = strconv.Itoa(d)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func indexString(idx []int) string {
	if idx == nil {
		return "-"
	}
	return shapeString(idx)
}

func dimsString(dims []*onnx.TensorShapeProto_Dimension) string {
	parts := make([]string, len(dims))
	for i, d := range dims {
		switch {
		case d.GetDimValue() > 0:
			parts[i] = strconv.FormatInt(d.GetDimValue(), 10)
		case d.GetDimParam() != "":
			parts[i] = d.GetDimParam()
		default:
			parts[i] = "?"
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func fmtVal(v float64) string { return strconv.FormatFloat(v, 'g', 7, 64) }

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}
