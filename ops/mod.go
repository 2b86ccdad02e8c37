package ops

// Mod: C = A mod B with numpy broadcasting (no backward).
//
//	fmod = 0 (default): the result has B's sign (A - floor(A/B)·B, Python's %);
//	fmod = 1:           the result has A's sign (A - trunc(A/B)·B, C's fmod).
//
// Floats follow the special cases of the ONNX spec (x mod ±0 and ±Inf mod y
// are NaN, x mod ±Inf is x or y); integer division by zero is an error.

import (
	"math"

	"ft/tensor"
)

type mod struct{ fmod bool }

func init() {
	Register("", "Mod", 10, func(n *Node) (Op, error) {
		f := n.Int("fmod", 0)
		if f != 0 && f != 1 {
			return nil, n.Errorf("fmod must be 0 or 1, not %d", f)
		}
		return mod{f == 1}, nil
	})
}

func (o mod) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	if err := sameType("Mod", a, b); err != nil {
		return nil, err
	}
	var r *tensor.Tensor
	var err error
	switch a.DType() {
	case tensor.Float32:
		r, err = binaryMap(a, b, func(x, y float32) float32 { return float32(modFloat(float64(x), float64(y), o.fmod)) })
	case tensor.Float64:
		r, err = binaryMap(a, b, func(x, y float64) float64 { return modFloat(x, y, o.fmod) })
	case tensor.Int64:
		r, err = modInt[int64](a, b, o.fmod)
	case tensor.Int32:
		r, err = modInt[int32](a, b, o.fmod)
	case tensor.Uint8:
		r, err = modInt[uint8](a, b, o.fmod)
	case tensor.Int8:
		r, err = modInt[int8](a, b, o.fmod)
	default:
		return nil, errDType("Mod", a)
	}
	if err != nil {
		return nil, err
	}
	return single(r)
}

func modFloat(x, y float64, fmod bool) float64 {
	r := math.Mod(x, y) // sign of x; NaN for y = ±0, x = ±Inf, NaNs; x for y = ±Inf
	if fmod {
		return r
	}
	if r == 0 {
		return math.Copysign(0, y)
	}
	if (r < 0) != (y < 0) {
		r += y
	}
	return r
}

func modInt[T int64 | int32 | uint8 | int8](a, b *tensor.Tensor, fmod bool) (*tensor.Tensor, error) {
	if hasZero(tensor.Data[T](b)) {
		return nil, errDivZero
	}
	return binaryMap(a, b, func(x, y T) T {
		r := x % y
		if !fmod && r != 0 && (r < 0) != (y < 0) {
			r += y
		}
		return r
	})
}
