package ops

// ScatterND: write slices of updates into a copy of data at index tuples.
//
//	ScatterND(data [d_0..d_{r-1}], indices [i.., q], updates [i.., d_q..d_{r-1}];
//	          reduction=none) -> Y (data's shape)
//	    Y = data; then for each tuple t = indices[i..]: Y[t, ...] = updates[i.., ...]
//	    (reduction add/mul/max/min combine instead of overwrite; opset 16/18).
//	Index values may be negative (counted from the end); duplicates with
//	reduction=none leave the last update.
//
// Every element type for reduction=none, numeric types for the others.
// No backward (so not in Trainable()).

import (
	"ft/tensor"
)

func init() {
	Register("", "ScatterND", 11, func(n *Node) (Op, error) {
		red := "none"
		if n.Opset >= 16 {
			red = n.String("reduction", "none")
		}
		switch red {
		case "none", "add", "mul", "max", "min":
		default:
			return nil, n.Errorf("unknown reduction %q", red)
		}
		return &opScatterND{mvName(n), red}, nil
	})
}

type opScatterND struct {
	mvNamed
	reduction string
}

func (o *opScatterND) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, it, u := in[0], mvOpt(in, 1), mvOpt(in, 2)
	if it == nil || u == nil {
		return nil, o.errf("missing input indices or updates")
	}
	if u.DType() != x.DType() {
		return nil, o.errf("updates have type %s, data %s", u.DType(), x.DType())
	}
	r, q := x.Rank(), it.Rank()
	if r == 0 || q == 0 {
		return nil, o.errf("data %v and indices %v must have rank >= 1", x.Shape, it.Shape)
	}
	kk := it.Shape[q-1]
	if kk > r {
		return nil, o.errf("indices %v index %d axes of rank-%d data", it.Shape, kk, r)
	}
	want := append(append([]int{}, it.Shape[:q-1]...), x.Shape[kk:]...)
	if !tensor.SameShape(u.Shape, want) {
		return nil, o.errf("updates have shape %v, want %v (indices %v, data %v)", u.Shape, want, it.Shape, x.Shape)
	}
	idx, err := mvInts(it, "indices")
	if err != nil {
		return nil, o.errf("%v", err)
	}
	st := tensor.Strides(x.Shape)
	offs := make([]int, tensor.Size(it.Shape[:q-1]))
	for t := range offs {
		off := 0
		for a := 0; a < kk; a++ {
			v, d := idx[t*kk+a], x.Shape[a]
			if v < -d || v >= d {
				return nil, o.errf("index %d on axis %d is out of range [%d, %d]", v, a, -d, d-1)
			}
			if v < 0 {
				v += d
			}
			off += v * st[a]
		}
		offs[t] = off
	}
	row := tensor.Size(x.Shape[kk:])
	y := x.Clone()
	if o.reduction == "none" {
		m, err := mvMoverOf(x)
		if err != nil {
			return nil, o.errf("%v", err)
		}
		m.scatterND(y, u, offs, row)
		return single(y)
	}
	switch x.DType() {
	case tensor.Float32:
		mvScatterReduce[float32](y, u, offs, row, o.reduction)
	case tensor.Float64:
		mvScatterReduce[float64](y, u, offs, row, o.reduction)
	case tensor.Int64:
		mvScatterReduce[int64](y, u, offs, row, o.reduction)
	case tensor.Int32:
		mvScatterReduce[int32](y, u, offs, row, o.reduction)
	case tensor.Uint8:
		mvScatterReduce[uint8](y, u, offs, row, o.reduction)
	case tensor.Int8:
		mvScatterReduce[int8](y, u, offs, row, o.reduction)
	default:
		return nil, o.errf("reduction %s: %v", o.reduction, errDType("ScatterND", x))
	}
	return single(y)
}

func (mvKern[T]) scatterND(dt, ut *tensor.Tensor, offs []int, row int) {
	dst, upd := tensor.Data[T](dt), tensor.Data[T](ut)
	for k, off := range offs {
		copy(dst[off:off+row], upd[k*row:(k+1)*row])
	}
}

func mvScatterReduce[T tensor.Number](dt, ut *tensor.Tensor, offs []int, row int, red string) {
	dst, upd := tensor.Data[T](dt), tensor.Data[T](ut)
	for k, off := range offs {
		d, u := dst[off:off+row], upd[k*row:(k+1)*row]
		switch red {
		case "add":
			for i, v := range u {
				d[i] += v
			}
		case "mul":
			for i, v := range u {
				d[i] *= v
			}
		case "max":
			for i, v := range u {
				d[i] = max(d[i], v)
			}
		case "min":
			for i, v := range u {
				d[i] = min(d[i], v)
			}
		}
	}
}
