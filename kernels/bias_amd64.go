//go:build amd64 && !purego

package kernels

//go:noescape
func addBiasAVX512(x, b, y *float32, rows, n int)

//go:noescape
func biasGradAVX512(dy, db *float32, rows, n int)

// addBiasAsm runs AddBiasF32 with AVX-512 when the row length is a
// multiple of 16, reporting whether it did.
func addBiasAsm(x, b, y []float32) bool {
	n := len(b)
	if !hasAVX512 || n%16 != 0 || len(x) < n {
		return false
	}
	rows := len(x) / n
	_, _ = x[rows*n-1], y[rows*n-1]
	addBiasAVX512(&x[0], &b[0], &y[0], rows, n)
	return true
}

// biasGradAsm is addBiasAsm for BiasGradF32.
func biasGradAsm(dy, db []float32) bool {
	n := len(db)
	if !hasAVX512 || n%16 != 0 || len(dy) < n {
		return false
	}
	rows := len(dy) / n
	biasGradAVX512(&dy[0], &db[0], rows, n)
	return true
}
