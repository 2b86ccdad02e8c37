package ops

// CumSum: running sums along an axis.
//
//	CumSum(X, axis scalar; exclusive=0, reverse=0) -> Y (X's shape)
//	    Y[.., j, ..] = Σ_{i ≤ j} X[.., i, ..]     (i < j when exclusive,
//	    i ≥ j / i > j when reverse)
//
// Numeric types only. Rows of the inner block are summed as vectors.

import (
	"ft/tensor"
)

func init() {
	Register("", "CumSum", 11, func(n *Node) (Op, error) {
		return &opCumSum{mvNamed: mvName(n), exclusive: n.Int("exclusive", 0) != 0, reverse: n.Int("reverse", 0) != 0}, nil
	})
}

type opCumSum struct {
	mvNamed
	exclusive, reverse bool
}

func (o *opCumSum) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	a, err := mvScalarInt(mvOpt(in, 1), "axis")
	if err != nil {
		return nil, o.errf("%v", err)
	}
	axis, err := normAxis(a, x.Rank())
	if err != nil || x.Rank() == 0 {
		return nil, o.errf("axis %d out of range for shape %v", a, x.Shape)
	}
	outer, dim, inner := tensor.Size(x.Shape[:axis]), x.Shape[axis], tensor.Size(x.Shape[axis+1:])
	var y *tensor.Tensor
	switch x.DType() {
	case tensor.Float32:
		y = mvCumSum[float32](x, outer, dim, inner, o.exclusive, o.reverse)
	case tensor.Float64:
		y = mvCumSum[float64](x, outer, dim, inner, o.exclusive, o.reverse)
	case tensor.Int64:
		y = mvCumSum[int64](x, outer, dim, inner, o.exclusive, o.reverse)
	case tensor.Int32:
		y = mvCumSum[int32](x, outer, dim, inner, o.exclusive, o.reverse)
	case tensor.Uint8:
		y = mvCumSum[uint8](x, outer, dim, inner, o.exclusive, o.reverse)
	case tensor.Int8:
		y = mvCumSum[int8](x, outer, dim, inner, o.exclusive, o.reverse)
	default:
		return nil, o.errf("%v", errDType("CumSum", x))
	}
	return single(y)
}

func mvCumSum[T tensor.Number](x *tensor.Tensor, outer, dim, inner int, exclusive, reverse bool) *tensor.Tensor {
	xd := tensor.Data[T](x)
	yd := make([]T, len(xd))
	acc := make([]T, inner)
	for b := 0; b < outer; b++ {
		clear(acc)
		for k := 0; k < dim; k++ {
			j := k
			if reverse {
				j = dim - 1 - k
			}
			off := (b*dim + j) * inner
			xr, yr := xd[off:off+inner], yd[off:off+inner]
			if exclusive {
				copy(yr, acc)
				for i, v := range xr {
					acc[i] += v
				}
			} else {
				for i, v := range xr {
					acc[i] += v
				}
				copy(yr, acc)
			}
		}
	}
	return tensor.New(x.Shape, yd)
}
