package ops

// ArgMax, ArgMin (opsets 1, 11, 12, 13): index of the largest / smallest
// element along `axis` (default 0), as int64.
//
//	X [outer, n, inner] -> Y [outer, 1, inner] (keepdims = 1, the default)
//	                       or [outer, inner] (keepdims = 0)
//	select_last_index = 1 (opset 12+) returns the last of equal extremes.
//	No gradient: the output is an index.

import (
	"fmt"

	"ft/tensor"
)

type opArgMax struct {
	name     string
	min      bool
	axis     int
	keepdims bool
	last     bool
}

func init() {
	for _, name := range []string{"ArgMax", "ArgMin"} {
		name := name
		Register("", name, 1, func(n *Node) (Op, error) {
			return &opArgMax{name: name, min: name == "ArgMin", axis: int(n.Int("axis", 0)),
				keepdims: n.Int("keepdims", 1) != 0, last: n.Int("select_last_index", 0) != 0}, nil
		})
	}
}

// NoGradient marks ArgMax/ArgMin as index ops.
func (o *opArgMax) NoGradient() {}

func (o *opArgMax) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if x.Rank() == 0 {
		return nil, fmt.Errorf("%s: scalar input", o.name)
	}
	axis, err := normAxis(o.axis, x.Rank())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o.name, err)
	}
	outer, n, inner := laSplit(x.Shape, axis)
	if n == 0 {
		return nil, fmt.Errorf("%s: axis %d of %v is empty", o.name, o.axis, x.Shape)
	}
	shape := laReducedShape(x.Shape, []int{axis}, o.keepdims)
	y := make([]int64, outer*inner)
	switch x.DType() {
	case tensor.Float32:
		argExt(x.F32(), y, outer, n, inner, o.min, o.last)
	case tensor.Float64:
		argExt(x.F64(), y, outer, n, inner, o.min, o.last)
	case tensor.Int64:
		argExt(x.I64(), y, outer, n, inner, o.min, o.last)
	case tensor.Int32:
		argExt(x.I32(), y, outer, n, inner, o.min, o.last)
	case tensor.Uint8:
		argExt(tensor.Data[uint8](x), y, outer, n, inner, o.min, o.last)
	case tensor.Int8:
		argExt(tensor.Data[int8](x), y, outer, n, inner, o.min, o.last)
	default:
		return nil, errDType(o.name, x)
	}
	return single(tensor.New(shape, y))
}

// argExt writes, for every (outer, inner), the index along n of the extreme.
func argExt[T tensor.Number](x []T, y []int64, outer, n, inner int, isMin, last bool) {
	laRows(outer, 2*n*inner, func(lo, hi int) {
		best := make([]T, inner)
		for b := lo; b < hi; b++ {
			xb := x[b*n*inner : (b+1)*n*inner]
			yb := y[b*inner : (b+1)*inner]
			copy(best, xb[:inner])
			clear(yb)
			for j := 1; j < n; j++ {
				row := xb[j*inner : (j+1)*inner]
				jj := int64(j)
				switch {
				case !isMin && !last:
					for i, v := range row {
						if v > best[i] {
							best[i], yb[i] = v, jj
						}
					}
				case !isMin && last:
					for i, v := range row {
						if v >= best[i] {
							best[i], yb[i] = v, jj
						}
					}
				case isMin && !last:
					for i, v := range row {
						if v < best[i] {
							best[i], yb[i] = v, jj
						}
					}
				default:
					for i, v := range row {
						if v <= best[i] {
							best[i], yb[i] = v, jj
						}
					}
				}
			}
		}
	})
}
