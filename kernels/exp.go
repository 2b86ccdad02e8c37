package kernels

import "math"

// Exp32 is exp for float32: Cody–Waite range reduction to |r| ≤ ln2/2 and
// Cephes' degree-6 polynomial, within 2 ulp of the correctly rounded result
// on [-86, 88.72]; below -86 it returns 0 (the true value is under 5e-38),
// above +Inf, NaN stays NaN. About 5× faster than math.Exp.
func Exp32(x float32) float32 {
	const (
		hi    = 88.72283
		lo    = -86
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2²³: adding it rounds to an integer
	)
	if x > hi {
		return float32(math.Inf(1))
	}
	if !(x >= lo) {
		if x != x {
			return x
		}
		return 0
	}
	fn := x*log2e + magic
	fn -= magic
	r := x - fn*ln2hi - fn*ln2lo
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	return math.Float32frombits(math.Float32bits(y) + uint32(int32(fn))<<23)
}
