package ops

// Fused attention products (built by graph.fuse, never found in a model
// file; the "Ft" prefix keeps them out of the ONNX names). Both read the
// per-head matrices straight out of the [b, s, h, d] projections with row
// stride h·d, so the exported Transposes (and the scalar Muls of the
// scores) are never materialised.
//
//	FtAttentionScores(Xq [b,sq,h,d], Xk [b,sk,h,d], c1?, c2?) -> S [b,h,sq,sk]
//	    S[b,h] = α · Q'[b,h] · K'[b,h]ᵀ,  α = c1·c2 (absent scalars count 1)
//	    = MatMul(Mul(Transpose(Xq,[0,2,1,3]),c1), Mul(Transpose(Xk,[0,2,3,1]),c2))
//	    Q'[b,h] is the sq×d matrix of Xq at offset b·sq·h·d + h·d, row stride h·d.
//	    backward dXq = α·dS·K', dXk = α·dSᵀ·Q' (written strided); a scalar's
//	    gradient (when one is trainable) is the other's value · Σ dS⊙Q'K'ᵀ.
//
//	FtAttentionContext(P [b,h,sq,sk], Xv [b,sk,h,d]) -> O [b,sq,h,d]
//	    O[b,:,h,:] = P[b,h] · V'[b,h]
//	    = Transpose(MatMul(P, Transpose(Xv,[0,2,1,3])), [0,2,1,3])
//	    backward dP = dO'·V'ᵀ, dXv = Pᵀ·dO' (dO' read / dXv written strided).
//
//	FtTransposedShape(X; perm, start, end) -> int64: Shape(Transpose(X, perm))[start:end]
//	    (what a Shape node of a fused-away Transpose reads; no gradient)
//
// Batch and head dimensions must agree (self-attention); a model that
// broadcasts them gets an error saying how to keep the exported nodes.

import (
	"fmt"

	"ft/kernels"
	"ft/tensor"
)

// keepUnfused ends the errors of the fused ops: how to run the exported
// nodes instead.
const keepUnfused = "import with fusion off to keep the exported nodes: graph.Options.DisableFusion, FT_NOFUSE=1 for ft"

func init() {
	Register("", "FtAttentionScores", 1, func(n *Node) (Op, error) { return opAttnScores{}, nil })
	Register("", "FtAttentionContext", 1, func(n *Node) (Op, error) { return opAttnContext{}, nil })
	Register("", "FtTransposedShape", 1, func(n *Node) (Op, error) {
		perm, _ := n.Ints("perm")
		o := &opTransposedShape{opShape: opShape{start: int(n.Int("start", 0))}}
		if n.Has("end") {
			o.end, o.hasEnd = int(n.Int("end", 0)), true
		}
		for _, p := range perm {
			o.perm = append(o.perm, int(p))
		}
		return o, nil
	})
}

// attnDims checks a [b, s, h, d] projection.
func attnDims(op, name string, x *tensor.Tensor) (b, s, h, d int, err error) {
	if x.Rank() != 4 {
		return 0, 0, 0, 0, fmt.Errorf("%s: %s has shape %v, want [batch, seq, heads, head_dim] (%s)", op, name, x.Shape, keepUnfused)
	}
	return x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3], nil
}

// attnOffsets returns the offsets of the per-(batch, head) matrices: of a
// [b, s, h, d] tensor (row stride h·d) and of a contiguous [b, h, m, n] one.
func attnOffsets(b, s, h, d, mn int) (strided, packed []int) {
	strided = make([]int, b*h)
	packed = make([]int, b*h)
	for i := range b {
		for j := range h {
			strided[i*h+j] = i*s*h*d + j*d
			packed[i*h+j] = (i*h + j) * mn
		}
	}
	return strided, packed
}

// attnScale returns c1·c2 in T (an absent scalar counts 1).
func attnScale[T laFloat](op string, dt tensor.DType, cs ...*tensor.Tensor) (T, error) {
	alpha := T(1)
	for _, c := range cs {
		if c == nil {
			continue
		}
		if c.Len() != 1 || c.Rank() > 4 || c.DType() != dt {
			return 0, fmt.Errorf("%s: scale of shape %v and type %s, want one %s element (%s)", op, c.Shape, c.DType(), dt, keepUnfused)
		}
		if dt == tensor.Float32 {
			alpha *= T(c.F32()[0])
		} else {
			alpha *= T(c.F64()[0])
		}
	}
	return alpha, nil
}

type opAttnScores struct{}

type attnScoresPlan struct {
	b, sq, sk, h, d  int
	qOff, kOff, sOff []int
}

func planAttnScores(xq, xk *tensor.Tensor) (*attnScoresPlan, error) {
	const op = "FtAttentionScores"
	b, sq, h, d, err := attnDims(op, "Xq", xq)
	if err != nil {
		return nil, err
	}
	b2, sk, h2, d2, err := attnDims(op, "Xk", xk)
	if err != nil {
		return nil, err
	}
	if b != b2 || h != h2 || d != d2 {
		return nil, fmt.Errorf("%s: query %v and key %v differ in batch, heads or head size (%s)", op, xq.Shape, xk.Shape, keepUnfused)
	}
	p := &attnScoresPlan{b: b, sq: sq, sk: sk, h: h, d: d}
	p.qOff, p.sOff = attnOffsets(b, sq, h, d, sq*sk)
	p.kOff, _ = attnOffsets(b, sk, h, d, 0)
	return p, nil
}

func (o opAttnScores) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.ForwardBF16(in, nil)
}

// ForwardBF16 is Forward with float32 products in bf16 (bf16.go); r == nil
// is Forward.
func (opAttnScores) ForwardBF16(in []*tensor.Tensor, r *BF16Run) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("FtAttentionScores", in[0], in[1])
	if err != nil {
		return nil, err
	}
	p, err := planAttnScores(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 {
		return attnScoresForward[float32](r != nil, p, dt, in)
	}
	return attnScoresForward[float64](false, p, dt, in)
}

func attnScoresForward[T laFloat](bf bool, p *attnScoresPlan, dt tensor.DType, in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	alpha, err := attnScale[T]("FtAttentionScores", dt, in[2:]...)
	if err != nil {
		return nil, err
	}
	shape := []int{p.b, p.h, p.sq, p.sk}
	checkOut[T](0, shape...)
	s := outBuf[T](tensor.Size(shape))
	hd := p.h * p.d
	attnGemm(bf, false, true, p.sq, p.sk, p.d, alpha, in[0].Data.([]T), p.qOff, hd, in[1].Data.([]T), p.kOff, hd, 0, s, p.sOff, p.sk)
	return single(tensor.New(shape, s))
}

func (o opAttnScores) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	return o.BackwardBF16(in, out, dout, need, nil)
}

// BackwardBF16 is Backward with float32 products in bf16; r == nil is
// Backward.
func (opAttnScores) BackwardBF16(in, out, dout []*tensor.Tensor, need []bool, r *BF16Run) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("FtAttentionScores backward", in[0], in[1])
	if err != nil {
		return nil, err
	}
	p, err := planAttnScores(in[0], in[1])
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, len(in))
	if dout[0] == nil {
		for i, x := range in {
			if x != nil && i < len(need) && need[i] {
				res[i] = tensor.Zeros(x.DType(), x.Shape...)
			}
		}
		return res, nil
	}
	if dt == tensor.Float32 {
		err = attnScoresBackward[float32](r != nil, p, dt, in, dout[0], need, res)
	} else {
		err = attnScoresBackward[float64](false, p, dt, in, dout[0], need, res)
	}
	return res, err
}

func attnScoresBackward[T laFloat](bf bool, p *attnScoresPlan, dt tensor.DType, in []*tensor.Tensor, ds *tensor.Tensor, need []bool, res []*tensor.Tensor) error {
	alpha, err := attnScale[T]("FtAttentionScores", dt, in[2:]...)
	if err != nil {
		return err
	}
	hd := p.h * p.d
	g := ds.Data.([]T)
	if need[0] { // dQ' = α dS · K'
		dq := outBuf[T](in[0].Len())
		attnGemm(bf, false, false, p.sq, p.d, p.sk, alpha, g, p.sOff, p.sk, in[1].Data.([]T), p.kOff, hd, 0, dq, p.qOff, hd)
		res[0] = tensor.New(in[0].Shape, dq)
	}
	if need[1] { // dK' = α dSᵀ · Q'
		dk := outBuf[T](in[1].Len())
		attnGemm(bf, true, false, p.sk, p.d, p.sq, alpha, g, p.sOff, p.sk, in[0].Data.([]T), p.qOff, hd, 0, dk, p.kOff, hd)
		res[1] = tensor.New(in[1].Shape, dk)
	}
	// a trainable scale (rare: exports compute it from shapes):
	// dc1 = c2·Σ dS⊙(Q'K'ᵀ), dc2 = c1·Σ dS⊙(Q'K'ᵀ)
	if len(need) > 3 && (need[2] && in[2] != nil || need[3] && in[3] != nil) {
		raw := make([]T, len(g))
		attnGemm(bf, false, true, p.sq, p.sk, p.d, 1, in[0].Data.([]T), p.qOff, hd, in[1].Data.([]T), p.kOff, hd, 0, raw, p.sOff, p.sk)
		var sum T
		for i, v := range raw {
			sum += g[i] * v
		}
		for i, j := range [2]int{3, 2} { // dc1 uses c2, dc2 uses c1
			if c := in[2+i]; c != nil && need[2+i] {
				other := T(1)
				if o := in[j]; o != nil {
					other, _ = attnScale[T]("FtAttentionScores", dt, o)
				}
				d := make([]T, 1)
				d[0] = sum * other
				res[2+i] = tensor.New(append([]int{}, c.Shape...), d)
			}
		}
	}
	return nil
}

// Saves: dXq reads Xk, dXk reads Xq; all read the scalars; the scalars'
// gradients read Xq and Xk.
func (opAttnScores) Saves(need []bool) (ins, outs []int) {
	ins = []int{2, 3}
	if len(need) > 3 && (need[2] || need[3]) {
		return []int{0, 1, 2, 3}, nil
	}
	if need[0] {
		ins = append(ins, 1)
	}
	if need[1] {
		ins = append(ins, 0)
	}
	return ins, nil
}

type opAttnContext struct{}

type attnContextPlan struct {
	b, sq, sk, h, d  int
	pOff, vOff, oOff []int
}

func planAttnContext(pr, xv *tensor.Tensor) (*attnContextPlan, error) {
	const op = "FtAttentionContext"
	b, sk, h, d, err := attnDims(op, "Xv", xv)
	if err != nil {
		return nil, err
	}
	if pr.Rank() != 4 || pr.Shape[0] != b || pr.Shape[1] != h || pr.Shape[3] != sk {
		return nil, fmt.Errorf("%s: probabilities %v do not match values %v (want [%d, %d, seq, %d]; %s)", op, pr.Shape, xv.Shape, b, h, sk, keepUnfused)
	}
	sq := pr.Shape[2]
	p := &attnContextPlan{b: b, sq: sq, sk: sk, h: h, d: d}
	p.oOff, p.pOff = attnOffsets(b, sq, h, d, sq*sk)
	p.vOff, _ = attnOffsets(b, sk, h, d, 0)
	return p, nil
}

func (o opAttnContext) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return o.ForwardBF16(in, nil)
}

// ForwardBF16 is Forward with float32 products in bf16 (bf16.go); r == nil
// is Forward.
func (opAttnContext) ForwardBF16(in []*tensor.Tensor, r *BF16Run) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("FtAttentionContext", in[0], in[1])
	if err != nil {
		return nil, err
	}
	p, err := planAttnContext(in[0], in[1])
	if err != nil {
		return nil, err
	}
	if dt == tensor.Float32 {
		return single(attnContextForward[float32](r != nil, p, in))
	}
	return single(attnContextForward[float64](false, p, in))
}

func attnContextForward[T laFloat](bf bool, p *attnContextPlan, in []*tensor.Tensor) *tensor.Tensor {
	shape := []int{p.b, p.sq, p.h, p.d}
	checkOut[T](0, shape...)
	o := outBuf[T](tensor.Size(shape))
	hd := p.h * p.d
	attnGemm(bf, false, false, p.sq, p.d, p.sk, 1, in[0].Data.([]T), p.pOff, p.sk, in[1].Data.([]T), p.vOff, hd, 0, o, p.oOff, hd)
	return tensor.New(shape, o)
}

func (o opAttnContext) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	return o.BackwardBF16(in, out, dout, need, nil)
}

// BackwardBF16 is Backward with float32 products in bf16; r == nil is
// Backward.
func (opAttnContext) BackwardBF16(in, out, dout []*tensor.Tensor, need []bool, r *BF16Run) ([]*tensor.Tensor, error) {
	dt, err := laFloatInputs("FtAttentionContext backward", in[0], in[1])
	if err != nil {
		return nil, err
	}
	p, err := planAttnContext(in[0], in[1])
	if err != nil {
		return nil, err
	}
	res := make([]*tensor.Tensor, 2)
	if dout[0] == nil {
		for i := range 2 {
			if need[i] {
				res[i] = tensor.Zeros(in[i].DType(), in[i].Shape...)
			}
		}
		return res, nil
	}
	if dt == tensor.Float32 {
		attnContextBackward[float32](r != nil, p, in, dout[0], need, res)
	} else {
		attnContextBackward[float64](false, p, in, dout[0], need, res)
	}
	return res, nil
}

func attnContextBackward[T laFloat](bf bool, p *attnContextPlan, in []*tensor.Tensor, do *tensor.Tensor, need []bool, res []*tensor.Tensor) {
	hd := p.h * p.d
	g := do.Data.([]T)
	if need[0] { // dP = dO' · V'ᵀ
		dp := outBuf[T](in[0].Len())
		attnGemm(bf, false, true, p.sq, p.sk, p.d, 1, g, p.oOff, hd, in[1].Data.([]T), p.vOff, hd, 0, dp, p.pOff, p.sk)
		res[0] = tensor.New(in[0].Shape, dp)
	}
	if need[1] { // dV' = Pᵀ · dO'
		dv := outBuf[T](in[1].Len())
		attnGemm(bf, true, false, p.sk, p.d, p.sq, 1, in[0].Data.([]T), p.pOff, p.sk, g, p.oOff, hd, 0, dv, p.vOff, hd)
		res[1] = tensor.New(in[1].Shape, dv)
	}
}

// Saves: dP reads Xv, dXv reads P.
func (opAttnContext) Saves(need []bool) (ins, outs []int) { return crossed(need), nil }

type opTransposedShape struct {
	opShape
	perm []int
}

func (o *opTransposedShape) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	x := in[0]
	if len(o.perm) != x.Rank() {
		return nil, fmt.Errorf("FtTransposedShape: perm %v for a tensor of shape %v", o.perm, x.Shape)
	}
	shape := make([]int, len(o.perm))
	for i, p := range o.perm {
		if p < 0 || p >= x.Rank() {
			return nil, fmt.Errorf("FtTransposedShape: perm %v for a tensor of shape %v", o.perm, x.Shape)
		}
		shape[i] = x.Shape[p]
	}
	return o.opShape.Forward([]*tensor.Tensor{shapeOnlyOf(x.DType(), shape)})
}

// shapeOnlyOf returns a tensor of the given shape and type without data.
func shapeOnlyOf(dt tensor.DType, shape []int) *tensor.Tensor {
	s := tensor.Zeros(dt, 0)
	s.Shape = shape
	return s
}

// attnGemm is kernels.GemmBatch (beta 0), in bf16 when bf is set and T is
// float32 (the operands are activations: rounded while packed).
func attnGemm[T laFloat](bf bool, transA, transB bool, m, n, k int, alpha T, a []T, aOff []int, lda int, b []T, bOff []int, ldb int, beta T, c []T, cOff []int, ldc int) {
	if f, ok := any(c).([]float32); ok && bf {
		kernels.GemmBatchBF16(transA, transB, m, n, k, float32(alpha), any(a).([]float32), aOff, lda, any(b).([]float32), bOff, ldb, float32(beta), f, cOff, ldc)
		return
	}
	kernels.GemmBatch(transA, transB, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, c, cOff, ldc)
}
