package ops

// Clip: y = min(max(x, lo), hi), elementwise; lo, hi are the min/max
// attributes before opset 11 and optional scalar inputs from opset 11 on
// (absent: no bound). When lo > hi every output is hi.
//
//	dx  = dy where lo <= x <= hi (and lo <= hi), else 0
//	dlo = Σ dy where x < lo (and lo <= hi)
//	dhi = Σ dy where x > hi, or Σ dy when lo > hi

import (
	"math"

	"ft/tensor"
)

type clip struct {
	attrs  bool // bounds come from attributes (opset < 11)
	lo, hi float64
}

func init() {
	Register("", "Clip", 6, func(n *Node) (Op, error) {
		return clip{attrs: true, lo: float64(n.Float("min", -math.MaxFloat32)), hi: float64(n.Float("max", math.MaxFloat32))}, nil
	})
	Register("", "Clip", 11, func(n *Node) (Op, error) { return clip{}, nil })
}

func (o clip) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	switch x.DType() {
	case tensor.Float32:
		return clipForward[float32](o, in)
	case tensor.Float64:
		return clipForward[float64](o, in)
	case tensor.Int64:
		return clipForward[int64](o, in)
	case tensor.Int32:
		return clipForward[int32](o, in)
	case tensor.Uint8:
		return clipForward[uint8](o, in)
	case tensor.Int8:
		return clipForward[int8](o, in)
	}
	return nil, errDType("Clip", x)
}

// clipBounds returns the bounds of a Clip in x's type.
func clipBounds[T tensor.Number](o clip, in []*tensor.Tensor) (lo, hi T, err error) {
	lo, hi = numLimits[T]()
	if o.attrs {
		return T(o.lo), T(o.hi), nil
	}
	for i, p := range []*T{&lo, &hi} {
		if i+1 >= len(in) || in[i+1] == nil {
			continue
		}
		t := in[i+1]
		d := tensor.Data[T](t)
		if d == nil || len(d) != 1 {
			return lo, hi, errDType("Clip bound (want one element of the input's type)", t)
		}
		*p = d[0]
	}
	return lo, hi, nil
}

func clipForward[T tensor.Number](o clip, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	lo, hi, err := clipBounds[T](o, in)
	if err != nil {
		return nil, err
	}
	xd := tensor.Data[T](in[0])
	yd := make([]T, len(xd))
	forRange(len(xd), func(a, b int) {
		for i, v := range xd[a:b] {
			yd[a+i] = min(max(v, lo), hi)
		}
	})
	return single(tensor.New(in[0].Shape, yd))
}

// numLimits returns the lowest and highest values of T (±Inf for floats).
func numLimits[T tensor.Number]() (lo, hi T) {
	var z T
	var l, h any
	switch any(z).(type) {
	case float32:
		l, h = float32(math.Inf(-1)), float32(math.Inf(1))
	case float64:
		l, h = math.Inf(-1), math.Inf(1)
	case int64:
		l, h = int64(math.MinInt64), int64(math.MaxInt64)
	case int32:
		l, h = int32(math.MinInt32), int32(math.MaxInt32)
	case uint8:
		l, h = uint8(0), uint8(math.MaxUint8)
	case int8:
		l, h = int8(math.MinInt8), int8(math.MaxInt8)
	}
	return l.(T), h.(T)
}

func (o clip) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := outGrad(out, dout, 0)
	switch in[0].DType() {
	case tensor.Float32:
		return clipBackward[float32](o, in, g, need)
	case tensor.Float64:
		return clipBackward[float64](o, in, g, need)
	}
	return nil, errDType("Clip backward", in[0])
}

func clipBackward[T tensor.Float](o clip, in []*tensor.Tensor, g *tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	lo, hi, err := clipBounds[T](o, in)
	if err != nil {
		return nil, err
	}
	xd, gd := tensor.Data[T](in[0]), tensor.Data[T](g)
	res := make([]*tensor.Tensor, len(in))
	if need[0] {
		dx := make([]T, len(xd))
		if lo <= hi {
			for i, v := range xd {
				if v >= lo && v <= hi {
					dx[i] = gd[i]
				}
			}
		}
		res[0] = tensor.New(in[0].Shape, dx)
	}
	var sLo, sHi T
	for i, v := range xd {
		switch {
		case lo > hi:
			sHi += gd[i]
		case v < lo:
			sLo += gd[i]
		case v > hi:
			sHi += gd[i]
		}
	}
	for i, s := range []T{sLo, sHi} {
		if i+1 < len(in) && in[i+1] != nil && i+1 < len(need) && need[i+1] {
			res[i+1] = tensor.New(in[i+1].Shape, []T{s})
		}
	}
	return res, nil
}
