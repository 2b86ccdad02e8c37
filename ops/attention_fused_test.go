package ops

import (
	"math"
	"math/rand"
	"testing"

	"ft/tensor"
)

// runOp builds op type t (with attrs) and runs it forward.
func runOp(t *testing.T, opType string, attrs map[string]Attr, in ...*tensor.Tensor) *tensor.Tensor {
	t.Helper()
	ins := make([]bool, len(in))
	for i, x := range in {
		ins[i] = x != nil
	}
	op, err := Build(&Node{Name: "t", OpType: opType, Opset: 17, Attrs: attrs, Inputs: ins, NumOutputs: 1})
	if err != nil {
		t.Fatal(err)
	}
	out, err := op.Forward(in)
	if err != nil {
		t.Fatalf("%s: %v", opType, err)
	}
	return out[0]
}

func permAttr(p ...int64) map[string]Attr {
	return map[string]Attr{"perm": {Kind: AttrInts, Ints: p}}
}

// unfusedScores is the exported composition
// MatMul(Mul(Transpose(Xq,[0,2,1,3]),c1), Mul(Transpose(Xk,[0,2,3,1]),c2)).
func unfusedScores(t *testing.T, xq, xk, c1, c2 *tensor.Tensor) *tensor.Tensor {
	q := runOp(t, "Transpose", permAttr(0, 2, 1, 3), xq)
	k := runOp(t, "Transpose", permAttr(0, 2, 3, 1), xk)
	if c1 != nil {
		q = runOp(t, "Mul", nil, q, c1)
	}
	if c2 != nil {
		k = runOp(t, "Mul", nil, k, c2)
	}
	return runOp(t, "MatMul", nil, q, k)
}

// unfusedContext is Transpose(MatMul(P, Transpose(Xv,[0,2,1,3])), [0,2,1,3]).
func unfusedContext(t *testing.T, p, xv *tensor.Tensor) *tensor.Tensor {
	v := runOp(t, "Transpose", permAttr(0, 2, 1, 3), xv)
	return runOp(t, "Transpose", permAttr(0, 2, 1, 3), runOp(t, "MatMul", nil, p, v))
}

func to32(x *tensor.Tensor) *tensor.Tensor {
	if x == nil {
		return nil
	}
	d := make([]float32, x.Len())
	for i, v := range x.F64() {
		d[i] = float32(v)
	}
	return tensor.New(append([]int{}, x.Shape...), d)
}

// ulpDiff is the largest distance in float32 ulps (of the larger magnitude)
// between a and b, and the largest absolute difference.
func ulpDiff(a, b []float32) (ulps, abs float64) {
	for i := range a {
		d := math.Abs(float64(a[i]) - float64(b[i]))
		abs = max(abs, d)
		m := math.Max(math.Abs(float64(a[i])), math.Abs(float64(b[i])))
		if m > 0 {
			ulp := float64(math.Nextafter32(float32(m), float32(math.Inf(1)))) - m
			ulps = max(ulps, d/ulp)
		}
	}
	return ulps, abs
}

// TestAttentionFusedMatchesUnfused: the fused products equal the exported
// Transpose/Mul/MatMul composition (float64 to rounding, float32 within a
// few ulp of the larger inputs' products), scales present, absent or on one
// side, at sizes that take the small and the tiled GEMM paths.
func TestAttentionFusedMatchesUnfused(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, sz := range []struct{ b, sq, sk, h, d int }{{2, 3, 3, 2, 4}, {1, 5, 7, 3, 2}, {2, 40, 40, 4, 16}} {
		xq := randT(r, -1, 1, sz.b, sz.sq, sz.h, sz.d)
		xk := randT(r, -1, 1, sz.b, sz.sk, sz.h, sz.d)
		xv := randT(r, -1, 1, sz.b, sz.sk, sz.h, sz.d)
		p := randT(r, 0, 1, sz.b, sz.h, sz.sq, sz.sk)
		c := 1 / math.Sqrt(math.Sqrt(float64(sz.d)))
		c1 := tensor.New([]int{1}, []float64{c})
		c2 := tensor.New([]int{1}, []float64{c})
		for _, sc := range []struct {
			name   string
			c1, c2 *tensor.Tensor
		}{{"both", c1, c2}, {"none", nil, nil}, {"q-only", c1, nil}, {"k-only", nil, c2}} {
			want := unfusedScores(t, xq, xk, sc.c1, sc.c2)
			got := runOp(t, "FtAttentionScores", nil, xq, xk, sc.c1, sc.c2)
			if d := maxDiff(got.F64(), want.F64()); d > 1e-13 || !tensor.SameShape(got.Shape, want.Shape) {
				t.Errorf("%v scores %s: shape %v want %v, float64 max diff %g", sz, sc.name, got.Shape, want.Shape, d)
			}
			want32 := unfusedScores(t, to32(xq), to32(xk), to32(sc.c1), to32(sc.c2))
			got32 := runOp(t, "FtAttentionScores", nil, to32(xq), to32(xk), to32(sc.c1), to32(sc.c2))
			// the fused product scales once (α = c1·c2) where the exported
			// nodes scale both operands: a rounding or two per element,
			// relative to the sum of |products| (≤ d here)
			if _, abs := ulpDiff(got32.F32(), want32.F32()); abs > 4*float64(sz.d)*0x1p-24 {
				t.Errorf("%v scores %s: float32 max diff %g", sz, sc.name, abs)
			}
		}
		want := unfusedContext(t, p, xv)
		got := runOp(t, "FtAttentionContext", nil, p, xv)
		if d := maxDiff(got.F64(), want.F64()); d > 1e-13 || !tensor.SameShape(got.Shape, want.Shape) {
			t.Errorf("%v context: shape %v want %v, float64 max diff %g", sz, got.Shape, want.Shape, d)
		}
		got32 := runOp(t, "FtAttentionContext", nil, to32(p), to32(xv))
		want32 := unfusedContext(t, to32(p), to32(xv))
		if ulps, _ := ulpDiff(got32.F32(), want32.F32()); ulps != 0 {
			t.Errorf("%v context: float32 differs by %g ulp from the unfused path (same products, same order)", sz, ulps)
		}
	}
}

func maxDiff(a, b []float64) float64 {
	if len(a) != len(b) {
		return math.Inf(1)
	}
	d := 0.0
	for i := range a {
		d = max(d, math.Abs(a[i]-b[i]))
	}
	return d
}

// TestAttentionFusedGrad: backward against central differences (float64),
// and against the unfused composition's backward.
func TestAttentionFusedGrad(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	xq := randT(r, -1, 1, 2, 3, 2, 4)
	xk := randT(r, -1, 1, 2, 5, 2, 4)
	c1 := tensor.New([]int{1}, []float64{0.7})
	c2 := tensor.New([]int{}, []float64{-1.3})
	checkGrad(t, gradCase{name: "scores", node: Node{OpType: "FtAttentionScores"}, in: []*tensor.Tensor{xq, xk, c1, c2}, wrt: []int{0, 1}})
	checkGrad(t, gradCase{name: "scores-noscale", node: Node{OpType: "FtAttentionScores"}, in: []*tensor.Tensor{xq, xk, nil, nil}, wrt: []int{0, 1}})
	p := randT(r, 0, 1, 2, 2, 3, 5)
	xv := randT(r, -1, 1, 2, 5, 2, 4)
	checkGrad(t, gradCase{name: "context", node: Node{OpType: "FtAttentionContext"}, in: []*tensor.Tensor{p, xv}})
	checkGrad(t, gradCase{name: "context-p", node: Node{OpType: "FtAttentionContext"}, in: []*tensor.Tensor{p, xv}, wrt: []int{0}})

	checkGrad(t, gradCase{name: "scores-scales", node: Node{OpType: "FtAttentionScores"}, in: []*tensor.Tensor{xq, xk, c1, c2}})
	checkGrad(t, gradCase{name: "scores-c2", node: Node{OpType: "FtAttentionScores"}, in: []*tensor.Tensor{xq, xk, nil, c2}})
}

// TestAttentionFusedErrors: shapes the fusion cannot read say so.
func TestAttentionFusedErrors(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for _, c := range []struct {
		name string
		op   string
		in   []*tensor.Tensor
	}{
		{"rank3", "FtAttentionScores", []*tensor.Tensor{randT(r, 0, 1, 2, 3, 4), randT(r, 0, 1, 2, 3, 4), nil, nil}},
		{"heads", "FtAttentionScores", []*tensor.Tensor{randT(r, 0, 1, 2, 3, 2, 4), randT(r, 0, 1, 2, 3, 1, 4), nil, nil}},
		{"scale", "FtAttentionScores", []*tensor.Tensor{randT(r, 0, 1, 2, 3, 2, 4), randT(r, 0, 1, 2, 3, 2, 4), randT(r, 0, 1, 2), nil}},
		{"probs", "FtAttentionContext", []*tensor.Tensor{randT(r, 0, 1, 2, 2, 3, 4), randT(r, 0, 1, 2, 3, 2, 4)}},
	} {
		op, _ := Build(&Node{Name: "t", OpType: c.op, Opset: 17, Inputs: []bool{true, true, true, true}, NumOutputs: 1})
		if _, err := op.Forward(c.in); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// TestTransposedShape equals Shape(Transpose(X, perm)) with start/end.
func TestTransposedShape(t *testing.T) {
	x := tensor.Zeros(tensor.Float32, 2, 3, 4, 5)
	for _, c := range []struct {
		attrs map[string]Attr
		want  []int64
	}{
		{permAttr(0, 2, 1, 3), []int64{2, 4, 3, 5}},
		{map[string]Attr{"perm": {Kind: AttrInts, Ints: []int64{0, 2, 3, 1}}, "start": {Kind: AttrInt, I: -1}}, []int64{3}},
		{map[string]Attr{"perm": {Kind: AttrInts, Ints: []int64{0, 2, 1, 3}}, "start": {Kind: AttrInt, I: 1}, "end": {Kind: AttrInt, I: 3}}, []int64{4, 3}},
	} {
		got := runOp(t, "FtTransposedShape", c.attrs, x).Data.([]int64)
		if len(got) != len(c.want) {
			t.Fatalf("%v: got %v want %v", c.attrs, got, c.want)
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%v: got %v want %v", c.attrs, got, c.want)
			}
		}
	}
}
