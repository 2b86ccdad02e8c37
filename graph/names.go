package graph

import (
	"fmt"
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
	consumers := make(map[int][]*Node)
	for _, n := range g.Nodes {
		for k, in := range n.In {
			if in >= 0 && g.Values[in].Const != nil {
				_ = k
				consumers[in] = append(consumers[in], n)
			}
		}
	}
	used := map[string]bool{}
	var params []*Param
	for _, init := range g.Model.Proto.Graph.Initializer {
		id := g.byName[init.GetName()]
		v := g.Values[id]
		if !v.Const.DType().IsFloat() || v.Const.Rank() == 0 || len(consumers[id]) == 0 {
			continue
		}
		p := &Param{Initializer: v.Name, Value: v.Const, ValueID: id}
		p.Name, p.Transposed = readableName(v.Name, v.Const, consumers[id])
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
// → "bert.encoder.layer.0.x", or the scope in metadata_props (dynamo exports).
func scopeOf(n *Node) string {
	for _, kv := range n.Proto.MetadataProps {
		switch kv.GetKey() {
		case "pkg.torch.onnx.name_scopes", "namespace":
			// a list like "['', 'bert', 'bert.encoder', ...]" or "bert: ...": take the last dotted name
			s := kv.GetValue()
			s = strings.Trim(s, "[]")
			parts := strings.Split(s, ",")
			last := strings.Trim(strings.TrimSpace(parts[len(parts)-1]), "'\"")
			if last != "" {
				return last
			}
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

// readableName names a parameter initializer. It returns "" for a float
// constant that is not a parameter.
func readableName(init string, t *tensor.Tensor, consumers []*Node) (string, bool) {
	var first *Node
	if len(consumers) > 0 {
		first = consumers[0]
	}
	transposed := false
	role := "weight"
	if first != nil {
		switch first.OpType {
		case "MatMul":
			// MatMul(x, W) with W [in, out]: a Linear weight stored transposed.
			if len(first.In) == 2 && first.In[1] >= 0 && t.Rank() == 2 && first.In[1] == valueIDOf(first, 1) {
				transposed = isSecondInput(first, init)
			}
		case "Gemm":
			if isSecondInput(first, init) {
				transposed = first.Proto != nil && attrInt(first, "transB") == 0
			} else if isInput(first, 2, init) {
				role = "bias"
			}
		case "Add":
			if t.Rank() == 1 {
				role = "bias"
			}
		case "LayerNormalization":
			if isInput(first, 2, init) {
				role = "bias"
			}
		}
	}
	if isModuleName(init) {
		return init, transposed && !strings.HasSuffix(init, ".weight_T")
	}
	if first == nil {
		return "", false
	}
	scope := scopeOf(first)
	if scope == "" {
		// keep the initializer's own name: still stable and unique
		return init, transposed
	}
	return scope + "." + role, transposed
}

func valueIDOf(n *Node, k int) int { return n.In[k] }

func isSecondInput(n *Node, init string) bool { return isInput(n, 1, init) }

func isInput(n *Node, k int, init string) bool {
	return n.Proto != nil && k < len(n.Proto.Input) && n.Proto.Input[k] == init
}

func attrInt(n *Node, name string) int64 {
	for _, a := range n.Proto.Attribute {
		if a.GetName() == name {
			return a.GetI()
		}
	}
	return 0
}
