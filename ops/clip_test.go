package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestClipForward(t *testing.T) {
	nan := math.NaN()
	x := ewF64([]int{2, 3}, -2, -0.5, 0.5, 2, nan, math.Inf(1))
	attrs := func(kv ...float32) map[string]Attr {
		m := map[string]Attr{}
		for i, k := range []string{"min", "max"} {
			if i < len(kv) && !math.IsNaN(float64(kv[i])) {
				m[k] = Attr{Kind: AttrFloat, F: kv[i]}
			}
		}
		return m
	}
	nan32 := float32(math.NaN())
	cases := []struct {
		name  string
		node  Node
		in    []*tensor.Tensor
		shape []int
		want  any
	}{
		{"both", Node{Opset: 13}, []*tensor.Tensor{x, ewF64([]int{}, -1), ewF64([]int{}, 1)}, []int{2, 3}, []float64{-1, -0.5, 0.5, 1, nan, 1}},
		{"max-only", Node{Opset: 13}, []*tensor.Tensor{x, nil, ewF64([]int{}, 0)}, []int{2, 3}, []float64{-2, -0.5, 0, 0, nan, 0}},
		{"min-only", Node{Opset: 11}, []*tensor.Tensor{x, ewF64([]int{1}, 0)}, []int{2, 3}, []float64{0, 0, 0.5, 2, nan, math.Inf(1)}},
		{"none", Node{Opset: 13}, []*tensor.Tensor{x}, []int{2, 3}, []float64{-2, -0.5, 0.5, 2, nan, math.Inf(1)}},
		{"min>max", Node{Opset: 13}, []*tensor.Tensor{x, ewF64([]int{}, 1), ewF64([]int{}, -1)}, []int{2, 3}, []float64{-1, -1, -1, -1, nan, -1}},
		{"attrs", Node{Opset: 6, Attrs: attrs(-1, 0.25)}, []*tensor.Tensor{x}, []int{2, 3}, []float64{-1, -0.5, 0.25, 0.25, nan, 0.25}},
		{"attr-max", Node{Opset: 6, Attrs: attrs(nan32, 0)}, []*tensor.Tensor{x}, []int{2, 3}, []float64{-2, -0.5, 0, 0, nan, 0}},
		{"attr-default", Node{Opset: 6}, []*tensor.Tensor{x}, []int{2, 3}, []float64{-2, -0.5, 0.5, 2, nan, math.MaxFloat32}},
		{"f32", Node{Opset: 13}, []*tensor.Tensor{ewF32([]int{3}, -3, 0.5, 3), ewF32([]int{}, -1), ewF32([]int{}, 1)}, []int{3}, []float32{-1, 0.5, 1}},
		{"i64", Node{Opset: 13}, []*tensor.Tensor{i64([]int{4}, -9, -1, 3, 9), i64([]int{}, -2), i64([]int{}, 4)}, []int{4}, []int64{-2, -1, 3, 4}},
		{"i32-default", Node{Opset: 13}, []*tensor.Tensor{tensor.New([]int{2}, []int32{math.MinInt32, math.MaxInt32})}, []int{2}, []int32{math.MinInt32, math.MaxInt32}},
		{"i8-max", Node{Opset: 13}, []*tensor.Tensor{tensor.New([]int{3}, []int8{-128, 0, 127}), nil, tensor.New([]int{}, []int8{0})}, []int{3}, []int8{-128, 0, 0}},
		{"u8", Node{Opset: 13}, []*tensor.Tensor{tensor.New([]int{3}, []uint8{0, 100, 255}), tensor.New([]int{}, []uint8{10}), tensor.New([]int{}, []uint8{200})}, []int{3}, []uint8{10, 100, 200}},
	}
	for _, c := range cases {
		c.node.OpType = "Clip"
		out := ewRun(t, c.node, c.in...)
		ewCheck(t, "Clip/"+c.name, out[0], c.shape, c.want, 0)
	}
	if _, err := ewTry(Node{OpType: "Clip", Opset: 13}, x, ewF32([]int{}, 0)); err == nil {
		t.Error("Clip accepted a float32 bound for float64 input")
	}
	if _, err := ewTry(Node{OpType: "Clip", Opset: 13}, x, ewF64([]int{2}, 0, 1)); err == nil {
		t.Error("Clip accepted a bound of two elements")
	}
}

// clipInput returns random values in (-2, 2) at least 0.05 away from ±1
// (the bounds used below), so finite differences never straddle a kink.
func clipInput(r *rand.Rand, shape ...int) *tensor.Tensor {
	x := randT(r, -2, 2, shape...)
	for i, v := range x.F64() {
		if math.Abs(math.Abs(v)-1) < 0.05 {
			x.F64()[i] = v * 0.9
		}
	}
	return x
}

func TestClipGrad(t *testing.T) {
	r := rand.New(rand.NewSource(12))
	cases := []gradCase{
		{name: "both", node: Node{Opset: 13}, in: []*tensor.Tensor{clipInput(r, 3, 4), ewF64([]int{}, -1), ewF64([]int{}, 1)}},
		{name: "both-x-only", node: Node{Opset: 13}, in: []*tensor.Tensor{clipInput(r, 5), ewF64([]int{}, -1), ewF64([]int{}, 1)}, wrt: []int{0}},
		{name: "max-only", node: Node{Opset: 13}, in: []*tensor.Tensor{clipInput(r, 2, 3), nil, ewF64([]int{1}, 1)}},
		{name: "min-only", node: Node{Opset: 12}, in: []*tensor.Tensor{clipInput(r, 2, 3), ewF64([]int{}, -1)}},
		{name: "none", node: Node{Opset: 13}, in: []*tensor.Tensor{clipInput(r, 4)}},
		{name: "min>max", node: Node{Opset: 13}, in: []*tensor.Tensor{clipInput(r, 2, 2), ewF64([]int{}, 1), ewF64([]int{}, -1)}},
		{name: "attrs", node: Node{Opset: 6, Attrs: map[string]Attr{"min": {Kind: AttrFloat, F: -1}, "max": {Kind: AttrFloat, F: 1}}}, in: []*tensor.Tensor{clipInput(r, 3, 3)}},
	}
	for _, c := range cases {
		c.node.OpType = "Clip"
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
