package graph

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"ft/tensor"
)

// nameParams finds the trainable parameters — float initializers of rank ≥ 1
// that feed computation — and gives each a stable readable name, the Hugging
// Face state_dict name where it can be recovered (DESIGN.md "Names of
// parameters"):
//   - an initializer that already has a dotted module name keeps it;
//   - an anonymous one (onnx::MatMul_1234, a Linear weight the exporter stored
//     transposed as [in, out]) is named from the scope of the node that
//     consumes it: /bert/encoder/layer.0/attention/self/query/MatMul →
//     bert.encoder.layer.0.attention.self.query.weight;
//   - dynamo exports carry the scope in node metadata_props.
func (g *Graph) nameParams() {
	consumers := g.consumers()
	used := map[string]bool{}
	var params []*Param
	for _, init := range g.Model.Proto.Graph.Initializer {
		id := g.byName[init.GetName()]
		v := g.Values[id]
		if !v.Const.DType().IsFloat() || v.Const.Rank() == 0 || len(consumers[id]) == 0 {
			continue
		}
		p := &Param{Initializer: v.Name, Value: v.Const, ValueID: id}
		p.Name, p.Transposed = readableName(g, id, consumers)
		if p.Name == "" {
			continue // a constant, not a parameter (e.g. a shape or mask table)
		}
		base := p.Name
		for i := 2; used[p.Name]; i++ {
			p.Name = fmt.Sprintf("%s_%d", base, i)
		}
		used[p.Name] = true
		v.Param = p
		params = append(params, p)
	}
	g.Params = params
}

// isModuleName reports whether s looks like a PyTorch state_dict name.
func isModuleName(s string) bool {
	if strings.HasPrefix(s, "onnx::") || strings.HasPrefix(s, "/") || strings.Contains(s, "::") {
		return false
	}
	if !strings.Contains(s, ".") {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// scopeOf returns the module scope of a node: "/bert/encoder/layer.0/x/MatMul"
// → "bert.encoder.layer.0.x"; for dynamo exports, the module path in the
// node's metadata_props (pkg.torch.onnx.name_scopes, whose last entry is the
// op's own name).
func scopeOf(n *Node) string {
	for _, kv := range n.Proto.MetadataProps {
		if kv.GetKey() != "pkg.torch.onnx.name_scopes" {
			continue
		}
		var parts []string
		for _, p := range strings.Split(strings.Trim(kv.GetValue(), "[]"), ",") {
			parts = append(parts, strings.Trim(strings.TrimSpace(p), "'\""))
		}
		if len(parts) >= 2 && parts[len(parts)-2] != "" {
			return parts[len(parts)-2]
		}
	}
	name := n.Name
	if !strings.HasPrefix(name, "/") {
		return ""
	}
	parts := strings.Split(strings.TrimPrefix(name, "/"), "/")
	if len(parts) < 2 {
		return ""
	}
	return strings.Join(parts[:len(parts)-1], ".")
}

// passThrough ops forward a parameter unchanged (shared weights go through
// Identity in ALBERT and DeBERTa exports).
var passThrough = map[string]bool{"Identity": true, "Cast": true}

// weightUse follows a parameter through pass-through ops to the nodes that
// use it and returns the first of them in the model file (a shared weight is
// named after its first use), with the input slot.
func weightUse(g *Graph, id int, consumers map[int][]*Node) (*Node, int) {
	var best *Node
	bestSlot := -1
	forEachUse(id, consumers, func(n *Node, slot int) {
		if best == nil || n.index < best.index {
			best, bestSlot = n, slot
		}
	})
	return best, bestSlot
}

// consumers maps each value to the nodes that read it.
func (g *Graph) consumers() map[int][]*Node {
	c := make(map[int][]*Node)
	for _, n := range g.Nodes {
		for _, in := range n.In {
			if in >= 0 {
				c[in] = append(c[in], n)
			}
		}
	}
	return c
}

// forEachUse follows value id through pass-through ops (at most 64 values
// deep) and calls use for every other node that reads it, and every input
// slot it reads it in, in the order of consumers and slots.
func forEachUse(id int, consumers map[int][]*Node, use func(n *Node, slot int)) {
	stack := []int{id}
	for steps := 0; len(stack) > 0 && steps < 64; steps++ {
		v := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, n := range consumers[v] {
			if passThrough[n.OpType] && len(n.Out) > 0 && n.Out[0] >= 0 {
				stack = append(stack, n.Out[0])
				continue
			}
			for k, in := range n.In {
				if in == v {
					use(n, k)
				}
			}
		}
	}
}

// readableName names a parameter initializer. It returns "" for a float
// constant that is not a parameter (a scale factor, a mask value).
func readableName(g *Graph, id int, consumers map[int][]*Node) (string, bool) {
	v := g.Values[id]
	t := v.Const
	n, slot := weightUse(g, id, consumers)
	if n == nil {
		return "", false
	}
	role, transposed, isWeight := roleAt(n, slot, t)
	if isModuleName(v.Name) {
		return v.Name, transposed
	}
	if !isWeight {
		return "", false
	}
	scope := scopeOf(n)
	if scope == "" {
		return v.Name, transposed // keep the initializer's own name: still stable and unique
	}
	return scope + "." + role, transposed
}

// roleAt says what a tensor t is to node n, which reads it at input slot:
// its state_dict role ("weight", "bias"), whether it is stored transposed
// (a Linear weight as [in, out]) and whether it is a parameter there at all.
func roleAt(n *Node, slot int, t *tensor.Tensor) (role string, transposed, isWeight bool) {
	switch n.OpType {
	case "MatMul":
		// MatMul(x, W) with W [in, out]: a Linear weight stored transposed.
		isWeight, role, transposed = t.Rank() == 2, "weight", slot == 1 && t.Rank() == 2
	case "Gemm":
		switch slot {
		case 1:
			isWeight, role, transposed = true, "weight", attrInt(n, "transB") == 0
		case 2:
			isWeight, role = true, "bias"
		}
	case "Gather":
		isWeight, role = slot == 0, "weight"
	case "LayerNormalization":
		isWeight, role = slot > 0, map[int]string{1: "weight", 2: "bias"}[slot]
	case "Einsum", "Conv":
		isWeight, role = true, "weight"
	case "Add":
		isWeight, role = t.Rank() == 1 && t.Len() > 1, "bias"
	case "Mul":
		isWeight, role = t.Rank() == 1 && t.Len() > 1, "weight"
	}
	return role, transposed, isWeight
}

// StateDictNames returns every state_dict name a parameter stands for, its
// own name first: exporters store equal tensors once (all-zero biases of
// several layers become one initializer), and each further use of it
// names another parameter of the PyTorch model (from the scope of the node
// that reads it, as for the first use).
func (g *Graph) StateDictNames(p *Param) []string {
	names := []string{p.Name}
	// a module called twice (ALBERT's shared layer, DeBERTa's query_proj
	// reused for relative positions) gets scopes "query" and "query_1": the
	// same parameter, not an alias
	seen := map[string]bool{repeatedCall.ReplaceAllString(p.Name, "$1"): true}
	consumers := g.consumers()
	type use struct {
		n    *Node
		slot int
	}
	var uses []use
	forEachUse(p.ValueID, consumers, func(n *Node, slot int) { uses = append(uses, use{n, slot}) })
	sort.Slice(uses, func(i, j int) bool { return uses[i].n.index < uses[j].n.index })
	for _, u := range uses {
		role, _, isWeight := roleAt(u.n, u.slot, p.Value)
		scope := scopeOf(u.n)
		if !isWeight || scope == "" {
			continue
		}
		name := scope + "." + role
		if key := repeatedCall.ReplaceAllString(name, "$1"); !seen[key] {
			seen[key] = true
			names = append(names, name)
		}
	}
	return names
}

// repeatedCall matches the "_<n>" the torch exporter appends to the scope of
// a module's second, third ... call.
var repeatedCall = regexp.MustCompile(`_\d+(\.|$)`)

func attrInt(n *Node, name string) int64 {
	for _, a := range n.Proto.Attribute {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return 0
}
