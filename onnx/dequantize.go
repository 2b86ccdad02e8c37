package onnx

// DequantizeWeights undoes the weight side of dynamic int8 quantization, to
// fine-tune a quantized model in float32:
//
//	DynamicQuantizeLinear(A) → MatMulInteger(A_q, W_q, A_zp, W_zp) → Cast
//	  → Mul(·, Mul(A_scale, W_scale))        becomes   MatMul(A, W)
//	Gather(W_q, ids) → DequantizeLinear(·, scale, zp)   becomes   Gather(W, ids)
//
// with W = (W_q - zp) · scale in float32 (DequantizeLinear's arithmetic;
// per tensor or per column for MatMulInteger, per tensor for Gather),
// W_q, zp and scales initializers. This is the float model the int8 one
// approximates (the activations are no longer rounded to uint8).
// DynamicQuantizeLinear nodes whose outputs are no longer used go too.

import (
	"fmt"

	"ft/tensor"
)

// DequantizeReport says what DequantizeWeights did.
type DequantizeReport struct {
	MatMuls, Gathers int
}

// producerMap maps each value to the node that makes it and counts its uses.
func producerMap(g *GraphProto) (map[string]*NodeProto, map[string]int) {
	prod, uses := map[string]*NodeProto{}, map[string]int{}
	for _, n := range g.Node {
		for _, o := range n.Output {
			prod[o] = n
		}
		for _, in := range n.Input {
			uses[in]++
		}
	}
	for _, o := range g.Output {
		uses[o.GetName()]++
	}
	subgraphUses(g, uses)
	return prod, uses
}

// subgraphUses counts the names that the subgraphs of g's nodes (If, Loop
// bodies) read, at any depth: outer-scope values they use stay alive.
func subgraphUses(g *GraphProto, uses map[string]int) {
	for _, n := range g.Node {
		for _, a := range n.Attribute {
			subs := a.Graphs
			if a.G != nil {
				subs = append(subs, a.G)
			}
			for _, sg := range subs {
				for _, sn := range sg.Node {
					for _, in := range sn.Input {
						uses[in]++
					}
				}
				for _, o := range sg.Output {
					uses[o.GetName()]++
				}
				subgraphUses(sg, uses)
			}
		}
	}
}

// intValues reads an int8 or uint8 (or absent: zeros) tensor as int32.
func intValues(m *Model, tp *TensorProto, n int) ([]int32, error) {
	r := make([]int32, n)
	if tp == nil {
		return r, nil
	}
	t, err := m.Tensor(tp)
	if err != nil {
		return nil, err
	}
	switch d := t.Data.(type) {
	case []int8:
		for i := range r {
			r[i] = int32(d[i%len(d)])
		}
	case []uint8:
		for i := range r {
			r[i] = int32(d[i%len(d)])
		}
	default:
		return nil, fmt.Errorf("tensor %q: type %s (want int8 or uint8)", tp.GetName(), t.DType())
	}
	return r, nil
}

// DequantizeWeights rewrites m's main graph in place (see the top of this file).
func (m *Model) DequantizeWeights() (DequantizeReport, error) {
	g := m.Proto.Graph
	prod, uses := producerMap(g)
	usedBefore := map[string]bool{}
	for v, c := range uses {
		usedBefore[v] = c > 0
	}
	d := &dequantizer{m: m, g: g, inits: Initializers(g), prod: prod, uses: uses,
		consumers: map[string][]*NodeProto{}, remove: map[*NodeProto]bool{}, replace: map[*NodeProto]*NodeProto{}}
	for _, n := range g.Node {
		for _, in := range n.Input {
			d.consumers[in] = append(d.consumers[in], n)
		}
	}
	for _, n := range g.Node {
		var err error
		switch n.GetOpType() {
		case "MatMulInteger":
			err = d.matMulInteger(n)
		case "DequantizeLinear":
			err = d.gatherDequantize(n)
		}
		if err != nil {
			return d.rep, err
		}
	}
	pruneDequantized(g, d.remove, d.replace, usedBefore)
	return d.rep, nil
}

// dequantizer holds one DequantizeWeights pass over a graph.
type dequantizer struct {
	m         *Model
	g         *GraphProto
	inits     map[string]*TensorProto
	prod      map[string]*NodeProto
	uses      map[string]int
	consumers map[string][]*NodeProto
	remove    map[*NodeProto]bool
	replace   map[*NodeProto]*NodeProto
	rep       DequantizeReport
}

// only is v's one consumer when that is an op node, else nil.
func (d *dequantizer) only(v, op string) *NodeProto {
	if c := d.consumers[v]; len(c) == 1 && d.uses[v] == 1 && c[0].GetOpType() == op {
		return c[0]
	}
	return nil
}

// newInit adds initializer name holding t.
func (d *dequantizer) newInit(name string, t *tensor.Tensor) error {
	p, err := FromTensor(name, t)
	if err != nil {
		return err
	}
	d.g.Initializer = append(d.g.Initializer, p)
	d.inits[name] = p
	return nil
}

// matMulInteger replaces DynamicQuantizeLinear → MatMulInteger → Cast → Mul
// (by the input scale times the weight scale) with a float MatMul on the
// dequantized weight, when n starts that pattern.
func (d *dequantizer) matMulInteger(n *NodeProto) error {
	if len(n.Input) < 2 {
		return nil
	}
	wq := d.inits[n.Input[1]]
	dq := d.prod[n.Input[0]]
	if wq == nil || len(wq.Dims) != 2 || dq == nil || dq.GetOpType() != "DynamicQuantizeLinear" || len(n.Input) < 3 || n.Input[2] != dq.Output[2] {
		return nil
	}
	cast := d.only(n.Output[0], "Cast")
	if cast == nil {
		return nil
	}
	mul := d.only(cast.Output[0], "Mul")
	if mul == nil {
		return nil
	}
	sm := mul.Input[1]
	if sm == cast.Output[0] {
		sm = mul.Input[0]
	}
	smul := d.prod[sm]
	if smul == nil || smul.GetOpType() != "Mul" || d.uses[sm] != 1 {
		return nil
	}
	wsName := smul.Input[1]
	if wsName == dq.Output[1] {
		wsName = smul.Input[0]
	}
	ws := d.inits[wsName]
	if ws == nil {
		return nil
	}
	k, nn := int(wq.Dims[0]), int(wq.Dims[1])
	q, err := intValues(d.m, wq, k*nn)
	if err != nil {
		return fmt.Errorf("dequantize: node %q: %v", n.GetName(), err)
	}
	var zpT *TensorProto
	if len(n.Input) > 3 && n.Input[3] != "" {
		if zpT = d.inits[n.Input[3]]; zpT == nil {
			return nil
		}
	}
	zp, err := intValues(d.m, zpT, nn)
	if err != nil {
		return fmt.Errorf("dequantize: node %q: %v", n.GetName(), err)
	}
	st, err := d.m.Tensor(ws)
	if err != nil || st.DType() != tensor.Float32 || (st.Len() != 1 && st.Len() != nn) {
		return nil
	}
	sc := st.F32()
	w := make([]float32, k*nn)
	for i := 0; i < k; i++ {
		for j := 0; j < nn; j++ {
			w[i*nn+j] = float32(q[i*nn+j]-zp[j]) * sc[j%len(sc)]
		}
	}
	wName := n.Input[1] + "_dequantized"
	if d.inits[wName] == nil {
		if err := d.newInit(wName, tensor.New([]int{k, nn}, w)); err != nil {
			return err
		}
	}
	d.replace[mul] = NewNode("MatMul", n.GetName()+"_dequantized", []string{dq.Input[0], wName}, []string{mul.Output[0]})
	d.remove[n], d.remove[cast], d.remove[smul] = true, true, true
	d.rep.MatMuls++
	return nil
}

// gatherDequantize replaces Gather (of int8 weights) → DequantizeLinear
// with a Gather of the dequantized weights, when n ends that pattern.
func (d *dequantizer) gatherDequantize(n *NodeProto) error {
	ga := d.prod[n.Input[0]]
	if ga == nil || ga.GetOpType() != "Gather" || d.uses[n.Input[0]] != 1 || len(ga.Input) != 2 {
		return nil
	}
	wq := d.inits[ga.Input[0]]
	if wq == nil || len(wq.Dims) < 1 || len(n.Input) < 2 || d.inits[n.Input[1]] == nil {
		return nil
	}
	st, err := d.m.Tensor(d.inits[n.Input[1]])
	if err != nil || st.DType() != tensor.Float32 || st.Len() != 1 {
		return nil // per-tensor only: a per-axis scale applies to the gathered shape
	}
	size := 1
	shape := make([]int, len(wq.Dims))
	for i, d := range wq.Dims {
		shape[i] = int(d)
		size *= int(d)
	}
	q, err := intValues(d.m, wq, size)
	if err != nil {
		return fmt.Errorf("dequantize: node %q: %v", n.GetName(), err)
	}
	var zpT *TensorProto
	if len(n.Input) > 2 && n.Input[2] != "" {
		if zpT = d.inits[n.Input[2]]; zpT == nil {
			return nil
		}
	}
	zp, err := intValues(d.m, zpT, 1)
	if err != nil {
		return fmt.Errorf("dequantize: node %q: %v", n.GetName(), err)
	}
	w := make([]float32, size)
	for i := range w {
		w[i] = float32(q[i]-zp[0]) * st.F32()[0]
	}
	wName := ga.Input[0] + "_dequantized"
	if d.inits[wName] == nil {
		if err := d.newInit(wName, tensor.New(shape, w)); err != nil {
			return err
		}
	}
	ng := ShallowCopy(ga)
	ng.Input = []string{wName, ga.Input[1]}
	ng.Output = []string{n.Output[0]}
	d.replace[ga] = ng
	d.remove[n] = true
	d.rep.Gathers++
	return nil
}

// pruneDequantized applies the replacements and removals, then drops what
// is no longer used: DynamicQuantizeLinear nodes, then initializers and
// inputs (the int8 weights, scales, zero points) that were used before.
func pruneDequantized(g *GraphProto, remove map[*NodeProto]bool, replace map[*NodeProto]*NodeProto, usedBefore map[string]bool) {
	var nodes []*NodeProto
	for _, n := range g.Node {
		if r := replace[n]; r != nil {
			nodes = append(nodes, r)
		} else if !remove[n] {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	// drop what is no longer used: DynamicQuantizeLinear nodes, then
	// initializers (the int8 weights, scales, zero points)
	_, uses := producerMap(g)
	nodes = nodes[:0:0]
	for _, n := range g.Node {
		used := n.GetOpType() != "DynamicQuantizeLinear"
		for _, o := range n.Output {
			used = used || uses[o] > 0
		}
		if used {
			nodes = append(nodes, n)
		}
	}
	g.Node = nodes
	_, uses = producerMap(g)
	dead := func(name string) bool { return usedBefore[name] && uses[name] == 0 }
	var keep []*TensorProto
	for _, t := range g.Initializer {
		if !dead(t.GetName()) {
			keep = append(keep, t)
		}
	}
	g.Initializer = keep
	var ins []*ValueInfoProto
	for _, v := range g.Input {
		if !dead(v.GetName()) {
			ins = append(ins, v)
		}
	}
	g.Input = ins
}
