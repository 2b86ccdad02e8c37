//go:build amd64 && !purego

package kernels

//go:noescape
func lnSumAVX512(x *float32, n int) float32

//go:noescape
func lnSqDevAVX512(x *float32, n int, mean float32) float32

//go:noescape
func lnFwdAVX512(x, w, b, y *float32, n int, mean, rstd float32)

//go:noescape
func lnBwdSumsAVX512(x, gr, w, dw, db *float32, n int, mean, rstd float32) (sdn, sdnx float32)

//go:noescape
func lnBwdDxAVX512(x, gr, w, dx *float32, n int, mean, rstd, k1, k0 float32)

// lnVec reports whether a row of n elements runs on AVX-512.
func lnVec(n int) bool { return hasAVX512 && n > 0 && n%16 == 0 }

// lnSumAsm returns Σ x with AVX-512 (16 partial sums) for rows of 16k.
func lnSumAsm(x []float32) (float32, bool) {
	if !lnVec(len(x)) {
		return 0, false
	}
	return lnSumAVX512(&x[0], len(x)), true
}

// lnSqDevAsm returns Σ (x - mean)² as lnSumAsm.
func lnSqDevAsm(x []float32, mean float32) (float32, bool) {
	if !lnVec(len(x)) {
		return 0, false
	}
	return lnSqDevAVX512(&x[0], len(x), mean), true
}

// lnFwdAsm runs LayerNormF32 with AVX-512 for rows of 16k with both w and b.
func lnFwdAsm(x, w, b, y []float32, mean, rstd float32) bool {
	n := len(x)
	if !lnVec(n) || w == nil || b == nil {
		return false
	}
	_, _, _ = w[n-1], b[n-1], y[n-1]
	lnFwdAVX512(&x[0], &w[0], &b[0], &y[0], n, mean, rstd)
	return true
}

// lnBwdSumsAsm runs LayerNormGradSumsF32 with AVX-512 for rows of 16k with
// w, dw and db all present.
func lnBwdSumsAsm(x, g, w, dw, db []float32, mean, rstd float32) (sdn, sdnx float32, ok bool) {
	n := len(x)
	if !lnVec(n) || w == nil || dw == nil || db == nil {
		return 0, 0, false
	}
	_, _, _, _ = g[n-1], w[n-1], dw[n-1], db[n-1]
	sdn, sdnx = lnBwdSumsAVX512(&x[0], &g[0], &w[0], &dw[0], &db[0], n, mean, rstd)
	return sdn, sdnx, true
}

// lnBwdDxAsm runs LayerNormGradF32 with AVX-512 for rows of 16k with w.
func lnBwdDxAsm(x, g, w, dx []float32, mean, rstd, k1, k0 float32) bool {
	n := len(x)
	if !lnVec(n) || w == nil {
		return false
	}
	_, _, _ = g[n-1], w[n-1], dx[n-1]
	lnBwdDxAVX512(&x[0], &g[0], &w[0], &dx[0], n, mean, rstd, k1, k0)
	return true
}
