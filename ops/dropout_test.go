package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

func dropoutOp(t *testing.T, n Node) Differentiable {
	t.Helper()
	n.OpType = "Dropout"
	if n.Opset == 0 {
		n.Opset = 13
	}
	if n.NumOutputs == 0 {
		n.NumOutputs = 1
	}
	op, err := Build(&n)
	if err != nil {
		t.Fatal(err)
	}
	return op.(Differentiable)
}

func TestDropoutInference(t *testing.T) {
	x := ewF32([]int{2, 3}, 1, -2, 3, -4, 5, -6)
	xs := []float32{1, -2, 3, -4, 5, -6}
	all := []bool{true, true, true, true, true, true}
	cases := []struct {
		name string
		node Node
		in   []*tensor.Tensor
		mask any // nil: no mask output
	}{
		{"default", Node{}, []*tensor.Tensor{x}, nil},
		{"mask", Node{NumOutputs: 2}, []*tensor.Tensor{x}, all},
		{"ratio", Node{NumOutputs: 2}, []*tensor.Tensor{x, ewF32([]int{}, 0.1)}, all},
		{"train-false", Node{NumOutputs: 2}, []*tensor.Tensor{x, ewF32([]int{}, 0.7), ewB([]int{}, false)}, all},
		{"train-ratio0", Node{NumOutputs: 2}, []*tensor.Tensor{x, ewF64([]int{}, 0), ewB([]int{}, true)}, all},
		{"train-ratio0-1out", Node{}, []*tensor.Tensor{x, ewF64([]int{}, 0), ewB([]int{}, true)}, nil},
		{"absent-ratio", Node{NumOutputs: 2, Inputs: []bool{true, false, true}}, []*tensor.Tensor{x, nil, ewB([]int{}, false)}, all},
		{"old", Node{Opset: 11, Attrs: map[string]Attr{"ratio": {Kind: AttrFloat, F: 0.2}}}, []*tensor.Tensor{x}, nil},
		{"old-mask", Node{Opset: 10, NumOutputs: 2}, []*tensor.Tensor{x}, all},
		{"old-mask-T", Node{Opset: 7, NumOutputs: 2}, []*tensor.Tensor{x}, []float32{1, 1, 1, 1, 1, 1}},
	}
	for _, c := range cases {
		op := dropoutOp(t, c.node)
		out, err := op.Forward(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		ewCheck(t, c.name+"/y", out[0], []int{2, 3}, xs, 0)
		if c.mask == nil {
			if len(out) != 1 {
				t.Errorf("%s: %d outputs, want 1", c.name, len(out))
			}
		} else if len(out) != 2 {
			t.Errorf("%s: %d outputs, want 2", c.name, len(out))
		} else {
			ewCheck(t, c.name+"/mask", out[1], []int{2, 3}, c.mask, 0)
		}
		if &out[0].F32()[0] == &xs[0] || &out[0].F32()[0] == &x.F32()[0] {
			t.Errorf("%s: output aliases the input", c.name)
		}
	}
	if _, err := dropoutOp(t, Node{}).Forward([]*tensor.Tensor{i64([]int{1}, 1)}); err == nil {
		t.Error("Dropout accepted int64")
	}
	if _, err := dropoutOp(t, Node{}).Forward([]*tensor.Tensor{x, ewF32([]int{}, 1.5), ewB([]int{}, true)}); err == nil {
		t.Error("Dropout accepted ratio 1.5")
	}
}

func TestDropoutTraining(t *testing.T) {
	const n = 100000
	const ratio = 0.25
	r := rand.New(rand.NewSource(17))
	x := randT(r, 0.5, 1.5, 10, n/10)
	in := []*tensor.Tensor{x, ewF64([]int{}, ratio), ewB([]int{}, true)}
	op := dropoutOp(t, Node{Name: "/encoder/dropout"})
	out, err := op.Forward(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 2 {
		t.Fatalf("%d outputs, want y and the extra mask", len(out))
	}
	y, mask := out[0].F64(), out[1].B()
	kept := 0
	for i, v := range x.F64() {
		want := 0.0
		if mask[i] {
			kept++
			want = v / (1 - ratio)
		}
		if math.Abs(y[i]-want) > 1e-15 {
			t.Fatalf("y[%d] = %g, want %g (mask %v)", i, y[i], want, mask[i])
		}
	}
	if f := float64(kept) / n; math.Abs(f-(1-ratio)) > 0.01 {
		t.Errorf("kept %.4f of the elements, want %.2f", f, 1-ratio)
	}

	// Backward: dx = dy · mask / (1 - ratio).
	g := randT(r, -1, 1, x.Shape...)
	d, err := op.Backward(in, out, []*tensor.Tensor{g, nil}, []bool{true, false, false})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range g.F64() {
		want := 0.0
		if mask[i] {
			want = v / (1 - ratio)
		}
		if math.Abs(d[0].F64()[i]-want) > 1e-15 {
			t.Fatalf("dx[%d] = %g, want %g", i, d[0].F64()[i], want)
		}
	}

	sameMask := func(a, b []*tensor.Tensor) bool {
		for i, v := range a[1].B() {
			if b[1].B()[i] != v {
				return false
			}
		}
		return true
	}
	// The next call draws a new mask; a fresh op of the same node repeats
	// the sequence; another node (name) or seed draws other masks.
	out2, _ := op.Forward(in)
	if sameMask(out, out2) {
		t.Error("two training calls drew the same mask")
	}
	again := dropoutOp(t, Node{Name: "/encoder/dropout"})
	a1, _ := again.Forward(in)
	a2, _ := again.Forward(in)
	if !sameMask(out, a1) || !sameMask(out2, a2) {
		t.Error("a fresh op of the same node drew other masks")
	}
	other, _ := dropoutOp(t, Node{Name: "/decoder/dropout"}).Forward(in)
	if sameMask(out, other) {
		t.Error("two nodes drew the same mask")
	}
	seeded := func(s int64) []*tensor.Tensor {
		o, _ := dropoutOp(t, Node{Name: "a", Attrs: map[string]Attr{"seed": {Kind: AttrInt, I: s}}}).Forward(in)
		return o
	}
	if !sameMask(seeded(3), seeded(3)) || sameMask(seeded(3), seeded(4)) {
		t.Error("the seed attribute does not decide the masks")
	}

	// a declared mask output, float32
	x32 := ewF32([]int{4}, 1, 2, 3, 4)
	o32, err := dropoutOp(t, Node{NumOutputs: 2}).Forward([]*tensor.Tensor{x32, ewF32([]int{}, 0.5), ewB([]int{}, true)})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range x32.F32() {
		want := float32(0)
		if o32[1].B()[i] {
			want = 2 * v
		}
		if o32[0].F32()[i] != want {
			t.Errorf("float32 y[%d] = %g, want %g", i, o32[0].F32()[i], want)
		}
	}
	// ratio 1 drops everything
	o1, err := dropoutOp(t, Node{}).Forward([]*tensor.Tensor{x32, ewF32([]int{}, 1), ewB([]int{}, true)})
	if err != nil {
		t.Fatal(err)
	}
	ewCheck(t, "ratio1", o1[0], []int{4}, []float32{0, 0, 0, 0}, 0)
}

func TestDropoutGrad(t *testing.T) {
	// In inference the op is the identity; training-mode backward (a new
	// mask per call, so no finite differences) is checked in TestDropoutTraining.
	r := rand.New(rand.NewSource(18))
	for _, c := range []gradCase{
		{name: "default", node: Node{OpType: "Dropout", Opset: 13}, in: []*tensor.Tensor{randT(r, -1, 1, 3, 4)}},
		{name: "mask", node: Node{OpType: "Dropout", Opset: 13, NumOutputs: 2}, in: []*tensor.Tensor{randT(r, -1, 1, 3, 4)}, nOuts: 1},
		{name: "train-false", node: Node{OpType: "Dropout", Opset: 13}, in: []*tensor.Tensor{randT(r, -1, 1, 5), ewF64([]int{}, 0.3), ewB([]int{}, false)}, wrt: []int{0}},
		{name: "ratio0", node: Node{OpType: "Dropout", Opset: 13}, in: []*tensor.Tensor{randT(r, -1, 1, 5), ewF64([]int{}, 0), ewB([]int{}, true)}, wrt: []int{0}},
		{name: "old", node: Node{OpType: "Dropout", Opset: 10}, in: []*tensor.Tensor{randT(r, -1, 1, 2, 2)}},
	} {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}
