package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// geluRef64 and geluGradRef64 are the float64 references (math.Erf, math.Exp).
func geluRef64(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
func geluGradRef64(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

func geluInputs(n int, r *rand.Rand) []float32 {
	x := make([]float32, n)
	special := []float32{0, float32(math.Copysign(0, -1)), 1e-30, -1e-30, 3.9, -3.9, 5.7, -5.7, 13.2, -13.2, 100, -100, 1e30, -1e30}
	for i := range x {
		if i < len(special) && n > 20 {
			x[i] = special[i]
			continue
		}
		x[i] = float32(r.NormFloat64() * 3)
	}
	return x
}

// TestGeluF32: the vector (where the CPU has it) and portable paths agree
// with the float64 reference within float32 accuracy on every length (the
// vector body and the scalar tail), and with each other within a few ulp;
// NaN and ±Inf behave as the math does.
func TestGeluF32(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	paths := avx512Paths(t)
	for _, n := range []int{0, 1, 15, 16, 17, 31, 33, 1000, 4099} {
		x := geluInputs(n, r)
		g := make([]float32, n)
		for i := range g {
			g[i] = float32(r.Float64()*2 - 1)
		}
		var ys, ds [2][]float32
		for k, avx := range paths {
			hasAVX512 = avx
			ys[k], ds[k] = make([]float32, n), make([]float32, n)
			GeluF32(x, ys[k])
			GeluGradF32(x, g, ds[k])
			for i, v := range x {
				w := geluRef64(float64(v))
				if e := math.Abs(float64(ys[k][i]) - w); e > 2e-6*math.Max(1, math.Abs(w)) {
					t.Fatalf("n=%d avx512=%v: Gelu(%g) = %g, want %g", n, avx, v, ys[k][i], w)
				}
				wd := float64(g[i]) * geluGradRef64(float64(v))
				if e := math.Abs(float64(ds[k][i]) - wd); e > 4e-6*math.Max(1, math.Abs(wd)) {
					t.Fatalf("n=%d avx512=%v: Gelu'(%g)·%g = %g, want %g", n, avx, v, g[i], ds[k][i], wd)
				}
			}
		}
		for i := range x {
			// a few ulp, or the float32 cancellation of 1 + erf for x ≪ 0
			if d := math.Abs(float64(ys[0][i] - ys[1][i])); d > 4*ulp(ys[0][i])+1e-6 {
				t.Fatalf("n=%d: Gelu(%g): portable %g, vector %g", n, x[i], ys[0][i], ys[1][i])
			}
		}
	}
	hasAVX512 = paths[1] // the CPU's own path
	x := make([]float32, 32)
	x[3], x[4], x[5] = float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))
	y, d := make([]float32, 32), make([]float32, 32)
	GeluF32(x, y)
	GeluGradF32(x, make([]float32, 32), d)
	if y[3] == y[3] || !math.IsInf(float64(y[4]), 1) || d[3] == d[3] {
		t.Errorf("Gelu(NaN, +Inf) = %v, %v; grad(NaN) = %v", y[3], y[4], d[3])
	}
}

func ulp(v float32) float64 {
	b := math.Float32bits(float32(math.Abs(float64(v))))
	return float64(math.Float32frombits(b+1) - math.Float32frombits(b))
}

func BenchmarkGeluF32(b *testing.B) {
	x := geluInputs(1<<16, rand.New(rand.NewSource(1)))
	y, g := make([]float32, len(x)), make([]float32, len(x))
	b.Run("forward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			GeluF32(x, y)
		}
		b.ReportMetric(float64(b.N*len(x))/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
	b.Run("backward", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			GeluGradF32(x, y, g)
		}
		b.ReportMetric(float64(b.N*len(x))/b.Elapsed().Seconds()/1e9, "Gelem/s")
	})
}
