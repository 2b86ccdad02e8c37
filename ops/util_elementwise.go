package ops

// Helpers shared by the elementwise op files (unary.go, gelu.go, pow.go,
// clip.go, minmax.go, where.go, compare.go, cast.go, dropout.go, mod.go).

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

// elemGrain is the chunk size of elementwise loops run on the shared pool.
// Chunks depend only on the element count, so results do not depend on the
// number of threads.
const elemGrain = 1 << 14

// forRange calls body(lo, hi) over [0, n) in fixed chunks of elemGrain, on
// the shared pool when there is more than one chunk. The body loops over its
// range of slices itself: one call per chunk, never per element.
func forRange(n int, body func(lo, hi int)) {
	if n <= elemGrain {
		if n > 0 {
			body(0, n)
		}
		return
	}
	kernels.ParallelFor(n, elemGrain, body)
}

// bcastIndex returns the broadcast of the shapes and an Index walking that
// shape with one broadcast-strided offset per operand (in the order given).
// The output itself is written contiguously by the caller.
func bcastIndex(shapes ...[]int) ([]int, *tensor.Index, error) {
	out, err := tensor.BroadcastShape(shapes...)
	if err != nil {
		return nil, nil, err
	}
	st := make([][]int, len(shapes))
	for i, s := range shapes {
		st[i] = tensor.BroadcastStrides(s, out)
	}
	return out, tensor.NewIndex(out, st...), nil
}

// scalarValue reads a one-element numeric tensor as float64 (Clip bounds,
// Dropout ratio).
func scalarValue(what string, t *tensor.Tensor) (float64, error) {
	if t.Len() != 1 {
		return 0, fmt.Errorf("%s must hold one element, has shape %v", what, t.Shape)
	}
	if t.DType() == tensor.Invalid {
		return 0, fmt.Errorf("%s has an unsupported element type", what)
	}
	return t.Float64s()[0], nil
}

// outGrad returns dout[i], or a zero tensor shaped like out[i] when that
// output does not reach the loss (nil).
func outGrad(out, dout []*tensor.Tensor, i int) *tensor.Tensor {
	if i < len(dout) && dout[i] != nil {
		return dout[i]
	}
	return tensor.Zeros(out[i].DType(), out[i].Shape...)
}

// zerosLike returns a zero tensor of t's type and shape.
func zerosLike(t *tensor.Tensor) *tensor.Tensor { return tensor.Zeros(t.DType(), t.Shape...) }

// isIntegral reports whether d is an integer type (bool excluded).
func isIntegral(d tensor.DType) bool {
	switch d {
	case tensor.Int64, tensor.Int32, tensor.Uint8, tensor.Int8:
		return true
	}
	return false
}
