package ops

import (
	"testing"

	"ft/tensor"
)

// TestArithBroadcastForward checks arithMap against values worked out by
// hand, for every kind of run: both contiguous, one side broadcast along the
// run, both broadcast along it, and broadcasting in outer dimensions.
func TestArithBroadcastForward(t *testing.T) {
	a23 := tensor.New([]int{2, 3}, []float32{1, 2, 3, 4, 5, 6})
	cases := []struct {
		op   string
		a, b *tensor.Tensor
		want []float32
		sh   []int
	}{
		{"Add", a23, tensor.New([]int{3}, []float32{10, 20, 30}), []float32{11, 22, 33, 14, 25, 36}, []int{2, 3}},
		{"Sub", tensor.New([]int{2, 1}, []float32{1, 2}), a23, []float32{0, -1, -2, -2, -3, -4}, []int{2, 3}},
		{"Mul", tensor.New([]int{2, 1}, []float32{2, 3}), tensor.New([]int{1, 1}, []float32{5}), []float32{10, 15}, []int{2, 1}},
		{"Div", tensor.New([]int{3, 1, 2}, []float32{2, 4, 6, 8, 10, 12}), tensor.New([]int{2, 1}, []float32{2, 4}),
			[]float32{1, 2, 0.5, 1, 3, 4, 1.5, 2, 5, 6, 2.5, 3}, []int{3, 2, 2}},
		{"Add", tensor.Scalar[float32](1), a23, []float32{2, 3, 4, 5, 6, 7}, []int{2, 3}},
	}
	for _, c := range cases {
		op, err := Build(&Node{OpType: c.op, Opset: 17, Inputs: []bool{true, true}, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := op.Forward([]*tensor.Tensor{c.a, c.b})
		if err != nil {
			t.Fatal(err)
		}
		if !tensor.SameShape(out[0].Shape, c.sh) {
			t.Fatalf("%s %v %v: shape %v, want %v", c.op, c.a.Shape, c.b.Shape, out[0].Shape, c.sh)
		}
		for i, v := range out[0].F32() {
			if v != c.want[i] {
				t.Fatalf("%s %v %v = %v, want %v", c.op, c.a.Shape, c.b.Shape, out[0].F32(), c.want)
			}
		}
	}
}
