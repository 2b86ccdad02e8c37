package graph

import "ft/tensor"

// Trace keeps what a forward pass computed that backward will need.
type Trace struct {
	keep []bool
	// per node index: inputs and outputs (extras included) of the forward pass
	ins, outs [][]*tensor.Tensor
}

func (t *Trace) record(node int, in, out []*tensor.Tensor) {
	if t.ins == nil {
		return
	}
	t.ins[node] = in
	t.outs[node] = out
}
