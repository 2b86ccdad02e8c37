package ops

// Shape and Size: a tensor's dimensions as data.
//
//	Shape(X; start=0, end=r) -> int64 [end-start]: X.shape[start:end]
//	    (start/end from opset 15, negative ones count from the end, clamped to [0, r])
//	Size(X) -> int64 scalar: the number of elements of X
//
// Neither carries a gradient (ShapeOnly).

import (
	"ft/tensor"
)

func init() {
	Register("", "Shape", 1, func(n *Node) (Op, error) {
		o := &opShape{start: 0, end: 0, hasEnd: false}
		if n.Opset >= 15 {
			o.start = int(n.Int("start", 0))
			if n.Has("end") {
				o.end, o.hasEnd = int(n.Int("end", 0)), true
			}
		}
		return o, nil
	})
	Register("", "Size", 1, func(n *Node) (Op, error) { return opSize{}, nil })
}

type opShape struct {
	start, end int
	hasEnd     bool
}

func (opShape) NoGradient() {}

func (o *opShape) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	r := in[0].Rank()
	clamp := func(v int) int {
		if v < 0 {
			v += r
		}
		return min(max(v, 0), r)
	}
	s, e := clamp(o.start), r
	if o.hasEnd {
		e = clamp(o.end)
	}
	d := make([]int64, max(0, e-s))
	for i := range d {
		d[i] = int64(in[0].Shape[s+i])
	}
	return single(tensor.New([]int{len(d)}, d))
}

type opSize struct{}

func (opSize) NoGradient() {}

func (opSize) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return single(tensor.Scalar(int64(in[0].Len())))
}
