package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// lnRef64 returns the float64 mean and rstd of x.
func lnRef64(x []float32, eps float64) (mean, rstd float64) {
	for _, v := range x {
		mean += float64(v)
	}
	mean /= float64(len(x))
	var q float64
	for _, v := range x {
		q += (float64(v) - mean) * (float64(v) - mean)
	}
	return mean, 1 / math.Sqrt(q/float64(len(x))+eps)
}

func randRow(r *rand.Rand, n int, off, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(off + scale*r.NormFloat64())
	}
	return x
}

// TestLayerNormF32: vector (rows of 16k) and portable paths of the
// statistics and the forward row against float64, with and without Scale
// and B, out of place and in place, on body and tail lengths.
func TestLayerNormF32(t *testing.T) {
	r := rand.New(rand.NewSource(4))
	paths := avx512Paths(t)
	const eps = 1e-5
	for _, n := range []int{1, 15, 16, 17, 33, 128, 384, 400} {
		for _, off := range []float64{0, 5} {
			x := randRow(r, n, off, 2)
			w, b := randRow(r, n, 1, 0.5), randRow(r, n, 0, 0.5)
			m64, rs64 := lnRef64(x, eps)
			for _, avx := range paths {
				hasAVX512 = avx
				mean, rstd := LayerNormStatsF32(x, eps)
				if math.Abs(float64(mean)-m64) > 1e-6*(math.Abs(m64)+2) {
					t.Fatalf("n=%d off=%g avx512=%v: mean %g, want %g", n, off, avx, mean, m64)
				}
				if math.Abs(float64(rstd)-rs64) > 1e-5*rs64 {
					t.Fatalf("n=%d off=%g avx512=%v: rstd %g, want %g", n, off, avx, rstd, rs64)
				}
				for _, c := range []struct {
					name string
					w, b []float32
				}{{"w,b", w, b}, {"w", w, nil}, {"b", nil, b}, {"none", nil, nil}} {
					y := make([]float32, n)
					LayerNormF32(x, c.w, c.b, y, mean, rstd)
					for j, v := range x {
						want := (float64(v) - m64) * rs64
						if c.w != nil {
							want *= float64(c.w[j])
						}
						if c.b != nil {
							want += float64(c.b[j])
						}
						if math.Abs(float64(y[j])-want) > 1e-5*math.Max(1, math.Abs(want)) {
							t.Fatalf("n=%d off=%g avx512=%v %s: y[%d] = %g, want %g", n, off, avx, c.name, j, y[j], want)
						}
					}
					in := append([]float32(nil), x...)
					LayerNormF32(in, c.w, c.b, in, mean, rstd)
					for j := range in {
						if in[j] != y[j] {
							t.Fatalf("n=%d avx512=%v %s: in place y[%d] = %g, out of place %g", n, avx, c.name, j, in[j], y[j])
						}
					}
				}
			}
		}
	}
}

// TestLayerNormGradF32: the two backward passes (row sums with the Scale
// and B gradients, then dX) on both paths against the float64 gradient
// dx = rstd·(dn - mean dn - xhat·mean(dn·xhat)), dn = g·w; dx may alias g.
func TestLayerNormGradF32(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	paths := avx512Paths(t)
	const eps = 1e-5
	for _, n := range []int{1, 15, 16, 17, 33, 128, 384, 400} {
		x := randRow(r, n, 3, 2)
		g := randRow(r, n, 0, 1)
		w := randRow(r, n, 1, 0.5)
		dw0, db0 := randRow(r, n, 0, 1), randRow(r, n, 0, 1)
		m64, rs64 := lnRef64(x, eps)
		for _, withW := range []bool{true, false} {
			var sdn64, sdnx64 float64
			dn64, xh64 := make([]float64, n), make([]float64, n)
			for j, v := range x {
				xh64[j] = (float64(v) - m64) * rs64
				dn64[j] = float64(g[j])
				if withW {
					dn64[j] *= float64(w[j])
				}
				sdn64 += dn64[j]
				sdnx64 += dn64[j] * xh64[j]
			}
			ww := w
			if !withW {
				ww = nil
			}
			for _, avx := range paths {
				hasAVX512 = avx
				mean, rstd := LayerNormStatsF32(x, eps)
				dw := append([]float32(nil), dw0...)
				db := append([]float32(nil), db0...)
				sdn, sdnx := LayerNormGradSumsF32(x, g, ww, dw, db, mean, rstd)
				if math.Abs(float64(sdn)-sdn64) > 1e-5*float64(n) || math.Abs(float64(sdnx)-sdnx64) > 1e-5*float64(n) {
					t.Fatalf("n=%d w=%v avx512=%v: sums %g %g, want %g %g", n, withW, avx, sdn, sdnx, sdn64, sdnx64)
				}
				for j := range dw {
					wantW := float64(dw0[j]) + float64(g[j])*xh64[j]
					wantB := float64(db0[j]) + float64(g[j])
					if math.Abs(float64(dw[j])-wantW) > 1e-5*math.Max(1, math.Abs(wantW)) || float64(db[j]) != float64(float32(wantB)) {
						t.Fatalf("n=%d w=%v avx512=%v: dw[%d], db[%d] = %g, %g, want %g, %g", n, withW, avx, j, j, dw[j], db[j], wantW, wantB)
					}
				}
				// without the parameter gradients: the same sums
				s2, sx2 := LayerNormGradSumsF32(x, g, ww, nil, nil, mean, rstd)
				if math.Abs(float64(s2-sdn)) > 1e-6*float64(n) || math.Abs(float64(sx2-sdnx)) > 1e-6*float64(n) {
					t.Fatalf("n=%d w=%v avx512=%v: sums without dw, db %g %g, with %g %g", n, withW, avx, s2, sx2, sdn, sdnx)
				}
				inv := 1 / float32(n)
				k1, k0 := -rstd*sdnx*inv, -rstd*sdn*inv
				dx := make([]float32, n)
				LayerNormGradF32(x, g, ww, dx, mean, rstd, k1, k0)
				scale := 0.0
				want := make([]float64, n)
				for j := range want {
					want[j] = rs64 * (dn64[j] - sdn64/float64(n) - xh64[j]*sdnx64/float64(n))
					scale = math.Max(scale, math.Abs(want[j]))
				}
				for j := range dx {
					if math.Abs(float64(dx[j])-want[j]) > 2e-5*math.Max(scale, rs64*1e-3) {
						t.Fatalf("n=%d w=%v avx512=%v: dx[%d] = %g, want %g (row max %g)", n, withW, avx, j, dx[j], want[j], scale)
					}
				}
				g2 := append([]float32(nil), g...)
				LayerNormGradF32(x, g2, ww, g2, mean, rstd, k1, k0)
				for j := range g2 {
					if g2[j] != dx[j] {
						t.Fatalf("n=%d w=%v avx512=%v: in place dx[%d] = %g, out of place %g", n, withW, avx, j, g2[j], dx[j])
					}
				}
			}
		}
	}
}

func BenchmarkLayerNormF32(b *testing.B) {
	const d = 384
	r := rand.New(rand.NewSource(1))
	x := randRow(r, 256*d, 1, 2)
	w, bb := randRow(r, d, 1, 0.5), randRow(r, d, 0, 0.5)
	y := make([]float32, len(x))
	benchPaths(b, len(x), func() {
		for j := 0; j < len(x); j += d {
			m, s := LayerNormStatsF32(x[j:j+d], 1e-5)
			LayerNormF32(x[j:j+d], w, bb, y[j:j+d], m, s)
		}
	})
}
