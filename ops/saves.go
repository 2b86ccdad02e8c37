package ops

import "ft/tensor"

// Saver is implemented by differentiable ops whose Backward reads the data of
// only some of their float inputs and outputs; the others it uses for shape
// and type alone. A training graph keeps only what Backward reads until
// backward runs, which is most of the memory of a training step (the output
// of a bias Add, of a Transpose, the scores before Softmax, ...).
//
// Saves returns, for the given need (as for Backward), the indices of the
// float inputs and outputs (extras included) whose data Backward reads.
// Integer and bool tensors (indices, masks, shapes) are always kept.
type Saver interface {
	Saves(need []bool) (ins, outs []int)
}

// What each op's Backward reads (the list in one place, as derivatives.yaml;
// an op not listed keeps everything):
//
//	Add, Sub                 nothing (shapes only)
//	Mul  a·b                 da: b; db: a
//	Div  a/b                 da: b; db: a, b
//	MatMul, Gemm  A·B        dA: B; dB: A
//	Softmax, LogSoftmax      the output
//	LayerNormalization       X and Scale (statistics are recomputed)
//	Gelu                     the input
//	Sqrt Tanh Sigmoid Exp    the output;  Erf Relu Abs Log Sin Cos: the input; Neg: nothing
//	Reshape family, Transpose, Slice, Concat, Split, Expand, Gather,
//	Where, Cast, Identity, ReduceSum/Mean   nothing (shapes, and integer inputs)

func (o arith) Saves(need []bool) (ins, outs []int) {
	switch o.kind {
	case '*':
		if need[0] {
			ins = append(ins, 1)
		}
		if need[1] {
			ins = append(ins, 0)
		}
	case '/':
		if need[1] {
			return []int{0, 1}, nil
		}
		if need[0] {
			ins = append(ins, 1)
		}
	}
	return ins, nil
}

func (opMatMul) Saves(need []bool) (ins, outs []int) {
	if need[0] {
		ins = append(ins, 1)
	}
	if need[1] {
		ins = append(ins, 0)
	}
	return ins, nil
}

func (o *opGemm) Saves(need []bool) (ins, outs []int) {
	if need[0] {
		ins = append(ins, 1)
	}
	if need[1] {
		ins = append(ins, 0)
	}
	return ins, nil
}

func (o *opSoftmax) Saves(need []bool) (ins, outs []int) { return nil, []int{0} }

func (o *opLayerNorm) Saves(need []bool) (ins, outs []int) { return []int{0, 1}, nil }

func (o gelu) Saves(need []bool) (ins, outs []int) { return []int{0}, nil }

func (o unaryGrad) Saves(need []bool) (ins, outs []int) {
	switch o.k {
	case uSqrt, uTanh, uSigmoid, uExp:
		return nil, []int{0}
	case uErf, uRelu, uAbs, uLog, uSin, uCos:
		return []int{0}, nil
	case uNeg:
		return nil, nil
	}
	return []int{0}, []int{0}
}

func (mvViewGrad) Saves([]bool) (ins, outs []int)      { return nil, nil }
func (o *opTranspose) Saves([]bool) (ins, outs []int)  { return nil, nil }
func (o *opSlice) Saves([]bool) (ins, outs []int)      { return nil, nil }
func (o *opConcat) Saves([]bool) (ins, outs []int)     { return nil, nil }
func (o *opSplit) Saves([]bool) (ins, outs []int)      { return nil, nil }
func (o *opExpand) Saves([]bool) (ins, outs []int)     { return nil, nil }
func (o *opGather) Saves([]bool) (ins, outs []int)     { return nil, nil }
func (where) Saves([]bool) (ins, outs []int)           { return nil, nil }
func (o cast) Saves([]bool) (ins, outs []int)          { return nil, nil }
func (identity) Saves([]bool) (ins, outs []int)        { return nil, nil }
func (o *opReduceGrad) Saves([]bool) (ins, outs []int) { return nil, nil }

// Saved returns the inputs and outputs to keep for op's Backward: for a
// Saver, float tensors whose data Backward does not read are replaced by
// empty tensors of the same shape and type; otherwise in and out as they are.
func Saved(op Op, in, out []*tensor.Tensor, need []bool) (sin, sout []*tensor.Tensor) {
	s, ok := op.(Saver)
	if !ok {
		return in, out
	}
	keepIn, keepOut := s.Saves(need)
	return stubExcept(in, keepIn), stubExcept(out, keepOut)
}

func stubExcept(ts []*tensor.Tensor, keep []int) []*tensor.Tensor {
	r := make([]*tensor.Tensor, len(ts))
	for i, t := range ts {
		r[i] = t
		if t == nil || !t.DType().IsFloat() || t.Len() == 0 {
			continue
		}
		kept := false
		for _, k := range keep {
			kept = kept || k == i
		}
		if !kept {
			r[i] = shapeOnly(t)
		}
	}
	return r
}

// shapeOnly returns a tensor of t's shape and type without data.
func shapeOnly(t *tensor.Tensor) *tensor.Tensor {
	s := tensor.Zeros(t.DType(), 0)
	s.Shape = append([]int(nil), t.Shape...)
	return s
}
