package graph

import (
	"errors"
	"strings"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

// limitModel builds a model from nodes, initializers and float inputs of
// the given shapes (nil: no shape).
func limitModel(t *testing.T, nodes []*onnx.NodeProto, inits []*tensor.Tensor, initNames []string, inputs map[string][]any, outputs ...string) *onnx.Model {
	t.Helper()
	g := &onnx.GraphProto{Name: sp("g"), Node: nodes}
	for i, v := range inits {
		p, err := onnx.FromTensor(initNames[i], v)
		if err != nil {
			t.Fatal(err)
		}
		g.Initializer = append(g.Initializer, p)
	}
	for name, dims := range inputs {
		vi := onnx.TensorValueInfo(name, onnx.TensorProto_FLOAT, dims...)
		if dims == nil { // no shape: any rank
			vi.GetType().GetTensorType().Shape = nil
		}
		g.Input = append(g.Input, vi)
	}
	for _, o := range outputs {
		g.Output = append(g.Output, onnx.TensorValueInfo(o, onnx.TensorProto_FLOAT))
	}
	return &onnx.Model{Proto: &onnx.ModelProto{IrVersion: ip(8), Graph: g,
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: sp(""), Version: ip(17)}}}}
}

func wantErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one containing %q", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

// TestImportLimits: malformed graphs are refused at import with an error
// naming the node, value or tensor.
func TestImportLimits(t *testing.T) {
	w := tensor.New([]int{2}, []float32{1, 2})
	x := map[string][]any{"X": {2}}
	cases := []struct {
		name  string
		nodes []*onnx.NodeProto
		inits []*tensor.Tensor
		names []string
		outs  []string
		want  []string
	}{
		{"cycle", []*onnx.NodeProto{
			onnx.NewNode("Add", "first", []string{"X", "c"}, []string{"b"}),
			onnx.NewNode("Relu", "second", []string{"b"}, []string{"c"}),
			onnx.NewNode("Identity", "out", []string{"c"}, []string{"Y"}),
		}, nil, nil, []string{"Y"}, []string{"cycle through nodes", `"first"`, `"second"`}},
		{"self loop", []*onnx.NodeProto{onnx.NewNode("Relu", "self", []string{"Y"}, []string{"Y"})},
			nil, nil, []string{"Y"}, []string{"cycle", `"self"`}},
		{"missing input name", []*onnx.NodeProto{onnx.NewNode("Add", "add", []string{"X", "bias"}, []string{"Y"})},
			nil, nil, []string{"Y"}, []string{`node "add" (Add): input "bias" is not a graph input, an initializer or any node's output`}},
		{"missing output", []*onnx.NodeProto{onnx.NewNode("Relu", "r", []string{"X"}, []string{"Y"})},
			nil, nil, []string{"Z"}, []string{`graph output "Z" is never computed`}},
		{"two nodes give one value", []*onnx.NodeProto{
			onnx.NewNode("Relu", "r1", []string{"X"}, []string{"Y"}),
			onnx.NewNode("Neg", "r2", []string{"X"}, []string{"Y"}),
		}, nil, nil, []string{"Y"}, []string{`node "r2": value "Y" is produced twice`}},
		{"node overwrites an initializer", []*onnx.NodeProto{onnx.NewNode("Relu", "r", []string{"X"}, []string{"W"})},
			[]*tensor.Tensor{w}, []string{"W"}, []string{"W"}, []string{`node "r": value "W" is produced twice`}},
		{"node overwrites an input", []*onnx.NodeProto{onnx.NewNode("Relu", "r", []string{"X"}, []string{"X"})},
			nil, nil, []string{"X"}, []string{`node "r": value "X" is produced twice`}},
		{"two initializers of one name", []*onnx.NodeProto{onnx.NewNode("Add", "add", []string{"X", "W"}, []string{"Y"})},
			[]*tensor.Tensor{w, w}, []string{"W", "W"}, []string{"Y"}, []string{`initializer "W" appears twice`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Import(limitModel(t, c.nodes, c.inits, c.names, x, c.outs...), Options{})
			wantErr(t, err, c.want...)
		})
	}
	t.Run("two graph inputs of one name", func(t *testing.T) {
		m := limitModel(t, []*onnx.NodeProto{onnx.NewNode("Relu", "r", []string{"X"}, []string{"Y"})}, nil, nil, x, "Y")
		m.Proto.Graph.Input = append(m.Proto.Graph.Input, m.Proto.Graph.Input[0])
		_, err := Import(m, Options{})
		wantErr(t, err, `graph input "X" appears twice`)
	})
}

// TestInputWithInitializer: ONNX (IR version 4 and later) lets a graph input
// share its name with an initializer, which is then the input's default.
// ft reads such a value as the initializer: it is not a required input.
func TestInputWithInitializer(t *testing.T) {
	m := limitModel(t, []*onnx.NodeProto{onnx.NewNode("Add", "add", []string{"X", "W"}, []string{"Y"})},
		[]*tensor.Tensor{tensor.New([]int{2}, []float32{1, 2})}, []string{"W"}, map[string][]any{"X": {2}, "W": {2}}, "Y")
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if got := g.InputNames(); len(got) != 1 || got[0] != "X" {
		t.Fatalf("inputs %v, want [X]", got)
	}
	out, err := g.Run(map[string]*tensor.Tensor{"X": tensor.New([]int{2}, []float32{10, 20})})
	if err != nil {
		t.Fatal(err)
	}
	if y := out["Y"].F32(); y[0] != 11 || y[1] != 22 {
		t.Fatalf("Y = %v, want [11 22]", y)
	}
}

// TestRunShapeErrors: shapes that do not fit an op give an error naming the
// node and the shapes it was given.
func TestRunShapeErrors(t *testing.T) {
	cases := []struct {
		name string
		node *onnx.NodeProto
		init *tensor.Tensor
		x    *tensor.Tensor
		want []string
	}{
		{"MatMul inner dims", onnx.NewNode("MatMul", "/encoder/query/MatMul", []string{"X", "W"}, []string{"Y"}),
			tensor.Zeros(tensor.Float32, 4, 2), tensor.Zeros(tensor.Float32, 2, 3),
			[]string{`node "/encoder/query/MatMul" (MatMul)`, "[2 3]", "[4 2]"}},
		{"Add broadcast", onnx.NewNode("Add", "/encoder/add", []string{"X", "W"}, []string{"Y"}),
			tensor.Zeros(tensor.Float32, 4), tensor.Zeros(tensor.Float32, 2, 3),
			[]string{`node "/encoder/add" (Add)`, "[2 3]", "[4]", "cannot be broadcast"}},
		{"Reshape size", onnx.NewNode("Reshape", "/reshape", []string{"X", "W"}, []string{"Y"}),
			tensor.New([]int{2}, []int64{4, 4}), tensor.Zeros(tensor.Float32, 2, 3),
			[]string{`node "/reshape" (Reshape)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := limitModel(t, []*onnx.NodeProto{c.node}, []*tensor.Tensor{c.init}, []string{"W"}, map[string][]any{"X": nil}, "Y")
			g, err := Import(m, Options{})
			if err != nil {
				t.Fatal(err)
			}
			_, err = g.Run(map[string]*tensor.Tensor{"X": c.x})
			wantErr(t, err, c.want...)
		})
	}
}

// TestRunMemoryLimit: an op output above tensor.SetMemoryLimit is refused
// before it is allocated, with an error that names the node, the shape and
// the bytes asked for (an *tensor.AllocError inside).
func TestRunMemoryLimit(t *testing.T) {
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(1 << 20))
	cases := []struct {
		name string
		node *onnx.NodeProto
		init *tensor.Tensor
		want []string
	}{
		{"Expand", onnx.NewNode("Expand", "expand", []string{"X", "S"}, []string{"Y"}), tensor.New([]int{3}, []int64{1 << 9, 1 << 9, 3}), // from [1 1 3]
			[]string{`node "expand" (Expand)`, "float32 tensor of shape [512 512 3] needs 3 MiB (3145728 bytes), above the memory limit of 1 MiB"}},
		{"ConstantOfShape", onnx.NewNode("ConstantOfShape", "cos", []string{"S"}, []string{"Y"}), tensor.New([]int{2}, []int64{1 << 10, 1 << 10}),
			[]string{`node "cos" (ConstantOfShape)`, "float32 tensor of shape [1024 1024] needs 4 MiB (4194304 bytes), above the memory limit of 1 MiB"}},
		{"ConstantOfShape overflow", onnx.NewNode("ConstantOfShape", "cos", []string{"S"}, []string{"Y"}), tensor.New([]int{3}, []int64{1 << 40, 1 << 40, 1 << 40}),
			[]string{`node "cos" (ConstantOfShape)`, "[1099511627776 1099511627776 1099511627776] is too large"}},
		{"MatMul", onnx.NewNode("MatMul", "mm", []string{"X", "S"}, []string{"Y"}), tensor.New([]int{3, 1 << 10}, make([]float32, 3<<10)), // [1 1 3]·[3 1024] → from X [1 512 3]
			[]string{`node "mm" (MatMul)`, "float32 tensor of shape [1 512 1024] needs 2 MiB (2097152 bytes), above the memory limit of 1 MiB"}},
		{"Add broadcast", onnx.NewNode("Add", "add", []string{"X", "S"}, []string{"Y"}), tensor.New([]int{1 << 12, 1, 1}, make([]float32, 1<<12)),
			[]string{`node "add" (Add)`, "[4096 4096 3]: 50331648 elements, above the memory limit of 1 MiB (1048576 bytes) even at one byte each"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := limitModel(t, []*onnx.NodeProto{c.node}, []*tensor.Tensor{c.init}, []string{"S"}, map[string][]any{"X": nil}, "Y")
			g, err := Import(m, Options{NoFold: true})
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.Zeros(tensor.Float32, 1, 1, 3)
			if c.name == "Add broadcast" {
				x = tensor.Zeros(tensor.Float32, 1, 1<<12, 3)
			}
			if c.name == "MatMul" {
				x = tensor.Zeros(tensor.Float32, 1, 1<<9, 3)
			}
			_, err = g.Run(map[string]*tensor.Tensor{"X": x})
			wantErr(t, err, c.want...)
		})
	}
	// The same limit applies to initializers at import.
	tensor.SetMemoryLimit(4)
	m := limitModel(t, []*onnx.NodeProto{onnx.NewNode("Add", "add", []string{"X", "W"}, []string{"Y"})},
		[]*tensor.Tensor{tensor.New([]int{2}, []float32{1, 2})}, []string{"W"}, map[string][]any{"X": {2}}, "Y")
	_, err := Import(m, Options{})
	wantErr(t, err, `tensor "W": a float32 tensor of shape [2] needs 8 B, above the memory limit of 4 B`)
	var ae *tensor.AllocError
	if !errors.As(err, &ae) || ae.Bytes != 8 {
		t.Fatalf("not an *AllocError: %v", err)
	}
}
