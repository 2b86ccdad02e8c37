package ops

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

// binaryMap applies f elementwise over the broadcast of a and b.
func binaryMap[T, R tensor.Elem](a, b *tensor.Tensor, f func(x, y T) R) (*tensor.Tensor, error) {
	out, err := tensor.BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	ad, bd := tensor.Data[T](a), tensor.Data[T](b)
	od := make([]R, tensor.Size(out))
	if tensor.SameShape(a.Shape, b.Shape) {
		for i := range od {
			od[i] = f(ad[i], bd[i])
		}
		return tensor.New(out, od), nil
	}
	if len(bd) == 1 {
		y := bd[0]
		for i := range od {
			od[i] = f(ad[i], y)
		}
		return tensor.New(out, od), nil
	}
	if len(ad) == 1 {
		x := ad[0]
		for i := range od {
			od[i] = f(x, bd[i])
		}
		return tensor.New(out, od), nil
	}
	it := tensor.NewIndex(out, tensor.BroadcastStrides(a.Shape, out), tensor.BroadcastStrides(b.Shape, out))
	o := 0
	for it.Next() {
		ia, ib := it.Off[0], it.Off[1]
		sa, sb := it.InnerStride[0], it.InnerStride[1]
		for j := 0; j < it.Inner; j++ {
			od[o] = f(ad[ia], bd[ib])
			o++
			ia += sa
			ib += sb
		}
	}
	return tensor.New(out, od), nil
}

// unaryMap applies f to every element.
func unaryMap[T, R tensor.Elem](a *tensor.Tensor, f func(x T) R) *tensor.Tensor {
	ad := tensor.Data[T](a)
	od := make([]R, len(ad))
	for i, v := range ad {
		od[i] = f(v)
	}
	return tensor.New(a.Shape, od)
}

// SumToShape sums g (of a broadcast shape) down to shape: the gradient rule
// for an input that was broadcast in forward.
func SumToShape(g *tensor.Tensor, shape []int) *tensor.Tensor {
	if tensor.SameShape(g.Shape, shape) {
		return g
	}
	switch g.DType() {
	case tensor.Float32:
		return sumToShape[float32](g, shape)
	case tensor.Float64:
		return sumToShape[float64](g, shape)
	}
	panic(fmt.Sprintf("SumToShape: dtype %s", g.DType()))
}

func sumToShape[T tensor.Float](g *tensor.Tensor, shape []int) *tensor.Tensor {
	gd := tensor.Data[T](g)
	od := make([]T, tensor.Size(shape))
	it := tensor.NewIndex(g.Shape, tensor.Strides(g.Shape), tensor.BroadcastStrides(shape, g.Shape))
	for it.Next() {
		ig, io := it.Off[0], it.Off[1]
		so := it.InnerStride[1]
		if so == 0 {
			var s T
			for j := 0; j < it.Inner; j++ {
				s += gd[ig+j]
			}
			od[io] += s
			continue
		}
		for j := 0; j < it.Inner; j++ {
			od[io] += gd[ig+j]
			io += so
		}
	}
	return tensor.New(shape, od)
}

// normAxis turns a possibly negative axis into [0, rank).
func normAxis(axis, rank int) (int, error) {
	if axis < -rank || axis >= rank || (rank == 0 && axis != 0 && axis != -1) {
		return 0, fmt.Errorf("axis %d out of range for rank %d", axis, rank)
	}
	if axis < 0 {
		axis += rank
	}
	return axis, nil
}

// sameType checks that all present inputs share a dtype.
func sameType(n string, in ...*tensor.Tensor) error {
	var dt tensor.DType
	for _, t := range in {
		if t == nil {
			continue
		}
		if dt == tensor.Invalid {
			dt = t.DType()
		} else if t.DType() != dt {
			return fmt.Errorf("%s: inputs of types %s and %s", n, dt, t.DType())
		}
	}
	return nil
}

// firstInputGrad starts the Backward of an op whose one differentiable
// input is in[0]: done is true when res is already the answer (nil with
// in[0] not needed; zeros of its shape with no output gradient).
func firstInputGrad(in, dout []*tensor.Tensor, need []bool) (res []*tensor.Tensor, done bool) {
	res = make([]*tensor.Tensor, len(in))
	if !need[0] {
		return res, true
	}
	if dout[0] == nil {
		res[0] = tensor.Zeros(in[0].DType(), in[0].Shape...)
		return res, true
	}
	return res, false
}

// scatterGrad starts the Backward of an op that moves elements of its
// first input to its output (Gather, GatherElements, Slice): a gradient
// for in[0] alone, zeros of its shape; more is false when nothing is to be
// added to it (in[0] not needed, or no output gradient).
func scatterGrad(in, dout []*tensor.Tensor, need []bool) (g []*tensor.Tensor, more bool) {
	g = make([]*tensor.Tensor, len(in))
	if !need[0] {
		return g, false
	}
	g[0] = tensor.Zeros(in[0].DType(), in[0].Shape...)
	return g, dout[0] != nil
}

// optInput is input i, nil when absent or beyond the inputs given.
func optInput(in []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(in) {
		return in[i]
	}
	return nil
}

// errDType reports an unsupported element type.
func errDType(op string, t *tensor.Tensor) error {
	return fmt.Errorf("%s: element type %s is not supported", op, t.DType())
}

var errDivZero = fmt.Errorf("integer division by zero")

// outBuf returns n elements for an output that the caller writes whole:
// for float32 a buffer from kernels' pool (contents arbitrary), which graph
// runs refill with the outputs of dead values.
func outBuf[T any](n int) []T {
	var z T
	checkOut[T](n)
	if _, ok := any(z).(float32); ok {
		return any(kernels.GetF32(n)).([]T)
	}
	return make([]T, n)
}

// checkOut panics with a *tensor.AllocError when an output of n elements
// of T is above the memory limit (tensor.SetMemoryLimit, FT_MEMORY_LIMIT);
// graph runs turn it into an error naming the node.
func checkOut[T any](n int, shape ...int) {
	var z T
	dt := tensor.Invalid
	switch any(z).(type) {
	case float32:
		dt = tensor.Float32
	case float64:
		dt = tensor.Float64
	case int64:
		dt = tensor.Int64
	case int32:
		dt = tensor.Int32
	case bool:
		dt = tensor.Bool
	case uint8:
		dt = tensor.Uint8
	case int8:
		dt = tensor.Int8
	}
	if shape == nil {
		shape = []int{n}
	}
	if err := tensor.CheckAlloc(dt, shape); err != nil {
		panic(err)
	}
}
