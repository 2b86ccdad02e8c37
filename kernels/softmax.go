package kernels

import "math"

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
	mx := maxF32(x)
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

// LogSoftmaxF32 sets y = (x - max x) - log Σ exp(x - max x) over one row
// (Exp32 for the terms, the log in float64). x and y may be the same slice.
func LogSoftmaxF32(x, y []float32) {
	if len(x) == 0 {
		return
	}
	y = y[:len(x)]
	mx := maxF32(x)
	var sum float32
	for _, v := range x {
		sum += Exp32(v - mx)
	}
	ls := float32(math.Log(float64(sum)))
	for i, v := range x {
		y[i] = (v - mx) - ls
	}
}

// maxF32 is the largest value of a non-empty row (a NaN after the first
// element never replaces it).
func maxF32(x []float32) float32 {
	mx := x[0]
	for _, v := range x[1:] {
		if v > mx {
			mx = v
		}
	}
	return mx
}

// SoftmaxGradF32 sets dx = y·(g - Σ g·y) over one row, the gradient of
// SoftmaxF32 given its output y and the output gradient g (AVX-512 for rows
// of 16k, as SoftmaxF32).
func SoftmaxGradF32(y, g, dx []float32) {
	g, dx = g[:len(y)], dx[:len(y)]
	if len(y) == 0 || softmaxGradAsm(y, g, dx) {
		return
	}
	var s float32
	for i, v := range g {
		s += v * y[i]
	}
	for i, v := range g {
		dx[i] = y[i] * (v - s)
	}
}
