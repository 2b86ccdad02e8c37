package stats

import (
	"math"
	"slices"
	"testing"
)

func TestSoftmax(t *testing.T) {
	// exp(0), exp(ln 3) over their sum 4; a huge shift must not overflow.
	for _, tc := range []struct {
		in   []float32
		want []float64
	}{
		{[]float32{0, float32(math.Log(3))}, []float64{0.25, 0.75}},
		{[]float32{1e30, 1e30}, []float64{0.5, 0.5}},
		{[]float32{5}, []float64{1}},
		{nil, []float64{}},
	} {
		got := Softmax(tc.in)
		if len(got) != len(tc.want) {
			t.Fatalf("Softmax(%v) = %v, want %v", tc.in, got, tc.want)
		}
		for i := range got {
			if math.Abs(got[i]-tc.want[i]) > 1e-7 {
				t.Errorf("Softmax(%v) = %v, want %v", tc.in, got, tc.want)
			}
		}
	}
}

func TestLogSumExp(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{0, 0}, math.Ln2},
		{[]float64{1000, 1000}, 1000 + math.Ln2}, // exp(1000) overflows unshifted
		{[]float64{math.Log(1), math.Log(2), math.Log(5)}, math.Log(8)},
		{[]float64{math.Inf(-1), math.Inf(-1)}, math.Inf(-1)},
		{[]float64{1, math.Inf(1)}, math.Inf(1)},
		{nil, math.Inf(-1)},
	} {
		if got := LogSumExp(tc.in); math.Abs(got-tc.want) > 1e-12 && got != tc.want {
			t.Errorf("LogSumExp(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestCorrelation(t *testing.T) {
	y := []float64{1, 2, 3, 4}
	p := []float64{1.75, 1.75, 4, 3}
	// Pearson: means 2.5 and 2.625; centred y -1.5 -.5 .5 1.5, p -.875 -.875 1.375 .375:
	// sxy = 1.3125+.4375+.6875+.5625 = 3, sxx = 5, syy = .765625·2+1.890625+.140625 = 3.5625.
	if got, want := Pearson(y, p), 3/math.Sqrt(5*3.5625); math.Abs(got-want) > 1e-15 {
		t.Errorf("Pearson = %v, want %v", got, want)
	}
	// Ranks of p are 1.5 1.5 4 3 (the tie shares 1.5); centred -1 -1 1.5 .5:
	// sxy = 1.5+.5+.75+.75 = 3.5, sxx = 5, syy = 4.5.
	if got := Ranks(p); !slices.Equal(got, []float64{1.5, 1.5, 4, 3}) {
		t.Errorf("Ranks = %v", got)
	}
	if got, want := Spearman(y, p), 3.5/math.Sqrt(5*4.5); math.Abs(got-want) > 1e-15 {
		t.Errorf("Spearman = %v, want %v", got, want)
	}
	if got := Pearson(y, []float64{2, 2, 2, 2}); !math.IsNaN(got) {
		t.Errorf("Pearson with a constant side = %v, want NaN", got)
	}
	// A perfect correlation is 1 at most, whatever the rounding.
	x := []float64{0.1, 0.2, 0.3, 0.7, 1.1}
	if got := Pearson(x, x); got > 1 || got < 1-1e-15 {
		t.Errorf("Pearson(x, x) = %v, want 1", got)
	}
}
