package ops

import (
	"sort"
	"testing"

	"ft/tensor"
)

// TestTrainableList: every op in Trainable has a Backward, and no other
// registered op does (the one readable list stays true).
func TestTrainableList(t *testing.T) {
	attrs := map[string]map[string]Attr{
		"Cast":            {"to": {Kind: AttrInt, I: 1}},
		"Concat":          {"axis": {Kind: AttrInt, I: 0}},
		"Constant":        {"value_float": {Kind: AttrFloat, F: 1}},
		"Einsum":          {"equation": {Kind: AttrString, S: "ij,jk->ik"}},
		"Split":           {"num_outputs": {Kind: AttrInt, I: 2}},
		"ConstantOfShape": {"value": {Kind: AttrTensor, T: tensor.New([]int{1}, []float32{0})}},
	}
	listed := map[string]bool{}
	for _, op := range Trainable {
		listed[op] = true
	}
	seen := map[string]bool{}
	for _, name := range Registered() {
		n := &Node{Name: "t", OpType: name, Opset: 20, Attrs: attrs[name], Inputs: []bool{true, true}, NumOutputs: 2}
		if n.Attrs == nil {
			n.Attrs = map[string]Attr{}
		}
		op, err := Build(n)
		if err != nil {
			t.Errorf("cannot build %s to inspect it: %v", name, err)
			continue
		}
		_, diff := op.(Differentiable)
		seen[name] = true
		switch {
		case diff && !listed[name]:
			t.Errorf("%s has a Backward but is not in Trainable", name)
		case !diff && listed[name]:
			t.Errorf("%s is in Trainable but has no Backward", name)
		}
	}
	var missing []string
	for op := range listed {
		if !seen[op] {
			missing = append(missing, op)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("Trainable lists ops that are not registered: %v", missing)
	}
}
