package ops

// NonZero: the coordinates of the non-zero elements.
//
//	NonZero(X [d_0..d_{r-1}]) -> int64 [r, nnz], column j = coordinates of the
//	    j-th non-zero element in row-major order (a scalar reads as shape [1]).
//
// Every element type. No gradient (ShapeOnly).

import (
	"ft/tensor"
)

func init() {
	Register("", "NonZero", 9, func(n *Node) (Op, error) { return &opNonZero{mvName(n)}, nil })
}

type opNonZero struct{ mvNamed }

func (*opNonZero) NoGradient() {}

func (mvKern[T]) nonzero(st *tensor.Tensor) []int {
	var zero T
	var r []int
	for i, v := range tensor.Data[T](st) {
		if v != zero {
			r = append(r, i)
		}
	}
	return r
}

func (o *opNonZero) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	m, err := mvMoverOf(x)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	flat := m.nonzero(x)
	shape := x.Shape
	if len(shape) == 0 {
		shape = []int{1}
	}
	r, n := len(shape), len(flat)
	st := tensor.Strides(shape)
	y := make([]int64, r*n)
	for j, f := range flat {
		for a := 0; a < r; a++ {
			y[a*n+j] = int64(f / st[a] % shape[a])
		}
	}
	return single(tensor.New([]int{r, n}, y))
}
