package ops

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"ft/kernels"
	"ft/tensor"
)

// bf16Round64 is x (float64) rounded to float32 and then to bf16, as float64.
func bf16Round64(x *tensor.Tensor) *tensor.Tensor {
	d := x.F64()
	o := make([]float64, len(d))
	for i, v := range d {
		o[i] = float64(kernels.BF16ToF32(kernels.BF16FromF32(float32(v))))
	}
	return tensor.New(x.Shape, o)
}

func abs64(x *tensor.Tensor) *tensor.Tensor {
	if x == nil {
		return nil
	}
	d := x.F64()
	o := make([]float64, len(d))
	for i, v := range d {
		o[i] = math.Abs(v)
	}
	return tensor.New(x.Shape, o)
}

func f32s(ts []*tensor.Tensor) []*tensor.Tensor {
	r := make([]*tensor.Tensor, len(ts))
	for i, x := range ts {
		if x != nil {
			r[i] = laF32(x)
		}
	}
	return r
}

// TestBF16Products runs MatMul, Gemm and the fused attention products in
// bf16 (ForwardBF16, BackwardBF16) against the float64 op on the
// bf16-rounded operands (and, for backward, the bf16-rounded output
// gradient), within the bound of float32 accumulation: with K the longest
// contraction of the op's products, (K + 2·blocks + 3)·2^-24 times the
// same product of the absolute values (kernels' naiveGemmBF16). Operands
// that are not rounded would miss by about 2^-9 relative, far outside.
// A constant operand goes through the run's bf16 copy, converted once for
// forward and backward, with the bits of rounding while packing.
func TestBF16Products(t *testing.T) {
	r := rand.New(rand.NewSource(19))
	cases := []struct {
		name  string
		node  Node
		in    []*tensor.Tensor
		konst int // input index held as a constant (weight), or -1
		maxK  int // longest contraction of forward and backward products
	}{
		{"matmul-weight", laNode("MatMul", 13), []*tensor.Tensor{randT(r, -1, 1, 3, 37, 130), randT(r, -1, 1, 130, 70)}, 1, 130},
		{"matmul-batch", laNode("MatMul", 13), []*tensor.Tensor{randT(r, -1, 1, 2, 3, 9, 600), randT(r, -1, 1, 3, 600, 11)}, -1, 600},
		{"gemm-tB", laNode("Gemm", 13, "transB", 1, "alpha", 0.5, "beta", 2.0), []*tensor.Tensor{randT(r, -1, 1, 40, 90), randT(r, -1, 1, 50, 90), randT(r, -1, 1, 50)}, 1, 90},
		{"gemm-tA", laNode("Gemm", 13, "transA", 1), []*tensor.Tensor{randT(r, -1, 1, 90, 40), randT(r, -1, 1, 90, 50)}, 0, 90},
		{"attn-scores", Node{OpType: "FtAttentionScores"}, []*tensor.Tensor{randT(r, -1, 1, 2, 7, 3, 16), randT(r, -1, 1, 2, 9, 3, 16),
			tensor.New([]int{}, []float64{0.25}), tensor.New([]int{1}, []float64{0.5})}, -1, 16},
		{"attn-context", Node{OpType: "FtAttentionContext"}, []*tensor.Tensor{randT(r, 0, 1, 2, 3, 7, 9), randT(r, -1, 1, 2, 9, 3, 16)}, -1, 16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.node
			n.Name, n.Opset, n.NumOutputs = "t", 17, 1
			for _, x := range c.in {
				n.Inputs = append(n.Inputs, x != nil)
			}
			op, err := Build(&n)
			if err != nil {
				t.Fatal(err)
			}
			mp := op.(MixedPrecision)
			blocks := (c.maxK + 511) / 512
			u := (float64(c.maxK+2*blocks) + 3) * 0x1p-24

			// the reference reads the operands (inputs 0, 1) rounded to bf16
			rin := append([]*tensor.Tensor(nil), c.in...)
			ain := make([]*tensor.Tensor, len(c.in))
			for i, x := range c.in {
				if i < 2 {
					rin[i] = bf16Round64(x)
				}
				ain[i] = abs64(rin[i])
			}
			in32 := f32s(c.in)
			consts := map[*tensor.Tensor]bool{}
			if c.konst >= 0 {
				consts[in32[c.konst]] = true
			}
			run := NewBF16Run(consts)
			got, err := mp.ForwardBF16(in32, run)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := op.Forward(rin)
			bound, _ := op.Forward(ain)
			bfCheck(t, "forward", got[0], want[0], bound[0], u)

			dout := randT(r, -1, 1, got[0].Shape...)
			need := []bool{true, true}
			for range c.in[2:] {
				need = append(need, false)
			}
			d := op.(Differentiable)
			gg, err := mp.BackwardBF16(in32, got, []*tensor.Tensor{laF32(dout)}, need, run)
			if err != nil {
				t.Fatal(err)
			}
			gw, _ := d.Backward(rin, want, []*tensor.Tensor{bf16Round64(dout)}, need)
			gb, _ := d.Backward(ain, bound, []*tensor.Tensor{abs64(bf16Round64(dout))}, need)
			for i := range 2 {
				bfCheck(t, fmt.Sprintf("d%d", i), gg[i], gw[i], gb[i], u)
			}
			if c.konst >= 0 {
				if k := run.Converted(); k != 1 {
					t.Errorf("%d tensors converted, want the constant once", k)
				}
				// the same bits as rounding the constant while packing
				plain := NewBF16Run(nil)
				got2, _ := mp.ForwardBF16(in32, plain)
				gg2, _ := mp.BackwardBF16(in32, got2, []*tensor.Tensor{laF32(dout)}, need, plain)
				bfSame(t, "forward (no copy)", got[0], got2[0])
				for i := range 2 {
					bfSame(t, fmt.Sprintf("d%d (no copy)", i), gg[i], gg2[i])
				}
				if plain.Converted() != 0 {
					t.Errorf("a run without constants converted %d tensors", plain.Converted())
				}
			}
			// a float64 model runs in float64 whatever the switch says
			g64, _ := mp.ForwardBF16(c.in, run)
			w64, _ := op.Forward(c.in)
			bfSame(t, "float64", g64[0], w64[0])
		})
	}
}

func bfCheck(t *testing.T, what string, got, want, bound *tensor.Tensor, u float64) {
	t.Helper()
	if got.DType() != tensor.Float32 || !tensor.SameShape(got.Shape, want.Shape) {
		t.Fatalf("%s: %s %v, want float32 %v", what, got.DType(), got.Shape, want.Shape)
	}
	g, w, b := got.Float64s(), want.F64(), bound.F64()
	for i := range w {
		if e := math.Abs(g[i] - w[i]); e > u*b[i] {
			t.Fatalf("%s[%d] = %v, want %v ± %g", what, i, g[i], w[i], u*b[i])
		}
	}
}

func bfSame(t *testing.T, what string, a, b *tensor.Tensor) {
	t.Helper()
	x, y := a.Float64s(), b.Float64s()
	if len(x) != len(y) {
		t.Fatalf("%s: %d and %d elements", what, len(x), len(y))
	}
	for i := range x {
		if math.Float64bits(x[i]) != math.Float64bits(y[i]) {
			t.Fatalf("%s[%d]: %v and %v", what, i, x[i], y[i])
		}
	}
}
