package kernels

// Gemm computes C = alpha * op(A) * op(B) + beta * C for row-major matrices,
// where op(X) is X or its transpose. op(A) is m×k, op(B) is k×n, C is m×n.
// lda, ldb and ldc are the row strides of A, B and C as stored.
// This is the single matrix-product entry point of ft; faster kernels plug in
// here. Results do not depend on the number of threads.
func Gemm[T float32 | float64](transA, transB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	if m == 0 || n == 0 {
		return
	}
	// Rows of C are independent: split them across the pool.
	grain := Grain(m, 2*n*k)
	ParallelFor(m, grain, func(lo, hi int) {
		row := make([]T, n)
		var bt []T
		for i := lo; i < hi; i++ {
			for j := range row {
				row[j] = 0
			}
			if !transB {
				for p := 0; p < k; p++ {
					var av T
					if transA {
						av = a[p*lda+i]
					} else {
						av = a[i*lda+p]
					}
					if av == 0 {
						continue
					}
					bp := b[p*ldb : p*ldb+n]
					for j, bv := range bp {
						row[j] += av * bv
					}
				}
			} else {
				// op(B)[p][j] = B[j][p]: dot products of A's row with B's rows.
				if transA {
					if bt == nil {
						bt = make([]T, k)
					}
					for p := 0; p < k; p++ {
						bt[p] = a[p*lda+i]
					}
				}
				for j := 0; j < n; j++ {
					brow := b[j*ldb : j*ldb+k]
					var s T
					if transA {
						s = dot(bt, brow)
					} else {
						s = dot(a[i*lda:i*lda+k], brow)
					}
					row[j] = s
				}
			}
			crow := c[i*ldc : i*ldc+n]
			if beta == 0 {
				for j, v := range row {
					crow[j] = alpha * v
				}
			} else {
				for j, v := range row {
					crow[j] = alpha*v + beta*crow[j]
				}
			}
		}
	})
}

func dot[T float32 | float64](x, y []T) T {
	var s0, s1, s2, s3 T
	n := len(x)
	y = y[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		s0 += x[i] * y[i]
		s1 += x[i+1] * y[i+1]
		s2 += x[i+2] * y[i+2]
		s3 += x[i+3] * y[i+3]
	}
	for ; i < n; i++ {
		s0 += x[i] * y[i]
	}
	return (s0 + s1) + (s2 + s3)
}
