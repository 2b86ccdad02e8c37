package ops

import (
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"testing"

	"ft/tensor"
)

// gradCase is one finite-difference check of an op's backward in float64.
type gradCase struct {
	name  string
	node  Node             // op type, attributes, opset (Inputs filled from in when nil)
	in    []*tensor.Tensor // float64 inputs (integer inputs are passed through)
	wrt   []int            // inputs to differentiate (default: every float input)
	nOuts int              // outputs that reach the loss (default: all declared)
	tol   float64          // max relative error (default 1e-6)
}

// randT returns a float64 tensor with values in [lo, hi).
func randT(r *rand.Rand, lo, hi float64, shape ...int) *tensor.Tensor {
	d := make([]float64, tensor.Size(shape))
	for i := range d {
		d[i] = lo + (hi-lo)*r.Float64()
	}
	return tensor.New(shape, d)
}

func i64(shape []int, v ...int64) *tensor.Tensor { return tensor.New(shape, v) }

// checkGrad compares Backward with central differences of the loss
// L = Σ_k Σ_i w_k[i]·out_k[i] for fixed random weights w.
func checkGrad(t *testing.T, c gradCase) {
	t.Helper()
	n := c.node
	if n.Opset == 0 {
		n.Opset = 17
	}
	if n.Inputs == nil {
		n.Inputs = make([]bool, len(c.in))
		for i, x := range c.in {
			n.Inputs[i] = x != nil
		}
	}
	if n.NumOutputs == 0 {
		n.NumOutputs = 1
	}
	op, err := Build(&n)
	if err != nil {
		t.Fatalf("%s: build: %v", c.name, err)
	}
	d, ok := op.(Differentiable)
	if !ok {
		t.Fatalf("%s: %s has no Backward", c.name, n.OpType)
	}
	nOuts := c.nOuts
	if nOuts == 0 {
		nOuts = n.NumOutputs
	}
	out, err := op.Forward(c.in)
	if err != nil {
		t.Fatalf("%s: forward: %v", c.name, err)
	}
	r := rand.New(rand.NewSource(7))
	ws := make([][]float64, nOuts)
	dout := make([]*tensor.Tensor, len(out))
	for k := 0; k < nOuts; k++ {
		if out[k].DType() != tensor.Float64 {
			continue
		}
		w := randT(r, -1, 1, out[k].Shape...)
		ws[k] = w.F64()
		dout[k] = w
	}
	loss := func() float64 {
		o, err := op.Forward(c.in)
		if err != nil {
			t.Fatalf("%s: forward: %v", c.name, err)
		}
		s := 0.0
		for k := 0; k < nOuts; k++ {
			if ws[k] == nil {
				continue
			}
			for i, v := range o[k].F64() {
				s += ws[k][i] * v
			}
		}
		return s
	}
	wrt := c.wrt
	if wrt == nil {
		for i, x := range c.in {
			if x != nil && x.DType() == tensor.Float64 {
				wrt = append(wrt, i)
			}
		}
	}
	need := make([]bool, len(c.in))
	for _, i := range wrt {
		need[i] = true
	}
	grads, err := d.Backward(c.in, out, dout, need)
	if err != nil {
		t.Fatalf("%s: backward: %v", c.name, err)
	}
	checkSaved(t, c.name, d, c.in, out, dout, need)
	for _, i := range wrt { // one gradient at a time: Saves may keep less
		one := make([]bool, len(c.in))
		one[i] = true
		checkSaved(t, c.name, d, c.in, out, dout, one)
	}
	tol := c.tol
	if tol == 0 {
		tol = 1e-6
	}
	for _, i := range wrt {
		g := grads[i]
		if g == nil {
			t.Fatalf("%s: no gradient for input %d", c.name, i)
		}
		if !tensor.SameShape(g.Shape, c.in[i].Shape) {
			t.Fatalf("%s: gradient %d has shape %v, input %v", c.name, i, g.Shape, c.in[i].Shape)
		}
		x := c.in[i].F64()
		gd := g.F64()
		worst := 0.0
		for j := range x {
			const h = 1e-6
			old := x[j]
			x[j] = old + h
			lp := loss()
			x[j] = old - h
			lm := loss()
			x[j] = old
			fd := (lp - lm) / (2 * h)
			e := math.Abs(fd-gd[j]) / math.Max(1, math.Abs(fd))
			if e > worst {
				worst = e
			}
			if e > tol {
				t.Errorf("%s: d/d in%d[%d]: backward %.9g, finite difference %.9g", c.name, i, j, gd[j], fd)
				return
			}
		}
	}
}

func TestArithGrad(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	cases := []gradCase{}
	for _, op := range []string{"Add", "Sub", "Mul", "Div"} {
		cases = append(cases,
			gradCase{name: op + "/same", node: Node{OpType: op}, in: []*tensor.Tensor{randT(r, 0.5, 2, 2, 3), randT(r, 0.5, 2, 2, 3)}},
			gradCase{name: op + "/bcast-row", node: Node{OpType: op}, in: []*tensor.Tensor{randT(r, 0.5, 2, 2, 3, 4), randT(r, 0.5, 2, 4)}},
			gradCase{name: op + "/bcast-both", node: Node{OpType: op}, in: []*tensor.Tensor{randT(r, 0.5, 2, 2, 1, 4), randT(r, 0.5, 2, 3, 1)}},
			gradCase{name: op + "/scalar", node: Node{OpType: op}, in: []*tensor.Tensor{randT(r, 0.5, 2), randT(r, 0.5, 2, 3, 2)}},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// checkSaved runs Backward on what Saved keeps (float tensors it does not
// read replaced by data-less ones) and requires the very same gradients as
// from the full inputs and outputs.
func checkSaved(t *testing.T, name string, d Differentiable, in, out, dout []*tensor.Tensor, need []bool) {
	t.Helper()
	want, err := d.Backward(in, out, dout, need)
	if err != nil {
		t.Fatalf("%s: backward: %v", name, err)
	}
	sin, sout := Saved(d, in, out, need)
	got, err := func() (g []*tensor.Tensor, err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return d.Backward(sin, sout, dout, need)
	}()
	if err != nil {
		t.Fatalf("%s (need %v): backward on the saved tensors only: %v", name, need, err)
	}
	for i := range want {
		if (want[i] == nil) != (i >= len(got) || got[i] == nil) {
			t.Fatalf("%s (need %v): gradient %d present %v with all tensors, %v with the saved ones", name, need, i, want[i] != nil, !(i >= len(got) || got[i] == nil))
		}
		if want[i] == nil {
			continue
		}
		if !reflect.DeepEqual(want[i].Shape, got[i].Shape) || !reflect.DeepEqual(want[i].Data, got[i].Data) {
			t.Fatalf("%s (need %v): gradient %d differs when backward gets only the saved tensors", name, need, i)
		}
	}
}
