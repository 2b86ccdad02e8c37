package ops

// Linear quantization (forward only: the quantized values are piecewise
// constant, and ft fine-tunes an int8 model by dequantizing its weights at
// import):
//
//	QuantizeLinear (10, 13, 19, 21)    y = saturate(rint(x / scale) + zp)
//	DequantizeLinear (10, 13, 19, 21)  y = (x - zp) · scale
//	DynamicQuantizeLinear (11)         x → uint8 y, scale, zp from x's range
//
// rint rounds half to even; saturate clips to the range of y's type (uint8
// or int8: zp's type, else output_dtype (21), else uint8). Arithmetic is
// float32, as ONNX Runtime's CPU kernels compute: x / scale is a division
// (not a product with 1/scale), (x - zp) an int32 difference. scale and zp
// are one value (per tensor), one per index of x's dimension axis (1-D;
// 13), or blocks of block_size indices along axis (same rank as x; 21).
// saturate (19) only concerns float8 types; ft has no float8 or int4
// tensors, and holds int16 and uint16 in int32: QuantizeLinear gives them
// when output_dtype says so, and refuses an int32-held zero point (int16
// or uint16: their ranges cannot be told apart); DequantizeLinear of an
// int32-held input computes as for int32, which is right for all three.
//
// DynamicQuantizeLinear as ONNX Runtime (and ONNX's reference) computes it:
//
//	lo = min(0, min x), hi = max(0, max x)
//	scale = (hi - lo) / 255        (1 when hi = lo, as ONNX Runtime)
//	zp = rint(clip(0 - lo / scale, 0, 255))
//	y = saturate(rint(x / scale) + zp)

import (
	"fmt"
	"math"

	"ft/tensor"
)

type quantizeLinear struct {
	name      string
	axis      int64
	blockSize int64
	outType   int64 // output_dtype: 0 (from zp, else uint8), 2 (uint8), 3 (int8), 4 (uint16), 5 (int16)
}

type dequantizeLinear struct {
	name      string
	axis      int64
	blockSize int64
}

type dynamicQuantizeLinear struct{}

func init() {
	q := func(n *Node) (Op, error) {
		o := quantizeLinear{name: n.Name, axis: n.Int("axis", 1), blockSize: n.Int("block_size", 0), outType: n.Int("output_dtype", 0)}
		switch o.outType {
		case 0, 2, 3, onnxUINT16, onnxINT16:
		default:
			if _, err := castDType(o.outType); err != nil {
				return nil, n.Errorf("output_dtype: %v", err)
			}
			return nil, n.Errorf("output_dtype %d: ft quantizes to uint8 (2), int8 (3), uint16 (4) or int16 (5) only", o.outType)
		}
		if o.blockSize < 0 {
			return nil, n.Errorf("block_size %d is negative", o.blockSize)
		}
		if p := n.Int("precision", 0); p != 0 && p != 1 {
			return nil, n.Errorf("precision %d: ft quantizes in float32 (1) only", p)
		}
		return o, nil
	}
	dq := func(n *Node) (Op, error) {
		o := dequantizeLinear{name: n.Name, axis: n.Int("axis", 1), blockSize: n.Int("block_size", 0)}
		if t := n.Int("output_dtype", 0); t != 0 && t != 1 {
			return nil, n.Errorf("output_dtype %d: ft dequantizes to float32 (1) only", t)
		}
		if o.blockSize < 0 {
			return nil, n.Errorf("block_size %d is negative", o.blockSize)
		}
		return o, nil
	}
	for _, v := range []int{10, 13, 19, 21} {
		Register("", "QuantizeLinear", v, q)
		Register("", "DequantizeLinear", v, dq)
	}
	Register("", "DynamicQuantizeLinear", 11, func(n *Node) (Op, error) { return dynamicQuantizeLinear{}, nil })
}

func (quantizeLinear) NoGradient()        {}
func (dequantizeLinear) NoGradient()      {}
func (dynamicQuantizeLinear) NoGradient() {}

// quantParams maps an element of x to the index of its scale and zero point:
// scaleIndex(o, d, i) for x viewed as [outer, dim, inner] around axis.
type quantParams struct {
	outer, dim, inner int
	kind              int // 0 per tensor, 1 per axis, 2 blocked
	block, blocks     int
}

func (p *quantParams) index(o, d, i int) int {
	switch p.kind {
	case 0:
		return 0
	case 1:
		return d
	}
	return (o*p.blocks+d/p.block)*p.inner + i
}

// each calls f(k, j, z) for every element k of x in order, with j the index
// of its scale (and zero point) and z its zero point (0 when zp is nil).
func (p *quantParams) each(zp []int32, f func(k, j int, z int32)) {
	for o := 0; o < p.outer; o++ {
		for d := 0; d < p.dim; d++ {
			base := (o*p.dim + d) * p.inner
			for i := 0; i < p.inner; i++ {
				j := p.index(o, d, i)
				var z int32
				if zp != nil {
					z = zp[j]
				}
				f(base+i, j, z)
			}
		}
	}
}

// planQuant checks scale (and zp, when present) against x.
func planQuant(op string, x, scale, zp *tensor.Tensor, axis, blockSize int64) (*quantParams, error) {
	p := &quantParams{outer: 1, dim: 1, inner: x.Len()}
	if zp != nil && !tensor.SameShape(zp.Shape, scale.Shape) {
		return nil, fmt.Errorf("%s: zero point of shape %v for scale of shape %v", op, zp.Shape, scale.Shape)
	}
	switch {
	case blockSize == 0 && scale.Len() == 1 && scale.Rank() <= 1:
		return p, nil
	case x.Rank() == 0:
		return nil, fmt.Errorf("%s: scale of shape %v for a scalar", op, scale.Shape)
	}
	ax, err := normAxis(int(axis), x.Rank())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", op, err)
	}
	p.outer, p.dim, p.inner = laSplit(x.Shape, ax)
	if blockSize == 0 {
		if scale.Rank() != 1 || scale.Shape[0] != p.dim {
			return nil, fmt.Errorf("%s: scale of shape %v for axis %d of length %d (want one value or %d)", op, scale.Shape, axis, p.dim, p.dim)
		}
		p.kind = 1
		return p, nil
	}
	p.kind, p.block = 2, int(blockSize)
	p.blocks = (p.dim + p.block - 1) / p.block
	want := append([]int{}, x.Shape...)
	want[ax] = p.blocks
	if !tensor.SameShape(scale.Shape, want) {
		return nil, fmt.Errorf("%s: scale of shape %v for blocks of %d along axis %d of %v (want %v)", op, scale.Shape, blockSize, axis, x.Shape, want)
	}
	return p, nil
}

// zeroPoints returns zp's values as int32 (nil for an absent zp).
func zeroPoints(op string, zp *tensor.Tensor) ([]int32, error) {
	if zp == nil {
		return nil, nil
	}
	r := make([]int32, zp.Len())
	switch zp.DType() {
	case tensor.Uint8:
		for i, v := range zp.Data.([]uint8) {
			r[i] = int32(v)
		}
	case tensor.Int8:
		for i, v := range zp.Data.([]int8) {
			r[i] = int32(v)
		}
	case tensor.Int32:
		copy(r, zp.I32())
	default:
		return nil, fmt.Errorf("%s: zero point of type %s (want uint8, int8 or int32)", op, zp.DType())
	}
	return r, nil
}

// toF32 returns x's values as float32 (float32, float64 or int32 x).
func toF32(op string, x *tensor.Tensor) ([]float32, error) {
	switch x.DType() {
	case tensor.Float32:
		return x.F32(), nil
	case tensor.Float64, tensor.Int32:
		t, err := castTensor(x, tensor.Float32)
		if err != nil {
			return nil, err
		}
		return t.F32(), nil
	}
	return nil, fmt.Errorf("%s: input of type %s (want float32 or int32)", op, x.DType())
}

// quantizeValue is saturate(rint(x / scale) + zp) in [lo, hi] (NaN gives zp,
// clipped).
func quantizeValue(x, scale float32, zp, lo, hi int32) int32 {
	v := float64(x / scale)
	if v != v {
		v = 0
	}
	r := math.RoundToEven(v)
	switch {
	case r+float64(zp) <= float64(lo):
		return lo
	case r+float64(zp) >= float64(hi):
		return hi
	}
	return int32(r) + zp
}

func (o quantizeLinear) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, scale, zpT := in[0], in[1], optInput(in, 2)
	const op = "QuantizeLinear"
	xs, err := toF32(op, x)
	if err != nil {
		return nil, err
	}
	if scale.DType() != tensor.Float32 {
		return nil, fmt.Errorf("%s: scale of type %s (want float32)", op, scale.DType())
	}
	p, err := planQuant(op, x, scale, zpT, o.axis, o.blockSize)
	if err != nil {
		return nil, err
	}
	out, lo, hi := tensor.Uint8, int32(0), int32(255)
	switch {
	case zpT != nil && zpT.DType() == tensor.Int8, zpT == nil && o.outType == 3:
		out, lo, hi = tensor.Int8, -128, 127
	case zpT == nil && o.outType == onnxUINT16:
		out, lo, hi = tensor.Int32, 0, 65535
	case zpT == nil && o.outType == onnxINT16:
		out, lo, hi = tensor.Int32, -32768, 32767
	case zpT != nil && zpT.DType() != tensor.Uint8:
		return nil, fmt.Errorf("%s: zero point of type %s: ft quantizes to uint8 or int8, or to 16-bit integers by output_dtype without a zero point (it holds them in int32)", op, zpT.DType())
	}
	if zpT != nil && o.outType != 0 && o.outType != map[tensor.DType]int64{tensor.Uint8: 2, tensor.Int8: 3}[zpT.DType()] {
		return nil, fmt.Errorf("%s: output_dtype %d differs from the zero point's type %s", op, o.outType, zpT.DType())
	}
	zp, err := zeroPoints(op, zpT)
	if err != nil {
		return nil, err
	}
	sc := scale.F32()
	y := make([]int32, len(xs))
	p.each(zp, func(k, j int, z int32) {
		y[k] = quantizeValue(xs[k], sc[j], z, lo, hi)
	})
	return single(narrowInt32(x.Shape, y, out))
}

// narrowInt32 is y (already clamped to out's range) as a tensor of type out:
// int32, int8, or else uint8.
func narrowInt32(shape []int, y []int32, out tensor.DType) *tensor.Tensor {
	switch out {
	case tensor.Int32:
		return tensor.New(shape, y)
	case tensor.Int8:
		r := make([]int8, len(y))
		for i, v := range y {
			r[i] = int8(v)
		}
		return tensor.New(shape, r)
	}
	r := make([]uint8, len(y))
	for i, v := range y {
		r[i] = uint8(v)
	}
	return tensor.New(shape, r)
}

func (o dequantizeLinear) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x, scale, zpT := in[0], in[1], optInput(in, 2)
	const op = "DequantizeLinear"
	if scale.DType() != tensor.Float32 {
		return nil, fmt.Errorf("%s: scale of type %s (want float32)", op, scale.DType())
	}
	if zpT != nil && zpT.DType() != x.DType() {
		return nil, fmt.Errorf("%s: input of type %s with a zero point of type %s", op, x.DType(), zpT.DType())
	}
	xs, err := zeroPoints(op, x) // x's values as int32
	if err != nil {
		return nil, fmt.Errorf("%s: input of type %s (want uint8, int8 or int32)", op, x.DType())
	}
	p, err := planQuant(op, x, scale, zpT, o.axis, o.blockSize)
	if err != nil {
		return nil, err
	}
	zp, err := zeroPoints(op, zpT)
	if err != nil {
		return nil, err
	}
	sc := scale.F32()
	y := make([]float32, len(xs))
	p.each(zp, func(k, j int, z int32) {
		y[k] = float32(xs[k]-z) * sc[j]
	})
	return single(tensor.New(x.Shape, y))
}

// DynamicQuantParams returns the scale and zero point that
// DynamicQuantizeLinear gives x (see the top of this file).
func DynamicQuantParams(x []float32) (scale float32, zp uint8) {
	var lo, hi float32
	for _, v := range x {
		lo, hi = min(lo, v), max(hi, v)
	}
	if hi == lo {
		return 1, 0
	}
	scale = (hi - lo) / 255
	z := 0 - lo/scale
	return scale, uint8(math.RoundToEven(float64(min(max(z, 0), 255))))
}

func (dynamicQuantizeLinear) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if x.DType() != tensor.Float32 {
		return nil, fmt.Errorf("DynamicQuantizeLinear: input of type %s (want float32)", x.DType())
	}
	xs := x.F32()
	scale, zp := DynamicQuantParams(xs)
	y := make([]uint8, len(xs))
	for i, v := range xs {
		y[i] = uint8(quantizeValue(v, scale, int32(zp), 0, 255))
	}
	return []*tensor.Tensor{tensor.New(x.Shape, y), tensor.Scalar(scale), tensor.Scalar(zp)}, nil
}
