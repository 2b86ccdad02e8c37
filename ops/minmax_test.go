package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestMinMaxForward(t *testing.T) {
	nan := math.NaN()
	a, b, c := ewF64([]int{3}, 3, 2, 1), ewF64([]int{3}, 1, 4, 4), ewF64([]int{3}, 2, 5, 3)
	cases := []struct {
		op    string
		in    []*tensor.Tensor
		shape []int
		want  any
	}{
		{"Max", []*tensor.Tensor{a, b, c}, []int{3}, []float64{3, 5, 4}},
		{"Min", []*tensor.Tensor{a, b, c}, []int{3}, []float64{1, 2, 1}},
		{"Max", []*tensor.Tensor{a}, []int{3}, []float64{3, 2, 1}},
		{"Min", []*tensor.Tensor{b, c}, []int{3}, []float64{1, 4, 3}},
		{"Max", []*tensor.Tensor{ewF64([]int{2, 1}, 0, 10), ewF64([]int{3}, 1, -1, 12), ewF64([]int{}, 0.5)}, []int{2, 3}, []float64{1, 0.5, 12, 10, 10, 12}},
		{"Min", []*tensor.Tensor{ewF64([]int{2, 1}, 0, 10), ewF64([]int{3}, 1, -1, 12), ewF64([]int{}, 0.5)}, []int{2, 3}, []float64{0, -1, 0, 0.5, -1, 0.5}},
		{"Max", []*tensor.Tensor{ewF64([]int{2}, nan, 1), ewF64([]int{2}, 0, nan)}, []int{2}, []float64{nan, nan}},
		{"Max", []*tensor.Tensor{ewF32([]int{2}, -1, 3), ewF32([]int{2}, 2, 0)}, []int{2}, []float32{2, 3}},
		{"Min", []*tensor.Tensor{i64([]int{2}, -1, 3), i64([]int{1}, 2)}, []int{2}, []int64{-1, 2}},
		{"Max", []*tensor.Tensor{tensor.New([]int{2}, []int32{-1, 3}), tensor.New([]int{2}, []int32{2, 0})}, []int{2}, []int32{2, 3}},
		{"Max", []*tensor.Tensor{tensor.New([]int{2}, []uint8{1, 255}), tensor.New([]int{2}, []uint8{200, 0})}, []int{2}, []uint8{200, 255}},
		{"Min", []*tensor.Tensor{tensor.New([]int{2}, []int8{-128, 3}), tensor.New([]int{2}, []int8{2, 0})}, []int{2}, []int8{-128, 0}},
	}
	for _, c := range cases {
		out := ewRun(t, Node{OpType: c.op, Opset: 13}, c.in...)
		ewCheck(t, c.op, out[0], c.shape, c.want, 0)
	}
	if _, err := ewTry(Node{OpType: "Max", Opset: 13}, a, ewF32([]int{3}, 1, 2, 3)); err == nil {
		t.Error("Max accepted mixed types")
	}
	if _, err := ewTry(Node{OpType: "Min", Opset: 13}, a, ewF64([]int{2}, 1, 2)); err == nil {
		t.Error("Min accepted shapes that do not broadcast")
	}
}

func TestMinMaxGrad(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	for _, op := range []string{"Min", "Max"} {
		cases := []gradCase{
			{name: op + "/one", in: []*tensor.Tensor{randT(r, -2, 2, 2, 3)}},
			{name: op + "/two", in: []*tensor.Tensor{randT(r, -2, 2, 2, 3), randT(r, -2, 2, 2, 3)}},
			{name: op + "/three-bcast", in: []*tensor.Tensor{randT(r, -2, 2, 2, 3, 4), randT(r, -2, 2, 3, 1), randT(r, -2, 2, 4)}},
			{name: op + "/scalar", in: []*tensor.Tensor{randT(r, -2, 2, 5), randT(r, -2, 2)}},
			{name: op + "/bcast-both", in: []*tensor.Tensor{randT(r, -2, 2, 3, 1), randT(r, -2, 2, 1, 4)}},
			{name: op + "/some", in: []*tensor.Tensor{randT(r, -2, 2, 3, 4), randT(r, -2, 2, 4), randT(r, -2, 2, 3, 1)}, wrt: []int{1}},
		}
		for _, c := range cases {
			c.node = Node{OpType: op, Opset: 13}
			t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
		}
	}
}

// TestMinMaxGradTies checks that a tie sends the gradient to the first input.
func TestMinMaxGradTies(t *testing.T) {
	for _, op := range []string{"Min", "Max"} {
		in := []*tensor.Tensor{ewF64([]int{3}, 1, 2, 3), ewF64([]int{3}, 1, 2, 0), ewF64([]int{}, 2)}
		n := Node{OpType: op, Opset: 13, Inputs: []bool{true, true, true}, NumOutputs: 1}
		o, _ := Build(&n)
		y, _ := o.Forward(in)
		g, err := o.(Differentiable).Backward(in, y, []*tensor.Tensor{ewF64([]int{3}, 1, 10, 100)}, []bool{true, true, true})
		if err != nil {
			t.Fatal(err)
		}
		var w0, w1, w2 []float64
		if op == "Max" {
			// y = [2 (x2), 2 (x0), 3 (x0)]
			w0, w1, w2 = []float64{0, 10, 100}, []float64{0, 0, 0}, []float64{1}
		} else {
			// y = [1 (x0), 2 (x0), 0 (x1)]
			w0, w1, w2 = []float64{1, 10, 0}, []float64{0, 0, 100}, []float64{0}
		}
		ewCheck(t, op+"/d0", g[0], []int{3}, w0, 0)
		ewCheck(t, op+"/d1", g[1], []int{3}, w1, 0)
		ewCheck(t, op+"/d2", g[2], []int{}, w2, 0)
	}
}
