package ops

// Range: an arithmetic sequence.
//
//	Range(start, limit, delta scalars of one numeric type) -> Y [n]
//	    n = max(ceil((limit-start)/delta), 0), Y[i] = start + i·delta
//	    (accumulated as ONNX's reference does: Y[i] = Y[i-1] + delta)
//
// No gradient (ShapeOnly).

import (
	"fmt"
	"math"

	"ft/tensor"
)

func init() {
	Register("", "Range", 11, func(n *Node) (Op, error) { return &opRange{mvName(n)}, nil })
}

type opRange struct{ mvNamed }

func (*opRange) NoGradient() {}

func (o *opRange) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	for i, what := range []string{"start", "limit", "delta"} {
		t := mvOpt(in, i)
		if t == nil {
			return nil, o.errf("missing input %s", what)
		}
		if t.Len() != 1 {
			return nil, o.errf("%s must be a scalar, has shape %v", what, t.Shape)
		}
	}
	if err := sameType("Range", in[0], in[1], in[2]); err != nil {
		return nil, o.errf("%v", err)
	}
	var y *tensor.Tensor
	var err error
	switch in[0].DType() {
	case tensor.Float32:
		y, err = mvRangeFloat[float32](in)
	case tensor.Float64:
		y, err = mvRangeFloat[float64](in)
	case tensor.Int64:
		y, err = mvRangeInt[int64](in)
	case tensor.Int32:
		y, err = mvRangeInt[int32](in)
	case tensor.Int8:
		y, err = mvRangeInt[int8](in)
	case tensor.Uint8:
		y, err = mvRangeInt[uint8](in)
	default:
		return nil, o.errf("%v", errDType("Range", in[0]))
	}
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(y)
}

const mvMaxElems = 1 << 31

// mvCheckAlloc rejects shapes too large to allocate (a corrupt shape input).
func mvCheckAlloc(shape []int) error {
	n := 1
	for _, d := range shape {
		if d != 0 && n > mvMaxElems/d {
			return fmt.Errorf("shape %v is too large", shape)
		}
		n *= d
	}
	return nil
}

func mvRangeFill[T tensor.Number](start, delta T, n int) *tensor.Tensor {
	d := make([]T, n)
	v := start
	for i := range d {
		d[i] = v
		v += delta
	}
	return tensor.New([]int{n}, d)
}

func mvRangeFloat[T tensor.Float](in []*tensor.Tensor) (*tensor.Tensor, error) {
	s, l, d := tensor.Data[T](in[0])[0], tensor.Data[T](in[1])[0], tensor.Data[T](in[2])[0]
	if d == 0 {
		return nil, fmt.Errorf("delta is 0")
	}
	c := math.Ceil((float64(l) - float64(s)) / float64(d))
	if math.IsNaN(c) || c > mvMaxElems {
		return nil, fmt.Errorf("range(%v, %v, %v) has too many elements", s, l, d)
	}
	return mvRangeFill(s, d, int(max(c, 0))), nil
}

func mvRangeInt[T int64 | int32 | int8 | uint8](in []*tensor.Tensor) (*tensor.Tensor, error) {
	s, l, d := int64(tensor.Data[T](in[0])[0]), int64(tensor.Data[T](in[1])[0]), int64(tensor.Data[T](in[2])[0])
	if d == 0 {
		return nil, fmt.Errorf("delta is 0")
	}
	// n = ceil((l-s)/d) where positive, computed in uint64: l-s overflows
	// int64 for far-apart limits (it used to wrap negative and give an
	// empty range).
	var n uint64
	if d > 0 && l > s {
		n = (uint64(l)-uint64(s)-1)/uint64(d) + 1
	} else if d < 0 && l < s {
		n = (uint64(s)-uint64(l)-1)/(0-uint64(d)) + 1
	}
	if n > mvMaxElems {
		return nil, fmt.Errorf("range(%d, %d, %d) has %d elements, too many", s, l, d, n)
	}
	return mvRangeFill(T(s), T(d), int(n)), nil
}
