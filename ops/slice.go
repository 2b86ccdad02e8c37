package ops

// Slice: a strided window of the input.
//
//	Slice(data, starts [k], ends [k], axes [k]?, steps [k]?) -> Y
//	    along axes[i]: Y takes data[starts[i] : ends[i] : steps[i]] (numpy rules)
//	    negative starts/ends count from the end; out-of-range ones are clamped
//	    (to [0, d] for a positive step, to [0, d-1] / [-1, d-1] for a negative one);
//	    axes default to 0..k-1, steps to 1, a step of 0 is an error.
//	    Before opset 10 starts, ends and axes are attributes and steps are 1.
//	dX = zeros(X.shape) with dY written back at the window (windows never overlap).
//
// The window is one offset and one stride per axis into X, so forward and
// backward are each a single strided copy.

import (
	"ft/tensor"
)

func init() {
	Register("", "Slice", 1, func(n *Node) (Op, error) {
		o := &opSlice{mvNamed: mvName(n)}
		if n.Opset < 10 {
			s, ok1 := n.Ints("starts")
			e, ok2 := n.Ints("ends")
			if !ok1 || !ok2 {
				return nil, n.Errorf("missing attribute starts or ends")
			}
			o.attr = true
			o.starts, o.ends = mvInts64(s), mvInts64(e)
			if a, ok := n.Ints("axes"); ok {
				o.axes = mvInts64(a)
			}
		}
		return o, nil
	})
}

type opSlice struct {
	mvNamed
	attr               bool // opset < 10
	starts, ends, axes []int
}

// window returns X's offset, the per-axis strides (in X) and the shape of Y.
func (o *opSlice) window(in []*tensor.Tensor) (off int, st, shape []int, err error) {
	x := in[0]
	starts, ends, axes := o.starts, o.ends, o.axes
	var steps []int
	if !o.attr {
		if starts, err = mvInts(mvOpt(in, 1), "starts"); err != nil {
			return 0, nil, nil, o.errf("%v", err)
		}
		if ends, err = mvInts(mvOpt(in, 2), "ends"); err != nil {
			return 0, nil, nil, o.errf("%v", err)
		}
		if a := mvOpt(in, 3); a != nil {
			if axes, err = mvInts(a, "axes"); err != nil {
				return 0, nil, nil, o.errf("%v", err)
			}
		}
		if s := mvOpt(in, 4); s != nil {
			if steps, err = mvInts(s, "steps"); err != nil {
				return 0, nil, nil, o.errf("%v", err)
			}
		}
	}
	k := len(starts)
	if len(ends) != k || (axes != nil && len(axes) != k) || (steps != nil && len(steps) != k) {
		return 0, nil, nil, o.errf("starts %v, ends %v, axes %v, steps %v differ in length", starts, ends, axes, steps)
	}
	r := x.Rank()
	if axes == nil {
		if k > r {
			return 0, nil, nil, o.errf("%d starts for an input of rank %d", k, r)
		}
		axes = make([]int, k)
		for i := range axes {
			axes[i] = i
		}
	} else if axes, err = mvAxes(axes, r); err != nil {
		return 0, nil, nil, o.errf("%v", err)
	}
	xst := tensor.Strides(x.Shape)
	st = append([]int(nil), xst...)
	shape = append([]int(nil), x.Shape...)
	for i, a := range axes {
		step := 1
		if steps != nil {
			step = steps[i]
		}
		if step == 0 {
			return 0, nil, nil, o.errf("step for axis %d is 0", a)
		}
		d := x.Shape[a]
		step = min(max(step, -d-1), d+1) // a longer step takes at most one element either way
		s, e := starts[i], ends[i]
		if s < 0 {
			s += d
		}
		if e < 0 {
			e += d
		}
		var n int
		if step > 0 {
			s, e = min(max(s, 0), d), min(max(e, 0), d)
			n = max(0, (e-s+step-1)/step)
		} else {
			s, e = min(max(s, 0), d-1), min(max(e, -1), d-1)
			n = max(0, (s-e-step-1)/(-step))
		}
		shape[a] = n
		st[a] = xst[a] * step
		if n > 0 {
			off += s * xst[a]
		}
	}
	return off, st, shape, nil
}

func (o *opSlice) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	off, st, shape, err := o.window(in)
	if err != nil {
		return nil, err
	}
	y, err := mvCopyStrided(in[0], off, st, shape)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(y)
}

// Backward: dX = 0 everywhere but the window, which receives dY.
func (o *opSlice) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g, more := scatterGrad(in, dout, need)
	if !more {
		return g, nil
	}
	x := in[0]
	off, st, shape, err := o.window(in)
	if err != nil {
		return nil, err
	}
	m, err := mvMoverOf(x)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	m.strided(g[0], off, st, dout[0], 0, tensor.Strides(shape), shape)
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opSlice) Saves([]bool) (ins, outs []int) { return nil, nil }
