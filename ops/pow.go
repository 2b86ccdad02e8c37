package ops

// Pow: Z = X^Y with numpy broadcasting. X (T) is float32, float64, int32 or
// int64; Y (T1) may be any numeric type; Z has X's type.
//
//	dX = dZ · Y · X^(Y-1)            (0 where Y == 0)
//	dY = dZ · Z · ln X               (0 where X == 0 and Y >= 0)
//
// both accumulated straight into buffers of the input's shape through the
// broadcast strides (the sum over broadcast axes).

import (
	"math"

	"ft/tensor"
)

type pow struct{}

func init() {
	Register("", "Pow", 7, func(n *Node) (Op, error) { return pow{}, nil })
}

func (pow) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	var r *tensor.Tensor
	var err error
	switch a.DType() {
	case tensor.Float32:
		r, err = powBase[float32](a, b)
	case tensor.Float64:
		r, err = powBase[float64](a, b)
	case tensor.Int64:
		r, err = powBase[int64](a, b)
	case tensor.Int32:
		r, err = powBase[int32](a, b)
	default:
		return nil, errDType("Pow", a)
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func powBase[T float32 | float64 | int64 | int32](a, b *tensor.Tensor) (*tensor.Tensor, error) {
	switch b.DType() {
	case tensor.Float32:
		return powForward[T, float32](a, b)
	case tensor.Float64:
		return powForward[T, float64](a, b)
	case tensor.Int64:
		return powForward[T, int64](a, b)
	case tensor.Int32:
		return powForward[T, int32](a, b)
	case tensor.Uint8:
		return powForward[T, uint8](a, b)
	case tensor.Int8:
		return powForward[T, int8](a, b)
	}
	return nil, errDType("Pow exponent", b)
}

func powForward[T float32 | float64 | int64 | int32, E tensor.Number](a, b *tensor.Tensor) (*tensor.Tensor, error) {
	out, it, err := bcastIndex(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	ad, bd := tensor.Data[T](a), tensor.Data[E](b)
	od := make([]T, tensor.Size(out))
	intBase, intExp := isIntegral(a.DType()), isIntegral(b.DType())
	if intBase {
		// Rare: integer powers (by squaring for integer exponents, through
		// float64 and truncation for float ones).
		o := 0
		for it.Next() {
			ia, ib := it.Off[0], it.Off[1]
			for j := 0; j < it.Inner; j++ {
				if intExp {
					od[o] = T(ipow(int64(ad[ia]), int64(bd[ib])))
				} else {
					od[o] = T(math.Pow(float64(ad[ia]), float64(bd[ib])))
				}
				o++
				ia += it.InnerStride[0]
				ib += it.InnerStride[1]
			}
		}
		return tensor.New(out, od), nil
	}
	if len(bd) == 1 && len(ad) == len(od) {
		e := float64(bd[0])
		forRange(len(od), func(lo, hi int) { powScalarKernel(ad[lo:hi], e, od[lo:hi]) })
		return tensor.New(out, od), nil
	}
	o := 0
	for it.Next() {
		ia, ib := it.Off[0], it.Off[1]
		sa, sb := it.InnerStride[0], it.InnerStride[1]
		for j := 0; j < it.Inner; j++ {
			od[o] = T(math.Pow(float64(ad[ia]), float64(bd[ib])))
			o++
			ia += sa
			ib += sb
		}
	}
	return tensor.New(out, od), nil
}

// powScalarKernel computes y = x^e for a scalar exponent, with the exponents
// that models use (x² in decomposed LayerNorm, x³ in decomposed Gelu) done by
// multiplication.
func powScalarKernel[T float32 | float64 | int64 | int32](x []T, e float64, y []T) {
	y = y[:len(x)]
	switch e {
	case 1:
		copy(y, x)
	case 2:
		for i, v := range x {
			y[i] = v * v
		}
	case 3:
		for i, v := range x {
			f := float64(v)
			y[i] = T(f * f * f)
		}
	case 0.5:
		for i, v := range x {
			y[i] = T(math.Sqrt(float64(v)))
		}
	default:
		for i, v := range x {
			y[i] = T(math.Pow(float64(v), e))
		}
	}
}

// ipow is x^n for integers (0 for negative n unless |x| == 1, as 1/x^n truncates).
func ipow(x, n int64) int64 {
	if n < 0 {
		switch x {
		case 1:
			return 1
		case -1:
			if n%2 == 0 {
				return 1
			}
			return -1
		}
		return 0
	}
	r := int64(1)
	for n > 0 {
		if n&1 == 1 {
			r *= x
		}
		x *= x
		n >>= 1
	}
	return r
}

func (pow) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g := outGrad(out, dout, 0)
	switch in[0].DType() {
	case tensor.Float32:
		return powBackwardBase[float32](in[0], in[1], out[0], g, need)
	case tensor.Float64:
		return powBackwardBase[float64](in[0], in[1], out[0], g, need)
	}
	if need[0] {
		return nil, errDType("Pow backward", in[0])
	}
	return make([]*tensor.Tensor, 2), nil
}

func powBackwardBase[T tensor.Float](a, b, y, g *tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	switch b.DType() {
	case tensor.Float32:
		return powBackward[T, float32](a, b, y, g, need)
	case tensor.Float64:
		return powBackward[T, float64](a, b, y, g, need)
	case tensor.Int64:
		return powBackward[T, int64](a, b, y, g, need)
	case tensor.Int32:
		return powBackward[T, int32](a, b, y, g, need)
	case tensor.Uint8:
		return powBackward[T, uint8](a, b, y, g, need)
	case tensor.Int8:
		return powBackward[T, int8](a, b, y, g, need)
	}
	return nil, errDType("Pow backward exponent", b)
}

func powBackward[T tensor.Float, E tensor.Number](a, b, y, g *tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	ad, bd, yd, gd := tensor.Data[T](a), tensor.Data[E](b), tensor.Data[T](y), tensor.Data[T](g)
	res := make([]*tensor.Tensor, 2)
	var da []T
	var db []E
	if need[0] {
		da = make([]T, len(ad))
		res[0] = tensor.New(a.Shape, da)
	}
	if need[1] && b.DType().IsFloat() {
		db = make([]E, len(bd))
		res[1] = tensor.New(b.Shape, db)
	}
	if db == nil && len(bd) == 1 && len(ad) == len(gd) {
		if da != nil {
			e := float64(bd[0])
			forRange(len(da), func(lo, hi int) { powScalarGradKernel(ad[lo:hi], e, gd[lo:hi], da[lo:hi]) })
		}
		return res, nil
	}
	_, it, err := bcastIndex(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	o := 0
	for it.Next() {
		ia, ib := it.Off[0], it.Off[1]
		sa, sb := it.InnerStride[0], it.InnerStride[1]
		for j := 0; j < it.Inner; j++ {
			av, bv, gv := float64(ad[ia]), float64(bd[ib]), float64(gd[o])
			if da != nil && bv != 0 {
				da[ia] += T(gv * bv * math.Pow(av, bv-1))
			}
			if db != nil && (av != 0 || bv < 0) {
				db[ib] += E(gv * float64(yd[o]) * math.Log(av))
			}
			o++
			ia += sa
			ib += sb
		}
	}
	return res, nil
}

// powScalarGradKernel computes dx = g · e · x^(e-1) for a scalar exponent e.
func powScalarGradKernel[T tensor.Float](x []T, e float64, g, dx []T) {
	g, dx = g[:len(x)], dx[:len(x)]
	switch e {
	case 0:
		clear(dx)
	case 1:
		copy(dx, g)
	case 2:
		for i, v := range x {
			dx[i] = 2 * v * g[i]
		}
	case 3:
		for i, v := range x {
			dx[i] = 3 * v * v * g[i]
		}
	default:
		for i, v := range x {
			dx[i] = g[i] * T(e*math.Pow(float64(v), e-1))
		}
	}
}
