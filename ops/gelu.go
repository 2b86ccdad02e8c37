package ops

// Gelu (opset 20), approximate = "none" (default) or "tanh".
//
//	none: y = x·Φ(x),  Φ(x) = ½(1 + erf(x/√2))
//	      dx = dy · (Φ(x) + x·φ(x)),  φ(x) = exp(-x²/2)/√(2π)
//	tanh: u = √(2/π)(x + 0.044715x³), t = tanh(u), y = ½x(1 + t)
//	      dx = dy · (½(1 + t) + ½x(1 - t²)·√(2/π)(1 + 3·0.044715x²))
//
// x, y, dx, dy all have the same shape.

import (
	"math"

	"ft/kernels"
	"ft/tensor"
)

type gelu struct{ tanh bool }

func init() {
	Register("", "Gelu", 20, func(n *Node) (Op, error) {
		switch a := n.String("approximate", "none"); a {
		case "none":
			return gelu{false}, nil
		case "tanh":
			return gelu{true}, nil
		default:
			return nil, n.Errorf("approximate must be \"none\" or \"tanh\", not %q", a)
		}
	})
}

const (
	geluSqrt2Pi = 0.7978845608028654 // √(2/π)
	geluCoef    = 0.044715
)

func (o gelu) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	switch x.DType() {
	case tensor.Float32:
		return single(geluForward[float32](o.tanh, x))
	case tensor.Float64:
		return single(geluForward[float64](o.tanh, x))
	}
	return nil, errDType("Gelu", x)
}

func geluForward[T tensor.Float](approx bool, x *tensor.Tensor) *tensor.Tensor {
	xd := tensor.Data[T](x)
	yd := outBuf[T](len(xd)) // written whole
	forRange(len(xd), func(lo, hi int) { geluKernel(approx, xd[lo:hi], yd[lo:hi]) })
	return tensor.New(x.Shape, yd)
}

func geluKernel[T tensor.Float](approx bool, x, y []T) {
	y = y[:len(x)]
	if approx {
		for i, v := range x {
			f := float64(v)
			y[i] = T(0.5 * f * (1 + math.Tanh(geluSqrt2Pi*(f+geluCoef*f*f*f))))
		}
		return
	}
	if x32, ok := any(x).([]float32); ok {
		kernels.GeluF32(x32, any(y).([]float32)) // vectorised where the CPU allows
		return
	}
	for i, v := range x {
		f := float64(v)
		y[i] = T(0.5 * f * (1 + math.Erf(f*(math.Sqrt2/2))))
	}
}

func (o gelu) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	if !need[0] {
		return make([]*tensor.Tensor, len(in)), nil
	}
	g := outGrad(out, dout, 0)
	switch in[0].DType() {
	case tensor.Float32:
		return []*tensor.Tensor{geluBackward[float32](o.tanh, in[0], g)}, nil
	case tensor.Float64:
		return []*tensor.Tensor{geluBackward[float64](o.tanh, in[0], g)}, nil
	}
	return nil, errDType("Gelu backward", in[0])
}

// Saves: the input.
func (o gelu) Saves(need []bool) (ins, outs []int) { return []int{0}, nil }

func geluBackward[T tensor.Float](approx bool, x, g *tensor.Tensor) *tensor.Tensor {
	xd, gd := tensor.Data[T](x), tensor.Data[T](g)
	dx := outBuf[T](len(xd)) // written whole
	forRange(len(xd), func(lo, hi int) { geluGradKernel(approx, xd[lo:hi], gd[lo:hi], dx[lo:hi]) })
	return tensor.New(x.Shape, dx)
}

func geluGradKernel[T tensor.Float](approx bool, x, g, dx []T) {
	g, dx = g[:len(x)], dx[:len(x)]
	if approx {
		for i, v := range x {
			f := float64(v)
			t := math.Tanh(geluSqrt2Pi * (f + geluCoef*f*f*f))
			d := 0.5*(1+t) + 0.5*f*(1-t*t)*geluSqrt2Pi*(1+3*geluCoef*f*f)
			dx[i] = g[i] * T(d)
		}
		return
	}
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	if x32, ok := any(x).([]float32); ok {
		// float32: erf32 and the fast exp of the softmax kernels, as the
		// forward and Erf's backward; vectorised where the CPU allows
		kernels.GeluGradF32(x32, any(g).([]float32), any(dx).([]float32))
		return
	}
	for i, v := range x {
		f := float64(v)
		cdf := 0.5 * (1 + math.Erf(f*(math.Sqrt2/2)))
		dx[i] = g[i] * T(cdf+f*invSqrt2Pi*math.Exp(-0.5*f*f))
	}
}
