package ops

// Where: out = cond ? X : Y, elementwise over the numpy broadcast of all
// three shapes; cond is bool, X and Y share any element type.
//
//	dX = Σ dOut where cond   (summed to X's shape)
//	dY = Σ dOut where !cond  (summed to Y's shape)
//	cond gets no gradient.

import (
	"fmt"

	"ft/tensor"
)

type where struct{}

func init() {
	Register("", "Where", 9, func(n *Node) (Op, error) { return where{}, nil })
}

func (where) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	c, x, y := in[0], in[1], in[2]
	if c.DType() != tensor.Bool {
		return nil, fmt.Errorf("Where: condition must be bool, got %s", c.DType())
	}
	if err := sameType("Where", x, y); err != nil {
		return nil, err
	}
	var r *tensor.Tensor
	var err error
	switch x.DType() {
	case tensor.Float32:
		r, err = whereForward[float32](c, x, y)
	case tensor.Float64:
		r, err = whereForward[float64](c, x, y)
	case tensor.Int64:
		r, err = whereForward[int64](c, x, y)
	case tensor.Int32:
		r, err = whereForward[int32](c, x, y)
	case tensor.Bool:
		r, err = whereForward[bool](c, x, y)
	case tensor.Uint8:
		r, err = whereForward[uint8](c, x, y)
	case tensor.Int8:
		r, err = whereForward[int8](c, x, y)
	default:
		return nil, errDType("Where", x)
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func whereForward[T tensor.Elem](c, x, y *tensor.Tensor) (*tensor.Tensor, error) {
	out, it, err := bcastIndex(c.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	cd, xd, yd := c.B(), tensor.Data[T](x), tensor.Data[T](y)
	od := make([]T, tensor.Size(out))
	if len(cd) == len(od) && len(xd) == len(od) && len(yd) == len(od) {
		forRange(len(od), func(lo, hi int) {
			for i, b := range cd[lo:hi] {
				if b {
					od[lo+i] = xd[lo+i]
				} else {
					od[lo+i] = yd[lo+i]
				}
			}
		})
		return tensor.New(out, od), nil
	}
	o := 0
	for it.Next() {
		ic, ix, iy := it.Off[0], it.Off[1], it.Off[2]
		sc, sx, sy := it.InnerStride[0], it.InnerStride[1], it.InnerStride[2]
		run := od[o : o+it.Inner]
		if sc == 0 {
			// one condition for the whole run (a broadcast mask)
			if cd[ic] {
				for j := range run {
					run[j] = xd[ix]
					ix += sx
				}
			} else {
				for j := range run {
					run[j] = yd[iy]
					iy += sy
				}
			}
		} else {
			for j := range run {
				if cd[ic] {
					run[j] = xd[ix]
				} else {
					run[j] = yd[iy]
				}
				ic += sc
				ix += sx
				iy += sy
			}
		}
		o += it.Inner
	}
	return tensor.New(out, od), nil
}

func (where) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := outGrad(out, dout, 0)
	switch in[1].DType() {
	case tensor.Float32:
		return whereBackward[float32](in, g, need)
	case tensor.Float64:
		return whereBackward[float64](in, g, need)
	}
	return nil, errDType("Where backward", in[1])
}

// Saves: nothing (shapes; integer inputs are always kept).
func (where) Saves([]bool) (ins, outs []int) { return nil, nil }

func whereBackward[T tensor.Float](in []*tensor.Tensor, g *tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	c, x, y := in[0], in[1], in[2]
	res := make([]*tensor.Tensor, 3)
	var dx, dy []T
	if need[1] {
		dx = make([]T, x.Len())
		res[1] = tensor.New(x.Shape, dx)
	}
	if need[2] {
		dy = make([]T, y.Len())
		res[2] = tensor.New(y.Shape, dy)
	}
	if dx == nil && dy == nil {
		return res, nil
	}
	_, it, err := bcastIndex(c.Shape, x.Shape, y.Shape)
	if err != nil {
		return nil, err
	}
	cd, gd := c.B(), tensor.Data[T](g)
	o := 0
	for it.Next() {
		ic, ix, iy := it.Off[0], it.Off[1], it.Off[2]
		sc, sx, sy := it.InnerStride[0], it.InnerStride[1], it.InnerStride[2]
		for _, gv := range gd[o : o+it.Inner] {
			if cd[ic] {
				if dx != nil {
					dx[ix] += gv
				}
			} else if dy != nil {
				dy[iy] += gv
			}
			ic += sc
			ix += sx
			iy += sy
		}
		o += it.Inner
	}
	return res, nil
}
