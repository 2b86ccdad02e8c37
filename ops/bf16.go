package ops

// bf16 mixed precision, as PyTorch's CPU autocast runs a model: the matrix
// products (MatMul, Gemm, the fused attention products), forward and
// backward, take their float32 operands rounded to bfloat16 and accumulate
// in float32 (kernels.GemmBatchBF16); every other op, and the products'
// float32 outputs and gradients, stay float32. Weights stay float32 too
// (the master copy the optimizer updates): a run converts each constant
// operand to bf16 once (BF16Run) and its products, forward and backward,
// read that copy.
//
// Float64 models run in float64 whatever the switch says.

import (
	"sync"

	"ft/kernels"
	"ft/tensor"
)

// MixedPrecision is implemented by ops with matrix products that can run in
// bf16. The graph calls these methods instead of Forward and Backward when
// a run asks for bf16; their contract is Forward's and Backward's.
type MixedPrecision interface {
	ForwardBF16(in []*tensor.Tensor, r *BF16Run) ([]*tensor.Tensor, error)
	BackwardBF16(in, out, dout []*tensor.Tensor, need []bool, r *BF16Run) ([]*tensor.Tensor, error)
}

// BF16Run holds the bf16 copies of the constant operands (weights) of one
// run: a forward pass and the backward pass of its trace. A copy is made
// the first time a product reads the tensor and reused by every later
// product of the run, so that a weight is converted once per training step
// whatever the number of products that read it. The optimizer updates the
// float32 weights between steps; the next step starts a new BF16Run. It is
// safe for concurrent use.
type BF16Run struct {
	consts map[*tensor.Tensor]bool
	mu     sync.Mutex
	copies map[*tensor.Tensor][]uint16
	held   map[*tensor.Tensor][]uint16 // saved activations (Hold)
}

// NewBF16Run starts a run whose constant operands are the float32 tensors
// in consts (weights, folded constants): their bf16 copies are cached.
// Other operands (activations, gradients) are rounded while packed.
func NewBF16Run(consts map[*tensor.Tensor]bool) *BF16Run {
	return &BF16Run{consts: consts, copies: map[*tensor.Tensor][]uint16{}, held: map[*tensor.Tensor][]uint16{}}
}

// Converted counts the tensors converted so far (for tests).
func (r *BF16Run) Converted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.copies)
}

// operand returns the product operand for t (float32): the bf16 values it
// holds (Hold), its cached bf16 copy when t is a constant of the run, else
// its float32 data (rounded while packed).
func (r *BF16Run) operand(t *tensor.Tensor) bfOperand {
	f := t.F32()
	if r == nil {
		return bfOperand{f: f}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if h, ok := r.held[t]; ok {
		return bfOperand{h: h}
	}
	if !r.consts[t] {
		return bfOperand{f: f}
	}
	h, ok := r.copies[t]
	if !ok {
		h = make([]uint16, len(f))
		kernels.BF16Round(h, f)
		r.copies[t] = h
	}
	return bfOperand{h: h}
}

// bfOperand is one operand of a bf16 product: float32 values (f), rounded to
// bf16 while packed, or bf16 bit patterns (h).
type bfOperand struct {
	f []float32
	h []uint16
}

func bfF32(f []float32) bfOperand { return bfOperand{f: f} }

// bfGemmBatch is kernels.GemmBatchBF16 for operands of either kind.
func bfGemmBatch(transA, transB bool, m, n, k int, alpha float32, a bfOperand, aOff []int, lda int, b bfOperand, bOff []int, ldb int, beta float32, c []float32, cOff []int, ldc int) {
	switch {
	case a.h == nil && b.h == nil:
		kernels.GemmBatchBF16(transA, transB, m, n, k, alpha, a.f, aOff, lda, b.f, bOff, ldb, beta, c, cOff, ldc)
	case a.h == nil:
		kernels.GemmBatchBF16(transA, transB, m, n, k, alpha, a.f, aOff, lda, b.h, bOff, ldb, beta, c, cOff, ldc)
	case b.h == nil:
		kernels.GemmBatchBF16(transA, transB, m, n, k, alpha, a.h, aOff, lda, b.f, bOff, ldb, beta, c, cOff, ldc)
	default:
		kernels.GemmBatchBF16(transA, transB, m, n, k, alpha, a.h, aOff, lda, b.h, bOff, ldb, beta, c, cOff, ldc)
	}
}

// laBMMForwardBF16 is laBMMForward in bf16.
func laBMMForwardBF16(p *laBMM, alpha float32, a, b bfOperand, beta float32, c []float32) {
	bfGemmBatch(p.transA, p.transB, p.m, p.n, p.k, alpha, a, p.aOff, p.lda(), b, p.bOff, p.ldb(), beta, c, p.cOff, p.n)
}

// laBMMGradsBF16 is laBMMGrads in bf16 (dC rounded while packed).
func laBMMGradsBF16(p *laBMM, alpha float32, a, b bfOperand, dc []float32, needA, needB bool) (da, db []float32) {
	m, n, k := p.m, p.n, p.k
	g := bfF32(dc)
	if needA {
		da = laScatterGrad(p.aOff, m*k, p.lenA, func(dst []float32, off []int) {
			if !p.transA {
				bfGemmBatch(false, !p.transB, m, k, n, alpha, g, p.cOff, n, b, p.bOff, p.ldb(), 0, dst, off, k)
			} else {
				bfGemmBatch(p.transB, true, k, m, n, alpha, b, p.bOff, p.ldb(), g, p.cOff, n, 0, dst, off, m)
			}
		})
	}
	if needB {
		db = laScatterGrad(p.bOff, k*n, p.lenB, func(dst []float32, off []int) {
			if !p.transB {
				bfGemmBatch(!p.transA, false, k, n, m, alpha, a, p.aOff, p.lda(), g, p.cOff, n, 0, dst, off, n)
			} else {
				bfGemmBatch(true, p.transA, n, k, m, alpha, g, p.cOff, n, a, p.aOff, p.lda(), 0, dst, off, k)
			}
		})
	}
	return da, db
}

// bfOf is r.operand(t) when used (a product reads t), else an empty operand
// (t may have been saved without data, ops.Saver).
func bfOf(r *BF16Run, t *tensor.Tensor, used bool) bfOperand {
	if !used {
		return bfOperand{}
	}
	return r.operand(t)
}

// BF16Saver is implemented by ops whose BackwardBF16 reads some of the
// inputs it saves (Saver) only as operands of bf16 products. A training
// trace in bf16 keeps those as bf16 copies (BF16Run.Hold) instead of their
// float32 data, as autocast saves the bf16 inputs of its products: half
// the memory, the same bits.
type BF16Saver interface {
	SavesBF16(need []bool) (ins []int)
}

// Hold makes stub (a tensor without data standing for a saved input) read
// as the bf16 values h in the products of this run.
func (r *BF16Run) Hold(stub *tensor.Tensor, h []uint16) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.held[stub] = h
}

// Release forgets what stub held (its node's backward is done).
func (r *BF16Run) Release(stub *tensor.Tensor) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.held, stub)
}
