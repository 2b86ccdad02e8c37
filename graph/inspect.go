package graph

import (
	"sort"
	"strconv"

	"ft/onnx"
)

// Report describes a model for `ft inspect`.
type Report struct {
	Path        string          `json:"path"`
	Producer    string          `json:"producer"`
	IRVersion   int64           `json:"ir_version"`
	Opsets      map[string]int  `json:"opsets"`
	Inputs      []IOInfo        `json:"inputs"`
	Outputs     []IOInfo        `json:"outputs"`
	Nodes       int             `json:"nodes"`
	Folded      int             `json:"folded_at_load"`
	OpHistogram map[string]int  `json:"op_histogram"`
	Params      []ParamInfo     `json:"parameters"`
	TotalParams int             `json:"total_parameters"`
	Unsupported []UnsupportedOp `json:"unsupported_ops"`
}

// IOInfo is a graph input or output.
type IOInfo struct {
	Name  string   `json:"name"`
	Type  string   `json:"type"`
	Shape []string `json:"shape"` // numbers or symbolic names ("batch_size")
}

// ParamInfo is one parameter row.
type ParamInfo struct {
	Name        string `json:"name"`
	Initializer string `json:"initializer"`
	Shape       []int  `json:"shape"`
	Count       int    `json:"count"`
	Transposed  bool   `json:"stored_transposed,omitempty"`
}

// Inspect imports the model at path (unsupported ops allowed) and describes it.
func Inspect(path string) (*Report, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	g, err := Import(m, Options{AllowUnsupported: true})
	if err != nil {
		return nil, err
	}
	r := &Report{Path: m.Path, Producer: m.Proto.GetProducerName() + " " + m.Proto.GetProducerVersion(),
		IRVersion: m.Proto.GetIrVersion(), Opsets: map[string]int{}, OpHistogram: map[string]int{},
		Nodes: len(m.Proto.Graph.Node), Folded: g.Folded}
	for _, o := range m.Proto.OpsetImport {
		d := o.GetDomain()
		if d == "" {
			d = "ai.onnx"
		}
		r.Opsets[d] = int(o.GetVersion())
	}
	io := func(vi *onnx.ValueInfoProto) IOInfo {
		info := IOInfo{Name: vi.GetName()}
		if tt := vi.GetType().GetTensorType(); tt != nil {
			info.Type = onnx.DataTypeName(tt.GetElemType())
			for _, d := range tt.GetShape().GetDim() {
				switch v := d.Value.(type) {
				case *onnx.TensorShapeProto_Dimension_DimValue:
					info.Shape = append(info.Shape, strconv.FormatInt(v.DimValue, 10))
				case *onnx.TensorShapeProto_Dimension_DimParam:
					info.Shape = append(info.Shape, v.DimParam)
				default:
					info.Shape = append(info.Shape, "?")
				}
			}
		}
		return info
	}
	for _, id := range g.Inputs {
		r.Inputs = append(r.Inputs, io(g.Values[id].Info))
	}
	for _, id := range g.Outputs {
		r.Outputs = append(r.Outputs, io(g.Values[id].Info))
	}
	for _, n := range m.Proto.Graph.Node {
		k := n.GetOpType()
		if d := n.GetDomain(); d != "" && d != "ai.onnx" {
			k = d + ":" + k
		}
		r.OpHistogram[k]++
	}
	for _, p := range g.Params {
		c := p.Value.Len()
		r.Params = append(r.Params, ParamInfo{Name: p.Name, Initializer: p.Initializer, Shape: p.Value.Shape, Count: c, Transposed: p.Transposed})
		r.TotalParams += c
	}
	if g.Unsupported != nil {
		r.Unsupported = g.Unsupported.Ops
	}
	return r, nil
}

// SortedOps returns the op histogram as (op, count) pairs, most frequent first.
func (r *Report) SortedOps() []struct {
	Op    string
	Count int
} {
	var s []struct {
		Op    string
		Count int
	}
	for k, v := range r.OpHistogram {
		s = append(s, struct {
			Op    string
			Count int
		}{k, v})
	}
	sort.Slice(s, func(i, j int) bool {
		if s[i].Count != s[j].Count {
			return s[i].Count > s[j].Count
		}
		return s[i].Op < s[j].Op
	})
	return s
}
