package ops

// Softmax and LogSoftmax (opsets 1, 11, 13).
//
//	opset < 13: the input is read as a 2-D matrix [prod(shape[:axis]),
//	            prod(shape[axis:])] (axis default 1) and each row normalised;
//	opset ≥ 13: normalised along `axis` alone (default -1).
//	Either way the work is rows of n elements, `inner` apart, in `outer`
//	blocks: X [outer, n, inner] -> Y [outer, n, inner].
//
//	Softmax     y = exp(x - max) / Σ exp(x - max)
//	            dx = y ⊙ (dy - Σ dy⊙y)
//	LogSoftmax  y = (x - max) - log Σ exp(x - max)
//	            dx = dy - exp(y) · Σ dy
//
// Backward needs only the output; sums run in the element type, max-shifted;
// float32 uses kernels.Exp32 (within 2 ulp of exp).

import (
	"math"

	"ft/kernels"
	"ft/tensor"
)

type opSoftmax struct {
	log    bool
	axis   int
	coerce bool // opset < 13: flatten to 2-D at axis
}

func init() {
	for _, name := range []string{"Softmax", "LogSoftmax"} {
		log := name == "LogSoftmax"
		Register("", name, 1, func(n *Node) (Op, error) {
			return &opSoftmax{log: log, axis: int(n.Int("axis", 1)), coerce: true}, nil
		})
		Register("", name, 13, func(n *Node) (Op, error) {
			return &opSoftmax{log: log, axis: int(n.Int("axis", -1))}, nil
		})
	}
}

func (o *opSoftmax) name() string {
	if o.log {
		return "LogSoftmax"
	}
	return "Softmax"
}

// split returns the [outer, n, inner] view of shape.
func (o *opSoftmax) split(shape []int) (outer, n, inner int, err error) {
	if len(shape) == 0 {
		return 1, 1, 1, nil
	}
	axis, err := normAxis(o.axis, len(shape))
	if err != nil {
		return 0, 0, 0, err
	}
	outer, n, inner = laSplit(shape, axis)
	if o.coerce {
		n *= inner
		inner = 1
	}
	return outer, n, inner, nil
}

func (o *opSoftmax) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	outer, n, inner, err := o.split(x.Shape)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tensor.Float32:
		var y []float32
		if inner == 1 && n > 0 {
			y = kernels.GetF32(x.Len()) // rows written whole
		} else {
			y = make([]float32, x.Len())
		}
		softmaxForward(o.log, x.F32(), y, outer, n, inner)
		return single(tensor.New(x.Shape, y))
	case tensor.Float64:
		y := make([]float64, x.Len())
		softmaxForward(o.log, x.F64(), y, outer, n, inner)
		return single(tensor.New(x.Shape, y))
	}
	return nil, errDType(o.name(), x)
}

func softmaxForward[T laFloat](log bool, x, y []T, outer, n, inner int) {
	if n == 0 || outer == 0 || inner == 0 {
		return
	}
	if inner == 1 {
		laRows(outer, 8*n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				softmaxRow(log, x[r*n:r*n+n], y[r*n:r*n+n])
			}
		})
		return
	}
	// Rows are strided: work on whole [n, inner] blocks, inner-contiguous.
	laRows(outer, 8*n*inner, func(lo, hi int) {
		mx := make([]T, inner)
		sum := make([]T, inner)
		for b := lo; b < hi; b++ {
			xb, yb := x[b*n*inner:(b+1)*n*inner], y[b*n*inner:(b+1)*n*inner]
			copy(mx, xb[:inner])
			for j := 1; j < n; j++ {
				for i, v := range xb[j*inner : (j+1)*inner] {
					if v > mx[i] {
						mx[i] = v
					}
				}
			}
			clear(sum)
			for j := 0; j < n; j++ {
				xr, yr := xb[j*inner:(j+1)*inner], yb[j*inner:(j+1)*inner]
				for i, v := range xr {
					e := softmaxExp(v - mx[i])
					sum[i] += e
					if !log {
						yr[i] = e
					}
				}
			}
			for i := range sum {
				if log {
					sum[i] = T(math.Log(float64(sum[i])))
				} else {
					sum[i] = 1 / sum[i]
				}
			}
			for j := 0; j < n; j++ {
				xr, yr := xb[j*inner:(j+1)*inner], yb[j*inner:(j+1)*inner]
				if log {
					for i, v := range xr {
						yr[i] = (v - mx[i]) - sum[i]
					}
				} else {
					for i := range yr {
						yr[i] *= sum[i]
					}
				}
			}
		}
	})
}

// softmaxRow normalises one contiguous row.
func softmaxRow[T laFloat](log bool, x, y []T) {
	if x32, ok := any(x).([]float32); ok {
		softmaxRow32(log, x32, any(y).([]float32))
		return
	}
	y = y[:len(x)]
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	var sum T
	if log {
		for _, v := range x {
			sum += T(math.Exp(float64(v - mx)))
		}
		ls := T(math.Log(float64(sum)))
		for i, v := range x {
			y[i] = (v - mx) - ls
		}
		return
	}
	for i, v := range x {
		e := T(math.Exp(float64(v - mx)))
		y[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range y {
		y[i] *= inv
	}
}

// softmaxRow32 is softmaxRow for float32 (kernels.Exp32, vectorised where
// the CPU allows).
func softmaxRow32(log bool, x, y []float32) {
	if log {
		kernels.LogSoftmaxF32(x, y)
	} else {
		kernels.SoftmaxF32(x, y)
	}
}

// softmaxExp is exp in the element type (kernels.Exp32 for float32).
func softmaxExp[T laFloat](v T) T {
	if f, ok := any(v).(float32); ok {
		return T(kernels.Exp32(f))
	}
	return T(math.Exp(float64(v)))
}

func (o *opSoftmax) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	res, done := firstInputGrad(in, dout, need)
	if done {
		return res, nil
	}
	x := in[0]
	outer, n, inner, err := o.split(x.Shape)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tensor.Float32:
		dx := kernels.GetF32(x.Len()) // written whole
		softmaxBackward(o.log, out[0].F32(), dout[0].F32(), dx, outer, n, inner)
		res[0] = tensor.New(x.Shape, dx)
	case tensor.Float64:
		dx := make([]float64, x.Len())
		softmaxBackward(o.log, out[0].F64(), dout[0].F64(), dx, outer, n, inner)
		res[0] = tensor.New(x.Shape, dx)
	default:
		return nil, errDType(o.name()+" backward", x)
	}
	return res, nil
}

// Saves: the output alone (Softmax and LogSoftmax).
func (o *opSoftmax) Saves(need []bool) (ins, outs []int) { return nil, []int{0} }

func softmaxBackward[T laFloat](log bool, y, dy, dx []T, outer, n, inner int) {
	if n == 0 || outer == 0 || inner == 0 {
		return
	}
	if inner == 1 {
		laRows(outer, 6*n, func(lo, hi int) {
			for r := lo; r < hi; r++ {
				yr, gr, dr := y[r*n:r*n+n], dy[r*n:r*n+n], dx[r*n:r*n+n]
				var s T
				if log {
					for _, g := range gr {
						s += g
					}
					for i, g := range gr {
						dr[i] = g - softmaxExp(yr[i])*s
					}
					continue
				}
				if y32, ok := any(yr).([]float32); ok { // vectorised where the CPU allows
					kernels.SoftmaxGradF32(y32, any(gr).([]float32), any(dr).([]float32))
					continue
				}
				for i, g := range gr {
					s += g * yr[i]
				}
				for i, g := range gr {
					dr[i] = yr[i] * (g - s)
				}
			}
		})
		return
	}
	laRows(outer, 6*n*inner, func(lo, hi int) {
		sum := make([]T, inner)
		for b := lo; b < hi; b++ {
			base := b * n * inner
			clear(sum)
			for j := 0; j < n; j++ {
				yr, gr := y[base+j*inner:base+(j+1)*inner], dy[base+j*inner:base+(j+1)*inner]
				for i, g := range gr {
					if log {
						sum[i] += g
					} else {
						sum[i] += g * yr[i]
					}
				}
			}
			for j := 0; j < n; j++ {
				off := base + j*inner
				yr, gr, dr := y[off:off+inner], dy[off:off+inner], dx[off:off+inner]
				for i, g := range gr {
					if log {
						dr[i] = g - softmaxExp(yr[i])*sum[i]
					} else {
						dr[i] = yr[i] * (g - sum[i])
					}
				}
			}
		}
	})
}
