package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// TestAddBiasFloat32: a float32 Add of rows and a broadcast bias vector
// (either order, [D] or [1, D], D on and off the vector path) is exactly the
// float32 sum of each pair, and the bias gradient is the column sum of the
// output gradient (float64 reference) over enough rows for several chunks.
func TestAddBiasFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(16))
	for _, c := range []struct {
		x, b    []int
		biasFst bool
	}{
		{[]int{7, 48}, []int{48}, false},
		{[]int{2, 300, 48}, []int{48}, true},
		{[]int{3, 40, 32}, []int{1, 32}, false},
		{[]int{3, 4, 16}, []int{4, 16}, true},
		{[]int{9, 5}, []int{5}, false},
		{[]int{2500, 5}, []int{1, 5}, true},
	} {
		name := fmt.Sprintf("%v+%v/biasfirst%v", c.x, c.b, c.biasFst)
		x, b := laF32(randT(r, -3, 3, c.x...)), laF32(randT(r, -1, 1, c.b...))
		in := []*tensor.Tensor{x, b}
		bi := 1
		if c.biasFst {
			in, bi = []*tensor.Tensor{b, x}, 0
		}
		op, err := Build(&Node{OpType: "Add", Opset: 17, Inputs: []bool{true, true}, NumOutputs: 1})
		if err != nil {
			t.Fatal(err)
		}
		out, err := op.Forward(in)
		if err != nil {
			t.Fatal(err)
		}
		n := b.Len()
		xd, bd := x.F32(), b.F32()
		if !tensor.SameShape(out[0].Shape, c.x) {
			t.Fatalf("%s: shape %v", name, out[0].Shape)
		}
		for i, v := range out[0].F32() {
			if want := float32(float64(xd[i]) + float64(bd[i%n])); v != want {
				t.Fatalf("%s: y[%d] = %v, want %v", name, i, v, want)
			}
		}
		g := laF32(randT(r, -1, 1, c.x...))
		grads, err := op.(Differentiable).Backward(in, out, []*tensor.Tensor{g}, []bool{true, true})
		if err != nil {
			t.Fatal(err)
		}
		gb, gx := grads[bi], grads[1-bi]
		if !tensor.SameShape(gb.Shape, c.b) || !tensor.SameShape(gx.Shape, c.x) {
			t.Fatalf("%s: gradient shapes %v %v", name, grads[0].Shape, grads[1].Shape)
		}
		for i, v := range gx.F32() {
			if v != g.F32()[i] {
				t.Fatalf("%s: dx[%d] = %v, want %v", name, i, v, g.F32()[i])
			}
		}
		rows := x.Len() / n
		for j, v := range gb.F32() {
			want := 0.0
			for i := 0; i < rows; i++ {
				want += float64(g.F32()[i*n+j])
			}
			if math.Abs(float64(v)-want) > 1e-6*float64(rows) {
				t.Fatalf("%s: db[%d] = %v, want %v", name, j, v, want)
			}
		}
	}
}
