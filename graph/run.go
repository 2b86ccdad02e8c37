package graph

import (
	"errors"
	"fmt"

	"ft/onnx"
	"ft/ops"
	"ft/tensor"
)

// fold evaluates, once at import, every node whose inputs are all constants
// and do not depend on a parameter (a parameter must stay live so training
// can change it), and removes it from the plan.
func (g *Graph) fold() error {
	paramDerived := make([]bool, len(g.Values))
	for _, p := range g.Params {
		paramDerived[p.ValueID] = true
	}
	var kept []*Node
	for _, n := range g.Nodes {
		foldable := true
		derived := false
		for _, in := range n.In {
			if in < 0 {
				continue
			}
			if paramDerived[in] {
				derived = true
			}
			if g.Values[in].Const == nil {
				foldable = false
			}
		}
		if derived {
			for _, o := range n.Out {
				if o >= 0 {
					paramDerived[o] = true
				}
			}
		}
		if !foldable || derived {
			kept = append(kept, n)
			continue
		}
		in := make([]*tensor.Tensor, len(n.In))
		for i, id := range n.In {
			if id >= 0 {
				in[i] = g.Values[id].Const
			}
		}
		out, err := safeForward(n, in, nil)
		if err != nil {
			return fmt.Errorf("node %q (%s), evaluated at load time: %w", n.Name, n.OpType, err)
		}
		for i, id := range n.Out {
			if id >= 0 && i < len(out) {
				g.Values[id].Const = out[i]
				g.Values[id].Producer = -1
			}
		}
		g.Folded++
	}
	g.Nodes = kept
	g.setProducers()
	return nil
}

// checkFeed validates a runtime input against the model's declaration.
func (g *Graph) checkFeed(v *Value, t *tensor.Tensor) error {
	if t == nil {
		return fmt.Errorf("input %q is nil", v.Name)
	}
	if t.Len() != t.DataLen() {
		return fmt.Errorf("input %q: shape %v needs %d elements, data holds %d", v.Name, t.Shape, t.Len(), t.DataLen())
	}
	tt := v.Info.GetType().GetTensorType()
	if tt == nil {
		return nil
	}
	if want := onnx.DTypeOf(tt.GetElemType()); want != tensor.Invalid && want != t.DType() {
		return fmt.Errorf("input %q must be %s, got %s", v.Name, want, t.DType())
	}
	if sh := tt.GetShape(); sh != nil {
		if len(sh.Dim) != len(t.Shape) {
			return fmt.Errorf("input %q must have rank %d, got shape %v", v.Name, len(sh.Dim), t.Shape)
		}
		for i, d := range sh.Dim {
			if dv, ok := d.Value.(*onnx.TensorShapeProto_Dimension_DimValue); ok && dv.DimValue > 0 && int(dv.DimValue) != t.Shape[i] {
				return fmt.Errorf("input %q: dimension %d must be %d, got %d", v.Name, i, dv.DimValue, t.Shape[i])
			}
		}
	}
	return nil
}

// Run computes the named outputs (all graph outputs if none are named) from
// the feeds. Intermediate values are released as soon as no later node needs
// them.
func (g *Graph) Run(feeds map[string]*tensor.Tensor, outputs ...string) (map[string]*tensor.Tensor, error) {
	vals, err := g.execute(feeds, outputs, nil)
	if err != nil {
		return nil, err
	}
	res := map[string]*tensor.Tensor{}
	for _, name := range g.wanted(outputs) {
		res[name] = vals[g.byName[name]]
	}
	return res, nil
}

func (g *Graph) wanted(outputs []string) []string {
	if len(outputs) == 0 {
		return g.OutputNames()
	}
	return outputs
}

// execute runs the plan, releasing each value after its last use. With a
// trace, the inputs and outputs (extras included) of the nodes backward will
// visit are recorded; the trace's references keep exactly those alive.
func (g *Graph) execute(feeds map[string]*tensor.Tensor, outputs []string, tr *Trace) ([]*tensor.Tensor, error) {
	if g.Unsupported != nil {
		return nil, g.Unsupported
	}
	vals, err := g.bindFeeds(feeds)
	if err != nil {
		return nil, err
	}
	want := g.wanted(outputs)
	wantIDs, err := g.outputIDs(want)
	if err != nil {
		return nil, err
	}
	needed, uses := g.liveness(wantIDs)
	bf := g.bf16Run()
	if tr != nil {
		tr.bf = bf
		if g.opt.GradientCheckpointing {
			tr.ckpt = g.newCheckpoints(needed)
		}
	}
	al := g.newAliases(feeds, tr) // recycle.go; nil with the pool off
	get := func(id int) *tensor.Tensor {
		if vals[id] != nil {
			return vals[id]
		}
		return g.Values[id].Const
	}
	for i, n := range g.Nodes {
		if !needed[i] {
			continue
		}
		in := make([]*tensor.Tensor, len(n.In))
		for k, id := range n.In {
			if id < 0 {
				continue
			}
			in[k] = get(id)
			if in[k] == nil {
				return nil, fmt.Errorf("node %q (%s): input %q has no value", n.Name, n.OpType, g.Values[id].Name)
			}
		}
		out, err := safeForward(n, in, bf)
		if err != nil {
			return nil, fmt.Errorf("node %q (%s): %w", n.Name, n.OpType, err)
		}
		if len(out) < countPresent(n.Out) {
			return nil, fmt.Errorf("node %q (%s): gave %d outputs, the model uses %d", n.Name, n.OpType, len(out), len(n.Out))
		}
		for k, id := range n.Out {
			if id >= 0 && k < len(out) {
				vals[id] = out[k]
			}
		}
		if al != nil {
			al.produced(n, in, out)
		}
		if tr != nil && tr.ckpt != nil && tr.ckpt.seg[i] >= 0 {
			// a checkpointed layer: keep only what enters it (checkpoint.go)
			if kept := tr.ckpt.forwardKeep(n, in); al != nil && kept != nil {
				al.kept(n, in, out, kept)
			}
		} else if tr != nil {
			tr.record(i, in, out)
			tr.countFresh(in, out)
			if al != nil {
				al.kept(n, in, out, tr.ins[i], tr.outs[i])
			}
		}
		// Release inputs nobody needs any more.
		for _, id := range n.In {
			if id < 0 {
				continue
			}
			uses[id]--
			if uses[id] == 0 {
				if al != nil {
					al.dead(vals, id)
				}
				vals[id] = nil
			}
		}
	}
	for k, id := range wantIDs {
		if get(id) == nil {
			return nil, fmt.Errorf("output %q was not computed", want[k])
		}
		if vals[id] == nil {
			vals[id] = g.Values[id].Const
		}
	}
	return vals, nil
}

// liveness returns which nodes the values wantIDs need, and how many of
// those nodes use each value (plus one for a wanted value, so that it is
// never released).
func (g *Graph) liveness(wantIDs []int) (needed []bool, uses []int) {
	needed = make([]bool, len(g.Nodes))
	uses = make([]int, len(g.Values))
	stack := append([]int(nil), wantIDs...)
	seen := make([]bool, len(g.Values))
	for len(stack) > 0 {
		id := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[id] {
			continue
		}
		seen[id] = true
		p := g.Values[id].Producer
		if p < 0 || needed[p] {
			continue
		}
		needed[p] = true
		for _, in := range g.Nodes[p].In {
			if in >= 0 {
				stack = append(stack, in)
			}
		}
	}
	for i, n := range g.Nodes {
		if !needed[i] {
			continue
		}
		for _, in := range n.In {
			if in >= 0 {
				uses[in]++
			}
		}
	}
	for _, id := range wantIDs {
		uses[id]++ // never released
	}
	return needed, uses
}

// bindFeeds checks the feeds against the model's inputs and returns the
// value table of a run with them in place.
func (g *Graph) bindFeeds(feeds map[string]*tensor.Tensor) ([]*tensor.Tensor, error) {
	vals := make([]*tensor.Tensor, len(g.Values))
	for _, id := range g.Inputs {
		v := g.Values[id]
		t, ok := feeds[v.Name]
		if !ok {
			return nil, fmt.Errorf("missing input %q (the model takes %v)", v.Name, g.InputNames())
		}
		if err := g.checkFeed(v, t); err != nil {
			return nil, err
		}
		vals[id] = t
	}
	for name := range feeds {
		id, ok := g.byName[name]
		if ok && g.Values[id].Param != nil && vals[id] == nil {
			return nil, fmt.Errorf("%q is a parameter of the model (an initializer), not an input: a run does not take it from the inputs (the model takes %v)", name, g.InputNames())
		}
		if !ok || vals[id] == nil {
			return nil, fmt.Errorf("unknown input %q (the model takes %v)", name, g.InputNames())
		}
	}
	return vals, nil
}

// outputIDs returns the value IDs of the named outputs.
func (g *Graph) outputIDs(names []string) ([]int, error) {
	ids := make([]int, len(names))
	for i, name := range names {
		id, ok := g.byName[name]
		if !ok {
			return nil, fmt.Errorf("unknown output %q (the model gives %v)", name, g.OutputNames())
		}
		ids[i] = id
	}
	return ids, nil
}

func countPresent(ids []int) int {
	n := 0
	for i, id := range ids {
		if id >= 0 {
			n = i + 1
		}
	}
	return n
}

// safeForward runs one op, turning a tensor above the memory limit
// (tensor.AllocError, panicked by the op or by one of its parallel loops)
// into an error naming its inputs (the caller names the node). Any other
// panic is a bug in ft and goes on with its stack (see allocOnly).
func safeForward(n *Node, in []*tensor.Tensor, bf *ops.BF16Run) (out []*tensor.Tensor, err error) {
	defer allocOnly(&err, in)
	if mp, ok := n.Op.(ops.MixedPrecision); ok && bf != nil {
		return mp.ForwardBF16(in, bf)
	}
	return n.Op.Forward(in)
}

// bf16Run starts the bf16 state of a run (nil when Options.BF16 is off):
// the float32 constants that products read are its weights, converted to
// bf16 once per run.
func (g *Graph) bf16Run() *ops.BF16Run {
	if !g.opt.BF16 {
		return nil
	}
	consts := map[*tensor.Tensor]bool{}
	for _, n := range g.Nodes {
		if _, ok := n.Op.(ops.MixedPrecision); !ok {
			continue
		}
		for _, id := range n.In {
			if id < 0 {
				continue
			}
			if c := g.Values[id].Const; c != nil && c.DType() == tensor.Float32 {
				consts[c] = true
			}
		}
	}
	return ops.NewBF16Run(consts)
}

// allocOnly, deferred, recovers a panic whose value is or wraps a
// *tensor.AllocError and sets *err to it, naming the inputs in; it panics
// again with any other value (a *kernels.Panic from a worker goroutine
// carries the worker's stack in its text).
func allocOnly(err *error, in []*tensor.Tensor) {
	r := recover()
	if r == nil {
		return
	}
	var ae *tensor.AllocError
	if e, ok := r.(error); ok && errors.As(e, &ae) {
		*err = fmt.Errorf("inputs %s: %w", describe(in), ae)
		return
	}
	panic(r)
}

func describe(in []*tensor.Tensor) string {
	s := ""
	for i, t := range in {
		if i > 0 {
			s += ", "
		}
		if t == nil {
			s += "absent"
			continue
		}
		s += fmt.Sprintf("%s%v", t.DType(), t.Shape)
	}
	return s
}
