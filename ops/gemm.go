package ops

// Gemm (opsets 1, 6, 7, 9, 11, 13): general matrix multiplication.
//
//	Y [m, n] = alpha · op(A) · op(B) + beta · C
//	op(A) [m, k] = A or Aᵀ (transA), op(B) [k, n] = B or Bᵀ (transB);
//	C (optional since opset 11) broadcasts unidirectionally to [m, n].
//	Defaults: alpha = beta = 1, transA = transB = 0.
//
//	backward  dop(A) = α dY·op(B)ᵀ, dop(B) = α op(A)ᵀ·dY  (transposition flags)
//	          dC = β · dY summed to C's shape

import (
	"fmt"

	"ft/tensor"
)

type opGemm struct {
	alpha, beta    float64
	transA, transB bool
}

func init() {
	Register("", "Gemm", 1, func(n *Node) (Op, error) {
		return &opGemm{
			alpha:  float64(n.Float("alpha", 1)),
			beta:   float64(n.Float("beta", 1)),
			transA: n.Int("transA", 0) != 0,
			transB: n.Int("transB", 0) != 0,
		}, nil
	})
}

// plan returns the product and the output shape.
func (o *opGemm) plan(a, b, c *tensor.Tensor) (laBMM, []int, error) {
	if a.Rank() != 2 || b.Rank() != 2 {
		return laBMM{}, nil, fmt.Errorf("Gemm: A %v and B %v must be matrices", a.Shape, b.Shape)
	}
	m, k := a.Shape[0], a.Shape[1]
	if o.transA {
		m, k = k, m
	}
	k2, n := b.Shape[0], b.Shape[1]
	if o.transB {
		k2, n = n, k2
	}
	if k != k2 {
		return laBMM{}, nil, fmt.Errorf("Gemm: op(A) is %d×%d but op(B) is %d×%d", m, k, k2, n)
	}
	out := []int{m, n}
	if c != nil {
		if bs, err := tensor.BroadcastShape(c.Shape, out); err != nil || !tensor.SameShape(bs, out) {
			return laBMM{}, nil, fmt.Errorf("Gemm: C %v does not broadcast to %v", c.Shape, out)
		}
	}
	zero := []int{0}
	return laBMM{m: m, n: n, k: k, transA: o.transA, transB: o.transB, aOff: zero, bOff: zero, cOff: zero,
		lenA: a.Len(), lenB: b.Len()}, out, nil
}

func (o *opGemm) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.ForwardBF16(in, nil)
}

// ForwardBF16 is Forward with a float32 product in bf16 (bf16.go); r == nil
// is Forward.
func (o *opGemm) ForwardBF16(in []*tensor.Tensor, r *BF16Run) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	var c *tensor.Tensor
	if len(in) > 2 {
		c = in[2]
	}
	dt, err := laFloatInputs("Gemm", a, b, c)
	if err != nil {
		return nil, err
	}
	p, out, err := o.plan(a, b, c)
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 {
		return single(gemmForward[float32](o, &p, out, a, b, c, r))
	}
	return single(gemmForward[float64](o, &p, out, a, b, c, nil))
}

func gemmForward[T laFloat](o *opGemm, p *laBMM, out []int, a, b, c *tensor.Tensor, r *BF16Run) *tensor.Tensor {
	var y []T
	checkOut[T](0, out...)
	beta := T(o.beta)
	if c != nil && beta != 0 {
		y = laBroadcastTo(tensor.Data[T](c), c.Shape, out)
	} else {
		y = make([]T, tensor.Size(out))
		beta = 0
	}
	if r != nil {
		laBMMForwardBF16(p, float32(o.alpha), r.operand(a), r.operand(b), float32(beta), any(y).([]float32))
	} else {
		laBMMForward(p, T(o.alpha), tensor.Data[T](a), tensor.Data[T](b), beta, y)
	}
	return tensor.New(out, y)
}

func (o *opGemm) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	return o.BackwardBF16(in, out, dout, need, nil)
}

// BackwardBF16 is Backward with the float32 products in bf16; r == nil is
// Backward.
func (o *opGemm) BackwardBF16(in, out, dout []*tensor.Tensor, need []bool, r *BF16Run) ([]*tensor.Tensor, error) {
	a, b := in[0], in[1]
	var c *tensor.Tensor
	if len(in) > 2 {
		c = in[2]
	}
	dt, err := laFloatInputs("Gemm backward", a, b, c)
	if err != nil {
		return nil, err
	}
	p, _, err := o.plan(a, b, c)
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(in))
	g := dout[0]
	if g == nil {
		for i, x := range in {
			if i < len(need) && need[i] && x != nil {
				res[i] = tensor.Zeros(x.DType(), x.Shape...)
			}
		}
		return res, nil
	}
	if dt == tensor.Float32 {
		gemmBackward[float32](o, &p, in, g, need, res, r)
	} else {
		gemmBackward[float64](o, &p, in, g, need, res, nil)
	}
	return res, nil
}

// Saves: dA reads B, dB reads A (C: shape only).
func (o *opGemm) Saves(need []bool) (ins, outs []int) { return crossed(need), nil }

// SavesBF16: A and B are read only by the products (C: shape only; bf16.go).
func (o *opGemm) SavesBF16(need []bool) []int { return crossed(need) }

func gemmBackward[T laFloat](o *opGemm, p *laBMM, in []*tensor.Tensor, g *tensor.Tensor, need []bool, res []*tensor.Tensor, r *BF16Run) {
	a, b := in[0], in[1]
	gd := tensor.Data[T](g)
	var da, db []T
	if r != nil {
		fa, fb := laBMMGradsBF16(p, float32(o.alpha), bfOf(r, a, need[1]), bfOf(r, b, need[0]), any(gd).([]float32), need[0], need[1])
		da, db = any(fa).([]T), any(fb).([]T)
	} else {
		da, db = laBMMGrads(p, T(o.alpha), tensor.Data[T](a), tensor.Data[T](b), gd, need[0], need[1])
	}
	if da != nil {
		res[0] = tensor.New(a.Shape, da)
	}
	if db != nil {
		res[1] = tensor.New(b.Shape, db)
	}
	if len(in) > 2 && in[2] != nil && len(need) > 2 && need[2] {
		c := in[2]
		sum := SumToShape(g, c.Shape)
		sd := tensor.Data[T](sum)
		dc := make([]T, len(sd))
		beta := T(o.beta)
		for i, v := range sd {
			dc[i] = beta * v
		}
		res[2] = tensor.New(c.Shape, dc)
	}
}
