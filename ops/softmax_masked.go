package ops

// FtMaskedSoftmax: y = Softmax(a + b) along the last axis, a and b broadcast
// against each other (numpy rules). Not an ONNX op: graph.fuse builds it for
// the attention chain Add(scores, mask) → Softmax(axis -1), which saves the
// full read and write of the b·h·s·s scores that the Add costs on its own.
//
//	forward   each output row is a_row + b_row written into y, then
//	          normalised in place (float32: kernels.SoftmaxF32, bit for bit
//	          what Add then Softmax computes)
//	backward  ds = y ⊙ (dy - Σ dy⊙y) per row; da = ds and db = ds, each
//	          summed over the axes its input was broadcast along
//
// Backward reads only the output (Saves, beside it).

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

type opMaskedSoftmax struct{}

func init() {
	Register("", "FtMaskedSoftmax", 1, func(n *Node) (Op, error) { return opMaskedSoftmax{}, nil })
}

func (opMaskedSoftmax) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	if len(in) != 2 || in[0] == nil || in[1] == nil {
		return nil, fmt.Errorf("FtMaskedSoftmax: want 2 inputs, got %d", len(in))
	}
	a, b := in[0], in[1]
	if err := sameType("FtMaskedSoftmax", a, b); err != nil {
		return nil, err
	}
	shape, err := tensor.BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, fmt.Errorf("FtMaskedSoftmax: %v", err)
	}
	switch a.DType() {
	case tensor.Float32:
		y := outBuf[float32](tensor.Size(shape)) // rows written whole
		maskedSoftmax(a.F32(), b.F32(), y, a.Shape, b.Shape, shape)
		return single(tensor.New(shape, y))
	case tensor.Float64:
		checkOut[float64](tensor.Size(shape), shape...)
		y := make([]float64, tensor.Size(shape))
		maskedSoftmax(a.F64(), b.F64(), y, a.Shape, b.Shape, shape)
		return single(tensor.New(shape, y))
	}
	return nil, errDType("FtMaskedSoftmax", a)
}

// maskedSoftmax writes softmax(a + b) into y (of the broadcast shape),
// row by row along the last axis.
func maskedSoftmax[T laFloat](a, b, y []T, as, bs, shape []int) {
	if len(y) == 0 {
		return
	}
	r := len(shape)
	if r == 0 { // a scalar: softmax of one element
		y[0] = a[0] + b[0]
		softmaxRow(false, y[:1], y[:1])
		return
	}
	n := shape[r-1]
	sa, sb := tensor.BroadcastStrides(as, shape), tensor.BroadcastStrides(bs, shape)
	la, lb := sa[r-1], sb[r-1] // 1, or 0 where broadcast along the row
	rows := len(y) / n
	laRows(rows, 8*n, func(lo, hi int) {
		it := tensor.NewIndex(shape, sa, sb)
		it.Seek(lo)
		for row := lo; row < hi; row++ {
			oa, ob := it.Off[0], it.Off[1]
			it.Next()
			yr := y[row*n : row*n+n]
			switch {
			case la == 1 && lb == 1:
				ar, br := a[oa:oa+n], b[ob:ob+n]
				if y32, ok := any(yr).([]float32); ok { // vectorised where the CPU allows
					kernels.AddBiasF32(any(ar).([]float32), any(br).([]float32), y32)
					kernels.SoftmaxF32(y32, y32)
					continue
				}
				for i := range yr {
					yr[i] = ar[i] + br[i]
				}
			default:
				for i := range yr {
					yr[i] = a[oa+i*la] + b[ob+i*lb]
				}
			}
			if y32, ok := any(yr).([]float32); ok {
				kernels.SoftmaxF32(y32, y32) // in place, as Softmax on the sum
				continue
			}
			softmaxRow(false, yr, yr)
		}
	})
}

func (opMaskedSoftmax) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	res := make([]*tensor.Tensor, len(in))
	if !need[0] && !need[1] {
		return res, nil
	}
	y := out[0]
	var ds *tensor.Tensor
	if dout[0] == nil {
		ds = tensor.Zeros(y.DType(), y.Shape...)
	} else {
		n, rows := 1, 1
		if len(y.Shape) > 0 {
			n = y.Shape[len(y.Shape)-1]
		}
		if n > 0 {
			rows = y.Len() / n
		}
		switch y.DType() {
		case tensor.Float32:
			dx := outBuf[float32](y.Len()) // written whole
			softmaxBackward(false, y.F32(), dout[0].F32(), dx, rows, n, 1)
			ds = tensor.New(y.Shape, dx)
		case tensor.Float64:
			dx := make([]float64, y.Len())
			softmaxBackward(false, y.F64(), dout[0].F64(), dx, rows, n, 1)
			ds = tensor.New(y.Shape, dx)
		default:
			return nil, errDType("FtMaskedSoftmax backward", y)
		}
	}
	// the same tensor may serve both inputs: the graph never changes a
	// gradient it does not own in place (as Add's backward)
	for i := range 2 {
		if need[i] {
			res[i] = arithReduceGrad(ds, in[i].Shape)
		}
	}
	return res, nil
}

// Saves: backward reads the output alone (the inputs for their shapes).
func (opMaskedSoftmax) Saves(need []bool) (ins, outs []int) { return nil, []int{0} }
