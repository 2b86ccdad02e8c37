package kernels

// SoftmaxF32 sets y = exp(x - max x) / Σ exp(x - max x) over one row (Exp32;
// exp is 0 below -86). Rows whose length is a multiple of 16 run on
// AVX-512 where the CPU has it (softmax_amd64.s: 16 partial sums, fused
// multiply-adds); the loop below elsewhere. x and y may be the same slice.
func SoftmaxF32(x, y []float32) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	if softmaxAsm(x, y) {
		return
	}
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	var sum float32
	for i, v := range x {
		e := Exp32(v - mx)
		y[i] = e
		sum += e
	}
	inv := 1 / sum
	for i := range y {
		y[i] *= inv
	}
}
