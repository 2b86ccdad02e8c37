package ops

// Helpers shared by the linear-algebra, normalisation and reduction op files
// (matmul.go, gemm.go, einsum.go, softmax.go, layernorm.go, reduce.go,
// argmax.go). Names start with "la" to stay out of the other files' way.

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

// laFloat is the element types the GEMM kernels take.
type laFloat interface{ float32 | float64 }

// laBMM describes a batch of products C[i] = op(A at aOff[i]) · op(B at bOff[i])
// of m×k by k×n matrices, each stored contiguously (row stride k or m for A,
// n or k for B, n for C) at the given element offsets. aOff and bOff may
// repeat an offset (a broadcast operand); C offsets never do.
type laBMM struct {
	m, n, k          int
	transA, transB   bool
	aOff, bOff, cOff []int
	lenA, lenB       int // elements of A and B (for gradients)
}

func (p *laBMM) lda() int {
	if p.transA {
		return p.m
	}
	return p.k
}

func (p *laBMM) ldb() int {
	if p.transB {
		return p.k
	}
	return p.n
}

// laBMMForward computes C = alpha·op(A)·op(B) + beta·C for every product of
// the batch (C is only written when beta is 0).
func laBMMForward[T laFloat](p *laBMM, alpha T, a, b []T, beta T, c []T) {
	kernels.GemmBatch(p.transA, p.transB, p.m, p.n, p.k, alpha, a, p.aOff, p.lda(), b, p.bOff, p.ldb(), beta, c, p.cOff, p.n)
}

// laBMMGrads returns dA and dB (nil unless asked) for C = alpha·op(A)·op(B),
// given dC laid out like C. Products that share a broadcast operand have their
// gradients summed in batch order.
//
//	op(A) = A:  dA = α dC·op(B)ᵀ        op(A) = Aᵀ: dA = α op(B)·dCᵀ
//	op(B) = B:  dB = α op(A)ᵀ·dC        op(B) = Bᵀ: dB = α dCᵀ·op(A)
func laBMMGrads[T laFloat](p *laBMM, alpha T, a, b, dc []T, needA, needB bool) (da, db []T) {
	m, n, k := p.m, p.n, p.k
	if needA {
		da = laScatterGrad(p.aOff, m*k, p.lenA, func(dst []T, off []int) {
			if !p.transA {
				kernels.GemmBatch(false, !p.transB, m, k, n, alpha, dc, p.cOff, n, b, p.bOff, p.ldb(), 0, dst, off, k)
			} else {
				kernels.GemmBatch(p.transB, true, k, m, n, alpha, b, p.bOff, p.ldb(), dc, p.cOff, n, 0, dst, off, m)
			}
		})
	}
	if needB {
		db = laScatterGrad(p.bOff, k*n, p.lenB, func(dst []T, off []int) {
			if !p.transB {
				kernels.GemmBatch(!p.transA, false, k, n, m, alpha, a, p.aOff, p.lda(), dc, p.cOff, n, 0, dst, off, n)
			} else {
				kernels.GemmBatch(true, p.transA, n, k, m, alpha, dc, p.cOff, n, a, p.aOff, p.lda(), 0, dst, off, k)
			}
		})
	}
	return da, db
}

// laScatterGrad runs compute, which writes one matrix of `size` elements per
// product at the offsets it is given, and returns the gradient of an operand
// of `total` elements stored at offs. When every matrix of the operand is
// used exactly once the products write straight into the gradient; otherwise
// they write into a scratch batch that is summed per offset in batch order.
func laScatterGrad[T laFloat](offs []int, size, total int, compute func(dst []T, off []int)) []T {
	if size == 0 {
		return make([]T, total)
	}
	if total/size == len(offs) {
		// every element is written (beta = 0): a pooled buffer will do
		g := outBuf[T](total)
		compute(g, offs)
		return g
	}
	g := make([]T, total)
	tmp := make([]T, len(offs)*size)
	toff := make([]int, len(offs))
	for i := range toff {
		toff[i] = i * size
	}
	compute(tmp, toff)
	for i, o := range offs {
		dst := g[o : o+size]
		for j, v := range tmp[i*size : i*size+size] {
			dst[j] += v
		}
	}
	return g
}

// laRows runs body over [0, rows) in chunks sized for rows of `cost` flops
// each, on the shared pool. Chunks depend only on rows and cost.
func laRows(rows, cost int, body func(lo, hi int)) {
	if rows <= 0 {
		return
	}
	kernels.ParallelFor(rows, kernels.Grain(rows, cost), body)
}

// laSplit returns (outer, n, inner) for a reduction of shape along axis.
func laSplit(shape []int, axis int) (outer, n, inner int) {
	outer, inner = 1, 1
	for _, d := range shape[:axis] {
		outer *= d
	}
	for _, d := range shape[axis+1:] {
		inner *= d
	}
	return outer, shape[axis], inner
}

// laBroadcastTo expands src (shape from, broadcastable to `to`) into a new
// contiguous slice of shape `to`.
func laBroadcastTo[T tensor.Elem](src []T, from, to []int) []T {
	dst := make([]T, tensor.Size(to))
	if len(src) == len(dst) {
		copy(dst, src)
		return dst
	}
	if len(src) == 1 {
		v := src[0]
		for i := range dst {
			dst[i] = v
		}
		return dst
	}
	it := tensor.NewIndex(to, tensor.BroadcastStrides(from, to))
	o := 0
	for it.Next() {
		s, st := it.Off[0], it.InnerStride[0]
		run := dst[o : o+it.Inner]
		if st == 0 {
			v := src[s]
			for j := range run {
				run[j] = v
			}
		} else {
			copy(run, src[s:s+it.Inner])
		}
		o += it.Inner
	}
	return dst
}

// laStrided describes a linear map from a source slice to a dense
// destination: dst[idx] = Σ_{r} src[off + idx·strides + r·redStrides] for
// every idx of shape (row-major) and every r of redShape. Zero strides
// broadcast, summed strides read diagonals. Einsum prepares operands with it.
type laStrided struct {
	shape, strides       []int
	redShape, redStrides []int
}

// identity reports whether the map is a plain copy of a contiguous source.
func (s *laStrided) identity() bool {
	if tensor.Size(s.redShape) != 1 {
		return false
	}
	acc := 1
	for i := len(s.shape) - 1; i >= 0; i-- {
		if s.shape[i] != 1 && s.strides[i] != acc {
			return false
		}
		acc *= s.shape[i]
	}
	return true
}

// laGather applies the map: a new dense slice of Size(shape) elements.
func laGather[T laFloat](src []T, s *laStrided) []T {
	dst := make([]T, tensor.Size(s.shape))
	if len(dst) == 0 {
		return dst
	}
	red := laOffsets(s.redShape, s.redStrides)
	outer := laOffsets(s.shape, s.strides)
	if len(red) == 1 {
		for i, o := range outer {
			dst[i] = src[o]
		}
		return dst
	}
	for i, o := range outer {
		var sum T
		for _, r := range red {
			sum += src[o+r]
		}
		dst[i] = sum
	}
	return dst
}

// laScatterAdd applies the adjoint of the map: g (dense, shape) is added into
// a new zero slice of n elements at every position the map reads.
func laScatterAdd[T laFloat](g []T, s *laStrided, n int) []T {
	dst := make([]T, n)
	if len(g) == 0 {
		return dst
	}
	red := laOffsets(s.redShape, s.redStrides)
	outer := laOffsets(s.shape, s.strides)
	for i, o := range outer {
		v := g[i]
		for _, r := range red {
			dst[o+r] += v
		}
	}
	return dst
}

// laOffsets lists the source offsets of every index of shape (row-major).
func laOffsets(shape, strides []int) []int {
	offs := make([]int, tensor.Size(shape))
	if len(offs) == 0 {
		return offs
	}
	i := 0
	for it := tensor.NewIndex(shape, strides); it.Next(); {
		for j := 0; j < it.Inner; j++ {
			offs[i] = it.Off[0] + j*it.InnerStride[0]
			i++
		}
	}
	return offs
}

// laAxes reads reduction axes from the attribute (older opsets) or the
// optional second input (ReduceSum 13+, the other reductions 18+), normalised,
// sorted and deduplicated. all reports "reduce every axis"; noop "return the
// input unchanged" (empty axes with noop_with_empty_axes=1).
func laAxes(attr []int64, fromInput bool, in []*tensor.Tensor, noopEmpty bool, rank int) (axes []int, all, noop bool, err error) {
	var raw []int
	if fromInput {
		if len(in) > 1 && in[1] != nil {
			raw, err = in[1].Ints()
			if err != nil {
				return nil, false, false, fmt.Errorf("axes: %v", err)
			}
		}
	} else {
		for _, a := range attr {
			raw = append(raw, int(a))
		}
	}
	if len(raw) == 0 {
		if noopEmpty {
			return nil, false, true, nil
		}
		axes = make([]int, rank)
		for i := range axes {
			axes[i] = i
		}
		return axes, true, false, nil
	}
	mark := make([]bool, rank)
	for _, a := range raw {
		n, err := normAxis(a, rank)
		if err != nil || rank == 0 {
			return nil, false, false, fmt.Errorf("axis %d out of range for rank %d", a, rank)
		}
		mark[n] = true
	}
	for i, m := range mark {
		if m {
			axes = append(axes, i)
		}
	}
	return axes, len(axes) == rank, false, nil
}

// laReducedShape is shape with the axes removed (keepdims false) or set to 1.
func laReducedShape(shape, axes []int, keepdims bool) []int {
	mark := make([]bool, len(shape))
	for _, a := range axes {
		mark[a] = true
	}
	out := []int{}
	for i, d := range shape {
		switch {
		case !mark[i]:
			out = append(out, d)
		case keepdims:
			out = append(out, 1)
		}
	}
	return out
}

// laFloatInputs checks that inputs present are float32 or float64 of one type.
func laFloatInputs(op string, in ...*tensor.Tensor) (tensor.DType, error) {
	dt := tensor.Invalid
	for _, t := range in {
		if t == nil {
			continue
		}
		if !t.DType().IsFloat() {
			return dt, errDType(op, t)
		}
		if dt == tensor.Invalid {
			dt = t.DType()
		} else if t.DType() != dt {
			return dt, fmt.Errorf("%s: inputs of types %s and %s", op, dt, t.DType())
		}
	}
	return dt, nil
}
