package ops

// Elementwise unary math: Sqrt, Erf, Tanh, Relu, Sigmoid, Neg, Abs, Exp, Log,
// Sin, Cos (trainable), Sign, Ceil, Floor (zero gradient almost everywhere:
// ShapeOnly), Reciprocal, Softplus (no backward).
//
//	y = f(x), same shape; dx = dy · f'(x):
//	Sqrt    dy · 0.5/y            Erf   dy · 2/√π · exp(-x²)
//	Tanh    dy · (1 - y²)         Relu  dy · [x > 0]
//	Sigmoid dy · y(1 - y)         Neg   -dy
//	Abs     dy · sign(x)          Exp   dy · y
//	Log     dy / x                Sin   dy · cos(x)      Cos  -dy · sin(x)
//
// Float kernels switch on the op once and then loop over slices, in fixed
// chunks on the shared pool for large tensors.

import (
	"math"

	"ft/kernels"
	"ft/tensor"
)

type unaryKind int

const (
	uSqrt unaryKind = iota
	uErf
	uTanh
	uRelu
	uSigmoid
	uNeg
	uAbs
	uExp
	uLog
	uSin
	uCos
	uSign
	uCeil
	uFloor
	uReciprocal
	uSoftplus
)

// unary is an elementwise op without a backward (Reciprocal, Softplus).
type unary struct {
	k    unaryKind
	name string
}

// unaryGrad is a trainable elementwise op.
type unaryGrad struct{ unary }

// unaryStep is an op whose output is piecewise constant (Sign, Ceil, Floor):
// its gradient is zero almost everywhere, so the graph treats it like a
// shape computation.
type unaryStep struct{ unary }

func (unaryStep) NoGradient() {}

func init() {
	for _, o := range []struct {
		name  string
		k     unaryKind
		since int
	}{
		{"Sqrt", uSqrt, 6}, {"Erf", uErf, 9}, {"Tanh", uTanh, 6}, {"Relu", uRelu, 6},
		{"Sigmoid", uSigmoid, 6}, {"Neg", uNeg, 6}, {"Abs", uAbs, 6}, {"Exp", uExp, 6},
		{"Log", uLog, 6}, {"Sin", uSin, 7}, {"Cos", uCos, 7}, {"Sign", uSign, 9},
		{"Ceil", uCeil, 6}, {"Floor", uFloor, 6}, {"Reciprocal", uReciprocal, 6},
		{"Softplus", uSoftplus, 1},
	} {
		u := unary{o.k, o.name}
		Register("", o.name, o.since, func(n *Node) (Op, error) {
			switch {
			case u.k <= uCos:
				return unaryGrad{u}, nil
			case u.k <= uFloor:
				return unaryStep{u}, nil
			}
			return u, nil
		})
	}
}

func (o unary) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	switch x.DType() {
	case tensor.Float32:
		return single(unaryFloat[float32](o.k, x))
	case tensor.Float64:
		return single(unaryFloat[float64](o.k, x))
	case tensor.Int64:
		return unaryInt[int64](o, x)
	case tensor.Int32:
		return unaryInt[int32](o, x)
	case tensor.Int8:
		return unaryInt[int8](o, x)
	case tensor.Uint8:
		if o.k == uAbs {
			return single(x.Clone())
		}
		if o.k == uSign {
			return single(unaryMap(x, func(v uint8) uint8 { return min(v, 1) }))
		}
	}
	return nil, errDType(o.name, x)
}

// unaryInt covers the integer types ONNX allows for Relu, Neg, Abs and Sign.
func unaryInt[T int64 | int32 | int8](o unary, x *tensor.Tensor) ([]*tensor.Tensor, error) {
	switch o.k {
	case uRelu:
		return single(unaryMap(x, func(v T) T { return max(v, 0) }))
	case uNeg:
		return single(unaryMap(x, func(v T) T { return -v }))
	case uAbs:
		return single(unaryMap(x, func(v T) T {
			if v < 0 {
				return -v
			}
			return v
		}))
	case uSign:
		return single(unaryMap(x, func(v T) T {
			switch {
			case v > 0:
				return 1
			case v < 0:
				return -1
			}
			return 0
		}))
	}
	return nil, errDType(o.name, x)
}

func unaryFloat[T tensor.Float](k unaryKind, x *tensor.Tensor) *tensor.Tensor {
	xd := tensor.Data[T](x)
	yd := make([]T, len(xd))
	forRange(len(xd), func(lo, hi int) { unaryKernel(k, xd[lo:hi], yd[lo:hi]) })
	return tensor.New(x.Shape, yd)
}

// unaryKernel computes y = f(x) over equal-length slices.
func unaryKernel[T tensor.Float](k unaryKind, x, y []T) {
	y = y[:len(x)]
	switch k {
	case uSqrt:
		for i, v := range x {
			y[i] = T(math.Sqrt(float64(v)))
		}
	case uErf:
		if x32, ok := any(x).([]float32); ok {
			y32 := any(y).([]float32)
			for i, v := range x32 {
				y32[i] = erf32(v)
			}
			return
		}
		for i, v := range x {
			y[i] = T(math.Erf(float64(v)))
		}
	case uTanh:
		for i, v := range x {
			y[i] = T(math.Tanh(float64(v)))
		}
	case uRelu:
		for i, v := range x {
			if v < 0 {
				v = 0
			}
			y[i] = v
		}
	case uSigmoid:
		for i, v := range x {
			y[i] = T(sigmoid(float64(v)))
		}
	case uNeg:
		for i, v := range x {
			y[i] = -v
		}
	case uAbs:
		for i, v := range x {
			y[i] = T(math.Abs(float64(v)))
		}
	case uExp:
		for i, v := range x {
			y[i] = T(math.Exp(float64(v)))
		}
	case uLog:
		for i, v := range x {
			y[i] = T(math.Log(float64(v)))
		}
	case uSin:
		for i, v := range x {
			y[i] = T(math.Sin(float64(v)))
		}
	case uCos:
		for i, v := range x {
			y[i] = T(math.Cos(float64(v)))
		}
	case uSign:
		for i, v := range x {
			switch {
			case v > 0:
				y[i] = 1
			case v < 0:
				y[i] = -1
			default:
				y[i] = v // ±0 and NaN pass through
			}
		}
	case uCeil:
		for i, v := range x {
			y[i] = T(math.Ceil(float64(v)))
		}
	case uFloor:
		for i, v := range x {
			y[i] = T(math.Floor(float64(v)))
		}
	case uReciprocal:
		for i, v := range x {
			y[i] = 1 / v
		}
	case uSoftplus:
		for i, v := range x {
			f := float64(v)
			if f > 0 {
				y[i] = T(f + math.Log1p(math.Exp(-f)))
			} else {
				y[i] = T(math.Log1p(math.Exp(f)))
			}
		}
	}
}

// sigmoid is 1/(1+e^-x), computed without overflow for either sign.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// erf32 is erf for float32 (kernels.Erf32: within 5e-7 of the exact value).
func erf32(v float32) float32 { return kernels.Erf32(v) }

func (o unaryGrad) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	if !need[0] {
		return make([]*tensor.Tensor, len(in)), nil
	}
	g := outGrad(out, dout, 0)
	var dx *tensor.Tensor
	switch in[0].DType() {
	case tensor.Float32:
		dx = unaryBackward[float32](o.k, in[0], out[0], g)
	case tensor.Float64:
		dx = unaryBackward[float64](o.k, in[0], out[0], g)
	default:
		return nil, errDType(o.name+" backward", in[0])
	}
	return []*tensor.Tensor{dx}, nil
}

// Saves: Sqrt, Tanh, Sigmoid and Exp read their output; Erf, Relu, Abs,
// Log, Sin and Cos their input; Neg nothing; the others both.
func (o unaryGrad) Saves(need []bool) (ins, outs []int) {
	switch o.k {
	case uSqrt, uTanh, uSigmoid, uExp:
		return nil, []int{0}
	case uErf, uRelu, uAbs, uLog, uSin, uCos:
		return []int{0}, nil
	case uNeg:
		return nil, nil
	}
	return []int{0}, []int{0}
}

func unaryBackward[T tensor.Float](k unaryKind, x, y, g *tensor.Tensor) *tensor.Tensor {
	xd, yd, gd := tensor.Data[T](x), tensor.Data[T](y), tensor.Data[T](g)
	n := x.Len()
	// An input or output not kept for backward (Saves) is never read for
	// this kind: g stands in for it.
	if len(xd) < n {
		xd = gd
	}
	if len(yd) < n {
		yd = gd
	}
	dx := make([]T, n)
	forRange(n, func(lo, hi int) { unaryGradKernel(k, xd[lo:hi], yd[lo:hi], gd[lo:hi], dx[lo:hi]) })
	return tensor.New(x.Shape, dx)
}

// unaryGradKernel computes dx = g · f'(x) over equal-length slices, given
// the forward input x and output y.
func unaryGradKernel[T tensor.Float](k unaryKind, x, y, g, dx []T) {
	n := len(x)
	y, g, dx = y[:n], g[:n], dx[:n]
	switch k {
	case uSqrt:
		for i := range dx {
			dx[i] = g[i] * 0.5 / y[i]
		}
	case uErf:
		const c = 2 / math.SqrtPi
		if xf, ok := any(x).([]float32); ok {
			// float32: the fast exp of the softmax kernels (≤ 1 ulp)
			gf, df := any(g).([]float32), any(dx).([]float32)
			for i, v := range xf {
				df[i] = gf[i] * (c * kernels.Exp32(-v*v))
			}
			break
		}
		for i, v := range x {
			f := float64(v)
			dx[i] = g[i] * T(c*math.Exp(-f*f))
		}
	case uTanh:
		for i := range dx {
			dx[i] = g[i] * (1 - y[i]*y[i])
		}
	case uRelu:
		for i, v := range x {
			if v > 0 {
				dx[i] = g[i]
			} else {
				dx[i] = 0
			}
		}
	case uSigmoid:
		for i := range dx {
			dx[i] = g[i] * y[i] * (1 - y[i])
		}
	case uNeg:
		for i := range dx {
			dx[i] = -g[i]
		}
	case uAbs:
		for i, v := range x {
			switch {
			case v > 0:
				dx[i] = g[i]
			case v < 0:
				dx[i] = -g[i]
			default:
				dx[i] = 0
			}
		}
	case uExp:
		for i := range dx {
			dx[i] = g[i] * y[i]
		}
	case uLog:
		for i, v := range x {
			dx[i] = g[i] / v
		}
	case uSin:
		for i, v := range x {
			dx[i] = g[i] * T(math.Cos(float64(v)))
		}
	case uCos:
		for i, v := range x {
			dx[i] = -g[i] * T(math.Sin(float64(v)))
		}
	}
}
