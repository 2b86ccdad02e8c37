package graph

import (
	"strings"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

// TestFeedsMustBeInputs: a feed named after a parameter or an inner value
// is refused (it would otherwise be silently ignored).
func TestFeedsMustBeInputs(t *testing.T) {
	w, _ := onnx.FromTensor("lin.weight", tensor.New([]int{2, 2}, []float32{1, 2, 3, 4}))
	gp := &onnx.GraphProto{
		Name: onnx.Str("g"),
		Node: []*onnx.NodeProto{
			onnx.NewNode("MatMul", "/lin/MatMul", []string{"x", "lin.weight"}, []string{"h"}),
			onnx.NewNode("Relu", "/relu", []string{"h"}, []string{"y"}),
		},
		Initializer: []*onnx.TensorProto{w},
		Input:       []*onnx.ValueInfoProto{onnx.TensorValueInfo("x", onnx.TensorProto_FLOAT, 1, 2)},
		Output:      []*onnx.ValueInfoProto{onnx.TensorValueInfo("y", onnx.TensorProto_FLOAT, 1, 2)},
	}
	g, err := Import(&onnx.Model{Proto: &onnx.ModelProto{IrVersion: onnx.Int(8), Graph: gp,
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: onnx.Str(""), Version: onnx.Int(17)}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New([]int{1, 2}, []float32{1, 1})
	if _, err := g.Run(map[string]*tensor.Tensor{"x": x}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"lin.weight": `"lin.weight" is a parameter of the model (an initializer), not an input`,
		"h":          `unknown input "h" (the model takes [x])`,
		"z":          `unknown input "z" (the model takes [x])`,
	} {
		_, err := g.Run(map[string]*tensor.Tensor{"x": x, name: tensor.New([]int{2, 2}, []float32{0, 0, 0, 0})})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("feed %s: got %v, want %q", name, err, want)
		}
	}
}
