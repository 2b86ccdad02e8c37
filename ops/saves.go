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
// Integer and bool tensors (indices, masks, shapes) are always kept. Each
// op's Saves sits beside its Backward; an op that is not a Saver keeps
// all of its inputs and outputs.
type Saver interface {
	Saves(need []bool) (ins, outs []int)
}

// crossed is Saves of a product of two operands (Mul, MatMul, Gemm, ...):
// the gradient of each reads the other.
func crossed(need []bool) (ins []int) {
	if need[0] {
		ins = append(ins, 1)
	}
	if need[1] {
		ins = append(ins, 0)
	}
	return ins
}

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
