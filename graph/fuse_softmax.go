package graph

import (
	"ft/onnx"
	"ft/ops"
)

// fuseSoftmax replaces the attention chain
//
//	scores → Add(scores, mask) → Softmax(axis -1)      (either Add operand order)
//
// by one FtMaskedSoftmax node (ops/softmax_masked.go) that adds the mask row
// into the output and normalises it in place, saving a full read and write
// of the b·h·s·s scores. The Add's output must feed the Softmax alone and
// not be a graph output. Gradients flow to both Add inputs as before (the
// op reduces over the broadcast axes), so nothing is refused for a mask
// that depends on a parameter. Returns the number of chains fused.
func (g *Graph) fuseSoftmax() int {
	users := make([]int, len(g.Values))
	for _, n := range g.Nodes {
		for _, in := range n.In {
			if in >= 0 {
				users[in]++
			}
		}
	}
	isOut := make([]bool, len(g.Values))
	for _, o := range g.Outputs {
		isOut[o] = true
	}
	opset := 0
	if g.Model != nil {
		opset = g.Model.Opset("")
	}
	removed := make([]bool, len(g.Nodes))
	replace := map[int]*Node{}
	for i, n := range g.Nodes {
		if n.OpType != "Softmax" || n.Domain != "" || len(n.In) != 1 || len(n.Out) != 1 || n.In[0] < 0 || n.Out[0] < 0 {
			continue
		}
		if axis, ok := softmaxAxis(n); !(ok && axis == -1 || !ok && opset >= 13) {
			continue // not along the last axis (or unknown rank)
		}
		s := n.In[0]
		if isOut[s] || users[s] != 1 {
			continue
		}
		p := g.Values[s].Producer
		if p < 0 || removed[p] {
			continue
		}
		add := g.Nodes[p]
		if add.OpType != "Add" || add.Domain != "" || len(add.In) != 2 || len(add.Out) != 1 || add.In[0] < 0 || add.In[1] < 0 {
			continue
		}
		op, err := ops.Build(&ops.Node{Name: n.Name, OpType: "FtMaskedSoftmax", Opset: 1, NumOutputs: 1, Inputs: []bool{true, true}})
		if err != nil {
			return 0
		}
		name, typ := n.Name+"/fused_FtMaskedSoftmax", "FtMaskedSoftmax"
		in := []int{add.In[0], add.In[1]}
		replace[i] = &Node{Name: name, OpType: typ, Op: op, In: in, Out: []int{n.Out[0]},
			Proto: &onnx.NodeProto{Name: &name, OpType: &typ,
				Input: []string{g.Values[in[0]].Name, g.Values[in[1]].Name}, Output: []string{g.Values[n.Out[0]].Name}},
			index: n.index}
		removed[p] = true
	}
	if len(replace) == 0 {
		return 0
	}
	kept := g.Nodes[:0:0]
	for i, n := range g.Nodes {
		switch {
		case replace[i] != nil:
			kept = append(kept, replace[i])
		case removed[i]:
			for _, o := range n.Out { // the sum is no longer computed
				if o >= 0 {
					g.Values[o].Producer = -1
				}
			}
		default:
			kept = append(kept, n)
		}
	}
	g.Nodes = kept
	g.setProducers()
	return len(replace)
}

// softmaxAxis returns a Softmax node's axis attribute and whether it is set.
func softmaxAxis(n *Node) (int64, bool) {
	if n.Proto == nil {
		return 0, false
	}
	for _, a := range n.Proto.Attribute {
		if a.GetName() == "axis" {
			return a.GetI(), true
		}
	}
	return 0, false
}
