package graph

import (
	"strings"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

func sp(v string) *string { return &v }
func ip(v int64) *int64   { return &v }

type nd struct {
	op, name string
	in, out  []string
	domain   string
}

func buildModel(t *testing.T, nodes []nd, inits map[string]*tensor.Tensor, inputs, outputs []string) *onnx.Model {
	t.Helper()
	f32 := int32(onnx.TensorProto_FLOAT)
	vi := func(name string) *onnx.ValueInfoProto {
		return &onnx.ValueInfoProto{Name: sp(name), Type: &onnx.TypeProto{Value: &onnx.TypeProto_TensorType{TensorType: &onnx.TypeProto_Tensor{ElemType: &f32}}}}
	}
	g := &onnx.GraphProto{Name: sp("g")}
	for _, n := range nodes {
		g.Node = append(g.Node, &onnx.NodeProto{OpType: sp(n.op), Name: sp(n.name), Input: n.in, Output: n.out, Domain: sp(n.domain)})
	}
	for name, v := range inits {
		p, err := onnx.FromTensor(name, v)
		if err != nil {
			t.Fatal(err)
		}
		g.Initializer = append(g.Initializer, p)
	}
	for _, in := range inputs {
		g.Input = append(g.Input, vi(in))
	}
	for _, o := range outputs {
		g.Output = append(g.Output, vi(o))
	}
	return &onnx.Model{Proto: &onnx.ModelProto{IrVersion: ip(8), Graph: g,
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: sp(""), Version: ip(17)}, {Domain: sp("com.example"), Version: ip(1)}}}}
}

func TestImportErrors(t *testing.T) {
	w := map[string]*tensor.Tensor{"W": tensor.New([]int{2}, []float32{1, 2})}
	cases := []struct {
		name  string
		nodes []nd
		want  []string
	}{
		{"cycle", []nd{
			{op: "Add", name: "a", in: []string{"X", "c"}, out: []string{"b"}},
			{op: "Add", name: "b", in: []string{"b", "W"}, out: []string{"c"}},
			{op: "Add", name: "y", in: []string{"c", "W"}, out: []string{"Y"}},
		}, []string{"cycle", `"a"`, `"b"`}},
		{"unknown ops, all listed", []nd{
			{op: "FancyOp", name: "f1", in: []string{"X"}, out: []string{"t"}},
			{op: "FancyOp", name: "f2", in: []string{"t"}, out: []string{"u"}},
			{op: "Custom", name: "c1", in: []string{"u"}, out: []string{"Y"}, domain: "com.example"},
		}, []string{"2 operator(s)", "ai.onnx::FancyOp (opset 17): 2 node(s)", `"f1"`, "com.example::Custom (opset 1)", `"c1"`}},
		{"undefined input", []nd{{op: "Add", name: "a", in: []string{"X", "nope"}, out: []string{"Y"}}}, []string{`"a"`, `"nope"`}},
		// An empty name marks an omitted optional input only; a required
		// one left empty used to reach the op as nil (a recovered
		// nil-pointer error at run time).
		{"empty required input", []nd{{op: "Add", name: "a", in: []string{"X", ""}, out: []string{"Y"}}},
			[]string{`node "a" (Add): input 1 has an empty name, but Add requires it`}},
		{"empty first input", []nd{{op: "Relu", name: "r", in: []string{""}, out: []string{"Y"}}},
			[]string{`node "r" (Relu): input 0 has an empty name`}},
		{"required input left out", []nd{{op: "MatMul", name: "mm", in: []string{"X"}, out: []string{"Y"}}},
			[]string{`node "mm" (MatMul) has 1 inputs, and MatMul (opset 17) requires 2`}},
		{"empty variadic input", []nd{{op: "Concat", name: "cat", in: []string{"X", "", "W"}, out: []string{"Y"}}},
			[]string{`node "cat" (Concat): input 1 has an empty name`}},
		{"produced twice", []nd{
			{op: "Add", name: "a", in: []string{"X", "W"}, out: []string{"Y"}},
			{op: "Add", name: "b", in: []string{"X", "W"}, out: []string{"Y"}},
		}, []string{"produced twice"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := buildModel(t, c.nodes, w, []string{"X"}, []string{"Y"})
			_, err := Import(m, Options{})
			if err == nil {
				t.Fatal("no error")
			}
			for _, s := range c.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %s", err, s)
				}
			}
		})
	}
}

// TestOptionalInputMayBeEmpty: an empty name for an optional input (Clip's
// min) is accepted and reaches the op as absent.
func TestOptionalInputMayBeEmpty(t *testing.T) {
	m := buildModel(t, []nd{{op: "Clip", name: "clip", in: []string{"X", "", "M"}, out: []string{"Y"}}},
		map[string]*tensor.Tensor{"M": tensor.Scalar(float32(0.5))}, []string{"X"}, []string{"Y"})
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := g.Run(map[string]*tensor.Tensor{"X": tensor.New([]int{3}, []float32{1, -1, 0.25})})
	if err != nil {
		t.Fatal(err)
	}
	if y := out["Y"].F32(); y[0] != 0.5 || y[1] != -1 || y[2] != 0.25 {
		t.Fatalf("Y = %v, want [0.5 -1 0.25]", y)
	}
}

func TestRunAndFeeds(t *testing.T) {
	// Y = (X + W) * (C + C), where C + C folds at import.
	m := buildModel(t, []nd{
		{op: "Add", name: "cc", in: []string{"C", "C"}, out: []string{"c2"}},
		{op: "Add", name: "a", in: []string{"X", "W"}, out: []string{"s"}},
		{op: "Mul", name: "m", in: []string{"s", "c2"}, out: []string{"Y"}},
	}, map[string]*tensor.Tensor{
		"W": tensor.New([]int{2}, []float32{1, 2}),
		"C": tensor.Scalar[float32](1.5),
	}, []string{"X"}, []string{"Y"})
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g.Folded != 1 || len(g.Nodes) != 2 {
		t.Fatalf("folded %d, %d nodes left", g.Folded, len(g.Nodes))
	}
	if len(g.Params) != 1 || g.Params[0].Initializer != "W" {
		t.Fatalf("params %+v", g.Params)
	}
	out, err := g.Run(map[string]*tensor.Tensor{"X": tensor.New([]int{3, 2}, []float32{0, 0, 1, 1, 2, 2})})
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{3, 6, 6, 9, 9, 12}
	for i, v := range out["Y"].F32() {
		if v != want[i] {
			t.Fatalf("Y = %v, want %v", out["Y"].F32(), want)
		}
	}
	for _, bad := range []struct {
		feeds map[string]*tensor.Tensor
		want  string
	}{
		{map[string]*tensor.Tensor{}, `missing input "X"`},
		{map[string]*tensor.Tensor{"X": tensor.New([]int{2}, []int64{1, 2})}, "must be float32"},
		{map[string]*tensor.Tensor{"X": tensor.New([]int{2}, []float32{1, 2}), "Z": tensor.Scalar[float32](1)}, `unknown input "Z"`},
		{map[string]*tensor.Tensor{"X": tensor.New([]int{3}, []float32{1, 2, 3})}, "broadcast"},
	} {
		_, err := g.Run(bad.feeds)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("feeds %v: error %v, want %q", bad.feeds, err, bad.want)
		}
	}
}
