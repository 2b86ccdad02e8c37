package kernels

// Bias add and its gradient for float32 rows, the broadcast Add of every
// linear layer (y = x·W + b) and the column sums that reduce its output
// gradient back to b. Rows whose length is a multiple of 16 run on AVX-512
// where the CPU has it (bias_amd64.s); the loops below elsewhere. Both paths
// add in the same order, so they give the same bits.

// AddBiasF32 sets y[r·n+j] = x[r·n+j] + b[j] for every row r of n = len(b)
// elements (len(x) a multiple of n). y may be x.
func AddBiasF32(x, b, y []float32) {
	n := len(b)
	if n == 0 || len(x) == 0 {
		return
	}
	y = y[:len(x)]
	if addBiasAsm(x, b, y) {
		return
	}
	for r := 0; r+n <= len(x); r += n {
		xr, yr := x[r:r+n], y[r:r+n]
		for j, v := range b {
			yr[j] = xr[j] + v
		}
	}
}

// BiasGradF32 adds the column sums of dy, seen as rows of n = len(db)
// elements, to db: db[j] += dy[j] + dy[n+j] + … in row order.
func BiasGradF32(dy, db []float32) {
	n := len(db)
	if n == 0 || len(dy) == 0 {
		return
	}
	if biasGradAsm(dy, db) {
		return
	}
	for r := 0; r+n <= len(dy); r += n {
		dr := dy[r : r+n]
		for j, v := range dr {
			db[j] += v
		}
	}
}
