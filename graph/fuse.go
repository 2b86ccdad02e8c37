package graph

import (
	"math"

	"ft/onnx"
	"ft/ops"
	"ft/tensor"
)

// fuse replaces recognised chains of element-wise nodes by one node that
// does the same in one pass forward and one backward, keeping one tensor
// for backward instead of several. Today: the erf GELU that PyTorch exports
// for BERT-like models,
//
//	x/√2 (Div, or Mul by 1/√2) → Erf → +1 → ·x → ·½   (either order of the two Muls)
//
// becomes one Gelu (opset 20) node. The intermediate values must be used by
// the chain alone and not be graph outputs. Options.DisableFusion keeps
// every node as exported (the unfused path, for comparisons). Returns the
// number of chains fused.
func (g *Graph) fuse() int {
	g.fuseSoftmax() // fuse_softmax.go: Add(scores, mask) → Softmax(axis -1)
	users := make([][]int, len(g.Values))
	for i, n := range g.Nodes {
		for _, in := range n.In {
			if in >= 0 {
				users[in] = append(users[in], i)
			}
		}
	}
	isOut := make([]bool, len(g.Values))
	for _, o := range g.Outputs {
		isOut[o] = true
	}
	removed := make([]bool, len(g.Nodes))
	replace := map[int]*Node{} // index of a chain's last node → the fused node
	fused := 0
	for i, n := range g.Nodes {
		if n.OpType != "Erf" || n.Domain != "" || removed[i] {
			continue
		}
		chain, x, y, ok := g.matchGelu(i, users, isOut)
		if !ok {
			continue
		}
		last := 0
		for _, c := range chain {
			if removed[c] {
				ok = false
			}
			last = max(last, c)
		}
		if !ok {
			continue
		}
		op, err := ops.Build(&ops.Node{Name: n.Name, OpType: "Gelu", Opset: 20, NumOutputs: 1, Inputs: []bool{true}})
		if err != nil {
			return fused
		}
		name, gelu := n.Name+"/fused_Gelu", "Gelu"
		replace[last] = &Node{Name: name, OpType: "Gelu", Op: op, In: []int{x}, Out: []int{y},
			Proto: &onnx.NodeProto{Name: &name, OpType: &gelu, Input: []string{g.Values[x].Name}, Output: []string{g.Values[y].Name}},
			index: g.Nodes[last].index}
		for _, c := range chain {
			removed[c] = true
		}
		fused++
	}
	fused += g.fuseAttention(users, isOut, removed, replace) // fuse_attention.go: head Transposes into the GEMMs
	if fused == 0 {
		return 0
	}
	var kept []*Node
	for i, n := range g.Nodes {
		if f, ok := replace[i]; ok {
			kept = append(kept, f)
			continue
		}
		if !removed[i] {
			kept = append(kept, n)
			continue
		}
		for _, o := range n.Out { // intermediate values are no longer computed
			if o >= 0 {
				g.Values[o].Producer = -1
			}
		}
	}
	g.Nodes = kept
	g.setProducers()
	return fused
}

// matchGelu matches the erf GELU chain around the Erf node e: it returns
// the chain's node indices, its input x and output y.
func (g *Graph) matchGelu(e int, users [][]int, isOut []bool) (chain []int, x, y int, ok bool) {
	node := func(v int) (int, *Node) {
		p := g.Values[v].Producer
		if p < 0 {
			return -1, nil
		}
		return p, g.Nodes[p]
	}
	// only, the single user of v (v not a graph output), else nil
	only := func(v int) (int, *Node) {
		if v < 0 || isOut[v] || len(users[v]) != 1 {
			return -1, nil
		}
		return users[v][0], g.Nodes[users[v][0]]
	}
	is := func(n *Node, op string) bool { return n != nil && n.OpType == op && n.Domain == "" && len(n.Out) == 1 }
	en := g.Nodes[e]
	if len(en.In) != 1 || len(en.Out) != 1 {
		return nil, 0, 0, false
	}
	// x/√2 or x·(1/√2)
	d := en.In[0]
	di, dn := node(d)
	if _, u := only(d); u != en {
		return nil, 0, 0, false
	}
	switch {
	case is(dn, "Div") && len(dn.In) == 2 && g.scalarNear(dn.In[1], math.Sqrt2):
	case is(dn, "Mul") && len(dn.In) == 2 && g.scalarNear(dn.In[1], 1/math.Sqrt2):
	default:
		return nil, 0, 0, false
	}
	x = dn.In[0]
	if dt := g.floatType(x); dt != tensor.Invalid && !dt.IsFloat() {
		return nil, 0, 0, false
	}
	// erf + 1
	ai, an := only(en.Out[0])
	if !is(an, "Add") || len(an.In) != 2 || g.other(an, en.Out[0]) < 0 || !g.scalarNear(g.other(an, en.Out[0]), 1) {
		return nil, 0, 0, false
	}
	a := an.Out[0]
	mi, mn := only(a)
	if !is(mn, "Mul") || len(mn.In) != 2 {
		return nil, 0, 0, false
	}
	h := g.other(mn, a)
	if h == x { // (x · (1+erf)) · ½
		m := mn.Out[0]
		hi, hn := only(m)
		if !is(hn, "Mul") || len(hn.In) != 2 || !g.scalarNear(g.other(hn, m), 0.5) {
			return nil, 0, 0, false
		}
		return []int{di, e, ai, mi, hi}, x, hn.Out[0], true
	}
	// (x · ½) · (1+erf)
	hi, hn := node(h)
	if !is(hn, "Mul") || len(hn.In) != 2 || g.other(hn, x) < 0 || !g.scalarNear(g.other(hn, x), 0.5) {
		return nil, 0, 0, false
	}
	if _, u := only(h); u != mn {
		return nil, 0, 0, false
	}
	return []int{di, e, ai, hi, mi}, x, mn.Out[0], true
}

// other returns n's input other than v (n has two inputs), or -1 when v is
// not one of them.
func (g *Graph) other(n *Node, v int) int {
	switch v {
	case n.In[0]:
		return n.In[1]
	case n.In[1]:
		return n.In[0]
	}
	return -1
}

// scalarNear reports whether value v is a constant of one element within
// 1e-6 (relative) of want.
func (g *Graph) scalarNear(v int, want float64) bool {
	if v < 0 {
		return false
	}
	c := g.Values[v].Const
	if c == nil || c.Len() != 1 || !c.DType().IsFloat() || g.Values[v].Param != nil {
		return false
	}
	return math.Abs(c.Float64s()[0]-want) <= 1e-6*math.Abs(want)
}

// floatType returns the declared element type of v, Invalid when unknown.
func (g *Graph) floatType(v int) tensor.DType {
	if c := g.Values[v].Const; c != nil {
		return c.DType()
	}
	if info := g.Values[v].Info; info != nil {
		if tt := info.GetType().GetTensorType(); tt != nil {
			return onnx.DTypeOf(tt.GetElemType())
		}
	}
	return tensor.Invalid
}
