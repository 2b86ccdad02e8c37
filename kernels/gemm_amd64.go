//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// Assembly micro-kernels (gemm_amd64.s), chosen at init from what the CPU
// and OS support (run-time detection with golang.org/x/sys/cpu):
//
//	AVX-512F      float32 8×32, float64 8×16 tiles in 16 ZMM accumulators
//	AVX2 and FMA  float32 4×24, float64 4×12 tiles in 12 YMM accumulators
//
// Build with -tags purego to use the portable Go kernel everywhere.

//go:noescape
func sgemmAVX512(kc int, a, b, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func sgemmAVX512S(kc int, a *float32, aP, aR int, b *float32, bP int, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func dgemmAVX512(kc int, a, b, c *float64, ldc int, alpha float64, acc bool)

//go:noescape
func sgemmAVX2(kc int, a, b, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func dgemmAVX2(kc int, a, b, c *float64, ldc int, alpha float64, acc bool)

// cpuLevel returns 2 with AVX-512F, 1 with AVX2 and FMA, else 0. The
// golang.org/x/sys/cpu flags are set only when the OS also saves the
// registers (XCR0).
func cpuLevel() int {
	switch {
	case cpu.X86.HasAVX512F:
		return 2
	case cpu.X86.HasAVX2 && cpu.X86.HasFMA:
		return 1
	}
	return 0
}

func sgemmKernelAVX512(kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc*8-1], b[kc*32-1], c[7*ldc+31] // bounds of what the kernel touches
	sgemmAVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func sgemmKernelAVX512S(kc int, a []float32, aP, aR int, b []float32, bP int, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[(kc-1)*aP+7*aR], b[(kc-1)*bP+31], c[7*ldc+31]
	sgemmAVX512S(kc, &a[0], aP, aR, &b[0], bP, &c[0], ldc, alpha, acc)
}

func dgemmKernelAVX512(kc int, a, b, c []float64, ldc int, alpha float64, acc bool) {
	_, _, _ = a[kc*8-1], b[kc*16-1], c[7*ldc+15]
	dgemmAVX512(kc, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func sgemmKernelAVX2(kc int, a, b, c []float32, ldc int, alpha float32, acc bool) {
	_, _, _ = a[kc*4-1], b[kc*24-1], c[3*ldc+23]
	sgemmAVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

func dgemmKernelAVX2(kc int, a, b, c []float64, ldc int, alpha float64, acc bool) {
	_, _, _ = a[kc*4-1], b[kc*12-1], c[3*ldc+11]
	dgemmAVX2(kc, &a[0], &b[0], &c[0], ldc, alpha, acc)
}

// asmKernels lists the kernels this CPU can run, best last.
func asmKernels() (k32 []microKernel[float32], k64 []microKernel[float64]) {
	lvl := cpuLevel()
	if lvl >= 1 {
		k32 = append(k32, newKernel(4, 24, sgemmKernelAVX2, "avx2-4x24"))
		k64 = append(k64, newKernel(4, 12, dgemmKernelAVX2, "avx2-4x12"))
	}
	if lvl >= 2 {
		k := newKernel(8, 32, sgemmKernelAVX512, "avx512-8x32")
		k.fnS = sgemmKernelAVX512S
		k32 = append(k32, k)
		k64 = append(k64, newKernel(8, 16, dgemmKernelAVX512, "avx512-8x16"))
	}
	return k32, k64
}

func init() {
	hasAVX512 = cpuLevel() >= 2
	k32, k64 := asmKernels()
	if len(k32) > 0 {
		kernel32, kernel64 = k32[len(k32)-1], k64[len(k64)-1]
	}
}

//go:noescape
func geluFwdAVX512(x, y *float32, n int)

//go:noescape
func geluBwdAVX512(x, gr, dx *float32, n int)

// geluAsm runs GeluF32 on the longest multiple of 16 elements with AVX-512
// and returns how many it did (0 without AVX-512).
func geluAsm(x, y []float32) int {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return 0
	}
	_ = y[n-1]
	geluFwdAVX512(&x[0], &y[0], n)
	return n
}

// geluGradAsm is geluAsm for GeluGradF32.
func geluGradAsm(x, g, dx []float32) int {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return 0
	}
	_, _ = g[n-1], dx[n-1]
	geluBwdAVX512(&x[0], &g[0], &dx[0], n)
	return n
}

//go:noescape
func softmaxRowAVX512(x, y *float32, n int)

// softmaxAsm runs SoftmaxF32 with AVX-512 when the row length is a multiple
// of 16, reporting whether it did.
func softmaxAsm(x, y []float32) bool {
	if !hasAVX512 || len(x)%16 != 0 {
		return false
	}
	_ = y[len(x)-1]
	softmaxRowAVX512(&x[0], &y[0], len(x))
	return true
}

//go:noescape
func softmaxGradRowAVX512(y, gr, dx *float32, n int)

// softmaxGradAsm is softmaxAsm for SoftmaxGradF32.
func softmaxGradAsm(y, g, dx []float32) bool {
	if !hasAVX512 || len(y)%16 != 0 {
		return false
	}
	_, _ = g[len(y)-1], dx[len(y)-1]
	softmaxGradRowAVX512(&y[0], &g[0], &dx[0], len(y))
	return true
}
