package kernels

import "math"

// Layer normalisation of one float32 row, in the pieces ops'
// LayerNormalization forward and backward need. Rows whose length is a
// multiple of 16 run on AVX-512 where the CPU has it (layernorm_amd64.s: 16
// lanes, sums in 16 partial sums, fused multiply-adds); the loops below
// elsewhere. Sums accumulate in float32, as ONNX Runtime does. Forward and
// backward get mean and rstd from the same LayerNormStatsF32, so the
// gradients see bit for bit the statistics the forward pass used.

// LayerNormStatsF32 returns the mean of x and rstd = 1/√(Σ(x-mean)²/n + eps)
// (two passes). x must not be empty.
func LayerNormStatsF32(x []float32, eps float32) (mean, rstd float32) {
	n := float32(len(x))
	s, ok := lnSumAsm(x)
	if !ok {
		for _, v := range x {
			s += v
		}
	}
	mean = s / n
	q, ok := lnSqDevAsm(x, mean)
	if !ok {
		for _, v := range x {
			d := v - mean
			q += d * d
		}
	}
	return mean, 1 / float32(math.Sqrt(float64(q/n+eps)))
}

// LayerNormF32 sets y = (x - mean)·rstd·w + b over one row; w nil means 1
// and b nil means 0. y may be x.
func LayerNormF32(x, w, b, y []float32, mean, rstd float32) {
	y = y[:len(x)]
	if lnFwdAsm(x, w, b, y, mean, rstd) {
		return
	}
	switch {
	case w != nil && b != nil:
		w, b := w[:len(x)], b[:len(x)]
		for j, v := range x {
			y[j] = (v-mean)*rstd*w[j] + b[j]
		}
	case w != nil:
		w := w[:len(x)]
		for j, v := range x {
			y[j] = (v - mean) * rstd * w[j]
		}
	case b != nil:
		b := b[:len(x)]
		for j, v := range x {
			y[j] = (v-mean)*rstd + b[j]
		}
	default:
		for j, v := range x {
			y[j] = (v - mean) * rstd
		}
	}
}

// LayerNormGradSumsF32 is the first backward pass over one row: with
// xhat = (x - mean)·rstd and dn = g·w (w nil means 1) it returns Σ dn and
// Σ dn·xhat, and adds g·xhat to dw and g to db (the Scale and B gradients
// of this row; either may be nil).
func LayerNormGradSumsF32(x, g, w, dw, db []float32, mean, rstd float32) (sdn, sdnx float32) {
	g = g[:len(x)]
	if s, sx, ok := lnBwdSumsAsm(x, g, w, dw, db, mean, rstd); ok {
		return s, sx
	}
	return LayerNormGradSums(x, g, w, dw, db, mean, rstd)
}

// LayerNormGradSums is LayerNormGradSumsF32's loop for a row of X with the
// sums and gradients in A, in the order of the row: the float32 kernel's
// portable path (A float32) and ops' float64-accumulated backward.
func LayerNormGradSums[X, A float32 | float64](x, g, w []X, dw, db []A, mean, rstd A) (sdn, sdnx A) {
	g = g[:len(x)]
	if w != nil {
		w = w[:len(x)]
	}
	if dw != nil {
		dw = dw[:len(x)]
	}
	if db != nil {
		db = db[:len(x)]
	}
	for j, v := range x {
		xh := (A(v) - mean) * rstd
		gj := A(g[j])
		dn := gj
		if w != nil {
			dn *= A(w[j])
		}
		sdn += dn
		sdnx += dn * xh
		if dw != nil {
			dw[j] += gj * xh
		}
		if db != nil {
			db[j] += gj
		}
	}
	return sdn, sdnx
}

// LayerNormGradF32 is the second backward pass over one row:
// dx = rstd·g·w + k1·xhat + k0 (w nil means 1), where the caller folds the
// row sums into k1 = -(rstd·mean(dn·xhat) + …) and k0 = -rstd·mean(dn) + ….
// dx may be g.
func LayerNormGradF32(x, g, w, dx []float32, mean, rstd, k1, k0 float32) {
	g, dx = g[:len(x)], dx[:len(x)]
	if lnBwdDxAsm(x, g, w, dx, mean, rstd, k1, k0) {
		return
	}
	if w == nil {
		for j, v := range x {
			xh := (v - mean) * rstd
			dx[j] = rstd*g[j] + k1*xh + k0
		}
		return
	}
	w = w[:len(x)]
	for j, v := range x {
		xh := (v - mean) * rstd
		dx[j] = rstd*(g[j]*w[j]) + k1*xh + k0
	}
}
