package graph

import (
	"fmt"

	"ft/kernels"
	"ft/ops"
	"ft/tensor"
)

// Trace is a forward pass recorded for backward: the inputs and outputs
// (extras included) of exactly the nodes that lie between a trainable
// parameter and the loss. Everything else was released during the pass.
type Trace struct {
	g    *Graph
	plan *gradPlan
	ins  [][]*tensor.Tensor
	outs [][]*tensor.Tensor
	// fixed: address ranges of constants, parameters and feeds, never
	// recycled (trainpool.go)
	fixed []addrRange
	// quota: by length, how many buffers Backward may still hand back
	quota map[int]int
	// bf: the bf16 state of the forward pass (nil: float32), which
	// Backward goes on with
	bf *ops.BF16Run
	// ckpt: gradient checkpointing (checkpoint.go); nil when off
	ckpt *checkpoints
	// held: the bf16 copies of saved product inputs, by value, with the
	// number of saved stubs that read each; stubs: the value of each stub
	held     map[int][]uint16
	heldRefs map[int]int
	stubs    map[*tensor.Tensor]int
	// Outputs holds the requested outputs.
	Outputs map[string]*tensor.Tensor
	// BackwardNodes counts the nodes Backward ran (for tests and reports);
	// BackwardRan names them, in the order they ran.
	BackwardNodes int
	BackwardRan   []string
}

func (t *Trace) record(node int, in, out []*tensor.Tensor) {
	if t.plan == nil || !t.plan.active[node] {
		return
	}
	// Keep only what the node's backward reads (ops.Saver): the rest of
	// its inputs and outputs may be released as soon as forward is done.
	t.save(node, in, out)
}

// save keeps what node's backward reads of its inputs and outputs
// (ops.Saver); in a bf16 run, inputs read only by bf16 products
// (ops.BF16Saver) are kept as bf16 copies, one per value, shared by the
// nodes that read it.
func (t *Trace) save(node int, in, out []*tensor.Tensor) {
	n := t.g.Nodes[node]
	need := t.need(n, in)
	sin, sout := ops.Saved(n.Op, in, out, need)
	if bs, ok := n.Op.(ops.BF16Saver); ok && t.bf != nil && holdBF16 {
		sin = append([]*tensor.Tensor(nil), sin...)
		for _, k := range bs.SavesBF16(need) {
			id := n.In[k]
			x := sin[k]
			if id < 0 || x == nil || x != in[k] || x.DType() != tensor.Float32 || x.Len() == 0 || t.g.Values[id].Const != nil {
				continue
			}
			h, ok := t.held[id]
			if !ok {
				h = make([]uint16, x.Len())
				kernels.BF16Round(h, x.F32())
				t.held[id] = h
			}
			t.heldRefs[id]++
			stub := tensor.Zeros(tensor.Float32, 0)
			stub.Shape = append([]int(nil), x.Shape...)
			t.bf.Hold(stub, h)
			t.stubs[stub] = id
			sin[k] = stub
		}
	}
	t.ins[node], t.outs[node] = sin, sout
}

// dropHeld forgets the bf16 copies that the saved inputs of a node whose
// backward is done hold, each once no other saved input reads it.
func (t *Trace) dropHeld(ins []*tensor.Tensor) {
	for _, x := range ins {
		id, ok := t.stubs[x]
		if !ok {
			continue
		}
		delete(t.stubs, x)
		t.bf.Release(x)
		if t.heldRefs[id]--; t.heldRefs[id] == 0 {
			delete(t.held, id)
			delete(t.heldRefs, id)
		}
	}
}

// holdBF16: bf16 traces keep product inputs as bf16 copies (tests turn it
// off to compare).
var holdBF16 = true

// need says which inputs of n backward asks gradients for (as Backward
// computes it from the recorded inputs).
func (t *Trace) need(n *Node, in []*tensor.Tensor) []bool {
	need := make([]bool, len(n.In))
	for k, id := range n.In {
		// integer and bool inputs (indices, shapes, masks) carry no gradient
		need[k] = id >= 0 && t.plan.dep[id] && in[k] != nil && in[k].DType().IsFloat()
	}
	return need
}

// gradPlan says which nodes backward visits for a set of trainable
// parameters and loss outputs.
type gradPlan struct {
	params []*Param
	active []bool // node lies between a trainable parameter and a loss output
	// dep[v]: value v depends (through float, differentiable paths) on a trainable parameter
	dep []bool
}

// planGrad finds the nodes between the trainable parameters and the outputs.
func (g *Graph) planGrad(params []*Param, outputs []int) (*gradPlan, error) {
	p := &gradPlan{params: params, active: make([]bool, len(g.Nodes)), dep: make([]bool, len(g.Values))}
	for _, q := range params {
		p.dep[q.ValueID] = true
	}
	// Forward sweep: which values depend on a trainable parameter.
	for _, n := range g.Nodes {
		if _, shapeOnly := n.Op.(ops.ShapeOnly); shapeOnly {
			continue
		}
		any := false
		for _, in := range n.In {
			if in >= 0 && p.dep[in] {
				any = true
			}
		}
		if any {
			for _, o := range n.Out {
				if o >= 0 {
					p.dep[o] = true
				}
			}
		}
	}
	// Backward sweep: which values the outputs depend on.
	reach := make([]bool, len(g.Values))
	for _, o := range outputs {
		reach[o] = true
	}
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		n := g.Nodes[i]
		hit := false
		for _, o := range n.Out {
			if o >= 0 && reach[o] {
				hit = true
			}
		}
		if !hit {
			continue
		}
		depIn := false
		for _, in := range n.In {
			if in >= 0 && p.dep[in] {
				depIn = true
				reach[in] = true
			}
		}
		if depIn {
			if _, ok := n.Op.(ops.Differentiable); !ok {
				return nil, fmt.Errorf("node %q (%s) lies between a trainable parameter and the loss but %s has no backward", n.Name, n.OpType, n.OpType)
			}
			p.active[i] = true
		}
	}
	return p, nil
}

// Forward runs the graph and records what Backward needs to differentiate
// the given outputs with respect to the trainable parameters.
func (g *Graph) Forward(feeds map[string]*tensor.Tensor, outputs []string, trainable []*Param) (*Trace, error) {
	want := g.wanted(outputs)
	ids, err := g.outputIDs(want)
	if err != nil {
		return nil, err
	}
	plan, err := g.planGrad(trainable, ids)
	if err != nil {
		return nil, err
	}
	tr := &Trace{g: g, plan: plan,
		ins: make([][]*tensor.Tensor, len(g.Nodes)), outs: make([][]*tensor.Tensor, len(g.Nodes)),
		fixed: g.fixedSpans(feeds), quota: map[int]int{}, held: map[int][]uint16{}, heldRefs: map[int]int{}, stubs: map[*tensor.Tensor]int{}}
	vals, err := g.execute(feeds, want, tr)
	if err != nil {
		return nil, err
	}
	tr.Outputs = map[string]*tensor.Tensor{}
	for i, name := range want {
		tr.Outputs[name] = vals[ids[i]]
	}
	return tr, nil
}

// Backward propagates the gradients of the named outputs (seeds: d loss /
// d output) back to the trainable parameters, visiting only the nodes between
// them, and returns one gradient per trainable parameter (zeros where the
// loss does not depend on it). Recorded activations are released as soon as
// their node is done; a Trace can be differentiated once.
func (t *Trace) Backward(seeds map[string]*tensor.Tensor) (map[*Param]*tensor.Tensor, error) {
	g := t.g
	if t.ins == nil {
		return nil, fmt.Errorf("backward: this trace was already differentiated")
	}
	grad := make([]*tensor.Tensor, len(g.Values))
	owned := make([]bool, len(g.Values)) // grad[v] may be updated in place
	for name, s := range seeds {
		id, ok := g.byName[name]
		if !ok {
			return nil, fmt.Errorf("backward: unknown output %q", name)
		}
		grad[id] = s
	}
	rel := t.newReleaser(seeds, grad)
	t.BackwardNodes = 0
	for i := len(g.Nodes) - 1; i >= 0; i-- {
		if !t.plan.active[i] {
			continue
		}
		n := g.Nodes[i]
		if c := t.ckpt; c != nil && c.seg[i] >= 0 && !c.done[c.seg[i]] {
			if err := t.recompute(c.seg[i]); err != nil {
				return nil, err
			}
		}
		outs := t.outs[i]
		dout := make([]*tensor.Tensor, len(outs))
		any := false
		for k, o := range n.Out {
			if o >= 0 && grad[o] != nil {
				dout[k] = grad[o]
				any = true
			}
		}
		if !any {
			cands := append(append([]*tensor.Tensor(nil), t.ins[i]...), outs...)
			t.dropHeld(t.ins[i])
			t.ins[i], t.outs[i] = nil, nil
			rel.release(cands, i)
			continue
		}
		need := t.need(n, t.ins[i])
		gin, err := safeBackward(n, t.ins[i], outs, dout, need, t.bf)
		if err != nil {
			return nil, fmt.Errorf("backward of node %q (%s): %w", n.Name, n.OpType, err)
		}
		t.BackwardNodes++
		t.BackwardRan = append(t.BackwardRan, n.Name)
		// buffers this node leaves unreachable, maybe
		cands, err := accumulateGrads(n, need, gin, grad, owned)
		if err != nil {
			return nil, err
		}
		// release this node's activations and the output gradients
		cands = append(append(append(cands, t.ins[i]...), outs...), dout...)
		t.dropHeld(t.ins[i])
		t.ins[i], t.outs[i] = nil, nil
		for _, o := range n.Out {
			if o >= 0 {
				grad[o] = nil
			}
		}
		rel.release(cands, i)
	}
	t.ins, t.outs, t.fixed, t.quota, t.ckpt, t.held, t.heldRefs, t.stubs = nil, nil, nil, nil, nil, nil, nil, nil
	return t.paramGrads(grad), nil
}

// newReleaser is Backward's releaser: besides the trace's fixed buffers,
// the outputs, the seeds and (with checkpointing) the layers' kept inputs
// are never released.
func (t *Trace) newReleaser(seeds map[string]*tensor.Tensor, grad []*tensor.Tensor) *releaser {
	rel := &releaser{t: t, fixed: t.fixed, grad: grad}
	for _, x := range t.Outputs {
		if s, ok := spanOfT(x); ok {
			rel.fixed = append(rel.fixed, s)
		}
	}
	for _, x := range seeds {
		if s, ok := spanOfT(x); ok {
			rel.fixed = append(rel.fixed, s)
		}
	}
	if t.ckpt != nil {
		// the layers' inputs stay until their layer is recomputed
		for _, x := range t.ckpt.keep {
			if s, ok := spanOfT(x); ok {
				rel.fixed = append(rel.fixed, s)
			}
		}
	}
	return rel
}

// accumulateGrads adds node n's input gradients gin into grad (owned[v]:
// grad[v] may be updated in place) and returns the buffers this leaves
// unreachable, maybe.
func accumulateGrads(n *Node, need []bool, gin, grad []*tensor.Tensor, owned []bool) ([]*tensor.Tensor, error) {
	var cands []*tensor.Tensor
	for k, in := range n.In {
		if !need[k] || k >= len(gin) || gin[k] == nil {
			continue
		}
		if grad[in] == nil {
			grad[in] = gin[k]
			continue
		}
		// fan-out: accumulate (the first time into a new tensor, in
		// one pass, since neither gradient may be changed in place)
		if !owned[in] {
			if sum := addNew(grad[in], gin[k]); sum != nil {
				cands = append(cands, grad[in], gin[k])
				grad[in], owned[in] = sum, true
				continue
			}
			cands = append(cands, grad[in])
			grad[in] = grad[in].Clone()
			owned[in] = true
		}
		if err := tensor.AddInto(grad[in], gin[k]); err != nil {
			return nil, fmt.Errorf("backward of node %q (%s): %w", n.Name, n.OpType, err)
		}
		cands = append(cands, gin[k])
	}
	return cands, nil
}

// paramGrads returns one gradient per trainable parameter, zeros where
// grad has none.
func (t *Trace) paramGrads(grad []*tensor.Tensor) map[*Param]*tensor.Tensor {
	res := make(map[*Param]*tensor.Tensor, len(t.plan.params))
	// the caller may change what it gets in place (accumulate, clip): no
	// two parameters may share a gradient tensor (an op can hand one
	// gradient to several inputs, as Add does)
	given := map[*tensor.Tensor]bool{}
	for _, p := range t.plan.params {
		gr := grad[p.ValueID]
		if gr == nil {
			gr = tensor.Zeros(p.Value.DType(), p.Value.Shape...)
		}
		if given[gr] {
			gr = gr.Clone()
		}
		given[gr] = true
		res[p] = gr
	}
	return res
}

// safeBackward runs one op's backward; a tensor above the memory limit
// becomes an error, any other panic goes on (allocOnly, run.go).
func safeBackward(n *Node, in, out, dout []*tensor.Tensor, need []bool, bf *ops.BF16Run) (g []*tensor.Tensor, err error) {
	defer allocOnly(&err, in)
	if mp, ok := n.Op.(ops.MixedPrecision); ok && bf != nil {
		return mp.BackwardBF16(in, out, dout, need, bf)
	}
	return n.Op.(ops.Differentiable).Backward(in, out, dout, need)
}

// addNew returns a + b as a new tensor for float tensors of one shape and
// type (the bits of a.Clone() then AddInto b), else nil.
func addNew(a, b *tensor.Tensor) *tensor.Tensor {
	if !tensor.SameShape(a.Shape, b.Shape) {
		return nil
	}
	switch x := a.Data.(type) {
	case []float32:
		y, ok := b.Data.([]float32)
		if !ok || len(y) != len(x) {
			return nil
		}
		return tensor.New(append([]int(nil), a.Shape...), addSlices(x, y))
	case []float64:
		y, ok := b.Data.([]float64)
		if !ok || len(y) != len(x) {
			return nil
		}
		return tensor.New(append([]int(nil), a.Shape...), addSlices(x, y))
	}
	return nil
}

func addSlices[T float32 | float64](x, y []T) []T {
	z := outBuf[T](len(x)) // written whole
	y = y[:len(x)]
	for i, v := range x {
		z[i] = v + y[i]
	}
	return z
}

// outBuf returns n elements, written whole by the caller: float32 from
// kernels' pool.
func outBuf[T float32 | float64](n int) []T {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(kernels.GetF32(n)).([]T)
	}
	return make([]T, n)
}
