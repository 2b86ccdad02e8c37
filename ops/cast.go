package ops

// Cast (to = an ONNX TensorProto data type) and CastLike (to = the second
// input's type), between float32, float64, int64, int32, bool, uint8, int8.
//
//	float -> int   truncates toward zero (out-of-range values wrap through int64)
//	any   -> bool  x != 0 (NaN -> true);  bool -> any: 1 or 0
//	float -> float rounds to nearest
//
//	Cast backward: dx = cast(dy, type of x) for float -> float; zero for
//	float -> int/bool (the output is piecewise constant); none for integer x.
//	saturate (opset 19) only concerns float8 types and is ignored.

import (
	"fmt"
	"math"

	"ft/tensor"
)

type cast struct {
	to tensor.DType
	// narrow is the ONNX type when it is one that ft holds widened (as the
	// onnx loader reads it): FLOAT16 and BFLOAT16 in float32, INT16 and
	// UINT16 in int32, UINT32 and UINT64 in int64. Cast then rounds or wraps
	// the values to that type and stores them in the wider one.
	narrow int64
}

type castLike struct{}

// ONNX TensorProto data types that ft holds in a wider type.
const (
	onnxUINT16   = 4
	onnxINT16    = 5
	onnxFLOAT16  = 10
	onnxUINT32   = 12
	onnxUINT64   = 13
	onnxBFLOAT16 = 16
)

// castDType maps an ONNX TensorProto.DataType to the tensor element type
// that holds it.
func castDType(t int64) (tensor.DType, error) {
	switch t {
	case 1, onnxFLOAT16, onnxBFLOAT16:
		return tensor.Float32, nil
	case 2:
		return tensor.Uint8, nil
	case 3:
		return tensor.Int8, nil
	case 6, onnxINT16, onnxUINT16:
		return tensor.Int32, nil
	case 7, onnxUINT32, onnxUINT64:
		return tensor.Int64, nil
	case 9:
		return tensor.Bool, nil
	case 11:
		return tensor.Float64, nil
	}
	names := map[int64]string{8: "STRING", 14: "COMPLEX64", 15: "COMPLEX128", 17: "FLOAT8E4M3FN",
		18: "FLOAT8E4M3FNUZ", 19: "FLOAT8E5M2", 20: "FLOAT8E5M2FNUZ", 21: "UINT4", 22: "INT4",
		23: "FLOAT4E2M1", 24: "FLOAT8E8M0", 25: "UINT2", 26: "INT2"}
	if s, ok := names[t]; ok {
		return tensor.Invalid, fmt.Errorf("element type %s is not supported", s)
	}
	return tensor.Invalid, fmt.Errorf("element type %d is not supported", t)
}

func init() {
	Register("", "Cast", 6, func(n *Node) (Op, error) {
		if !n.Has("to") {
			return nil, n.Errorf("missing attribute \"to\"")
		}
		to := n.Int("to", 0)
		dt, err := castDType(to)
		if err != nil {
			return nil, n.Errorf("to: %v", err)
		}
		o := cast{to: dt}
		switch to {
		case onnxFLOAT16, onnxBFLOAT16, onnxINT16, onnxUINT16, onnxUINT32, onnxUINT64:
			o.narrow = to
		}
		return o, nil
	})
	Register("", "CastLike", 15, func(n *Node) (Op, error) { return castLike{}, nil })
}

func (o cast) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if o.narrow != 0 {
		return castNarrow(in[0], o.narrow)
	}
	r, err := castTensor(in[0], o.to)
	if err != nil {
		return nil, err
	}
	return single(r)
}

// castNarrow casts to a type that ft holds widened: the values are rounded
// (FLOAT16, BFLOAT16) or wrapped (INT16, UINT16, UINT32) to the narrow type.
func castNarrow(x *tensor.Tensor, narrow int64) ([]*tensor.Tensor, error) {
	switch narrow {
	case onnxFLOAT16, onnxBFLOAT16:
		// round once, from float64 (exact for every source but huge int64s)
		f, err := castTensor(x, tensor.Float64)
		if err != nil {
			return nil, err
		}
		fd := f.F64()
		d := make([]float32, len(fd))
		for i, v := range fd {
			if narrow == onnxFLOAT16 {
				d[i] = float32(roundFloat(v, 11, -14, 65520))
			} else {
				d[i] = float32(roundFloat(v, 8, -126, 0x1.fep127))
			}
		}
		return single(tensor.New(x.Shape, d))
	case onnxINT16, onnxUINT16:
		r, err := castTensor(x, tensor.Int32)
		if err != nil {
			return nil, err
		}
		for i, v := range r.I32() {
			if narrow == onnxINT16 {
				r.I32()[i] = int32(int16(v))
			} else {
				r.I32()[i] = int32(uint16(v))
			}
		}
		return single(r)
	}
	r, err := castTensor(x, tensor.Int64)
	if err != nil {
		return nil, err
	}
	if narrow == onnxUINT32 {
		for i, v := range r.I64() {
			r.I64()[i] = int64(uint32(v))
		}
	}
	return single(r)
}

// roundFloat rounds x to nearest-even in a binary format with p significand
// bits and smallest normal exponent emin (subnormals below it); magnitudes
// of at least ovf (halfway past the largest finite value) become ±Inf.
func roundFloat(x float64, p, emin int, ovf float64) float64 {
	a := math.Abs(x)
	if a != a || math.IsInf(a, 0) {
		return x
	}
	if a >= ovf {
		return math.Copysign(math.Inf(1), x)
	}
	_, e := math.Frexp(a) // a = f·2^e, f in [0.5, 1)
	e = max(e-1, emin)
	q := math.Ldexp(1, e-(p-1)) // the spacing of representable values near a
	return math.Copysign(math.RoundToEven(a/q)*q, x)
}

func (castLike) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	r, err := castTensor(in[0], in[1].DType())
	if err != nil {
		return nil, err
	}
	return single(r)
}

func (o cast) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	x := in[0]
	if !need[0] || !x.DType().IsFloat() {
		return make([]*tensor.Tensor, len(in)), nil
	}
	if !o.to.IsFloat() || dout[0] == nil {
		return []*tensor.Tensor{zerosLike(x)}, nil
	}
	g, err := castTensor(dout[0], x.DType())
	if err != nil {
		return nil, err
	}
	return []*tensor.Tensor{g}, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o cast) Saves([]bool) (ins, outs []int) { return nil, nil }

// castTensor converts x to element type to (a copy, even when the type is
// already to).
func castTensor(x *tensor.Tensor, to tensor.DType) (*tensor.Tensor, error) {
	if x.DType() == to {
		return x.Clone(), nil
	}
	switch d := x.Data.(type) {
	case []float32:
		return castFrom(x.Shape, d, to)
	case []float64:
		return castFrom(x.Shape, d, to)
	case []int64:
		return castFrom(x.Shape, d, to)
	case []int32:
		return castFrom(x.Shape, d, to)
	case []uint8:
		return castFrom(x.Shape, d, to)
	case []int8:
		return castFrom(x.Shape, d, to)
	case []bool:
		return castFromBool(x.Shape, d, to)
	}
	return nil, errDType("Cast", x)
}

func castFrom[S tensor.Number](shape []int, src []S, to tensor.DType) (*tensor.Tensor, error) {
	switch to {
	case tensor.Float32:
		return tensor.New(shape, castNum[S, float32](src, false)), nil
	case tensor.Float64:
		return tensor.New(shape, castNum[S, float64](src, false)), nil
	case tensor.Int64:
		return tensor.New(shape, castNum[S, int64](src, true)), nil
	case tensor.Int32:
		return tensor.New(shape, castNum[S, int32](src, true)), nil
	case tensor.Uint8:
		return tensor.New(shape, castNum[S, uint8](src, true)), nil
	case tensor.Int8:
		return tensor.New(shape, castNum[S, int8](src, true)), nil
	case tensor.Bool:
		dst := make([]bool, len(src))
		for i, v := range src {
			dst[i] = v != 0
		}
		return tensor.New(shape, dst), nil
	}
	return nil, fmt.Errorf("Cast: target type %s is not supported", to)
}

// castNum converts between numeric types; toInt says D is an integer type,
// in which case values go through int64 (truncating floats toward zero and
// wrapping on narrowing).
func castNum[S, D tensor.Number](src []S, toInt bool) []D {
	dst := make([]D, len(src))
	forRange(len(src), func(lo, hi int) {
		s, d := src[lo:hi], dst[lo:hi]
		if toInt {
			for i, v := range s {
				d[i] = D(int64(v))
			}
			return
		}
		for i, v := range s {
			d[i] = D(v)
		}
	})
	return dst
}

func castFromBool(shape []int, src []bool, to tensor.DType) (*tensor.Tensor, error) {
	switch to {
	case tensor.Float32:
		return tensor.New(shape, boolTo[float32](src)), nil
	case tensor.Float64:
		return tensor.New(shape, boolTo[float64](src)), nil
	case tensor.Int64:
		return tensor.New(shape, boolTo[int64](src)), nil
	case tensor.Int32:
		return tensor.New(shape, boolTo[int32](src)), nil
	case tensor.Uint8:
		return tensor.New(shape, boolTo[uint8](src)), nil
	case tensor.Int8:
		return tensor.New(shape, boolTo[int8](src)), nil
	}
	return nil, fmt.Errorf("Cast: target type %s is not supported", to)
}

func boolTo[D tensor.Number](src []bool) []D {
	dst := make([]D, len(src))
	for i, v := range src {
		if v {
			dst[i] = 1
		}
	}
	return dst
}
