package kernels

import (
	"math"
	"math/rand"
	"testing"

	"ft/internal/stats"
)

// TestSoftmaxF32: vector (rows of 16k) and portable paths against float64
// softmax; a NaN in a row makes the row NaN; -Inf entries get 0.
func TestSoftmaxF32(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	paths := avx512Paths(t)
	for _, n := range []int{1, 16, 33, 128, 512} {
		for _, scale := range []float64{1, 30} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(r.NormFloat64() * scale)
			}
			if n >= 16 {
				x[3] = float32(math.Inf(-1))
				x[5] = -1e4 // far below the rest: exp underflows to 0
			}
			want := stats.Softmax(x)
			for _, avx := range paths {
				hasAVX512 = avx
				y := make([]float32, n)
				SoftmaxF32(x, y)
				for i := range y {
					w := want[i]
					if math.Abs(float64(y[i])-w) > 1e-6*math.Max(w, 1e-3) {
						t.Fatalf("n=%d scale=%g avx512=%v: y[%d] = %g, want %g", n, scale, avx, i, y[i], w)
					}
				}
				in := append([]float32(nil), x...) // in place
				SoftmaxF32(in, in)
				for i := range in {
					if in[i] != y[i] {
						t.Fatalf("n=%d avx512=%v: in place y[%d] = %g, out of place %g", n, avx, i, in[i], y[i])
					}
				}
				x2 := append([]float32(nil), x...)
				x2[n/2] = float32(math.NaN())
				SoftmaxF32(x2, y)
				for i := range y {
					if y[i] == y[i] {
						t.Fatalf("n=%d avx512=%v: NaN input, y[%d] = %g", n, avx, i, y[i])
					}
				}
			}
		}
	}
}

// TestLogSoftmaxF32: against float64 log-softmax, in place and out of place.
func TestLogSoftmaxF32(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	for _, n := range []int{1, 7, 64} {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(r.NormFloat64() * 20)
		}
		x64 := make([]float64, n)
		for i, v := range x {
			x64[i] = float64(v)
		}
		lse := stats.LogSumExp(x64)
		y := make([]float32, n)
		LogSoftmaxF32(x, y)
		for i, v := range x64 {
			w := v - lse
			if math.Abs(float64(y[i])-w) > 1e-5*math.Max(1, math.Abs(w)) {
				t.Fatalf("n=%d: y[%d] = %g, want %g", n, i, y[i], w)
			}
		}
		LogSoftmaxF32(x, x)
		for i := range x {
			if x[i] != y[i] {
				t.Fatalf("n=%d: in place y[%d] = %g, out of place %g", n, i, x[i], y[i])
			}
		}
	}
}

func BenchmarkSoftmaxF32(b *testing.B) {
	x := make([]float32, 128*1024)
	r := rand.New(rand.NewSource(1))
	for i := range x {
		x[i] = float32(r.NormFloat64() * 3)
	}
	y := make([]float32, len(x))
	benchPaths(b, len(x), func() {
		for j := 0; j < len(x); j += 128 {
			SoftmaxF32(x[j:j+128], y[j:j+128])
		}
	})
}

// TestSoftmaxGradF32: vector and portable paths against the float64
// gradient y·(g - Σ g·y), dx may alias g.
func TestSoftmaxGradF32(t *testing.T) {
	r := rand.New(rand.NewSource(3))
	paths := avx512Paths(t)
	for _, n := range []int{1, 16, 33, 128, 512} {
		x, y, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range x {
			x[i], g[i] = float32(r.NormFloat64()*3), float32(r.NormFloat64())
		}
		SoftmaxF32(x, y)
		s := 0.0
		for i := range y {
			s += float64(g[i]) * float64(y[i])
		}
		for _, avx := range paths {
			hasAVX512 = avx
			dx := make([]float32, n)
			SoftmaxGradF32(y, g, dx)
			for i := range dx {
				w := float64(y[i]) * (float64(g[i]) - s)
				if math.Abs(float64(dx[i])-w) > 1e-6*math.Max(1, math.Abs(w)) {
					t.Fatalf("n=%d avx512=%v: dx[%d] = %g, want %g", n, avx, i, dx[i], w)
				}
			}
			g2 := append([]float32(nil), g...)
			SoftmaxGradF32(y, g2, g2)
			for i := range g2 {
				if g2[i] != dx[i] {
					t.Fatalf("n=%d avx512=%v: in place dx[%d] = %g, out of place %g", n, avx, i, g2[i], dx[i])
				}
			}
		}
	}
}
