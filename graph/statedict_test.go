package graph

import (
	"reflect"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

// TestStateDictNames: an exporter stores equal weights once; each further
// use by another module names another state_dict entry, while a module
// called twice (scope "x_1") does not.
func TestStateDictNames(t *testing.T) {
	w, _ := onnx.FromTensor("onnx::MatMul_7", tensor.New([]int{2, 2}, []float32{1, 2, 3, 4}))
	b, _ := onnx.FromTensor("enc.a.lin.bias", tensor.New([]int{2}, []float32{0, 0}))
	g := &onnx.GraphProto{
		Name: onnx.Str("g"),
		Node: []*onnx.NodeProto{
			onnx.NewNode("MatMul", "/enc/a/lin/MatMul", []string{"x", "onnx::MatMul_7"}, []string{"y1"}),
			onnx.NewNode("Add", "/enc/a/lin/Add", []string{"y1", "enc.a.lin.bias"}, []string{"z1"}),
			onnx.NewNode("Identity", "/enc/Identity", []string{"onnx::MatMul_7"}, []string{"w2"}),
			onnx.NewNode("MatMul", "/enc/b/lin/MatMul", []string{"z1", "w2"}, []string{"y2"}),
			onnx.NewNode("Add", "/enc/b/lin/Add", []string{"y2", "enc.a.lin.bias"}, []string{"z2"}),
			onnx.NewNode("MatMul", "/enc/a/lin_1/MatMul", []string{"z2", "onnx::MatMul_7"}, []string{"out"}),
		},
		Initializer: []*onnx.TensorProto{w, b},
		Input:       []*onnx.ValueInfoProto{onnx.TensorValueInfo("x", onnx.TensorProto_FLOAT, 1, 2)},
		Output:      []*onnx.ValueInfoProto{onnx.TensorValueInfo("out", onnx.TensorProto_FLOAT, 1, 2)},
	}
	m := &onnx.Model{Proto: &onnx.ModelProto{IrVersion: onnx.Int(8), Graph: g,
		OpsetImport: []*onnx.OperatorSetIdProto{{Domain: onnx.Str(""), Version: onnx.Int(17)}}}}
	gr, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, p := range gr.Params {
		got[p.Name] = gr.StateDictNames(p)
	}
	want := map[string][]string{
		"enc.a.lin.weight": {"enc.a.lin.weight", "enc.b.lin.weight"},
		"enc.a.lin.bias":   {"enc.a.lin.bias", "enc.b.lin.bias"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}
