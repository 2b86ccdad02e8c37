package ops

// Trilu: the upper or lower triangle of the trailing matrices.
//
//	Trilu(X [.., n, m], k scalar = 0; upper=1) -> Y (X's shape)
//	    upper: Y[.., i, j] = X[.., i, j] if j - i >= k else 0
//	    lower: Y[.., i, j] = X[.., i, j] if j - i <= k else 0
//
// Every element type; each row's kept run is copied with copy().

import (
	"ft/tensor"
)

func init() {
	Register("", "Trilu", 14, func(n *Node) (Op, error) {
		return &opTrilu{mvNamed: mvName(n), upper: n.Int("upper", 1) != 0}, nil
	})
}

type opTrilu struct {
	mvNamed
	upper bool
}

func (o *opTrilu) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if x.Rank() < 2 {
		return nil, o.errf("input must have rank >= 2, has shape %v", x.Shape)
	}
	k := 0
	if kt := mvOpt(in, 1); kt != nil {
		var err error
		if k, err = mvScalarInt(kt, "k"); err != nil {
			return nil, o.errf("%v", err)
		}
	}
	r := x.Rank()
	n, c := x.Shape[r-2], x.Shape[r-1]
	k = min(max(k, -n-1), c+1) // beyond these every row is kept or dropped alike
	m, err := mvMoverOf(x)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y := tensor.Zeros(x.DType(), x.Shape...)
	m.trilu(y, x, n, c, k, o.upper)
	return single(y)
}

func (mvKern[T]) trilu(dt, st *tensor.Tensor, n, m, k int, upper bool) {
	dst, src := tensor.Data[T](dt), tensor.Data[T](st)
	for off := 0; off < len(src); off += n * m {
		for i := 0; i < n; i++ {
			var lo, hi int // kept columns [lo, hi)
			if upper {
				lo, hi = min(max(i+k, 0), m), m
			} else {
				lo, hi = 0, min(max(i+k+1, 0), m)
			}
			r := off + i*m
			copy(dst[r+lo:r+hi], src[r+lo:r+hi])
		}
	}
}
