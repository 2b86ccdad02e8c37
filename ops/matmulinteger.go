package ops

// Integer matrix products (forward only, on frozen int8 weights):
//
//	MatMulInteger (10)  Y (int32) = (A - a_zero_point) · (B - b_zero_point)
//	QLinearMatMul (10, 21)
//	                    y = saturate(rint(((a - a_zp) · (b - b_zp)) · a_scale·b_scale / y_scale) + y_zp)
//
// A and B are uint8 or int8, with numpy MatMul shapes (MatMul's plan: batch
// dimensions broadcast, 1-D operands). a_zero_point is one value or one per
// row of A (1-D of length m), b_zero_point one value or one per column of B
// (1-D of length n); scales likewise (QLinearMatMul; b_scale per column).
// The integer product is kernels.GemmInt8 (int32, wrapping: exact whenever
// the result fits int32). QLinearMatMul requantizes as ONNX Runtime does:
// the int32 sum converted to float32, times the float32 multiplier
// a_scale·b_scale/y_scale, rounded half to even, plus y_zp, saturated to
// y's type (y_zp's, else a's).

import (
	"fmt"
	"math"

	"ft/kernels"
	"ft/tensor"
)

type matMulInteger struct{}

type qLinearMatMul struct{}

func init() {
	Register("", "MatMulInteger", 10, func(n *Node) (Op, error) { return matMulInteger{}, nil })
	Register("", "QLinearMatMul", 10, func(n *Node) (Op, error) { return qLinearMatMul{}, nil })
}

func (matMulInteger) NoGradient() {}
func (qLinearMatMul) NoGradient() {}

// int8Product computes (A - za)·(B - zb) for MatMul shapes into int32.
func int8Product(op string, a, b, azp, bzp *tensor.Tensor) (*tensor.Tensor, int, error) {
	for _, t := range []*tensor.Tensor{a, b} {
		if dt := t.DType(); dt != tensor.Uint8 && dt != tensor.Int8 {
			return nil, 0, fmt.Errorf("%s: input of type %s (want uint8 or int8)", op, dt)
		}
	}
	p, err := planMatMul(a.Shape, b.Shape)
	if err != nil {
		return nil, 0, fmt.Errorf("%s: %v", op, err)
	}
	m, n, k := p.prod.m, p.prod.n, p.prod.k
	rows := 1 // rows of A per product before batch folding
	if len(a.Shape) > 1 {
		rows = a.Shape[len(a.Shape)-2]
	}
	za, err := productZeroPoints(op, "a", azp, a.DType(), rows)
	if err != nil {
		return nil, 0, err
	}
	zb, err := productZeroPoints(op, "b", bzp, b.DType(), n)
	if err != nil {
		return nil, 0, err
	}
	if len(za) > 1 && m != rows {
		za = tileRows(za, m/rows)
	}
	checkOut[int32](0, p.out...)
	c := make([]int32, tensor.Size(p.out))
	packed := map[int]*kernels.Int8B{}
	for i := range p.prod.cOff {
		ao, bo, co := p.prod.aOff[i], p.prod.bOff[i], p.prod.cOff[i]
		pb := packed[bo]
		if pb == nil {
			switch bd := b.Data.(type) {
			case []int8:
				pb = kernels.PackInt8B(k, n, bd[bo:bo+k*n], n, zb)
			case []uint8:
				pb = kernels.PackInt8B(k, n, bd[bo:bo+k*n], n, zb)
			}
			packed[bo] = pb
		}
		switch ad := a.Data.(type) {
		case []int8:
			kernels.GemmInt8(m, ad[ao:ao+m*k], k, za, pb, c[co:co+m*n], n)
		case []uint8:
			kernels.GemmInt8(m, ad[ao:ao+m*k], k, za, pb, c[co:co+m*n], n)
		}
	}
	return tensor.New(p.out, c), n, nil
}

// tileRows repeats per-row values for times stacked products.
func tileRows(z []int32, times int) []int32 {
	r := make([]int32, 0, len(z)*times)
	for i := 0; i < times; i++ {
		r = append(r, z...)
	}
	return r
}

// productZeroPoints reads a zero point of a product operand: absent, one
// value, or count values (1-D), of the operand's type.
func productZeroPoints(op, name string, zp *tensor.Tensor, dt tensor.DType, count int) ([]int32, error) {
	if zp == nil {
		return nil, nil
	}
	if zp.DType() != dt {
		return nil, fmt.Errorf("%s: %s_zero_point of type %s for %s of type %s", op, name, zp.DType(), name, dt)
	}
	if zp.Len() != 1 && (zp.Rank() != 1 || zp.Len() != count) {
		return nil, fmt.Errorf("%s: %s_zero_point of shape %v (want one value or %d)", op, name, zp.Shape, count)
	}
	return zeroPoints(op, zp)
}

func (matMulInteger) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	c, _, err := int8Product("MatMulInteger", in[0], in[1], optInput(in, 2), optInput(in, 3))
	if err != nil {
		return nil, err
	}
	return single(c)
}

func (qLinearMatMul) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	const op = "QLinearMatMul"
	a, as, azp, b, bs, bzp, ys, yzp := in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]
	for i, t := range []*tensor.Tensor{as, bs, ys} {
		if t.DType() != tensor.Float32 {
			return nil, fmt.Errorf("%s: %s of type %s (want float32)", op, []string{"a_scale", "b_scale", "y_scale"}[i], t.DType())
		}
	}
	if as.Len() != 1 || ys.Len() != 1 {
		return nil, fmt.Errorf("%s: a_scale of shape %v and y_scale of shape %v: ft takes one value each", op, as.Shape, ys.Shape)
	}
	c, n, err := int8Product(op, a, b, azp, bzp)
	if err != nil {
		return nil, err
	}
	if bs.Len() != 1 && (bs.Rank() != 1 || bs.Len() != n) {
		return nil, fmt.Errorf("%s: b_scale of shape %v (want one value or %d)", op, bs.Shape, n)
	}
	out, lo, hi := a.DType(), int32(0), int32(255)
	if yzp != nil {
		out = yzp.DType()
	}
	switch out {
	case tensor.Int8:
		lo, hi = -128, 127
	case tensor.Uint8:
	default:
		return nil, fmt.Errorf("%s: y_zero_point of type %s (want uint8 or int8)", op, out)
	}
	var yz int32
	if yzp != nil {
		z, err := zeroPoints(op, yzp)
		if err != nil {
			return nil, err
		}
		if len(z) != 1 {
			return nil, fmt.Errorf("%s: y_zero_point of shape %v: ft takes one value", op, yzp.Shape)
		}
		yz = z[0]
	}
	mult := make([]float32, bs.Len())
	for j, s := range bs.F32() {
		mult[j] = as.F32()[0] * s / ys.F32()[0]
	}
	y := make([]int32, c.Len())
	for i, v := range c.I32() {
		f := float64(float32(v) * mult[(i%n)%len(mult)])
		r := math.RoundToEven(f) + float64(yz)
		y[i] = int32(max(float64(lo), min(float64(hi), r)))
	}
	return single(narrowInt32(c.Shape, y, out)) // out is int8 or uint8
}
