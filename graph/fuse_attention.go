package graph

import (
	"slices"

	"ft/onnx"
	"ft/ops"
)

// fuseAttention folds the head Transposes (and the scalar Muls of the
// scores) of exported BERT-style self-attention into the batched GEMMs,
// which read the per-head matrices strided from the [b, s, h, d]
// projections (ops/attention_fused.go):
//
//	MatMul(Mul(Transpose(Xq,[0,2,1,3]),c1), Mul(Transpose(Xk,[0,2,3,1]),c2))
//	    → FtAttentionScores(Xq, Xk, c1, c2)   (either Mul may be missing)
//	Transpose(MatMul(P, Transpose(Xv,[0,2,1,3])), [0,2,1,3])
//	    → FtAttentionContext(P, Xv)           (output [b, s, h, d]: the Reshape after it is a view)
//
// The intermediate values must not be graph outputs and must be read by
// the pattern alone, except that Shape nodes reading a fused-away Transpose
// (the exports take the head size from it) become FtTransposedShape nodes
// reading its input. Fused nodes go to replace (at the index of the
// pattern's last node) and their nodes are marked in removed, as in fuse.
// Returns the number of patterns fused.
func (g *Graph) fuseAttention(users [][]int, isOut []bool, removed []bool, replace map[int]*Node) int {
	fused := 0
	is := func(i int, op string) bool {
		if i < 0 || removed[i] {
			return false
		}
		n := g.Nodes[i]
		return n.OpType == op && n.Domain == "" && len(n.Out) == 1 && n.Out[0] >= 0
	}
	producer := func(v int) int {
		if v < 0 {
			return -1
		}
		return g.Values[v].Producer
	}
	// transposeOf: node t is Transpose(perm) of one input whose output is
	// read by `user` and otherwise only by Shape nodes (returned).
	transposeOf := func(t, user int, perm []int64) (x int, shapes []int, ok bool) {
		if !is(t, "Transpose") || len(g.Nodes[t].In) != 1 || g.Nodes[t].In[0] < 0 || !slices.Equal(g.perm(t), perm) {
			return 0, nil, false
		}
		out := g.Nodes[t].Out[0]
		if isOut[out] {
			return 0, nil, false
		}
		seen := false
		for _, u := range users[out] {
			switch {
			case u == user && !seen:
				seen = true
			case is(u, "Shape") && len(g.Nodes[u].In) == 1:
				shapes = append(shapes, u)
			default:
				return 0, nil, false
			}
		}
		return g.Nodes[t].In[0], shapes, seen
	}
	// operand: v is Transpose(x, perm), or Mul of it by a scale, read by m alone.
	operand := func(v, m int, perm []int64) (x, scale int, chain, shapes []int, ok bool) {
		if isOut[v] || len(users[v]) != 1 || users[v][0] != m {
			return 0, 0, nil, nil, false
		}
		p := producer(v)
		scale = -1
		if is(p, "Mul") && len(g.Nodes[p].In) == 2 {
			a, b := g.Nodes[p].In[0], g.Nodes[p].In[1]
			for _, c := range [][2]int{{a, b}, {b, a}} {
				if t := producer(c[0]); c[0] != c[1] && c[1] >= 0 && is(t, "Transpose") {
					if x, shapes, ok = transposeOf(t, p, perm); ok {
						return x, c[1], []int{t, p}, shapes, true
					}
				}
			}
			return 0, 0, nil, nil, false
		}
		if x, shapes, ok = transposeOf(p, m, perm); ok {
			return x, -1, []int{p}, shapes, true
		}
		return 0, 0, nil, nil, false
	}
	free := func(idx ...[]int) bool {
		for _, l := range idx {
			for _, i := range l {
				if removed[i] {
					return false
				}
			}
		}
		return true
	}
	for i := range g.Nodes {
		if !is(i, "MatMul") || len(g.Nodes[i].In) != 2 {
			continue
		}
		n := g.Nodes[i]
		// (1) scores
		if xq, c1, cq, sq, ok := operand(n.In[0], i, []int64{0, 2, 1, 3}); ok {
			if xk, c2, ck, sk, ok := operand(n.In[1], i, []int64{0, 2, 3, 1}); ok && free(cq, ck, sq, sk) {
				g.fuseShapes(slices.Concat(sq, sk), removed, replace)
				in := []int{xq, xk, c1, c2}
				replace[i] = g.fusedNode(n.Name+"/fused_AttentionScores", "FtAttentionScores", in, n.Out[0], g.Nodes[i].index)
				for _, c := range slices.Concat(cq, ck, []int{i}) {
					removed[c] = true
				}
				fused++
				continue
			}
		}
		// (2) context: this MatMul, read by a Transpose alone
		out := n.Out[0]
		if isOut[out] || len(users[out]) != 1 {
			continue
		}
		tr := users[out][0]
		if !is(tr, "Transpose") || !slices.Equal(g.perm(tr), []int64{0, 2, 1, 3}) || n.In[0] < 0 {
			continue
		}
		v := n.In[1]
		if isOut[v] || len(users[v]) != 1 {
			continue
		}
		tv := producer(v)
		xv, sv, ok := transposeOf(tv, i, []int64{0, 2, 1, 3})
		if !ok || !free([]int{tv, tr}, sv) {
			continue
		}
		g.fuseShapes(sv, removed, replace)
		replace[tr] = g.fusedNode(n.Name+"/fused_AttentionContext", "FtAttentionContext", []int{n.In[0], xv}, g.Nodes[tr].Out[0], g.Nodes[tr].index)
		for _, c := range []int{tv, i, tr} {
			removed[c] = true
		}
		fused++
	}
	return fused
}

// fuseShapes replaces each Shape node (of a Transpose being fused away) by
// an FtTransposedShape node reading the Transpose's input.
func (g *Graph) fuseShapes(shapes []int, removed []bool, replace map[int]*Node) {
	for _, s := range shapes {
		sn := g.Nodes[s]
		t := g.Nodes[g.Values[sn.In[0]].Producer]
		attrs := []*onnx.AttributeProto{attrInts("perm", g.perm(g.Values[sn.In[0]].Producer))}
		for _, a := range sn.Proto.GetAttribute() {
			if a.GetName() == "start" || a.GetName() == "end" {
				attrs = append(attrs, a)
			}
		}
		on := &ops.Node{Name: sn.Name, OpType: "FtTransposedShape", Opset: 1, NumOutputs: 1, Inputs: []bool{true}, Attrs: map[string]ops.Attr{}}
		for _, a := range attrs {
			switch a.GetName() {
			case "perm":
				on.Attrs["perm"] = ops.Attr{Kind: ops.AttrInts, Ints: a.GetInts()}
			default:
				if g.Model != nil && g.Model.Opset("") >= 15 { // Shape's start/end exist from opset 15
					on.Attrs[a.GetName()] = ops.Attr{Kind: ops.AttrInt, I: a.GetI()}
				}
			}
		}
		op, err := ops.Build(on)
		if err != nil {
			panic("graph: fused op FtTransposedShape: " + err.Error())
		}
		name, typ := sn.Name+"/fused_TransposedShape", "FtTransposedShape"
		replace[s] = &Node{Name: name, OpType: typ, Op: op, In: []int{t.In[0]}, Out: sn.Out,
			Proto: &onnx.NodeProto{Name: &name, OpType: &typ, Input: []string{g.Values[t.In[0]].Name}, Output: sn.Proto.GetOutput(), Attribute: attrs},
			index: sn.index}
		removed[s] = true
	}
}

// fusedNode makes a node of one of the fused attention ops (inputs -1 absent).
func (g *Graph) fusedNode(name, typ string, in []int, out, index int) *Node {
	present := make([]bool, len(in))
	names := make([]string, len(in))
	for k, v := range in {
		present[k] = v >= 0
		if v >= 0 {
			names[k] = g.Values[v].Name
		}
	}
	op, err := ops.Build(&ops.Node{Name: name, OpType: typ, Opset: 1, NumOutputs: 1, Inputs: present})
	if err != nil {
		panic("graph: fused op " + typ + " is not registered: " + err.Error())
	}
	return &Node{Name: name, OpType: typ, Op: op, In: in, Out: []int{out},
		Proto: &onnx.NodeProto{Name: &name, OpType: &typ, Input: names, Output: []string{g.Values[out].Name}},
		index: index}
}

// perm returns the perm attribute of node i (nil when absent).
func (g *Graph) perm(i int) []int64 {
	for _, a := range g.Nodes[i].Proto.GetAttribute() {
		if a.GetName() == "perm" {
			return a.GetInts()
		}
	}
	return nil
}

func attrInts(name string, v []int64) *onnx.AttributeProto {
	t := onnx.AttributeProto_INTS
	return &onnx.AttributeProto{Name: &name, Type: &t, Ints: v}
}
