package ops

import (
	"sort"

	"ft/tensor"
)

// Trainable lists the op types (as Registered names them) that can lie
// between a trainable parameter and the loss: those whose op, as built at
// the latest opset, has a Backward (Differentiable). It is
// derived from the registry, so it cannot drift from the ops: each
// Backward sits next to its Forward (and its Saves) in the op's own file,
// checked against finite differences in float64 (ops/*_test.go).
func Trainable() []string {
	var r []string
	for k, es := range registry {
		if _, ok := probe(k, es).(Differentiable); ok {
			r = append(r, registeredName(k))
		}
	}
	sort.Strings(r)
	return r
}

// probeAttrs are the attributes an op's builder needs before it builds at
// all; they do not change whether the op has a Backward.
var probeAttrs = map[string]map[string]Attr{
	"Cast":            {"to": {Kind: AttrInt, I: 1}},
	"Concat":          {"axis": {Kind: AttrInt, I: 0}},
	"Constant":        {"value_float": {Kind: AttrFloat, F: 1}},
	"Einsum":          {"equation": {Kind: AttrString, S: "ij,jk->ik"}},
	"Split":           {"num_outputs": {Kind: AttrInt, I: 2}},
	"ConstantOfShape": {"value": {Kind: AttrTensor, T: tensor.New([]int{1}, []float32{0})}},
}

// probeOpset is the opset the probe builds at: later than any registered
// version (an op's builder may switch on the opset within a version).
const probeOpset = 100

// probe builds the op of registry key k, for a node with two inputs and
// two outputs at probeOpset, with its latest builder; nil if the builder
// refuses.
func probe(k key, es []entry) Op {
	attrs := probeAttrs[k.opType]
	if attrs == nil {
		attrs = map[string]Attr{}
	}
	n := &Node{Name: "probe", OpType: k.opType, Domain: k.domain, Opset: probeOpset,
		Attrs: attrs, Inputs: []bool{true, true}, NumOutputs: 2}
	op, err := es[len(es)-1].build(n)
	if err != nil {
		return nil
	}
	return op
}
