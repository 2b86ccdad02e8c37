package ops

// Min, Max: variadic elementwise minimum/maximum with numpy broadcasting of
// all inputs (NaN propagates).
//
//	y = max(x0, x1, ...)             shape: broadcast of all inputs
//	dxk = Σ dy over the elements where xk is the first input equal to y
//	      (ties go to the earliest input), summed to xk's shape.

import (
	"fmt"

	"ft/tensor"
)

type minMax struct{ isMax bool }

func init() {
	Register("", "Min", 6, func(n *Node) (Op, error) { return minMax{false}, nil })
	Register("", "Max", 6, func(n *Node) (Op, error) { return minMax{true}, nil })
}

func (o minMax) name() string {
	if o.isMax {
		return "Max"
	}
	return "Min"
}

func (o minMax) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) == 0 || in[0] == nil {
		return nil, fmt.Errorf("%s: needs at least one input", o.name())
	}
	if err := sameType(o.name(), in...); err != nil {
		return nil, err
	}
	var r *tensor.Tensor
	var err error
	switch in[0].DType() {
	case tensor.Float32:
		r, err = minMaxForward[float32](o.isMax, in)
	case tensor.Float64:
		r, err = minMaxForward[float64](o.isMax, in)
	case tensor.Int64:
		r, err = minMaxForward[int64](o.isMax, in)
	case tensor.Int32:
		r, err = minMaxForward[int32](o.isMax, in)
	case tensor.Uint8:
		r, err = minMaxForward[uint8](o.isMax, in)
	case tensor.Int8:
		r, err = minMaxForward[int8](o.isMax, in)
	default:
		return nil, errDType(o.name(), in[0])
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func minMaxShapes(in []*tensor.Tensor) [][]int {
	s := make([][]int, len(in))
	for i, t := range in {
		s[i] = t.Shape
	}
	return s
}

// minMaxForward folds the inputs one at a time into the output, each read
// through its broadcast strides.
func minMaxForward[T tensor.Number](isMax bool, in []*tensor.Tensor) (*tensor.Tensor, error) {
	out, err := tensor.BroadcastShape(minMaxShapes(in)...)
	if err != nil {
		return nil, err
	}
	od := make([]T, tensor.Size(out))
	for k, t := range in {
		d := tensor.Data[T](t)
		it := tensor.NewIndex(out, tensor.BroadcastStrides(t.Shape, out))
		o := 0
		for it.Next() {
			i, s := it.Off[0], it.InnerStride[0]
			run := od[o : o+it.Inner]
			switch {
			case k == 0:
				for j := range run {
					run[j] = d[i]
					i += s
				}
			case isMax:
				for j := range run {
					run[j] = max(run[j], d[i])
					i += s
				}
			default:
				for j := range run {
					run[j] = min(run[j], d[i])
					i += s
				}
			}
			o += it.Inner
		}
	}
	return tensor.New(out, od), nil
}

func (o minMax) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := outGrad(out, dout, 0)
	switch in[0].DType() {
	case tensor.Float32:
		return minMaxBackward[float32](in, out[0], g, need), nil
	case tensor.Float64:
		return minMaxBackward[float64](in, out[0], g, need), nil
	}
	return nil, errDType(o.name()+" backward", in[0])
}

func minMaxBackward[T tensor.Float](in []*tensor.Tensor, y, g *tensor.Tensor, need []bool) []*tensor.Tensor {
	res := make([]*tensor.Tensor, len(in))
	xs := make([][]T, len(in))
	gs := make([][]T, len(in))
	for k, t := range in {
		xs[k] = tensor.Data[T](t)
		if need[k] {
			gs[k] = make([]T, len(xs[k]))
			res[k] = tensor.New(t.Shape, gs[k])
		}
	}
	yd, gd := tensor.Data[T](y), tensor.Data[T](g)
	_, it, _ := bcastIndex(minMaxShapes(in)...) // shapes were checked in forward
	off := make([]int, len(in))
	o := 0
	for it.Next() {
		copy(off, it.Off)
		for j := 0; j < it.Inner; j++ {
			v := yd[o]
			for k := range xs {
				if xv := xs[k][off[k]]; xv == v || (v != v && xv != xv) {
					if gs[k] != nil {
						gs[k][off[k]] += gd[o]
					}
					break
				}
			}
			for k := range off {
				off[k] += it.InnerStride[k]
			}
			o++
		}
	}
	return res
}
