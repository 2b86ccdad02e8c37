package ops

// Reshape, Squeeze, Unsqueeze, Flatten: the same elements under a new shape.
//
//	Reshape(data [d...], shape [k]) -> data as [k dims]
//	    (0 copies the input dim unless allowzero=1 (opset 14); -1 is inferred)
//	Squeeze(data, axes?)   -> size-1 axes removed (all of them without axes)
//	Unsqueeze(data, axes)  -> size-1 axes inserted at axes of the output
//	Flatten(data, axis=1)  -> [d0·…·d(axis-1), d(axis)·…·d(r-1)]
//	axes: attribute before opset 13, input from 13. Reshape's shape: attribute
//	before opset 5.
//
// Forward copies the data (an output never aliases an input buffer); backward
// is the same reshape run the other way: dX = dY as X's shape.

import (
	"fmt"

	"ft/tensor"
)

func init() {
	Register("", "Reshape", 1, func(n *Node) (Op, error) {
		o := &opReshape{mvNamed: mvName(n), allowZero: n.Opset >= 14 && n.Int("allowzero", 0) != 0}
		if n.Opset < 5 {
			s, ok := n.Ints("shape")
			if !ok {
				return nil, n.Errorf("missing attribute shape")
			}
			o.attrShape = mvInts64(s)
		}
		return o, nil
	})
	Register("", "Squeeze", 1, func(n *Node) (Op, error) {
		o := &opSqueeze{mvNamed: mvName(n), fromInput: n.Opset >= 13}
		if s, ok := n.Ints("axes"); ok && !o.fromInput {
			o.axes, o.hasAxes = mvInts64(s), true
		}
		return o, nil
	})
	Register("", "Unsqueeze", 1, func(n *Node) (Op, error) {
		o := &opUnsqueeze{mvNamed: mvName(n), fromInput: n.Opset >= 13}
		if !o.fromInput {
			s, ok := n.Ints("axes")
			if !ok {
				return nil, n.Errorf("missing attribute axes")
			}
			o.axes = mvInts64(s)
		}
		return o, nil
	})
	Register("", "Flatten", 1, func(n *Node) (Op, error) {
		return &opFlatten{mvNamed: mvName(n), axis: int(n.Int("axis", 1))}, nil
	})
}

// mvViewGrad is the backward of every op whose output is its first input
// under another shape.
type mvViewGrad struct{}

// Backward: dX = dY reshaped to X's shape.
func (mvViewGrad) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := make([]*tensor.Tensor, len(in))
	if need[0] {
		g[0] = mvGradOf(dout[0], in[0].DType(), in[0].Shape)
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (mvViewGrad) Saves([]bool) (ins, outs []int) { return nil, nil }

// ---- Reshape ----

type opReshape struct {
	mvNamed
	mvViewGrad
	allowZero bool
	attrShape []int // opset < 5
}

func (o *opReshape) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	spec := o.attrShape
	if spec == nil {
		st := mvOpt(in, 1)
		if st == nil {
			return nil, o.errf("missing input shape")
		}
		if st.Rank() != 1 {
			return nil, o.errf("shape input must be 1-D, has shape %v", st.Shape)
		}
		var err error
		if spec, err = mvInts(st, "shape"); err != nil {
			return nil, o.errf("%v", err)
		}
	}
	shape, err := mvReshapeTarget(x.Shape, spec, o.allowZero)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(mvReshapeCopy(x, shape))
}

// mvReshapeTarget resolves Reshape's shape spec (0 and -1 rules) against the
// input shape.
func mvReshapeTarget(inShape, spec []int, allowZero bool) ([]int, error) {
	out := make([]int, len(spec))
	infer, known := -1, 1
	hasZero := false
	for i, d := range spec {
		switch {
		case d == -1:
			if infer >= 0 {
				return nil, fmt.Errorf("shape %v has more than one -1", spec)
			}
			infer = i
			continue
		case d < -1:
			return nil, fmt.Errorf("shape %v has invalid dimension %d", spec, d)
		case d == 0 && !allowZero:
			if i >= len(inShape) {
				return nil, fmt.Errorf("shape %v copies dimension %d (0) of a rank-%d input", spec, i, len(inShape))
			}
			d = inShape[i]
		case d == 0:
			hasZero = true
		}
		out[i] = d
		known *= d
	}
	size := tensor.Size(inShape)
	if infer >= 0 {
		if hasZero {
			return nil, fmt.Errorf("shape %v has both 0 and -1 with allowzero=1", spec)
		}
		if known == 0 || size%known != 0 {
			return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", inShape, size, spec)
		}
		out[infer] = size / known
		known *= out[infer]
	}
	if known != size || mvCheckAlloc(out) != nil {
		return nil, fmt.Errorf("cannot reshape %v (%d elements) to %v", inShape, size, spec)
	}
	return out, nil
}

// ---- Squeeze ----

type opSqueeze struct {
	mvNamed
	mvViewGrad
	fromInput bool
	axes      []int
	hasAxes   bool
}

func (o *opSqueeze) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	axes, has := o.axes, o.hasAxes
	if o.fromInput {
		if a := mvOpt(in, 1); a != nil {
			var err error
			if axes, err = mvInts(a, "axes"); err != nil {
				return nil, o.errf("%v", err)
			}
			has = true
		}
	}
	drop := make([]bool, x.Rank())
	if has {
		norm, err := mvAxes(axes, x.Rank())
		if err != nil {
			return nil, o.errf("%v", err)
		}
		for _, a := range norm {
			if x.Shape[a] != 1 {
				return nil, o.errf("cannot squeeze axis %d of shape %v: size is not 1", a, x.Shape)
			}
			drop[a] = true
		}
	} else {
		for a, d := range x.Shape {
			drop[a] = d == 1
		}
	}
	shape := []int{}
	for a, d := range x.Shape {
		if !drop[a] {
			shape = append(shape, d)
		}
	}
	return single(mvReshapeCopy(x, shape))
}

// ---- Unsqueeze ----

type opUnsqueeze struct {
	mvNamed
	mvViewGrad
	fromInput bool
	axes      []int
}

func (o *opUnsqueeze) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	axes := o.axes
	if o.fromInput {
		var err error
		if axes, err = mvInts(mvOpt(in, 1), "axes"); err != nil {
			return nil, o.errf("%v", err)
		}
	}
	r := x.Rank() + len(axes)
	norm, err := mvAxes(axes, r)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	ins := make([]bool, r)
	for _, a := range norm {
		ins[a] = true
	}
	shape := make([]int, r)
	j := 0
	for a := range shape {
		if ins[a] {
			shape[a] = 1
		} else {
			shape[a] = x.Shape[j]
			j++
		}
	}
	return single(mvReshapeCopy(x, shape))
}

// ---- Flatten ----

type opFlatten struct {
	mvNamed
	mvViewGrad
	axis int
}

func (o *opFlatten) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	r := x.Rank()
	a := o.axis
	if a < -r || a > r {
		return nil, o.errf("axis %d out of range [%d, %d] for rank %d", o.axis, -r, r, r)
	}
	if a < 0 {
		a += r
	}
	return single(mvReshapeCopy(x, []int{tensor.Size(x.Shape[:a]), tensor.Size(x.Shape[a:])}))
}
