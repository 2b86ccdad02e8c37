package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// TestAddBiasF32: rows plus a broadcast bias, exactly the float32 sum of
// each pair, on both paths, out of place and in place, on body and tail
// row lengths.
func TestAddBiasF32(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	paths := avx512Paths(t)
	for _, n := range []int{1, 15, 16, 17, 48, 384} {
		for _, rows := range []int{0, 1, 3, 7} {
			x, b := randRow(r, rows*n, 0, 3), randRow(r, n, 0, 1)
			for _, avx := range paths {
				hasAVX512 = avx
				y := make([]float32, len(x))
				AddBiasF32(x, b, y)
				for i := range y {
					want := float32(float64(x[i]) + float64(b[i%n])) // correctly rounded sum
					if y[i] != want {
						t.Fatalf("n=%d rows=%d avx512=%v: y[%d] = %g, want %g", n, rows, avx, i, y[i], want)
					}
				}
				in := append([]float32(nil), x...)
				AddBiasF32(in, b, in)
				for i := range in {
					if in[i] != y[i] {
						t.Fatalf("n=%d rows=%d avx512=%v: in place y[%d] = %g, out of place %g", n, rows, avx, i, in[i], y[i])
					}
				}
			}
		}
	}
}

// TestBiasGradF32: column sums added to db against float64 sums, and the
// vector and portable paths give the same bits (same additions, same order).
func TestBiasGradF32(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	paths := avx512Paths(t)
	for _, n := range []int{1, 15, 16, 17, 48, 384} {
		for _, rows := range []int{0, 1, 3, 100} {
			dy, db0 := randRow(r, rows*n, 0, 1), randRow(r, n, 0, 1)
			var got [2][]float32
			for k, avx := range paths {
				hasAVX512 = avx
				db := append([]float32(nil), db0...)
				BiasGradF32(dy, db)
				for j := range db {
					want := float64(db0[j])
					for i := 0; i < rows; i++ {
						want += float64(dy[i*n+j])
					}
					if math.Abs(float64(db[j])-want) > 1e-6*float64(rows+1) {
						t.Fatalf("n=%d rows=%d avx512=%v: db[%d] = %g, want %g", n, rows, avx, j, db[j], want)
					}
				}
				got[k] = db
			}
			for j := range got[0] {
				if got[0][j] != got[1][j] {
					t.Fatalf("n=%d rows=%d: db[%d] portable %g, vector %g", n, rows, j, got[0][j], got[1][j])
				}
			}
		}
	}
}
