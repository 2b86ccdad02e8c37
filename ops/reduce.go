package ops

// Reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd,
// ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp.
//
//	axes: an attribute up to ReduceSum 11 / the others 17, the optional second
//	input from ReduceSum 13 / the others 18. No axes reduces every axis, or,
//	with noop_with_empty_axes = 1 (input form only), none: the elementwise part
//	(square, abs, log, ...) still applies, as in the ONNX reference.
//	keepdims default 1. Negative axes count from the end.
//	Empty reductions give the identity: 0 (Sum, L1, L2, SumSquare), 1 (Prod),
//	-inf / lowest (Max), +inf / highest (Min), -inf (LogSum, LogSumExp),
//	NaN (Mean).
//
//	The reduced axes are brought together (a copy only when they are not
//	already adjacent) so that every reduction is X [outer, R, inner] ->
//	Y [outer, inner]; blocks of `outer` run in parallel.
//
//	backward (ReduceSum, ReduceMean only):
//	dX = broadcast(dY with the reduced axes kept as 1) [· 1/R for Mean]

import (
	"fmt"
	"math"

	"ft/tensor"
)

type redKind int

const (
	redSum redKind = iota
	redMean
	redMax
	redMin
	redProd
	redL1
	redL2
	redSumSquare
	redLogSum
	redLogSumExp
)

var redOps = []struct {
	name  string
	kind  redKind
	input int // opset from which axes is an input
}{
	{"ReduceSum", redSum, 13},
	{"ReduceMean", redMean, 18},
	{"ReduceMax", redMax, 18},
	{"ReduceMin", redMin, 18},
	{"ReduceProd", redProd, 18},
	{"ReduceL1", redL1, 18},
	{"ReduceL2", redL2, 18},
	{"ReduceSumSquare", redSumSquare, 18},
	{"ReduceLogSum", redLogSum, 18},
	{"ReduceLogSumExp", redLogSumExp, 18},
}

// opReduce is a reduction without backward; opReduceGrad (Sum, Mean) adds it.
type opReduce struct {
	name      string
	kind      redKind
	attrAxes  []int64
	axesInput bool
	keepdims  bool
	noopEmpty bool
}

type opReduceGrad struct{ opReduce }

func init() {
	for _, r := range redOps {
		r := r
		build := func(axesInput bool) Builder {
			return func(n *Node) (Op, error) {
				o := opReduce{name: r.name, kind: r.kind, axesInput: axesInput,
					keepdims: n.Int("keepdims", 1) != 0, noopEmpty: axesInput && n.Int("noop_with_empty_axes", 0) != 0}
				if !axesInput {
					o.attrAxes, _ = n.Ints("axes")
				}
				if r.kind == redSum || r.kind == redMean {
					return &opReduceGrad{o}, nil
				}
				return &o, nil
			}
		}
		Register("", r.name, 1, build(false))
		Register("", r.name, r.input, build(true))
	}
}

// redPlan is a reduction brought to [outer, R, inner] form.
type redPlan struct {
	axes          []int // reduced axes (sorted)
	out           []int // output shape
	keep          []int // output shape with reduced axes kept as 1
	perm          []int // non-nil: transpose the input by perm first (inner is then 1)
	outer, r, inn int
}

func (o *opReduce) plan(x *tensor.Tensor, in []*tensor.Tensor) (*redPlan, error) {
	axes, _, noop, err := laAxes(o.attrAxes, o.axesInput, in, o.noopEmpty, x.Rank())
	if err != nil {
		return nil, fmt.Errorf("%s: %v", o.name, err)
	}
	if noop {
		axes = nil
	}
	shape := x.Shape
	p := &redPlan{axes: axes, out: laReducedShape(shape, axes, o.keepdims), keep: laReducedShape(shape, axes, true)}
	mark := make([]bool, len(shape))
	for _, a := range axes {
		mark[a] = true
	}
	// Are the reduced axes (ignoring size-1 ones) adjacent?
	first, last := -1, -1
	for i, d := range shape {
		if mark[i] && d != 1 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	adjacent := true
	for i := first + 1; first >= 0 && i < last; i++ {
		if !mark[i] && shape[i] != 1 {
			adjacent = false
		}
	}
	p.r = 1
	for _, a := range axes {
		p.r *= shape[a]
	}
	if adjacent {
		if first < 0 { // every reduced axis has size 1: a copy (plus the elementwise part)
			p.outer, p.inn = tensor.Size(shape), 1
			return p, nil
		}
		p.outer, p.inn = 1, 1
		for i, d := range shape {
			switch {
			case i < first && !mark[i]:
				p.outer *= d
			case i > last && !mark[i]:
				p.inn *= d
			}
		}
		return p, nil
	}
	for i := range shape {
		if !mark[i] {
			p.perm = append(p.perm, i)
		}
	}
	p.perm = append(p.perm, axes...)
	p.outer, p.inn = tensor.Size(p.out), 1
	return p, nil
}

func (o *opReduce) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	p, err := o.plan(x, in)
	if err != nil {
		return nil, err
	}
	switch x.DType() {
	case tensor.Float32:
		return single(reduceRun[float32](o.kind, x, p))
	case tensor.Float64:
		return single(reduceRun[float64](o.kind, x, p))
	case tensor.Int64, tensor.Int32:
		switch o.kind {
		case redL2, redLogSum, redLogSumExp:
			return nil, errDType(o.name, x)
		}
		if x.DType() == tensor.Int64 {
			return single(reduceRun[int64](o.kind, x, p))
		}
		return single(reduceRun[int32](o.kind, x, p))
	case tensor.Bool:
		if o.kind == redMax || o.kind == redMin {
			return single(reduceBool(o.kind == redMax, x, p))
		}
	}
	return nil, errDType(o.name, x)
}

// laPermute returns src (of shape) transposed by perm.
func laPermute[T tensor.Elem](src []T, shape, perm []int) []T {
	st := tensor.Strides(shape)
	ps, pst := make([]int, len(perm)), make([]int, len(perm))
	for i, a := range perm {
		ps[i], pst[i] = shape[a], st[a]
	}
	dst := make([]T, len(src))
	for i, o := range laOffsets(ps, pst) {
		dst[i] = src[o]
	}
	return dst
}

type redNum interface {
	float32 | float64 | int64 | int32
}

func reduceRun[T redNum](k redKind, x *tensor.Tensor, p *redPlan) *tensor.Tensor {
	xd := tensor.Data[T](x)
	if p.perm != nil {
		xd = laPermute(xd, x.Shape, p.perm)
	}
	y := make([]T, p.outer*p.inn)
	r, inn := p.r, p.inn
	if r == 0 {
		v := redEmpty[T](k)
		for i := range y {
			y[i] = v
		}
		return tensor.New(p.out, y)
	}
	cost := 4 * r * inn
	if k == redLogSumExp || k == redLogSum || k == redL2 {
		cost *= 4
	}
	laRows(p.outer, cost, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			xb := xd[b*r*inn : (b+1)*r*inn]
			yb := y[b*inn : (b+1)*inn]
			if inn == 1 {
				yb[0] = redRow(k, xb)
			} else {
				redCols(k, xb, r, yb)
			}
		}
	})
	return tensor.New(p.out, y)
}

// redEmpty is the value of a reduction over no elements.
func redEmpty[T redNum](k redKind) T {
	var z T
	isInt := T(1)/2 == 0
	switch k {
	case redProd:
		return 1
	case redMax:
		if isInt {
			return redIntLimit[T](false)
		}
		return T(math.Inf(-1))
	case redMin:
		if isInt {
			return redIntLimit[T](true)
		}
		return T(math.Inf(1))
	case redLogSum, redLogSumExp:
		return T(math.Inf(-1))
	case redMean:
		if !isInt {
			return T(math.NaN())
		}
	}
	return z
}

func redIntLimit[T redNum](highest bool) T {
	var z T
	switch any(z).(type) {
	case int32:
		if highest {
			return T(math.MaxInt32)
		}
		return T(math.MinInt32)
	}
	v := int64(math.MinInt64)
	if highest {
		v = math.MaxInt64
	}
	return T(v)
}

// redRow reduces one contiguous row (at least one element).
func redRow[T redNum](k redKind, x []T) T {
	switch k {
	case redSum, redMean, redLogSum:
		var s T
		for _, v := range x {
			s += v
		}
		switch k {
		case redMean:
			return s / T(len(x))
		case redLogSum:
			return T(math.Log(float64(s)))
		}
		return s
	case redMax:
		m := x[0]
		for _, v := range x[1:] {
			if v > m || v != v {
				m = v
			}
		}
		return m
	case redMin:
		m := x[0]
		for _, v := range x[1:] {
			if v < m || v != v {
				m = v
			}
		}
		return m
	case redProd:
		s := T(1)
		for _, v := range x {
			s *= v
		}
		return s
	case redL1:
		var s T
		for _, v := range x {
			if v < 0 {
				v = -v
			}
			s += v
		}
		return s
	case redL2, redSumSquare:
		var s T
		for _, v := range x {
			s += v * v
		}
		if k == redL2 {
			return T(math.Sqrt(float64(s)))
		}
		return s
	case redLogSumExp:
		m := x[0]
		for _, v := range x[1:] {
			if v > m {
				m = v
			}
		}
		if math.IsInf(float64(m), 0) {
			return m
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v - m))
		}
		return m + T(math.Log(s))
	}
	panic("unknown reduction")
}

// redCols reduces x [r, inner] over its rows into y [inner].
func redCols[T redNum](k redKind, x []T, r int, y []T) {
	n := len(y)
	first := x[:n]
	switch k {
	case redL1:
		for i, v := range first {
			if v < 0 {
				v = -v
			}
			y[i] = v
		}
	case redL2, redSumSquare:
		for i, v := range first {
			y[i] = v * v
		}
	case redLogSumExp:
		copy(y, first) // the max first
	default:
		copy(y, first)
	}
	for j := 1; j < r; j++ {
		row := x[j*n : (j+1)*n]
		switch k {
		case redSum, redMean, redLogSum:
			for i, v := range row {
				y[i] += v
			}
		case redMax, redLogSumExp:
			for i, v := range row {
				if v > y[i] || v != v {
					y[i] = v
				}
			}
		case redMin:
			for i, v := range row {
				if v < y[i] || v != v {
					y[i] = v
				}
			}
		case redProd:
			for i, v := range row {
				y[i] *= v
			}
		case redL1:
			for i, v := range row {
				if v < 0 {
					v = -v
				}
				y[i] += v
			}
		case redL2, redSumSquare:
			for i, v := range row {
				y[i] += v * v
			}
		}
	}
	switch k {
	case redMean:
		for i := range y {
			y[i] /= T(r)
		}
	case redLogSum:
		for i, v := range y {
			y[i] = T(math.Log(float64(v)))
		}
	case redL2:
		for i, v := range y {
			y[i] = T(math.Sqrt(float64(v)))
		}
	case redLogSumExp:
		s := make([]float64, n)
		for j := 0; j < r; j++ {
			for i, v := range x[j*n : (j+1)*n] {
				s[i] += math.Exp(float64(v - y[i]))
			}
		}
		for i, m := range y {
			if !math.IsInf(float64(m), 0) {
				y[i] = m + T(math.Log(s[i]))
			}
		}
	}
}

// reduceBool is ReduceMax (any) / ReduceMin (all) on bool tensors.
func reduceBool(isMax bool, x *tensor.Tensor, p *redPlan) *tensor.Tensor {
	xd := x.B()
	if p.perm != nil {
		xd = laPermute(xd, x.Shape, p.perm)
	}
	y := make([]bool, p.outer*p.inn)
	r, inn := p.r, p.inn
	for b := 0; b < p.outer; b++ {
		for i := 0; i < inn; i++ {
			acc := !isMax
			for j := 0; j < r; j++ {
				if xd[(b*r+j)*inn+i] == isMax {
					acc = isMax
					break
				}
			}
			y[b*inn+i] = acc
		}
	}
	return tensor.New(p.out, y)
}

func (o *opReduceGrad) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	res, done := firstInputGrad(in, dout, need)
	if done {
		return res, nil
	}
	x := in[0]
	p, err := o.plan(x, in)
	if err != nil {
		return nil, err
	}
	scale := 1.0
	if o.kind == redMean && p.r > 0 {
		scale = 1 / float64(p.r)
	}
	switch x.DType() {
	case tensor.Float32:
		res[0] = tensor.New(x.Shape, reduceGrad(dout[0].F32(), p.keep, x.Shape, float32(scale)))
	case tensor.Float64:
		res[0] = tensor.New(x.Shape, reduceGrad(dout[0].F64(), p.keep, x.Shape, scale))
	default:
		return nil, errDType(o.name+" backward", x)
	}
	return res, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opReduceGrad) Saves([]bool) (ins, outs []int) { return nil, nil }

// reduceGrad broadcasts g (shape keep) to shape and scales it.
func reduceGrad[T laFloat](g []T, keep, shape []int, scale T) []T {
	dx := laBroadcastTo(g, keep, shape)
	if scale != 1 {
		for i := range dx {
			dx[i] *= scale
		}
	}
	return dx
}
