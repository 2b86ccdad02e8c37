package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// TestLayerNormFloat32Rows: float32 LayerNormalization with D a multiple of
// 16 (kernels' row kernels, float32 statistics) against the float64 path
// (checked by finite differences in TestLayerNormGrad) on the same inputs:
// Y, Mean, InvStdDev, and the gradients of X, Scale and B, with the Mean and
// InvStdDev gradients reaching the loss, over several row chunks.
func TestLayerNormFloat32Rows(t *testing.T) {
	r := rand.New(rand.NewSource(15))
	for _, c := range []struct {
		shape []int
		bias  bool
		nOut  int
	}{
		{[]int{3, 16}, true, 1},
		{[]int{70, 48}, true, 3},
		{[]int{2, 100, 32}, false, 1},
		{[]int{5, 384}, true, 3},
	} {
		name := fmt.Sprintf("%v/bias%v/outs%d", c.shape, c.bias, c.nOut)
		d := c.shape[len(c.shape)-1]
		in := []*tensor.Tensor{randT(r, -2, 3, c.shape...), randT(r, 0.5, 1.5, d)}
		if c.bias {
			in = append(in, randT(r, -1, 1, d))
		}
		in32 := make([]*tensor.Tensor, len(in))
		for i, v := range in {
			in32[i] = laF32(v)
			in[i] = tensor.New(v.Shape, in32[i].Float64s()) // the same values in float64
		}
		n := laNode("LayerNormalization", 17, "epsilon", 1e-5)
		n.NumOutputs = c.nOut
		op, err := Build(&n)
		if err != nil {
			t.Fatal(err)
		}
		out64, err := op.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		out32, err := op.Forward(in32)
		if err != nil {
			t.Fatal(err)
		}
		for i := range out64 {
			laClose(t, fmt.Sprintf("%s/out%d", name, i), out32[i], out64[i].Shape, out64[i].Float64s(), 2e-6)
		}
		dout64 := []*tensor.Tensor{randT(r, -1, 1, c.shape...)}
		for i := 1; i < c.nOut; i++ {
			dout64 = append(dout64, randT(r, -1, 1, out64[i].Shape...))
		}
		dout32 := make([]*tensor.Tensor, len(dout64))
		for i, v := range dout64 {
			dout32[i] = laF32(v)
			dout64[i] = tensor.New(v.Shape, dout32[i].Float64s())
		}
		need := []bool{true, true, c.bias}
		g64, err := op.(Differentiable).Backward(in, out64, dout64, need)
		if err != nil {
			t.Fatal(err)
		}
		g32, err := op.(Differentiable).Backward(in32, out32, dout32, need)
		if err != nil {
			t.Fatal(err)
		}
		for i := range in {
			if g64[i] == nil {
				continue
			}
			if g32[i] == nil || g32[i].DType() != tensor.Float32 {
				t.Fatalf("%s: gradient %d = %v", name, i, g32[i])
			}
			// relative to the largest gradient entry: dX is a difference of
			// row terms of that size
			want, scale := g64[i].Float64s(), 0.0
			for _, v := range want {
				scale = math.Max(scale, math.Abs(v))
			}
			for j, v := range g32[i].Float64s() {
				if math.Abs(v-want[j]) > 1e-5*scale {
					t.Fatalf("%s: gradient %d element %d = %v, want %v (largest %v)", name, i, j, v, want[j], scale)
				}
			}
		}
	}
}
