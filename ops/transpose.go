package ops

// Transpose: permute axes.
//
//	Y[i_perm[0], …, i_perm[r-1]] = X[i_0, …, i_{r-1}]; Y.shape[k] = X.shape[perm[k]]
//	perm defaults to the reversed axes.
//	dX = Transpose(dY, inverse(perm))
//
// The copy walks Y in order reading X with permuted strides; axes that stay
// together are merged, so [B,S,H,D] -> [B,H,S,D] copies runs of D elements.

import (
	"ft/tensor"
)

func init() {
	Register("", "Transpose", 1, func(n *Node) (Op, error) {
		o := &opTranspose{mvNamed: mvName(n)}
		if p, ok := n.Ints("perm"); ok {
			o.perm = mvInts64(p)
		}
		return o, nil
	})
}

type opTranspose struct {
	mvNamed
	perm []int // nil: reverse
}

// permFor returns the permutation for rank r, checked.
func (o *opTranspose) permFor(r int) ([]int, error) {
	if o.perm == nil {
		p := make([]int, r)
		for i := range p {
			p[i] = r - 1 - i
		}
		return p, nil
	}
	if len(o.perm) != r {
		return nil, o.errf("perm %v has %d entries for an input of rank %d", o.perm, len(o.perm), r)
	}
	seen := make([]bool, r)
	p := make([]int, r)
	for i, a := range o.perm {
		if a < 0 {
			a += r
		}
		if a < 0 || a >= r || seen[a] {
			return nil, o.errf("perm %v is not a permutation of %d axes", o.perm, r)
		}
		seen[a] = true
		p[i] = a
	}
	return p, nil
}

// mvTranspose returns x with its axes permuted: out.shape[k] = x.shape[perm[k]].
func mvTranspose(x *tensor.Tensor, perm []int) (*tensor.Tensor, error) {
	st := tensor.Strides(x.Shape)
	shape := make([]int, len(perm))
	pst := make([]int, len(perm))
	for k, a := range perm {
		shape[k] = x.Shape[a]
		pst[k] = st[a]
	}
	return mvCopyStrided(x, 0, pst, shape)
}

func (o *opTranspose) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	p, err := o.permFor(in[0].Rank())
	if err != nil {
		return nil, err
	}
	y, err := mvTranspose(in[0], p)
	if err != nil {
		return nil, o.errf("%v", err)
	}
	return single(y)
}

// Backward: dX = Transpose(dY, inverse(perm)).
func (o *opTranspose) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	g, done := firstInputGrad(in, dout, need)
	if done {
		return g, nil
	}
	x := in[0]
	p, err := o.permFor(x.Rank())
	if err != nil {
		return nil, err
	}
	inv := make([]int, len(p))
	for k, a := range p {
		inv[a] = k
	}
	if g[0], err = mvTranspose(dout[0], inv); err != nil {
		return nil, o.errf("%v", err)
	}
	return g, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (o *opTranspose) Saves([]bool) (ins, outs []int) { return nil, nil }
