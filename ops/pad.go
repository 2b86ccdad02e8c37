package ops

// Pad: grow (or, with negative pads, crop) each axis.
//
//	Pad(data [d..], pads [2k], constant_value?, axes [k]?; mode=constant) -> Y
//	    pads = [b_0 … b_{k-1}, e_0 … e_{k-1}] for axes (default all r axes):
//	    Y.shape[a] = b_a + d_a + e_a, Y[.., i, ..] = data[.., i - b_a, ..] inside;
//	    outside: constant_value (default 0) for mode=constant, the nearest edge
//	    element for edge, the mirror image without the edge for reflect
//	    (numpy's "reflect"), the opposite end for wrap (opset 19).
//	Negative pads crop first; the other modes then read from what remains.
//	Before opset 11 pads and value (float) are attributes; axes from opset 18.
//
// Each axis gets a map from output index to input index (or -1 for the
// constant); the copy walks the maps with copy() along contiguous runs.
// No backward (so not in Trainable()).

import (
	"fmt"

	"ft/tensor"
)

func init() {
	Register("", "Pad", 2, func(n *Node) (Op, error) {
		o := &opPad{mvNamed: mvName(n), mode: n.String("mode", "constant")}
		switch o.mode {
		case "constant", "reflect", "edge":
		case "wrap":
			if n.Opset < 19 {
				return nil, n.Errorf("mode wrap needs opset 19, model has %d", n.Opset)
			}
		default:
			return nil, n.Errorf("unknown mode %q", o.mode)
		}
		if n.Opset < 11 {
			p, ok := n.Ints("pads")
			if !ok {
				return nil, n.Errorf("missing attribute pads")
			}
			o.attr, o.pads, o.value = true, mvInts64(p), float64(n.Float("value", 0))
		}
		return o, nil
	})
}

type opPad struct {
	mvNamed
	mode  string
	attr  bool // opset < 11
	pads  []int
	value float64
}

func (o *opPad) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	r := x.Rank()
	pads := o.pads
	var cv *tensor.Tensor
	var axes []int
	if o.attr {
		if o.value != 0 {
			cv = mvScalarOf(x.DType(), o.value)
		}
	} else {
		var err error
		pt := mvOpt(in, 1)
		if pt != nil && pt.Rank() > 1 {
			return nil, o.errf("pads must be 1-D, has shape %v", pt.Shape)
		}
		if pads, err = mvInts(pt, "pads"); err != nil {
			return nil, o.errf("%v", err)
		}
		if c := mvOpt(in, 2); c != nil {
			if c.DType() != x.DType() {
				return nil, o.errf("constant_value has type %s, data %s", c.DType(), x.DType())
			}
			if c.Len() != 1 {
				return nil, o.errf("constant_value must hold one element, has shape %v", c.Shape)
			}
			cv = c
		}
		if a := mvOpt(in, 3); a != nil {
			ax, err := mvInts(a, "axes")
			if err != nil {
				return nil, o.errf("%v", err)
			}
			if axes, err = mvAxes(ax, r); err != nil {
				return nil, o.errf("%v", err)
			}
		}
	}
	if axes == nil {
		axes = make([]int, r)
		for i := range axes {
			axes[i] = i
		}
	}
	k := len(axes)
	if len(pads) != 2*k {
		return nil, o.errf("pads %v must have %d entries (2 per axis) for shape %v", pads, 2*k, x.Shape)
	}
	begin, end := make([]int, r), make([]int, r)
	for i, a := range axes {
		begin[a], end[a] = pads[i], pads[k+i]
	}
	shape := make([]int, r)
	for a, d := range x.Shape {
		b, e := begin[a], end[a]
		if b > mvMaxElems || e > mvMaxElems {
			return nil, o.errf("pads %v are too large", pads)
		}
		shape[a] = b + d + e
		if shape[a] < 0 {
			return nil, o.errf("pads %v crop axis %d of shape %v below zero", pads, a, x.Shape)
		}
	}
	if err := mvCheckAlloc(shape); err != nil {
		return nil, o.errf("%v", err)
	}
	maps := make([][]int, r)
	for a, d := range x.Shape {
		b, e := begin[a], end[a]
		lo, hi := max(0, -b), d-max(0, -e) // the input window that remains
		l := hi - lo
		m := make([]int, shape[a])
		for i := range m {
			s := i - b
			switch {
			case s >= lo && s < hi:
			case o.mode == "constant":
				s = -1
			case l <= 0:
				return nil, o.errf("cannot %s-pad axis %d of shape %v: nothing to read", o.mode, a, x.Shape)
			case o.mode == "edge":
				s = min(max(s, lo), hi-1)
			case o.mode == "wrap":
				s = lo + ((s-lo)%l+l)%l
			default: // reflect
				if l == 1 {
					s = lo
					break
				}
				p := 2 * (l - 1)
				t := ((s-lo)%p + p) % p
				if t >= l {
					t = p - t
				}
				s = lo + t
			}
			m[i] = s
		}
		maps[a] = m
	}
	mv, err := mvMoverOf(x)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	y := tensor.Zeros(x.DType(), shape...)
	mv.pad(y, shape, x, x.Shape, maps, cv)
	return single(y)
}

// mvScalarOf returns a scalar of type dt holding v (converted).
func mvScalarOf(dt tensor.DType, v float64) *tensor.Tensor {
	switch dt {
	case tensor.Float32:
		return tensor.Scalar(float32(v))
	case tensor.Float64:
		return tensor.Scalar(v)
	case tensor.Int64:
		return tensor.Scalar(int64(v))
	case tensor.Int32:
		return tensor.Scalar(int32(v))
	case tensor.Bool:
		return tensor.Scalar(v != 0)
	case tensor.Uint8:
		return tensor.Scalar(uint8(v))
	case tensor.Int8:
		return tensor.Scalar(int8(v))
	}
	panic(fmt.Sprintf("mvScalarOf: dtype %s", dt))
}

func (mvKern[T]) pad(dt *tensor.Tensor, dShape []int, st *tensor.Tensor, sShape []int, maps [][]int, v *tensor.Tensor) {
	dst, src := tensor.Data[T](dt), tensor.Data[T](st)
	if len(dst) == 0 {
		return
	}
	var cv T
	if v != nil {
		cv = tensor.Data[T](v)[0]
	}
	r := len(dShape)
	if r == 0 {
		dst[0] = src[0]
		return
	}
	dSt, sSt := tensor.Strides(dShape), tensor.Strides(sShape)
	var walk func(a, dOff, sOff int)
	walk = func(a, dOff, sOff int) {
		m := maps[a]
		if a == r-1 {
			for i := 0; i < len(m); {
				s := m[i]
				if s < 0 {
					dst[dOff+i] = cv
					i++
					continue
				}
				j := i + 1
				for j < len(m) && m[j] == s+j-i {
					j++
				}
				copy(dst[dOff+i:dOff+j], src[sOff+s:sOff+s+j-i])
				i = j
			}
			return
		}
		for i, s := range m {
			o := dOff + i*dSt[a]
			if s < 0 {
				blk := dst[o : o+dSt[a]]
				for j := range blk {
					blk[j] = cv
				}
				continue
			}
			walk(a+1, o, sOff+s*sSt[a])
		}
	}
	walk(0, 0, 0)
}
