package graph

// Gradient checkpointing (Options.GradientCheckpointing, transformers'
// gradient_checkpointing): a training forward keeps, of each encoder layer,
// only the values that enter it from outside (its input hidden state, the
// attention mask, ...) and none of its activations; Backward, on reaching
// the layer, runs the layer's forward again from those values, recording
// what its backward reads, and goes on. The recomputed values are those of
// the first pass bit for bit (the ops are deterministic and read the same
// inputs; a bf16 run reuses its weight copies), so the gradients are too.
//
// A layer is the set of nodes whose names share a scope ".../layer.N/"
// (also layers.N, block.N, blocks.N, h.N: the exporters' module paths,
// as finetune's layer selection reads parameter names); nodes outside
// every layer are recorded as usual.

import (
	"fmt"
	"regexp"

	"ft/tensor"
)

var layerScope = regexp.MustCompile(`^.*?/(?:layer|layers|block|blocks|h)\.\d+/`)

// checkpoints is the gradient-checkpointing state of a trace.
type checkpoints struct {
	seg      []int // per node: its layer (segment), -1 outside every layer
	needed   []bool
	boundary []bool                 // per value: read by a layer from outside it
	keep     map[int]*tensor.Tensor // boundary values of the forward pass
	done     []bool                 // per segment: recomputed
}

// Layers returns, per node, the index of the layer (segment) gradient
// checkpointing recomputes it with, or -1, and the number of layers.
func (g *Graph) Layers() (seg []int, n int) {
	seg = make([]int, len(g.Nodes))
	ids := map[string]int{}
	for i, nd := range g.Nodes {
		seg[i] = -1
		if p := layerScope.FindString(nd.Name); p != "" {
			id, ok := ids[p]
			if !ok {
				id = len(ids)
				ids[p] = id
			}
			seg[i] = id
		}
	}
	return seg, len(ids)
}

// newCheckpoints plans the checkpoints of a forward that runs the needed
// nodes.
func (g *Graph) newCheckpoints(needed []bool) *checkpoints {
	g.layersOnce.Do(func() { g.layerSeg, g.layerN = g.Layers() })
	seg, n := g.layerSeg, g.layerN // read only: computed once per graph
	c := &checkpoints{seg: seg, needed: needed, boundary: make([]bool, len(g.Values)),
		keep: map[int]*tensor.Tensor{}, done: make([]bool, n)}
	for i, nd := range g.Nodes {
		if !needed[i] || seg[i] < 0 {
			continue
		}
		for _, id := range nd.In {
			if id < 0 || g.Values[id].Const != nil {
				continue
			}
			if p := g.Values[id].Producer; p < 0 || seg[p] != seg[i] {
				c.boundary[id] = true
			}
		}
	}
	return c
}

// forwardKeep records, for node i of a layer, the boundary values among
// its inputs, and returns them (for the pool's bookkeeping).
func (c *checkpoints) forwardKeep(n *Node, in []*tensor.Tensor) []*tensor.Tensor {
	var kept []*tensor.Tensor
	for k, id := range n.In {
		if id >= 0 && c.boundary[id] && in[k] != nil {
			c.keep[id] = in[k]
			kept = append(kept, in[k])
		}
	}
	return kept
}

// recompute runs the forward of segment s again from its boundary values
// and records what the backward of its active nodes reads.
func (t *Trace) recompute(s int) error {
	c, g := t.ckpt, t.g
	c.done[s] = true
	vals := map[int]*tensor.Tensor{}
	get := func(id int) *tensor.Tensor {
		if v, ok := vals[id]; ok {
			return v
		}
		if v, ok := c.keep[id]; ok {
			return v
		}
		return g.Values[id].Const
	}
	for i, n := range g.Nodes {
		if c.seg[i] != s || !c.needed[i] {
			continue
		}
		in := make([]*tensor.Tensor, len(n.In))
		for k, id := range n.In {
			if id < 0 {
				continue
			}
			if in[k] = get(id); in[k] == nil {
				return fmt.Errorf("gradient checkpointing: node %q (%s): input %q has no value", n.Name, n.OpType, g.Values[id].Name)
			}
		}
		out, err := safeForward(n, in, t.bf)
		if err != nil {
			return fmt.Errorf("gradient checkpointing: node %q (%s): %w", n.Name, n.OpType, err)
		}
		for k, id := range n.Out {
			if id >= 0 && k < len(out) {
				vals[id] = out[k]
			}
		}
		if t.plan.active[i] {
			t.save(i, in, out)
		}
	}
	return nil
}
