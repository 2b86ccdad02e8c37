package ops

import (
	"math/rand"
	"testing"

	"ft/tensor"
)

// gemmRef computes alpha·op(A)·op(B) + beta·C (C broadcast) by loops.
func gemmRef(a, b, c *tensor.Tensor, alpha, beta float64, ta, tb bool) []float64 {
	ad, bd := a.Float64s(), b.Float64s()
	m, k := a.Shape[0], a.Shape[1]
	if ta {
		m, k = k, m
	}
	n := b.Shape[1]
	if tb {
		n = b.Shape[0]
	}
	var cd []float64
	if c != nil {
		cd = laBroadcastTo(c.Float64s(), c.Shape, []int{m, n})
	}
	out := make([]float64, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			s := 0.0
			for p := 0; p < k; p++ {
				av, bv := ad[i*k+p], bd[p*n+j]
				if ta {
					av = ad[p*m+i]
				}
				if tb {
					bv = bd[j*k+p]
				}
				s += av * bv
			}
			out[i*n+j] = alpha * s
			if cd != nil {
				out[i*n+j] += beta * cd[i*n+j]
			}
		}
	}
	return out
}

var gemmOpCases = []struct {
	name        string
	m, n, k     int
	ta, tb      bool
	alpha, beta float64
	c           []int // nil: no C
}{
	{"default", 3, 4, 5, false, false, 1, 1, []int{3, 4}},
	{"no-C", 3, 4, 5, false, false, 1, 1, nil},
	{"transA", 3, 4, 5, true, false, 1, 1, []int{3, 4}},
	{"transB", 3, 4, 5, false, true, 1, 1, []int{4}},
	{"both", 3, 4, 5, true, true, 0.5, 2, []int{3, 1}},
	{"alpha-beta", 2, 3, 4, false, false, 0.25, 0.35, []int{1, 3}},
	{"scalar-C", 2, 3, 4, false, true, 1, -1.5, []int{}},
	{"single-elem-C", 2, 3, 4, true, false, 2, 1, []int{1}},
	{"beta-0", 2, 3, 4, false, false, 1, 0, []int{2, 3}},
	{"large", 70, 90, 130, true, true, 1.5, 0.5, []int{90}},
}

func TestGemmOpForward(t *testing.T) {
	// Hand-derived: A=[[1,2]], B=[[3],[4]], C=[10]: 2·(1·3+2·4) + 0.5·10 = 27.
	out := laRun(t, laNode("Gemm", 13, "alpha", 2.0, "beta", 0.5),
		tensor.New([]int{1, 2}, []float32{1, 2}), tensor.New([]int{2, 1}, []float32{3, 4}), tensor.New([]int{1}, []float32{10}))
	laClose(t, "hand", out[0], []int{1, 1}, []float64{27}, 0)

	r := rand.New(rand.NewSource(6))
	for _, c := range gemmOpCases {
		as, bs := []int{c.m, c.k}, []int{c.k, c.n}
		if c.ta {
			as = []int{c.k, c.m}
		}
		if c.tb {
			bs = []int{c.n, c.k}
		}
		a, b := randT(r, -1, 1, as...), randT(r, -1, 1, bs...)
		in := []*tensor.Tensor{a, b}
		var ct *tensor.Tensor
		if c.c != nil {
			ct = randT(r, -1, 1, c.c...)
			in = append(in, ct)
		}
		want := gemmRef(a, b, ct, c.alpha, c.beta, c.ta, c.tb)
		node := laNode("Gemm", 13, "alpha", c.alpha, "beta", c.beta, "transA", laB2I(c.ta), "transB", laB2I(c.tb))
		// float32 attributes: compare against the reference with the same rounding.
		want32 := gemmRef(a, b, ct, float64(float32(c.alpha)), float64(float32(c.beta)), c.ta, c.tb)
		laClose(t, c.name+"/f64", laRun(t, node, in...)[0], []int{c.m, c.n}, want32, 1e-12)
		in32 := make([]*tensor.Tensor, len(in))
		for i, x := range in {
			in32[i] = laF32(x)
		}
		laClose(t, c.name+"/f32", laRun(t, node, in32...)[0], []int{c.m, c.n}, want, 1e-5)
	}
	// Optional C absent but declared (opset 11): empty input.
	out = laRun(t, Node{OpType: "Gemm", Opset: 11, Inputs: []bool{true, true, false}},
		tensor.New([]int{1, 1}, []float64{2}), tensor.New([]int{1, 1}, []float64{3}), nil)
	laClose(t, "absent-C", out[0], []int{1, 1}, []float64{6}, 0)
	if err := laForwardErr(laNode("Gemm", 13), randT(r, 0, 1, 2, 3), randT(r, 0, 1, 2, 3)); err == nil {
		t.Errorf("mismatched Gemm: no error")
	}
	if err := laForwardErr(laNode("Gemm", 13), randT(r, 0, 1, 2, 3), randT(r, 0, 1, 3, 2), randT(r, 0, 1, 3)); err == nil {
		t.Errorf("Gemm with C that does not broadcast: no error")
	}
}

func laB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestGemmOpGrad(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	for _, c := range gemmOpCases {
		if c.m*c.n*c.k > 1000 {
			continue
		}
		as, bs := []int{c.m, c.k}, []int{c.k, c.n}
		if c.ta {
			as = []int{c.k, c.m}
		}
		if c.tb {
			bs = []int{c.n, c.k}
		}
		in := []*tensor.Tensor{randT(r, -1, 1, as...), randT(r, -1, 1, bs...)}
		if c.c != nil {
			in = append(in, randT(r, -1, 1, c.c...))
		}
		gc := gradCase{name: c.name, in: in,
			node: laNode("Gemm", 13, "alpha", c.alpha, "beta", c.beta, "transA", laB2I(c.ta), "transB", laB2I(c.tb))}
		t.Run(c.name, func(t *testing.T) { checkGrad(t, gc) })
	}
}
