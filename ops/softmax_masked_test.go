package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// maskedCases: (a, b) shapes as the attention exports give them, either
// operand order, broadcast along the row, across ranks, and odd row lengths
// (vector kernel tails).
var maskedCases = []struct{ a, b []int }{
	{[]int{2, 3, 4, 5}, []int{2, 1, 1, 5}}, // [b,h,s,s] + [b,1,1,s]
	{[]int{2, 3, 4, 5}, []int{2, 1, 4, 5}}, // [b,1,s,s] (causal + padding)
	{[]int{2, 1, 1, 5}, []int{2, 3, 4, 5}}, // mask first
	{[]int{2, 3, 4, 5}, []int{2, 3, 4, 1}}, // constant along the row
	{[]int{3, 7}, []int{7}},                // lower rank
	{[]int{1, 4, 1}, []int{3, 1, 6}},       // neither operand is the output shape
	{[]int{2, 33}, []int{2, 33}},           // same shape
	{[]int{}, []int{}},                     // scalar
}

// TestMaskedSoftmaxGrad: Backward against central differences in float64,
// for the scores alone (as the graph asks: masks carry no gradient) and for
// both inputs (reduced over the broadcast axes).
func TestMaskedSoftmaxGrad(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, c := range maskedCases {
		for _, wrt := range [][]int{{0}, {1}, {0, 1}} {
			gc := gradCase{
				name: fmt.Sprintf("%v+%v/wrt%v", c.a, c.b, wrt),
				node: Node{OpType: "FtMaskedSoftmax"},
				in:   []*tensor.Tensor{randT(r, -3, 3, c.a...), randT(r, -3, 3, c.b...)},
				wrt:  wrt,
			}
			t.Run(gc.name, func(t *testing.T) { checkGrad(t, gc) })
		}
	}
}

// TestMaskedSoftmaxMatchesAddSoftmax: float32 forward and backward are bit
// for bit what the unfused Add → Softmax(axis -1) computes, with the
// finfo.min masks that Hugging Face exports use; float64 forward too.
func TestMaskedSoftmaxMatchesAddSoftmax(t *testing.T) {
	cases := append(maskedCases[:len(maskedCases):len(maskedCases)],
		struct{ a, b []int }{[]int{2, 3, 17, 128}, []int{2, 1, 1, 128}},
		struct{ a, b []int }{[]int{1, 2, 9, 9}, []int{1, 1, 9, 9}})
	r := rand.New(rand.NewSource(5))
	build := func(op string, opset int) Differentiable {
		o, err := Build(&Node{Name: "t", OpType: op, Opset: opset, Inputs: []bool{true, true}, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		return o.(Differentiable)
	}
	fused, add, soft := build("FtMaskedSoftmax", 1), build("Add", 14), build("Softmax", 13)
	for _, c := range cases {
		for _, dt := range []tensor.DType{tensor.Float32, tensor.Float64} {
			a := randT(r, -8, 8, c.a...)
			b := randT(r, -1, 1, c.b...)
			for i, v := range b.F64() { // padding positions: finfo(float32).min
				if v < -0.4 {
					b.F64()[i] = -math.MaxFloat32
				}
			}
			if dt == tensor.Float32 {
				a, b = laF32(a), laF32(b)
			}
			name := fmt.Sprintf("%v+%v/%s", c.a, c.b, dt)
			got, err := fused.Forward([]*tensor.Tensor{a, b})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			s, err := add.Forward([]*tensor.Tensor{a, b})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, err := soft.Forward(s)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameBits(t, name+" forward", got[0], want[0])
			if dt != tensor.Float32 {
				continue
			}
			dy := laF32(randT(r, -1, 1, want[0].Shape...))
			gf, err := fused.Backward([]*tensor.Tensor{a, b}, got, []*tensor.Tensor{dy}, []bool{true, true})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			ds, err := soft.Backward(s, want, []*tensor.Tensor{dy}, []bool{true})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			gu, err := add.Backward([]*tensor.Tensor{a, b}, s, ds, []bool{true, true})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			sameBits(t, name+" da", gf[0], gu[0])
			sameBits(t, name+" db", gf[1], gu[1])
		}
	}
}

func sameBits(t *testing.T, name string, got, want *tensor.Tensor) {
	t.Helper()
	if !tensor.SameShape(got.Shape, want.Shape) || got.DType() != want.DType() {
		t.Fatalf("%s: got %s %v, want %s %v", name, got.DType(), got.Shape, want.DType(), want.Shape)
	}
	g, w := got.Float64s(), want.Float64s()
	for i := range g {
		if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
			t.Fatalf("%s: element %d is %v, unfused %v", name, i, g[i], w[i])
		}
	}
}

// TestMaskedSoftmaxErrors: mismatched types and shapes are errors, not panics.
func TestMaskedSoftmaxErrors(t *testing.T) {
	op, err := Build(&Node{Name: "t", OpType: "FtMaskedSoftmax", Opset: 1, Inputs: []bool{true, true}, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range [][]*tensor.Tensor{
		{tensor.New([]int{2, 3}, make([]float32, 6)), tensor.New([]int{2, 3}, make([]float64, 6))},
		{tensor.New([]int{2, 3}, make([]float32, 6)), tensor.New([]int{2, 2}, make([]float32, 4))},
		{tensor.New([]int{2}, []int64{1, 2}), tensor.New([]int{2}, []int64{1, 2})},
	} {
		if _, err := op.Forward(in); err == nil {
			t.Errorf("%v, %v: no error", in[0], in[1])
		}
	}
}

// BenchmarkMaskedSoftmax: MiniLM attention at batch 32 × seq 128, fused
// against the exported Add then Softmax.
func BenchmarkMaskedSoftmax(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	x := laF32(randT(r, -4, 4, 32, 12, 128, 128))
	m := laF32(randT(r, -1, 0, 32, 1, 1, 128))
	build := func(op string, opset int) Op {
		o, err := Build(&Node{Name: "b", OpType: op, Opset: opset, Inputs: []bool{true, true}, NumOutputs: 1})
		if err != nil {
			b.Fatal(err)
		}
		return o
	}
	fused, add, soft := build("FtMaskedSoftmax", 1), build("Add", 14), build("Softmax", 13)
	b.Run("fused", func(b *testing.B) {
		for b.Loop() {
			if _, err := fused.Forward([]*tensor.Tensor{x, m}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("add+softmax", func(b *testing.B) {
		for b.Loop() {
			s, err := add.Forward([]*tensor.Tensor{x, m})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := soft.Forward(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
