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
		pos := make([]int, len(out))
		// position of row lo
		r := lo
		for d := len(out) - 2; d >= 0; d-- {
			pos[d] = r % out[d]
			r /= out[d]
		}
		for row := lo; row < hi; row++ {
			ia, ib := 0, 0
			for d := 0; d < len(out)-1; d++ {
				ia += pos[d] * sa[d]
				ib += pos[d] * sb[d]
			}
			isa, isb := 0, 0
			if len(out) > 0 {
				isa, isb = sa[len(out)-1], sb[len(out)-1]
			}
			xs := ad[ia:]
			ys := bd[ib:]
			arithRun(op, od[row*inner:(row+1)*inner], xs, isa, ys, isb)
			for d := len(out) - 2; d >= 0; d-- {
				pos[d]++
				if pos[d] < out[d] {
					break
				}
				pos[d] = 0
			}
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
