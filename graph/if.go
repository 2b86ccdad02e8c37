package graph

import (
	"fmt"

	"ft/onnx"
	"ft/tensor"
)

// ifOp runs the If control-flow op: one of two subgraphs, chosen by a scalar
// boolean condition. The subgraphs may read values of the enclosing graph;
// those are passed as extra inputs after the condition. Exporters emit If
// only on shape paths (DeBERTa compares two shapes), so it has no backward.
type ifOp struct {
	then, els *Graph
	refs      []string // names of the outer values, in the order of in[1:]
}

func (o *ifOp) NoGradient() {}

func buildIf(m *onnx.Model, np *onnx.NodeProto, opt Options, defined func(string) bool) (*ifOp, []string, error) {
	var thenG, elseG *onnx.GraphProto
	for _, a := range np.Attribute {
		switch a.GetName() {
		case "then_branch":
			thenG = a.G
		case "else_branch":
			elseG = a.G
		}
	}
	if thenG == nil || elseG == nil {
		return nil, nil, fmt.Errorf("missing then_branch or else_branch")
	}
	sub := opt
	sub.AllowUnsupported = false
	tg, err := importGraph(m, thenG, sub, defined)
	if err != nil {
		return nil, nil, fmt.Errorf("then_branch: %w", err)
	}
	eg, err := importGraph(m, elseG, sub, defined)
	if err != nil {
		return nil, nil, fmt.Errorf("else_branch: %w", err)
	}
	if len(tg.Outputs) != len(np.Output) || len(eg.Outputs) != len(np.Output) {
		return nil, nil, fmt.Errorf("branches give %d and %d outputs, the node declares %d", len(tg.Outputs), len(eg.Outputs), len(np.Output))
	}
	o := &ifOp{then: tg, els: eg}
	seen := map[string]bool{}
	for _, g := range []*Graph{tg, eg} {
		for _, name := range g.InputNames() {
			if !seen[name] {
				seen[name] = true
				o.refs = append(o.refs, name)
			}
		}
	}
	return o, o.refs, nil
}

func (o *ifOp) Forward(in []*tensor.Tensor) ([]*tensor.Tensor, error) {
	c := in[0]
	if c == nil || c.Len() != 1 {
		return nil, fmt.Errorf("condition must be a single boolean")
	}
	cond := c.Float64s()[0] != 0
	g := o.els
	if cond {
		g = o.then
	}
	feeds := map[string]*tensor.Tensor{}
	for _, id := range g.Inputs {
		name := g.Values[id].Name
		for k, r := range o.refs {
			if r == name {
				feeds[name] = in[1+k]
			}
		}
	}
	res, err := g.Run(feeds)
	if err != nil {
		return nil, err
	}
	out := make([]*tensor.Tensor, len(g.Outputs))
	for i, name := range g.OutputNames() {
		out[i] = res[name]
	}
	return out, nil
}
