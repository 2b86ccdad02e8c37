package ops

import (
	"fmt"
	"math/rand"
	"testing"

	"ft/tensor"
)

func TestMatMulForward(t *testing.T) {
	// Hand-derived: [[1,2],[3,4]]·[[5,6],[7,8]] = [[19,22],[43,50]].
	a := tensor.New([]int{2, 2}, []float32{1, 2, 3, 4})
	b := tensor.New([]int{2, 2}, []float32{5, 6, 7, 8})
	laClose(t, "2x2", laRun(t, laNode("MatMul", 13), a, b)[0], []int{2, 2}, []float64{19, 22, 43, 50}, 0)
	// 1-D · 1-D is a scalar: 1·4 + 2·5 + 3·6 = 32.
	v := tensor.New([]int{3}, []float64{1, 2, 3})
	w := tensor.New([]int{3}, []float64{4, 5, 6})
	laClose(t, "dot", laRun(t, laNode("MatMul", 13), v, w)[0], []int{}, []float64{32}, 0)

	// Against the brute-force reference (written as einsum equations with
	// size-1 broadcasting), float32 and float64.
	r := rand.New(rand.NewSource(3))
	for _, c := range []struct {
		a, b  []int
		eq    string
		out   []int
		batch bool
	}{
		{[]int{3, 4}, []int{4, 5}, "ij,jk->ik", []int{3, 5}, false},
		{[]int{2, 3, 4}, []int{4, 5}, "bij,jk->bik", []int{2, 3, 5}, false},
		{[]int{2, 3, 4}, []int{2, 4, 5}, "bij,bjk->bik", []int{2, 3, 5}, true},
		{[]int{2, 1, 3, 4}, []int{5, 4, 6}, "abij,bjk->abik", []int{2, 5, 3, 6}, true},
		{[]int{1, 3, 4}, []int{2, 4, 5}, "bij,bjk->bik", []int{2, 3, 5}, true},
		{[]int{4}, []int{2, 4, 5}, "j,bjk->bk", []int{2, 5}, true},
		{[]int{2, 3, 4}, []int{4}, "bij,j->bi", []int{2, 3}, false},
		{[]int{4}, []int{4, 5}, "j,jk->k", []int{5}, false},
		{[]int{70, 130}, []int{130, 90}, "ij,jk->ik", []int{70, 90}, false}, // packed GEMM path
		{[]int{3, 0, 4}, []int{4, 2}, "bij,jk->bik", []int{3, 0, 2}, false},
		{[]int{2, 3, 0}, []int{2, 0, 5}, "bij,bjk->bik", []int{2, 3, 5}, true},
	} {
		x, y := randT(r, -1, 1, c.a...), randT(r, -1, 1, c.b...)
		want, _ := laNaiveEinsum(c.eq, x, y)
		name := fmt.Sprintf("%v·%v", c.a, c.b)
		laClose(t, name+"/f64", laRun(t, laNode("MatMul", 13), x, y)[0], c.out, want, 1e-12)
		laClose(t, name+"/f32", laRun(t, laNode("MatMul", 9), laF32(x), laF32(y))[0], c.out, want, 1e-5)
	}
	for _, bad := range [][2][]int{{{2, 3}, {4, 5}}, {{2, 3, 4}, {3, 4, 5}}, {{}, {3}}} {
		if err := laForwardErr(laNode("MatMul", 13), randT(r, 0, 1, bad[0]...), randT(r, 0, 1, bad[1]...)); err == nil {
			t.Errorf("MatMul %v·%v: no error", bad[0], bad[1])
		}
	}
	if err := laForwardErr(laNode("MatMul", 13), laF32(randT(r, 0, 1, 2, 2)), randT(r, 0, 1, 2, 2)); err == nil {
		t.Errorf("MatMul float32·float64: no error")
	}
}

func TestMatMulGrad(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	cases := []gradCase{}
	for _, s := range [][2][]int{
		{{3, 4}, {4, 5}},
		{{2, 3, 4}, {4, 5}},          // folded batch (a weight)
		{{2, 3, 4}, {2, 4, 5}},       // batched
		{{2, 1, 3, 4}, {5, 4, 2}},    // both broadcast
		{{1, 3, 4}, {3, 4, 2}},       // A broadcast over the batch
		{{3, 2, 4}, {1, 4, 3}},       // B broadcast (size-1 batch)
		{{4}, {4, 5}},                // 1-D A
		{{2, 3, 4}, {4}},             // 1-D B
		{{4}, {2, 4, 3}},             // 1-D A against a batch
		{{4}, {4}},                   // dot
		{{2, 2, 3, 4}, {2, 1, 4, 3}}, // 4-D broadcast
		{{1, 4}, {4, 1}},
	} {
		cases = append(cases, gradCase{
			name: fmt.Sprintf("%v·%v", s[0], s[1]),
			node: Node{OpType: "MatMul", Opset: 13},
			in:   []*tensor.Tensor{randT(r, -1, 1, s[0]...), randT(r, -1, 1, s[1]...)},
		})
	}
	// Only one side.
	cases = append(cases, gradCase{name: "only-B", node: Node{OpType: "MatMul", Opset: 13},
		in: []*tensor.Tensor{randT(r, -1, 1, 2, 3, 4), randT(r, -1, 1, 4, 5)}, wrt: []int{1}})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { checkGrad(t, c) })
	}
}

// TestMatMulGradFloat32 compares the float32 backward with float64 on a
// size that takes the packed GEMM path.
func TestMatMulGradFloat32(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	a, b := randT(r, -1, 1, 2, 40, 70), randT(r, -1, 1, 70, 50)
	g := randT(r, -1, 1, 2, 40, 50)
	op, _ := Build(&Node{OpType: "MatMul", Opset: 13, Inputs: []bool{true, true}, NumOutputs: 1})
	d := op.(Differentiable)
	want, err := d.Backward([]*tensor.Tensor{a, b}, nil, []*tensor.Tensor{g}, []bool{true, true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := d.Backward([]*tensor.Tensor{laF32(a), laF32(b)}, nil, []*tensor.Tensor{laF32(g)}, []bool{true, true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		laClose(t, fmt.Sprintf("d%d", i), got[i], want[i].Shape, want[i].F64(), 1e-4)
		if got[i].DType() != tensor.Float32 {
			t.Errorf("gradient %d is %s", i, got[i].DType())
		}
	}
}

func BenchmarkMatMulLinear(b *testing.B) {
	// x [32, 128, 384] · W [384, 1536]: one folded GEMM.
	r := rand.New(rand.NewSource(1))
	x, w := laF32(randT(r, -1, 1, 8, 128, 384)), laF32(randT(r, -1, 1, 384, 1536))
	op, _ := Build(&Node{OpType: "MatMul", Opset: 13, Inputs: []bool{true, true}, NumOutputs: 1})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		op.Forward([]*tensor.Tensor{x, w})
	}
	b.ReportMetric(2*8*128*384*1536*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
}
