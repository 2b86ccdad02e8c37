package ops

// Concat and Split: join tensors along an axis, and cut one apart.
//
//	Concat(X_0 [.., n_0, ..], …, X_{k-1} [.., n_{k-1}, ..]; axis) -> Y [.., Σ n_i, ..]
//	    dX_i = dY[.., off_i : off_i+n_i, ..]            (a Split of dY)
//	Split(X [.., n, ..]; axis, split) -> Y_0 [.., s_0, ..], …   (Σ s_i = n)
//	    dX = Concat(dY_0, …) with zeros for outputs that do not reach the loss
//
// split: attribute before opset 13, optional input from 13; without it the
// axis is cut into NumOutputs equal parts, or (opset 18, num_outputs) into
// parts of ceil(n/num_outputs) with a smaller last one.
// Both reduce to one kernel pair over flat [outer, Σ sizes] views.

import (
	"ft/tensor"
)

func init() {
	Register("", "Concat", 1, func(n *Node) (Op, error) {
		if !n.Has("axis") && n.Opset >= 4 {
			return nil, n.Errorf("missing attribute axis")
		}
		return &opConcat{mvNamed: mvName(n), axis: int(n.Int("axis", 1))}, nil
	})
	Register("", "Split", 1, func(n *Node) (Op, error) {
		o := &opSplit{mvNamed: mvName(n), axis: int(n.Int("axis", 0)), nOut: n.NumOutputs, splitInput: n.Opset >= 13}
		if s, ok := n.Ints("split"); ok && !o.splitInput {
			o.split = mvInts64(s)
		}
		if n.Opset >= 18 && n.Has("num_outputs") {
			o.numOutputs = int(n.Int("num_outputs", 0))
			if o.numOutputs < 1 {
				return nil, n.Errorf("num_outputs %d must be positive", o.numOutputs)
			}
			if o.nOut > 0 && o.nOut != o.numOutputs {
				return nil, n.Errorf("num_outputs %d but the node has %d outputs", o.numOutputs, o.nOut)
			}
		}
		return o, nil
	})
}

func (mvKern[T]) concat(dt *tensor.Tensor, srcs []*tensor.Tensor, outer int, sizes []int) {
	dst := tensor.Data[T](dt)
	ss := make([][]T, len(srcs))
	for k, s := range srcs {
		ss[k] = tensor.Data[T](s)
	}
	off := 0
	for o := 0; o < outer; o++ {
		for k, s := range ss {
			n := sizes[k]
			copy(dst[off:off+n], s[o*n:(o+1)*n])
			off += n
		}
	}
}

func (mvKern[T]) split(st *tensor.Tensor, dsts []*tensor.Tensor, outer int, sizes []int) {
	src := tensor.Data[T](st)
	ds := make([][]T, len(dsts))
	for k, d := range dsts {
		ds[k] = tensor.Data[T](d)
	}
	off := 0
	for o := 0; o < outer; o++ {
		for k, d := range ds {
			n := sizes[k]
			copy(d[o*n:(o+1)*n], src[off:off+n])
			off += n
		}
	}
}

// mvSplitAxis cuts x along axis into parts of the given lengths.
func mvSplitAxis(x *tensor.Tensor, axis int, lens []int) ([]*tensor.Tensor, error) {
	m, err := mvMoverOf(x)
	if err != nil {
		return nil, err
	}
	inner := tensor.Size(x.Shape[axis+1:])
	outs := make([]*tensor.Tensor, len(lens))
	sizes := make([]int, len(lens))
	for k, l := range lens {
		s := append([]int(nil), x.Shape...)
		s[axis] = l
		outs[k] = tensor.Zeros(x.DType(), s...)
		sizes[k] = l * inner
	}
	m.split(x, outs, tensor.Size(x.Shape[:axis]), sizes)
	return outs, nil
}

// mvConcatAxis joins xs (same type, shapes equal but along axis) along axis.
func mvConcatAxis(xs []*tensor.Tensor, axis int) (*tensor.Tensor, error) {
	m, err := mvMoverOf(xs[0])
	if err != nil {
		return nil, err
	}
	shape := append([]int(nil), xs[0].Shape...)
	shape[axis] = 0
	inner := tensor.Size(shape[axis+1:])
	sizes := make([]int, len(xs))
	for k, x := range xs {
		shape[axis] += x.Shape[axis]
		sizes[k] = x.Shape[axis] * inner
	}
	out := tensor.Zeros(xs[0].DType(), shape...)
	m.concat(out, xs, tensor.Size(shape[:axis]), sizes)
	return out, nil
}

// ---- Concat ----

type opConcat struct {
	mvNamed
	axis int
}

// check returns the normalised axis after checking the inputs agree.
func (o *opConcat) check(in []*tensor.Tensor) (int, error) {
	if len(in) == 0 {
		return 0, o.errf("no inputs")
	}
	x0 := in[0]
	r := x0.Rank()
	if r == 0 {
		return 0, o.errf("cannot concatenate scalars")
	}
	axis, err := normAxis(o.axis, r)
	if err != nil {
		return 0, o.errf("%v", err)
	}
	for i, x := range in {
		if x == nil {
			return 0, o.errf("input %d is missing", i)
		}
		if x.DType() != x0.DType() {
			return 0, o.errf("input %d has type %s, input 0 %s", i, x.DType(), x0.DType())
		}
		if x.Rank() != r {
			return 0, o.errf("input %d has shape %v, input 0 %v: ranks differ", i, x.Shape, x0.Shape)
		}
		for a, d := range x.Shape {
			if a != axis && d != x0.Shape[a] {
				return 0, o.errf("input %d has shape %v, input 0 %v: they differ off axis %d", i, x.Shape, x0.Shape, axis)
			}
		}
	}
	return axis, nil
}

func (o *opConcat) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	axis, err := o.check(in)
	if err != nil {
		return nil, err
	}
	y, err := mvConcatAxis(in, axis)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(y)
}

// Backward: dX_i is dY's slab of X_i along axis.
func (o *opConcat) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	axis, err := o.check(in)
	if err != nil {
		return nil, err
	}
	g := make([]*tensor.Tensor, len(in))
	if dout[0] == nil {
		for i, x := range in {
			if need[i] {
				g[i] = tensor.Zeros(x.DType(), x.Shape...)
			}
		}
		return g, nil
	}
	lens := make([]int, len(in))
	for i, x := range in {
		lens[i] = x.Shape[axis]
	}
	parts, err := mvSplitAxis(dout[0], axis, lens)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	for i := range in {
		if need[i] {
			g[i] = parts[i]
		}
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opConcat) Saves([]bool) (ins, outs []int) { return nil, nil }

// ---- Split ----

type opSplit struct {
	mvNamed
	axis       int
	nOut       int   // declared outputs
	split      []int // attribute (opset < 13)
	splitInput bool  // opset >= 13: split is input 1
	numOutputs int   // opset >= 18 attribute, 0 if unset
}

// lens returns the normalised axis and the part lengths.
func (o *opSplit) lens(in []*tensor.Tensor) (int, []int, error) {
	x := in[0]
	axis, err := normAxis(o.axis, x.Rank())
	if err != nil || x.Rank() == 0 {
		return 0, nil, o.errf("axis %d out of range for shape %v", o.axis, x.Shape)
	}
	n := x.Shape[axis]
	split := o.split
	if o.splitInput {
		if s := mvOpt(in, 1); s != nil {
			if split, err = mvInts(s, "split"); err != nil {
				return 0, nil, o.errf("%v", err)
			}
		}
	}
	if split != nil {
		if o.nOut > 0 && len(split) != o.nOut {
			return 0, nil, o.errf("split %v has %d parts but the node has %d outputs", split, len(split), o.nOut)
		}
		sum := 0
		for _, s := range split {
			if s < 0 || s > n {
				return 0, nil, o.errf("split %v has a length outside [0, %d]", split, n)
			}
			sum += s
		}
		if sum != n {
			return 0, nil, o.errf("split %v sums to %d, axis %d of shape %v has %d", split, sum, axis, x.Shape, n)
		}
		return axis, split, nil
	}
	parts := o.numOutputs
	if parts == 0 {
		parts = o.nOut
	}
	if parts < 1 {
		return 0, nil, o.errf("no split and no outputs to split into")
	}
	lens := make([]int, parts)
	if o.numOutputs == 0 {
		if n%parts != 0 {
			return 0, nil, o.errf("axis %d of shape %v does not split into %d equal parts", axis, x.Shape, parts)
		}
		for k := range lens {
			lens[k] = n / parts
		}
		return axis, lens, nil
	}
	c := (n + parts - 1) / parts
	for k := range lens {
		lens[k] = min(c, n-k*c)
		if lens[k] < 0 {
			return 0, nil, o.errf("axis %d of shape %v does not split into %d parts of %d", axis, x.Shape, parts, c)
		}
	}
	return axis, lens, nil
}

func (o *opSplit) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	axis, lens, err := o.lens(in)
	if err != nil {
		return nil, err
	}
	ys, err := mvSplitAxis(in[0], axis, lens)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return ys, nil
}

// Backward: dX = Concat(dY_0, …) along axis, zeros for missing dY_k.
func (o *opSplit) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := make([]*tensor.Tensor, len(in))
	if !need[0] {
		return g, nil
	}
	axis, lens, err := o.lens(in)
	if err != nil {
		return nil, err
	}
	x := in[0]
	parts := make([]*tensor.Tensor, len(lens))
	for k, l := range lens {
		if k < len(dout) && dout[k] != nil {
			parts[k] = dout[k]
			continue
		}
		s := append([]int(nil), x.Shape...)
		s[axis] = l
		parts[k] = tensor.Zeros(x.DType(), s...)
	}
	if g[0], err = mvConcatAxis(parts, axis); err != nil {
		return nil, o.errf("%v", err)
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opSplit) Saves([]bool) (ins, outs []int) { return nil, nil }
