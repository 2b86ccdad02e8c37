package ops

// Identity: y = x (a copy, so that the graph may recycle either buffer);
// dx = dy. Tensors only (no sequences or optionals).

import "ft/tensor"

type identity struct{}

func init() {
	Register("", "Identity", 1, func(n *Node) (Op, error) { return identity{}, nil })
}

func (identity) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	return single(in[0].Clone())
}

func (identity) Backward(in, out, dout []*tensor.Tensor, need []bool) ([]*tensor.Tensor, error) {
	if !need[0] {
		return make([]*tensor.Tensor, len(in)), nil
	}
	return []*tensor.Tensor{outGrad(out, dout, 0).Clone()}, nil
}

// Saves: nothing (shapes; integer inputs are always kept).
func (identity) Saves([]bool) (ins, outs []int) { return nil, nil }
