package ops

// MatMul: numpy matrix product (opsets 1, 9, 13).
//
//	A [..., m, k] · B [..., k, n] -> C [bcast(...), m, n]
//	A 1-D [k] is read as [1, k] and B 1-D [k] as [k, 1]; the added dimension
//	is dropped from C. Batch dimensions broadcast.
//
//	forward   C_i = A_i · B_i                     (one kernels.GemmBatch)
//	backward  dA_i = dC_i · B_iᵀ,  dB_i = A_iᵀ · dC_i
//	          (transposition flags, never explicit transposes), summed over
//	          the batch dimensions an operand was broadcast along.
//
// When B has no batch (a weight [k, n], the common case in a transformer) A's
// batch folds into m and forward and both gradients are single GEMMs:
//
//	C [M, n] = A [M, k] · B,  dA = dC · Bᵀ,  dB = Aᵀ · dC   (M = batch·m)

import (
	"fmt"

	"ft/tensor"
)

type opMatMul struct{}

func init() {
	Register("", "MatMul", 1, func(n *Node) (Op, error) { return opMatMul{}, nil })
}

// mmPlan is the product that MatMul of two shapes performs.
type mmPlan struct {
	out  []int // output shape
	prod laBMM
}

func planMatMul(as, bs []int) (*mmPlan, error) {
	if len(as) == 0 || len(bs) == 0 {
		return nil, fmt.Errorf("MatMul: scalar operand (shapes %v and %v)", as, bs)
	}
	ra, rb := as, bs
	if len(as) == 1 {
		ra = []int{1, as[0]}
	}
	if len(bs) == 1 {
		rb = []int{bs[0], 1}
	}
	m, k := ra[len(ra)-2], ra[len(ra)-1]
	k2, n := rb[len(rb)-2], rb[len(rb)-1]
	if k != k2 {
		return nil, fmt.Errorf("MatMul: shapes %v and %v do not match (inner dimensions %d and %d)", as, bs, k, k2)
	}
	aBatch, bBatch := ra[:len(ra)-2], rb[:len(rb)-2]
	batchShape, err := tensor.BroadcastShape(aBatch, bBatch)
	if err != nil {
		return nil, fmt.Errorf("MatMul: batch dimensions of %v and %v do not broadcast", as, bs)
	}
	p := &mmPlan{out: append([]int{}, batchShape...)}
	if len(as) > 1 {
		p.out = append(p.out, m)
	}
	if len(bs) > 1 {
		p.out = append(p.out, n)
	}
	p.prod = laBMM{m: m, n: n, k: k, lenA: tensor.Size(as), lenB: tensor.Size(bs)}
	if tensor.Size(bBatch) == 1 {
		// B is one matrix: A's batch folds into the rows of one product.
		p.prod.m = tensor.Size(aBatch) * m
		p.prod.aOff, p.prod.bOff, p.prod.cOff = []int{0}, []int{0}, []int{0}
		return p, nil
	}
	batch := tensor.Size(batchShape)
	p.prod.aOff = make([]int, 0, batch)
	p.prod.bOff = make([]int, 0, batch)
	p.prod.cOff = make([]int, 0, batch)
	if batch == 0 {
		return p, nil
	}
	// Walk the batch shape with each operand's broadcast strides (in matrices).
	sa := tensor.BroadcastStrides(aBatch, batchShape)
	sb := tensor.BroadcastStrides(bBatch, batchShape)
	pos := make([]int, len(batchShape))
	ia, ib := 0, 0
	for i := 0; i < batch; i++ {
		p.prod.aOff = append(p.prod.aOff, ia*m*k)
		p.prod.bOff = append(p.prod.bOff, ib*k*n)
		p.prod.cOff = append(p.prod.cOff, i*m*n)
		for d := len(pos) - 1; d >= 0; d-- {
			pos[d]++
			ia += sa[d]
			ib += sb[d]
			if pos[d] < batchShape[d] {
				break
			}
			ia -= sa[d] * batchShape[d]
			ib -= sb[d] * batchShape[d]
			pos[d] = 0
		}
	}
	return p, nil
}

func (o opMatMul) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.ForwardBF16(in, nil)
}

// ForwardBF16 is Forward with a float32 product in bf16 (bf16.go); r == nil
// is Forward.
func (opMatMul) ForwardBF16(in []*tensor.Tensor, r *BF16Run) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	dt, err := laFloatInputs("MatMul", a, b)
	if err != nil {
		return nil, err
	}
	p, err := planMatMul(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 && r != nil {
		checkOut[float32](0, p.out...)
		c := outBuf[float32](tensor.Size(p.out))
		laBMMForwardBF16(&p.prod, 1, r.operand(a), r.operand(b), 0, c)
		return single(tensor.New(p.out, c))
	}
	if dt == tensor.Float32 {
		return single(matMulForward(p, a.F32(), b.F32()))
	}
	return single(matMulForward(p, a.F64(), b.F64()))
}

func matMulForward[T laFloat](p *mmPlan, a, b []T) *tensor.Tensor {
	checkOut[T](0, p.out...)
	c := outBuf[T](tensor.Size(p.out)) // beta 0: written whole
	laBMMForward(&p.prod, 1, a, b, 0, c)
	return tensor.New(p.out, c)
}

func (o opMatMul) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	return o.BackwardBF16(in, out, dout, need, nil)
}

// BackwardBF16 is Backward with the float32 products in bf16; r == nil is
// Backward.
func (opMatMul) BackwardBF16(in, out, dout []*tensor.Tensor, need []bool, r *BF16Run) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	dt, err := laFloatInputs("MatMul backward", a, b)
	if err != nil {
		return nil, err
	}
	p, err := planMatMul(a.Shape, b.Shape)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, 2)
	g := dout[0]
	if g == nil {
		for i, x := range in[:2] {
			if need[i] {
				res[i] = tensor.Zeros(x.DType(), x.Shape...)
			}
		}
		return res, nil
	}
	if dt == tensor.Float32 {
		var da, db []float32
		if r != nil {
			da, db = laBMMGradsBF16(&p.prod, 1, bfOf(r, a, need[1]), bfOf(r, b, need[0]), g.F32(), need[0], need[1])
		} else {
			da, db = laBMMGrads(&p.prod, 1, a.F32(), b.F32(), g.F32(), need[0], need[1])
		}
		if da != nil {
			res[0] = tensor.New(a.Shape, da)
		}
		if db != nil {
			res[1] = tensor.New(b.Shape, db)
		}
	} else {
		da, db := laBMMGrads(&p.prod, 1, a.F64(), b.F64(), g.F64(), need[0], need[1])
		if da != nil {
			res[0] = tensor.New(a.Shape, da)
		}
		if db != nil {
			res[1] = tensor.New(b.Shape, db)
		}
	}
	return res, nil
}

// Saves: dA reads B, dB reads A.
func (opMatMul) Saves(need []bool) (ins, outs []int) { return crossed(need), nil }

// SavesBF16: both operands are read only by the products (bf16.go).
func (opMatMul) SavesBF16(need []bool) []int { return crossed(need) }
