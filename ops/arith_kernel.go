package ops

import (
	"ft/kernels"
	"ft/tensor"
)

// arithMap computes a (op) b over the broadcast shape with one loop per
// contiguous run and the operator chosen outside the loop (no per-element
// call). op is '+', '-', '*', '/' or 'q' (−a/b², the Div gradient for b).
func arithMap[T tensor.Number](op byte, a, b *tensor.Tensor) (*tensor.Tensor, error) {
	out, err := tensor.BroadcastShape(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	ad, bd := tensor.Data[T](a), tensor.Data[T](b)
	od := outBuf[T](tensor.Size(out)) // written whole below
	if tensor.SameShape(a.Shape, b.Shape) {
		kernels.ParallelFor(len(od), 1<<15, func(lo, hi int) {
			arithRun(op, od[lo:hi], ad[lo:hi], 1, bd[lo:hi], 1)
		})
		return tensor.New(out, od), nil
	}
	if op == '+' && biasAdd(ad, bd, od, a.Shape, b.Shape, out) {
		return tensor.New(out, od), nil
	}
	sa, sb := tensor.BroadcastStrides(a.Shape, out), tensor.BroadcastStrides(b.Shape, out)
	inner := 1
	if len(out) > 0 {
		inner = out[len(out)-1]
	}
	if inner == 0 {
		return tensor.New(out, od), nil
	}
	rows := len(od) / inner
	// Each row of the output is one run; rows are independent.
	grain := max(1, (1<<15)/inner)
	kernels.ParallelFor(rows, grain, func(lo, hi int) {
		it := tensor.NewIndex(out, sa, sb)
		it.Seek(lo)
		for row := lo; row < hi; row++ {
			ia, ib := it.Off[0], it.Off[1]
			it.Next()
			arithRun(op, od[row*inner:(row+1)*inner], ad[ia:], it.InnerStride[0], bd[ib:], it.InnerStride[1])
		}
	})
	return tensor.New(out, od), nil
}

// arithRun writes dst[i] = x[i·sx] op y[i·sy] (strides 0 or 1).
func arithRun[T tensor.Number](op byte, dst, x []T, sx int, y []T, sy int) {
	n := len(dst)
	switch {
	case sx == 1 && sy == 1:
		x, y = x[:n], y[:n]
		switch op {
		case '+':
			for i := range dst {
				dst[i] = x[i] + y[i]
			}
		case '-':
			for i := range dst {
				dst[i] = x[i] - y[i]
			}
		case '*':
			for i := range dst {
				dst[i] = x[i] * y[i]
			}
		case '/':
			for i := range dst {
				dst[i] = x[i] / y[i]
			}
		case 'q':
			for i := range dst {
				dst[i] = -x[i] / (y[i] * y[i])
			}
		}
	case sx == 1 && sy == 0:
		x = x[:n]
		v := y[0]
		switch op {
		case '+':
			for i := range dst {
				dst[i] = x[i] + v
			}
		case '-':
			for i := range dst {
				dst[i] = x[i] - v
			}
		case '*':
			for i := range dst {
				dst[i] = x[i] * v
			}
		case '/':
			for i := range dst {
				dst[i] = x[i] / v
			}
		case 'q':
			for i := range dst {
				dst[i] = -x[i] / (v * v)
			}
		}
	case sx == 0 && sy == 1:
		y = y[:n]
		u := x[0]
		switch op {
		case '+':
			for i := range dst {
				dst[i] = u + y[i]
			}
		case '-':
			for i := range dst {
				dst[i] = u - y[i]
			}
		case '*':
			for i := range dst {
				dst[i] = u * y[i]
			}
		case '/':
			for i := range dst {
				dst[i] = u / y[i]
			}
		case 'q':
			for i := range dst {
				dst[i] = -u / (y[i] * y[i])
			}
		}
	default: // both broadcast along the run
		u, v := x[0], y[0]
		var r T
		switch op {
		case '+':
			r = u + v
		case '-':
			r = u - v
		case '*':
			r = u * v
		case '/':
			r = u / v
		case 'q':
			r = -u / (v * v)
		}
		for i := range dst {
			dst[i] = r
		}
	}
}

// trailingVec returns the length of the bias vector when shape, less any
// leading 1s, is the trailing dimensions of out (a [D] or [1, D] bias
// broadcast over the rows of out), else 0.
func trailingVec(shape, out []int) int {
	i := 0
	for i < len(shape) && shape[i] == 1 {
		i++
	}
	s := shape[i:]
	if len(s) == 0 || len(s) > len(out) || !tensor.SameShape(s, out[len(out)-len(s):]) {
		return 0
	}
	return tensor.Size(s)
}

// biasAdd computes a float32 Add of a full tensor and a bias vector (either
// order) with kernels.AddBiasF32 in chunks of rows, reporting whether it
// did. Each element is the same single addition as arithRun's.
func biasAdd[T tensor.Number](ad, bd, od []T, as, bs, out []int) bool {
	x, ok := any(ad).([]float32)
	if !ok || len(od) == 0 {
		return false
	}
	v := any(bd).([]float32)
	switch {
	case tensor.SameShape(as, out) && trailingVec(bs, out) > 0:
	case tensor.SameShape(bs, out) && trailingVec(as, out) > 0:
		x, v = v, x
	default:
		return false
	}
	y, n := any(od).([]float32), len(v)
	kernels.ParallelFor(len(y)/n, max(1, (1<<15)/n), func(lo, hi int) {
		kernels.AddBiasF32(x[lo*n:hi*n], v, y[lo*n:hi*n])
	})
	return true
}

// arithReduceGrad is SumToShape for an arithmetic gradient, with the reduction
// of a float32 gradient to a bias vector (column sums over the rows) on
// kernels.BiasGradF32: rows in fixed chunks of at least 64 (at most ~32
// chunks, set by the row count alone), each summed in row order into its
// own partial, the partials then added in chunk order, so the same bits on
// any number of threads.
func arithReduceGrad(g *tensor.Tensor, shape []int) *tensor.Tensor {
	if tensor.SameShape(g.Shape, shape) || g.DType() != tensor.Float32 {
		return SumToShape(g, shape)
	}
	n := trailingVec(shape, g.Shape)
	if n == 0 || g.Len() == 0 {
		return SumToShape(g, shape)
	}
	gd := g.F32()
	rows := len(gd) / n
	grain := max(64, (rows+31)/32)
	chunks := (rows + grain - 1) / grain
	part := make([]float32, chunks*n)
	kernels.ParallelFor(rows, grain, func(lo, hi int) {
		c := lo / grain
		kernels.BiasGradF32(gd[lo*n:hi*n], part[c*n:c*n+n])
	})
	sum := make([]float32, n)
	kernels.BiasGradF32(part, sum)
	return tensor.New(shape, sum)
}
