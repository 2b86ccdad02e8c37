package ops

import (
	"math"
	"testing"

	"ft/tensor"
)

func TestModForward(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	negZero := math.Copysign(0, -1)
	fmod := func(f int64) map[string]Attr { return map[string]Attr{"fmod": {Kind: AttrInt, I: f}} }
	cases := []struct {
		name  string
		fmod  int64
		a, b  *tensor.Tensor
		shape []int
		want  any
	}{
		{"i64", 0, i64([]int{6}, -4, 7, 5, 4, -7, 8), i64([]int{6}, 2, -3, 8, -2, 3, 5), []int{6}, []int64{0, -2, 5, 0, 2, 3}},
		{"i64-fmod", 1, i64([]int{6}, -4, 7, 5, 4, -7, 8), i64([]int{6}, 2, -3, 8, -2, 3, 5), []int{6}, []int64{0, 1, 5, 0, -1, 3}},
		{"i32", 0, tensor.New([]int{3}, []int32{-4, 7, -7}), tensor.New([]int{3}, []int32{3, -3, -3}), []int{3}, []int32{2, -2, -1}},
		{"i8-fmod", 1, tensor.New([]int{3}, []int8{-4, 7, -128}), tensor.New([]int{3}, []int8{3, -3, -1}), []int{3}, []int8{-1, 1, 0}},
		{"u8", 0, tensor.New([]int{3}, []uint8{4, 255, 9}), tensor.New([]int{}, []uint8{6}), []int{3}, []uint8{4, 3, 3}},
		{"bcast", 0, i64([]int{2, 3}, 1, 2, 3, 4, 5, 6), i64([]int{3}, 2, -4, 5), []int{2, 3}, []int64{1, -2, 3, 0, -3, 1}},
		{"f64-fmod", 1, ewF64([]int{6}, -4.3, 7.2, 5, 4.3, -7.2, 8), ewF64([]int{6}, 2.1, -3.4, 8, -2.1, 3.4, 5), []int{6},
			[]float64{math.Mod(-4.3, 2.1), math.Mod(7.2, -3.4), 5, math.Mod(4.3, -2.1), math.Mod(-7.2, 3.4), 3}},
		{"f64", 0, ewF64([]int{6}, -4.3, 7.2, 5, 4.3, -7.2, 8), ewF64([]int{6}, 2.1, -3.4, 8, -2.1, 3.4, 5), []int{6},
			[]float64{2.1 + math.Mod(-4.3, 2.1), -3.4 + math.Mod(7.2, -3.4), 5, -2.1 + math.Mod(4.3, -2.1), 3.4 + math.Mod(-7.2, 3.4), 3}},
		{"f64-edges", 0,
			ewF64([]int{11}, 0, negZero, 0, negZero, -3, 3, 3, -3, inf, 1, nan),
			ewF64([]int{11}, -2, 2, 2, -2, inf, inf, -inf, -inf, 2, 0, 1), []int{11},
			[]float64{negZero, 0, 0, negZero, inf, 3, -inf, -3, nan, nan, nan}},
		{"f64-fmod-edges", 1,
			ewF64([]int{6}, 3, -3, inf, 1, nan, negZero),
			ewF64([]int{6}, inf, -inf, 2, 0, 1, 2), []int{6},
			[]float64{3, -3, nan, nan, nan, negZero}},
		{"f32", 0, ewF32([]int{2}, -4.5, 7.5), ewF32([]int{}, 2), []int{2}, []float32{1.5, 1.5}},
	}
	for _, c := range cases {
		out := ewRun(t, Node{OpType: "Mod", Opset: 13, Attrs: fmod(c.fmod)}, c.a, c.b)
		ewCheck(t, "Mod/"+c.name, out[0], c.shape, c.want, 1e-12)
	}
	if _, err := ewTry(Node{OpType: "Mod"}, i64([]int{2}, 1, 2), i64([]int{2}, 1, 0)); err == nil {
		t.Error("Mod accepted an integer division by zero")
	}
	if _, err := ewTry(Node{OpType: "Mod", Attrs: fmod(2)}, i64([]int{1}, 1), i64([]int{1}, 1)); err == nil {
		t.Error("Mod accepted fmod=2")
	}
}
