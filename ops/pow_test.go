package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestPowForward(t *testing.T) {
	cases := []struct {
		name  string
		a, b  *tensor.Tensor
		shape []int
		want  any
	}{
		{"same", ewF64([]int{3}, 2, 3, 4), ewF64([]int{3}, 3, 2, 0.5), []int{3}, []float64{8, 9, 2}},
		{"sq", ewF64([]int{2, 2}, 1, -2, 3, 4), ewF64([]int{}, 2), []int{2, 2}, []float64{1, 4, 9, 16}},
		{"cube", ewF64([]int{2}, -2, 1.5), ewF64([]int{1}, 3), []int{2}, []float64{-8, 3.375}},
		{"sqrt", ewF64([]int{2}, 4, 2.25), ewF64([]int{}, 0.5), []int{2}, []float64{2, 1.5}},
		{"one", ewF64([]int{2}, 4, -2.25), ewF64([]int{}, 1), []int{2}, []float64{4, -2.25}},
		{"inv", ewF64([]int{2}, 4, -0.5), ewF64([]int{}, -1), []int{2}, []float64{0.25, -2}},
		{"zero", ewF64([]int{2}, 0, -3), ewF64([]int{}, 0), []int{2}, []float64{1, 1}},
		{"neg-frac", ewF64([]int{1}, -8), ewF64([]int{}, 1.0/3), []int{1}, []float64{math.NaN()}},
		{"bcast-row", ewF64([]int{2, 3}, 1, 2, 3, 4, 5, 6), ewF64([]int{3}, 1, 2, 3), []int{2, 3}, []float64{1, 4, 27, 4, 25, 216}},
		{"bcast-both", ewF64([]int{3}, 1, 2, 3), ewF64([]int{2, 1}, 2, 3), []int{2, 3}, []float64{1, 4, 9, 1, 8, 27}},
		{"scalar-base", ewF64([]int{}, 2), ewF64([]int{3}, 0, 1, 10), []int{3}, []float64{1, 2, 1024}},
		{"f32", ewF32([]int{2}, 3, 0.5), ewF32([]int{2}, 2, -2), []int{2}, []float32{9, 4}},
		{"f32^2", ewF32([]int{2}, 3, 0.1), ewF32([]int{}, 2), []int{2}, []float32{9, 0.1 * 0.1}},
		{"f32^i64", ewF32([]int{2}, 2, 3), i64([]int{2}, 3, -1), []int{2}, []float32{8, 1.0 / 3}},
		{"f32^i32", ewF32([]int{3}, 1, 2, 3), tensor.New([]int{3}, []int32{4, 5, 6}), []int{3}, []float32{1, 32, 729}},
		{"f64^f32", ewF64([]int{1}, 2), ewF32([]int{1}, 0.5), []int{1}, []float64{math.Sqrt2}},
		{"i32^f32", tensor.New([]int{3}, []int32{1, 2, 3}), ewF32([]int{3}, 4, 5, 6), []int{3}, []int32{1, 32, 729}},
		{"i32^i32", tensor.New([]int{3}, []int32{1, 2, 3}), tensor.New([]int{3}, []int32{4, 5, 6}), []int{3}, []int32{1, 32, 729}},
		{"i64^f32", i64([]int{3}, 1, 2, 3), ewF32([]int{3}, 4, 5, 0.5), []int{3}, []int64{1, 32, 1}},
		{"i64^i64", i64([]int{4}, 2, -3, 7, 0), i64([]int{4}, 3, 3, 0, 2), []int{4}, []int64{8, -27, 1, 0}},
		{"i64^neg", i64([]int{4}, 2, 1, -1, -1), i64([]int{4}, -1, -2, -3, -2), []int{4}, []int64{0, 1, -1, 1}},
		{"i64^u8", i64([]int{2}, 3, 2), tensor.New([]int{}, []uint8{3}), []int{2}, []int64{27, 8}},
	}
	for _, c := range cases {
		out := ewRun(t, Node{OpType: "Pow", Opset: 15}, c.a, c.b)
		ewCheck(t, "Pow/"+c.name, out[0], c.shape, c.want, 1e-7)
	}
	for _, bad := range [][2]*tensor.Tensor{
		{ewF64([]int{2}, 1, 2), ewF64([]int{3}, 1, 2, 3)},
		{tensor.New([]int{1}, []uint8{2}), tensor.New([]int{1}, []uint8{2})},
		{ewF64([]int{1}, 1), tensor.New([]int{1}, []bool{true})},
	} {
		if _, err := ewTry(Node{OpType: "Pow"}, bad[0], bad[1]); err == nil {
			t.Errorf("Pow accepted %v ^ %v", bad[0], bad[1])
		}
	}
}

func TestPowGrad(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	cases := []gradCase{
		{name: "same", in: []*tensor.Tensor{randT(r, 0.5, 2, 2, 3), randT(r, -2, 2, 2, 3)}},
		{name: "bcast-row", in: []*tensor.Tensor{randT(r, 0.5, 2, 2, 3, 4), randT(r, -2, 2, 4)}},
		{name: "bcast-both", in: []*tensor.Tensor{randT(r, 0.5, 2, 3, 1), randT(r, -2, 2, 1, 4)}},
		{name: "scalar-exp-both", in: []*tensor.Tensor{randT(r, 0.5, 2, 3, 2), randT(r, -2, 2)}},
		{name: "scalar-base", in: []*tensor.Tensor{randT(r, 0.5, 2), randT(r, -2, 2, 5)}},
		{name: "base-bcast", in: []*tensor.Tensor{randT(r, 0.5, 2, 4), randT(r, -2, 2, 3, 4)}},
		{name: "int-exp", in: []*tensor.Tensor{randT(r, -2, 2, 2, 3), i64([]int{3}, 2, 3, -1)}},
		{name: "int-exp-scalar", in: []*tensor.Tensor{randT(r, -2, 2, 2, 3), i64([]int{}, 3)}},
	}
	// scalar exponents of the fast path, the base only (negative bases too)
	for _, e := range []float64{0, 1, 2, 3, 0.5, -1.5, 1.7} {
		lo := -2.0
		if e != math.Trunc(e) {
			lo = 0.3
		}
		cases = append(cases, gradCase{name: "exp=" + tensor.Scalar(e).String(), in: []*tensor.Tensor{randT(r, lo, 2, 3, 4), ewF64([]int{}, e)}, wrt: []int{0}})
	}
	// negative base with integral exponents in the general path
	cases = append(cases, gradCase{name: "neg-base", in: []*tensor.Tensor{randT(r, -2, -0.5, 2, 2), ewF64([]int{2, 2}, 2, 3, -1, 4)}, wrt: []int{0}})
	for _, c := range cases {
		c.node = Node{OpType: "Pow", Opset: 15}
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestPowGradZeroBase checks the conventions at a zero base: dX = 0 for a
// zero exponent, dY = 0 for X = 0 and Y >= 0.
func TestPowGradZeroBase(t *testing.T) {
	a, b := ewF64([]int{3}, 0, 0, 2), ewF64([]int{3}, 0, 2, 0)
	n := Node{OpType: "Pow", Opset: 15, Inputs: []bool{true, true}, NumOutputs: 1}
	op, _ := Build(&n)
	y, _ := op.Forward([]*tensor.Tensor{a, b})
	g, err := op.(Differentiable).Backward([]*tensor.Tensor{a, b}, y, []*tensor.Tensor{ewF64([]int{3}, 1, 1, 1)}, []bool{true, true})
	if err != nil {
		t.Fatal(err)
	}
	ewCheck(t, "dX", g[0], []int{3}, []float64{0, 0, 0}, 0)
	ewCheck(t, "dY", g[1], []int{3}, []float64{0, 0, math.Ln2}, 1e-12)
}
