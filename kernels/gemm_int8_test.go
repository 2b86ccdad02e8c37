package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// i8Kernels is every int8 kernel this build and CPU can run.
func i8Kernels() []i8Kernel {
	return append([]i8Kernel{{12, false, i8KernGo, "go-12x32"}}, i8AsmKernels()...)
}

// refInt8 is the definition: Σ_k (a - za)(b - zb) in int32 arithmetic
// (wrapping, as Go's int32 does).
func refInt8[TA, TB int8 | uint8](m, n, k int, a []TA, za []int32, b []TB, zb []int32) []int32 {
	c := make([]int32, m*n)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s int32
			for p := 0; p < k; p++ {
				s += (int32(a[i*k+p]) - zeroPoint(za, i)) * (int32(b[p*n+j]) - zeroPoint(zb, j))
			}
			c[i*n+j] = s
		}
	}
	return c
}

// randBytes fills n values of T, uniformly or (extreme) only the two ends
// of T's range.
func randBytes[T int8 | uint8](rng *rand.Rand, n int, extreme bool) []T {
	x := make([]T, n)
	for i := range x {
		v := byte(rng.IntN(256))
		if extreme {
			lo, hi := byte(0), byte(0xff)
			if _, s := any(x).([]int8); s {
				lo, hi = 0x80, 0x7f
			}
			v = lo
			if rng.IntN(2) == 1 {
				v = hi
			}
		}
		x[i] = T(v)
	}
	return x
}

// zeroPoints returns the zero points of a case: none, zero, one, or one per
// index, in T's range.
func zeroPoints[T int8 | uint8](rng *rand.Rand, kind string, n int) []int32 {
	one := func() int32 { return int32(T(byte(rng.IntN(256)))) }
	switch kind {
	case "none":
		return nil
	case "zero":
		return []int32{0}
	case "tensor":
		return []int32{one()}
	}
	z := make([]int32, n)
	for i := range z {
		z[i] = one()
	}
	return z
}

func testInt8Types[TA, TB int8 | uint8](t *testing.T, rng *rand.Rand) {
	sizes := [][3]int{{1, 1, 1}, {1, 1, 4}, {3, 5, 7}, {12, 32, 4}, {13, 33, 9}, {11, 31, 64}, {25, 70, 100}, {24, 64, 384}, {32, 32, 64}, {33, 65, 129}, {64, 96, 256}, {7, 97, 3}, {40, 40, 0}, {0, 5, 5}, {5, 0, 5}}
	i8Kern()
	for _, kern := range i8Kernels() {
		old := kernelI8
		kernelI8 = kern
		for _, sz := range sizes {
			m, n, k := sz[0], sz[1], sz[2]
			for _, zk := range [][2]string{{"none", "none"}, {"tensor", "zero"}, {"tensor", "column"}, {"row", "tensor"}, {"row", "column"}} {
				for _, extreme := range []bool{false, true} {
					a, b := randBytes[TA](rng, m*k, extreme), randBytes[TB](rng, k*n, extreme)
					za, zb := zeroPoints[TA](rng, zk[0], m), zeroPoints[TB](rng, zk[1], n)
					want := refInt8(m, n, k, a, za, b, zb)
					// C with a wider leading dimension, guard values around it
					ldc := n + 3
					c := make([]int32, m*ldc)
					for i := range c {
						c[i] = -7
					}
					GemmInt8(m, a, k, za, PackInt8B(k, n, b, n, zb), c, ldc)
					name := fmt.Sprintf("%s %T×%T %dx%dx%d za %s zb %s extreme %v", kern.name, a, b, m, n, k, zk[0], zk[1], extreme)
					for i := 0; i < m; i++ {
						for j := 0; j < ldc; j++ {
							got := c[i*ldc+j]
							if j >= n {
								if got != -7 {
									t.Fatalf("%s: wrote C[%d][%d] beyond n", name, i, j)
								}
								continue
							}
							if got != want[i*n+j] {
								t.Fatalf("%s: C[%d][%d] = %d, want %d", name, i, j, got, want[i*n+j])
							}
						}
					}
				}
			}
		}
		kernelI8 = old
	}
}

func TestGemmInt8(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	testInt8Types[uint8, int8](t, rng)
	testInt8Types[int8, int8](t, rng)
	testInt8Types[uint8, uint8](t, rng)
	testInt8Types[int8, uint8](t, rng)
}

// TestGemmInt8Wraps checks a sum beyond int32 wraps the same on every kernel
// as the definition (modulo 2^32).
func TestGemmInt8Wraps(t *testing.T) {
	m, n, k := 2, 3, 70001
	a, b := make([]uint8, m*k), make([]int8, k*n)
	for i := range a {
		a[i] = 255
	}
	for i := range b {
		b[i] = -128
	}
	want := refInt8(m, n, k, a, []int32{0}, b, nil)
	if int64(want[0]) == int64(k)*255*-128 {
		t.Fatal("the case does not overflow int32")
	}
	i8Kern()
	for _, kern := range i8Kernels() {
		old := kernelI8
		kernelI8 = kern
		c := make([]int32, m*n)
		GemmInt8(m, a, k, nil, PackInt8B(k, n, b, n, nil), c, n)
		kernelI8 = old
		for i := range c {
			if c[i] != want[i] {
				t.Fatalf("%s: C[%d] = %d, want %d", kern.name, i, c[i], want[i])
			}
		}
	}
}

func TestGemmInt8BadArgs(t *testing.T) {
	for _, f := range []func(){
		func() { PackInt8B(2, 3, make([]int8, 5), 3, nil) },
		func() { PackInt8B(2, 3, make([]int8, 6), 3, []int32{1, 2}) },
		func() {
			GemmInt8(2, make([]uint8, 3), 2, nil, PackInt8B(2, 3, make([]int8, 6), 3, nil), make([]int32, 6), 3)
		},
		func() {
			GemmInt8(2, make([]uint8, 4), 2, []int32{1, 2, 3}, PackInt8B(2, 3, make([]int8, 6), 3, nil), make([]int32, 6), 3)
		},
		func() {
			GemmInt8(2, make([]uint8, 4), 2, nil, PackInt8B(2, 3, make([]int8, 6), 3, nil), make([]int32, 5), 3)
		},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		}()
	}
}

func BenchmarkGemmInt8(b *testing.B) {
	// a MiniLM-sized product: 32×128 tokens × 384 → 1536
	m, n, k := 4096, 1536, 384
	rng := rand.New(rand.NewPCG(1, 2))
	a, w := randBytes[uint8](rng, m*k, false), randBytes[int8](rng, k*n, false)
	pb := PackInt8B(k, n, w, n, nil)
	c := make([]int32, m*n)
	i8Kern()
	for _, kern := range i8Kernels() {
		b.Run(kern.name, func(b *testing.B) {
			old := kernelI8
			kernelI8 = kern
			defer func() { kernelI8 = old }()
			cpu0 := cpuSeconds()
			for b.Loop() {
				GemmInt8(m, a, k, []int32{128}, pb, c, n)
			}
			// CPU time of all threads per product: less disturbed by other
			// processes than wall time on a shared machine
			b.ReportMetric((cpuSeconds()-cpu0)*1e3/float64(b.N), "cpu-ms/op")
			b.ReportMetric(2*float64(m)*float64(n)*float64(k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOPS")
		})
	}
}
