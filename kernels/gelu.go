package kernels

import "math"

// GELU (erf form) for float32, the hot element-wise op of BERT-like
// feed-forward layers: AVX-512 where the CPU has it (gelu_amd64.s, 16 lanes
// with fused multiply-adds), the portable loops below elsewhere and for the
// last len%16 elements. Both use the same approximations (Erf32, Exp32);
// the vector path rounds differently (fused multiply-adds), by a few ulp.

// hasAVX512 selects the vector element-wise kernels (set at init on amd64).
var hasAVX512 bool

// GeluF32 sets y[i] = x[i]·Φ(x[i]) = ½x(1 + erf(x/√2)); y has at least
// len(x) elements.
func GeluF32(x, y []float32) {
	y = y[:len(x)]
	done := geluAsm(x, y)
	for i, v := range x[done:] {
		y[done+i] = 0.5 * v * (1 + Erf32(v*math.Sqrt2/2))
	}
}

// GeluGradF32 sets dx[i] = g[i]·(Φ(x[i]) + x[i]·φ(x[i])), the gradient of
// GeluF32, φ(x) = exp(-x²/2)/√(2π).
func GeluGradF32(x, g, dx []float32) {
	g, dx = g[:len(x)], dx[:len(x)]
	done := geluGradAsm(x, g, dx)
	const invSqrt2Pi = 0.3989422804014327 // 1/√(2π)
	for i, v := range x[done:] {
		cdf := 0.5 * (1 + Erf32(v*math.Sqrt2/2))
		dx[done+i] = g[done+i] * (cdf + v*invSqrt2Pi*Exp32(-0.5*v*v))
	}
}

// Erf32 is erf for float32: a rational approximation on [-4, 4] (outside it
// erf rounds to ±1 in float32), within 5e-7 of the exact value; the
// coefficients are Eigen's generic_fast_erf_float.
func Erf32(v float32) float32 {
	x := min(max(v, -4), 4)
	if v != v {
		return v
	}
	x2 := x * x
	p := float32(-2.72614225801306e-10)
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 - 2.10102402082508e-06
	p = p*x2 - 5.69250639462346e-05
	p = p*x2 - 7.34990630326855e-04
	p = p*x2 - 2.95459980854025e-03
	p = p*x2 - 1.60960333262415e-02
	p *= x
	q := float32(-1.45660718464996e-05)
	q = q*x2 - 2.13374055278905e-04
	q = q*x2 - 1.68282697438203e-03
	q = q*x2 - 7.37332916720468e-03
	q = q*x2 - 1.42647390514189e-02
	return p / q
}
