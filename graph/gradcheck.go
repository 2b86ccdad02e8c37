package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"

	"ft/onnx"
	"ft/ops"
	"ft/tensor"
)

// GradCheckOptions control GradCheck.
type GradCheckOptions struct {
	Batch, SeqLen int     // shape of random text inputs (default 2 × 8)
	Seed          uint64  // for inputs, loss weights and the parameter sample
	MaxParams     int     // parameters to check by finite differences (0: all)
	Eps           float64 // largest finite-difference step, relative to the parameter's RMS (default 5e-2)
}

// GradCheckReport holds the worst relative errors found.
type GradCheckReport struct {
	Params []ParamError // one per checked parameter
	OpType []OpError    // one per op type on the backward path
}

// ParamError compares the analytic directional derivative of the loss along
// sign(gradient) with a finite-difference estimate computed in float32.
type ParamError struct {
	Name              string
	Analytic, Numeric float64
	RelErr            float64
	// Noise bounds the finite difference's rounding error; BelowNoise is set
	// when the analytic value is smaller than that (the check then only
	// asks that |Numeric| ≤ Noise).
	Noise      float64
	BelowNoise bool
}

// OpError is the worst relative error of an op type's backward over every
// node of that type on the backward path, checked node by node in float64 on
// the node's recorded inputs.
type OpError struct {
	OpType string
	Nodes  int
	RelErr float64
	Node   string // the node with the worst error
}

// RandomFeeds makes inputs for every runtime input of g: token ids inside the
// embedding table that reads them, attention masks of ones with padding on
// the last row, token types 0/1 where the model has two, floats ~ N(0, 1).
func (g *Graph) RandomFeeds(batch, seq int, seed uint64) (map[string]*tensor.Tensor, error) {
	r := rand.New(rand.NewPCG(seed, 0x6674))
	feeds := map[string]*tensor.Tensor{}
	for _, id := range g.Inputs {
		v := g.Values[id]
		tt := v.Info.GetType().GetTensorType()
		shape := []int{}
		for i, d := range tt.GetShape().GetDim() {
			if dv := d.GetDimValue(); dv > 0 {
				shape = append(shape, int(dv))
			} else if i == 0 {
				shape = append(shape, batch)
			} else {
				shape = append(shape, seq)
			}
		}
		n := tensor.Size(shape)
		switch dt := onnx.DTypeOf(tt.GetElemType()); dt {
		case tensor.Float32:
			d := make([]float32, n)
			for i := range d {
				d[i] = float32(r.NormFloat64())
			}
			feeds[v.Name] = tensor.New(shape, d)
		case tensor.Int64, tensor.Int32:
			d := make([]int64, n)
			name := strings.ToLower(v.Name)
			limit := g.gatherTableSize(id)
			for i := range d {
				switch {
				case strings.Contains(name, "mask"):
					d[i] = 1
					if len(shape) == 2 && i/shape[1] == shape[0]-1 && i%shape[1] >= shape[1]-shape[1]/3 {
						d[i] = 0 // pad the last row
					}
				case limit > 0:
					d[i] = r.Int64N(int64(limit))
				}
			}
			t := tensor.New(shape, d)
			if dt == tensor.Int32 {
				d32 := make([]int32, n)
				for i, x := range d {
					d32[i] = int32(x)
				}
				t = tensor.New(shape, d32)
			}
			feeds[v.Name] = t
		case tensor.Bool:
			d := make([]bool, n)
			for i := range d {
				d[i] = true
			}
			feeds[v.Name] = tensor.New(shape, d)
		default:
			return nil, fmt.Errorf("input %q: cannot make random values of type %s", v.Name, dt)
		}
	}
	return feeds, nil
}

// gatherTableSize returns the row count of the embedding table that a Gather
// reads with the given value as indices (following casts), or 0.
func (g *Graph) gatherTableSize(id int) int {
	seen := map[int]bool{}
	stack := []int{id}
	for len(stack) > 0 {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[v] {
			continue
		}
		seen[v] = true
		for _, n := range g.Nodes {
			for k, in := range n.In {
				if in != v {
					continue
				}
				switch {
				case n.OpType == "Gather" && k == 1 && n.In[0] >= 0 && g.Values[n.In[0]].Const != nil:
					return g.Values[n.In[0]].Const.Shape[0]
				case n.OpType == "Cast" || n.OpType == "Identity" || n.OpType == "Reshape" || n.OpType == "Unsqueeze":
					if n.Out[0] >= 0 {
						stack = append(stack, n.Out[0])
					}
				}
			}
		}
	}
	return 0
}

// GradCheck compares, for a random batch and the loss Σ w·output (w fixed and
// random), analytic gradients with finite differences: per parameter along
// sign(gradient) in float32, and per op type node by node in float64.
func (g *Graph) GradCheck(opt GradCheckOptions) (*GradCheckReport, error) {
	if opt.Batch == 0 {
		opt.Batch = 2
	}
	if opt.SeqLen == 0 {
		opt.SeqLen = 8
	}
	if opt.Eps == 0 {
		opt.Eps = 5e-2
	}
	feeds, err := g.RandomFeeds(opt.Batch, opt.SeqLen, opt.Seed)
	if err != nil {
		return nil, err
	}
	out := g.OutputNames()[0]
	params := g.Params
	tr, err := g.Forward(feeds, []string{out}, params)
	if err != nil {
		return nil, err
	}
	y := tr.Outputs[out]
	if !y.DType().IsFloat() {
		return nil, fmt.Errorf("output %q is %s, not a float", out, y.DType())
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x6c6f7373))
	w := make([]float64, y.Len())
	for i := range w {
		w[i] = r.Float64()*2 - 1
	}
	loss := func() (float64, error) {
		res, err := g.Run(feeds, out)
		if err != nil {
			return 0, err
		}
		s := 0.0
		for i, v := range res[out].Float64s() {
			s += w[i] * v
		}
		return s, nil
	}
	lossScale := 0.0
	for i, v := range y.Float64s() {
		lossScale += math.Abs(w[i] * v)
	}
	seed := make([]float32, len(w))
	for i, v := range w {
		seed[i] = float32(v)
	}
	// Per op type, node by node in float64, before Backward releases the trace.
	opErrs, err := tr.checkNodes(opt.Seed)
	if err != nil {
		return nil, err
	}
	grads, err := tr.Backward(map[string]*tensor.Tensor{out: tensor.New(y.Shape, seed)})
	if err != nil {
		return nil, err
	}
	rep := &GradCheckReport{OpType: opErrs}
	sample := append([]*Param(nil), params...)
	if opt.MaxParams > 0 && len(sample) > opt.MaxParams {
		r.Shuffle(len(sample), func(i, j int) { sample[i], sample[j] = sample[j], sample[i] })
		sample = sample[:opt.MaxParams]
	}
	for _, p := range sample {
		pe, ok, err := checkParam(p, grads[p].F32(), loss, lossScale, opt.Eps)
		if err != nil {
			return nil, err
		}
		if ok {
			rep.Params = append(rep.Params, pe)
		}
	}
	return rep, nil
}

// checkParam compares the analytic derivative of the loss along sign(gv)
// (gv: p's gradient from Backward) with a 4-point central difference of
// loss (Σ|w·y| = lossScale) over p's float32 values, which it restores;
// ok is false for a parameter that is not float32.
func checkParam(p *Param, gv []float32, loss func() (float64, error), lossScale, eps float64) (pe ParamError, ok bool, err error) {
	pv := p.Value.F32()
	if pv == nil || gv == nil {
		return pe, false, nil
	}
	rms := 0.0
	for _, x := range pv {
		rms += float64(x) * float64(x)
	}
	rms = math.Sqrt(rms / float64(len(pv)))
	// Rounding in the float32 forward pass moves the loss by about
	// 2⁻²⁴·Σ|w·y| per evaluation (times 10, to be safe); the 4-point
	// stencil divides that by h. Choose h so this noise stays under 1e-4
	// of the analytic value, but move no entry by more than Eps·RMS.
	lossNoise := 10 * math.Pow(2, -24) * lossScale * (18.0 / 12)
	hMax := eps * math.Max(rms, 1e-2)
	an := 0.0
	dir := make([]float32, len(pv))
	for i, gi := range gv {
		switch {
		case gi > 0:
			dir[i] = 1
		case gi < 0:
			dir[i] = -1
		}
		an += math.Abs(float64(gi))
	}
	h := hMax
	if an > 0 {
		h = math.Min(hMax, math.Max(lossNoise/(1e-4*an), hMax*1e-3))
	}
	orig := append([]float32(nil), pv...)
	defer copy(pv, orig)
	// 4-point central difference: error O(h⁴).
	var l [4]float64
	for k, s := range []float64{-2, -1, 1, 2} {
		for i := range pv {
			pv[i] = orig[i] + float32(s*h)*dir[i]
		}
		if l[k], err = loss(); err != nil {
			return pe, false, err
		}
	}
	num := (l[0] - 8*l[1] + 8*l[2] - l[3]) / (12 * h)
	noise := lossNoise / h
	rel := math.Abs(num-an) / math.Max(math.Max(math.Abs(an), math.Abs(num)), 1e-30)
	zero := an < noise
	if zero && math.Abs(num) <= noise {
		// The true gradient is below what a float32 finite difference can
		// resolve (attention key biases: softmax ignores a per-row shift);
		// the estimate is only noise, and that agrees.
		rel = 0
	}
	return ParamError{Name: p.Name, Analytic: an, Numeric: num, RelErr: rel, Noise: noise, BelowNoise: zero}, true, nil
}

// checkNodes checks the backward of every recorded node in float64 against
// central differences of Σ dout·f(x) along a random direction in the inputs.
func (t *Trace) checkNodes(seed uint64) ([]OpError, error) {
	g := t.g
	r := rand.New(rand.NewPCG(seed, 0x6e6f6465))
	worst := map[string]*OpError{}
	for i, n := range g.Nodes {
		if !t.plan.active[i] || t.ins[i] == nil {
			continue
		}
		rels, ok, err := t.checkNode(i, r)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		for _, rel := range rels {
			e := worst[n.OpType]
			if e == nil {
				e = &OpError{OpType: n.OpType}
				worst[n.OpType] = e
			}
			if rel >= e.RelErr {
				e.RelErr, e.Node = rel, n.Name
			}
		}
		if e := worst[n.OpType]; e != nil {
			e.Nodes++
		}
	}
	var res []OpError
	for _, e := range worst {
		res = append(res, *e)
	}
	sort.Slice(res, func(i, j int) bool { return res[i].OpType < res[j].OpType })
	return res, nil
}

// checkNode compares node i's Backward, in float64 on its recorded inputs,
// with central differences along a random direction, once per input that
// carries a gradient, and returns the relative errors; ok is false when the
// op does not run in float64 for this node.
func (t *Trace) checkNode(i int, r *rand.Rand) (rels []float64, ok bool, err error) {
	n := t.g.Nodes[i]
	d := n.Op.(ops.Differentiable)
	in := make([]*tensor.Tensor, len(t.ins[i]))
	need := make([]bool, len(in))
	for k, x := range t.ins[i] {
		if x == nil {
			continue
		}
		if x.DType() == tensor.Float32 {
			in[k] = tensor.New(x.Shape, x.Float64s())
			need[k] = n.In[k] >= 0 && t.plan.dep[n.In[k]]
		} else {
			in[k] = x
		}
	}
	out, err := n.Op.Forward(in)
	if err != nil {
		// the op may not take float64 for this node (a float32-only attribute, say)
		return nil, false, nil
	}
	dout := randomSeeds(r, n, out)
	gin, err := d.Backward(in, out, dout, need)
	if err != nil {
		return nil, false, fmt.Errorf("backward of node %q (%s): %w", n.Name, n.OpType, err)
	}
	for k := range in {
		if need[k] && gin[k] != nil {
			rels = append(rels, directionalError(n.Op, in, k, gin[k].F64(), dout, r))
		}
	}
	return rels, true, nil
}

// randomSeeds returns output gradients of n, uniform in [-1, 1), zero at
// attention-mask fill values (-3.4e38 + x): a small perturbation cannot
// move them, so they carry no check.
func randomSeeds(r *rand.Rand, n *Node, out []*tensor.Tensor) []*tensor.Tensor {
	nOut := countPresent(n.Out)
	dout := make([]*tensor.Tensor, len(out))
	for k := 0; k < nOut && k < len(out); k++ {
		if n.Out[k] < 0 || out[k].DType() != tensor.Float64 {
			continue
		}
		w := make([]float64, out[k].Len())
		for j, v := range out[k].F64() {
			w[j] = r.Float64()*2 - 1
			if math.Abs(v) > 1e20 || math.IsInf(v, 0) {
				w[j] = 0
			}
		}
		dout[k] = tensor.New(out[k].Shape, w)
	}
	return dout
}

// directionalError returns the relative error between the analytic
// derivative g·dir of Σ dout·op(in) along a random direction dir of input
// k and its central difference.
func directionalError(op ops.Op, in []*tensor.Tensor, k int, g []float64, dout []*tensor.Tensor, r *rand.Rand) float64 {
	fwd := func() []*tensor.Tensor {
		o, err := op.Forward(in)
		if err != nil {
			return nil
		}
		// outputs may be views of the inputs, which the next
		// perturbation changes in place: keep copies
		for k, t := range o {
			if t != nil {
				o[k] = t.Clone()
			}
		}
		return o
	}
	x := in[k].F64()
	dir := make([]float64, len(x))
	an := 0.0
	for j := range dir {
		dir[j] = r.Float64()*2 - 1
		if math.Abs(x[j]) > 1e20 {
			dir[j] = 0 // a mask fill value: h is absorbed, nothing to measure
		}
		an += dir[j] * g[j]
	}
	orig := append([]float64(nil), x...)
	const h = 1e-6
	for j := range x {
		x[j] = orig[j] + h*dir[j]
	}
	op1 := fwd()
	for j := range x {
		x[j] = orig[j] - h*dir[j]
	}
	om := fwd()
	copy(x, orig)
	num := seededDelta(dout, op1, om) / (2 * h)
	return math.Abs(num-an) / math.Max(1, math.Max(math.Abs(an), math.Abs(num)))
}

// seededDelta is Σ dout·(p − m), differenced element by element so that
// large constant parts of the outputs cancel exactly; NaN if either run
// failed.
func seededDelta(dout, p, m []*tensor.Tensor) float64 {
	if p == nil || m == nil {
		return math.NaN()
	}
	s := 0.0
	for k, dk := range dout {
		if dk == nil {
			continue
		}
		pp, mm := p[k].F64(), m[k].F64()
		for j, w := range dk.F64() {
			if w != 0 {
				s += w * (pp[j] - mm[j])
			}
		}
	}
	return s
}
