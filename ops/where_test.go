package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestWhereForward(t *testing.T) {
	cases := []struct {
		name    string
		c, x, y *tensor.Tensor
		shape   []int
		want    any
	}{
		{"same", ewB([]int{2, 2}, true, false, true, true), ewF64([]int{2, 2}, 1, 2, 3, 4), ewF64([]int{2, 2}, 9, 8, 7, 6), []int{2, 2}, []float64{1, 8, 3, 4}},
		{"bcast", ewB([]int{2, 1}, true, false), ewF64([]int{1, 3}, 1, 2, 3), ewF64([]int{}, -1), []int{2, 3}, []float64{1, 2, 3, -1, -1, -1}},
		{"bcast-cond", ewB([]int{3}, true, false, true), ewF32([]int{2, 1}, 1, 2), ewF32([]int{2, 3}, 0, 0, 0, 9, 9, 9), []int{2, 3}, []float32{1, 0, 1, 2, 9, 2}},
		{"mask", ewB([]int{2, 1, 3}, true, false, true, false, false, true), ewF32([]int{}, -1e4), ewF32([]int{1, 2, 3}, 1, 2, 3, 4, 5, 6), []int{2, 2, 3}, []float32{-1e4, 2, -1e4, -1e4, 5, -1e4, 1, 2, -1e4, 4, 5, -1e4}},
		{"i64", ewB([]int{2}, false, true), i64([]int{2}, 1, 2), i64([]int{1}, 7), []int{2}, []int64{7, 2}},
		{"i32", ewB([]int{}, true), tensor.New([]int{2}, []int32{1, 2}), tensor.New([]int{2}, []int32{3, 4}), []int{2}, []int32{1, 2}},
		{"bool", ewB([]int{2}, false, true), ewB([]int{2}, true, true), ewB([]int{2}, false, false), []int{2}, []bool{false, true}},
		{"u8", ewB([]int{2}, false, true), tensor.New([]int{2}, []uint8{1, 2}), tensor.New([]int{2}, []uint8{3, 4}), []int{2}, []uint8{3, 2}},
		{"i8", ewB([]int{2}, false, true), tensor.New([]int{2}, []int8{1, 2}), tensor.New([]int{2}, []int8{3, 4}), []int{2}, []int8{3, 2}},
	}
	for _, c := range cases {
		out := ewRun(t, Node{OpType: "Where", Opset: 16}, c.c, c.x, c.y)
		ewCheck(t, "Where/"+c.name, out[0], c.shape, c.want, 0)
	}
	if _, err := ewTry(Node{OpType: "Where"}, i64([]int{1}, 1), ewF64([]int{1}, 1), ewF64([]int{1}, 2)); err == nil {
		t.Error("Where accepted an int64 condition")
	}
	if _, err := ewTry(Node{OpType: "Where"}, ewB([]int{1}, true), ewF64([]int{1}, 1), ewF32([]int{1}, 2)); err == nil {
		t.Error("Where accepted mixed X and Y types")
	}
}

func randBool(r *rand.Rand, shape ...int) *tensor.Tensor {
	b := make([]bool, tensor.Size(shape))
	for i := range b {
		b[i] = r.Intn(2) == 0
	}
	return tensor.New(shape, b)
}

func TestWhereGrad(t *testing.T) {
	r := rand.New(rand.NewSource(14))
	cases := []gradCase{
		{name: "same", in: []*tensor.Tensor{randBool(r, 3, 4), randT(r, -1, 1, 3, 4), randT(r, -1, 1, 3, 4)}},
		{name: "bcast", in: []*tensor.Tensor{randBool(r, 2, 1, 4), randT(r, -1, 1, 3, 1), randT(r, -1, 1)}},
		{name: "bcast-cond", in: []*tensor.Tensor{randBool(r, 4), randT(r, -1, 1, 2, 4), randT(r, -1, 1, 2, 1)}},
		{name: "x-only", in: []*tensor.Tensor{randBool(r, 2, 3), randT(r, -1, 1, 3), randT(r, -1, 1, 2, 3)}, wrt: []int{1}},
		{name: "y-only", in: []*tensor.Tensor{randBool(r, 2, 3), randT(r, -1, 1, 2, 3), randT(r, -1, 1, 1, 3)}, wrt: []int{2}},
	}
	for _, c := range cases {
		c.node = Node{OpType: "Where", Opset: 16}
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
