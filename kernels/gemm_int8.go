package kernels

import (
	"encoding/binary"
	"fmt"
	"sync"
	"unsafe"
)

// Integer GEMM with zero points, as ONNX MatMulInteger and ONNX Runtime's
// dynamic quantization use it:
//
//	C[i][j] = Σ_k (A[i][k] - za[i]) · (B[k][j] - zb[j])     (int32)
//
// A (m×k, row-major) holds uint8 or int8 values (activations), B (k×n,
// row-major) uint8 or int8 (weights, packed once by PackInt8B); za is one
// zero point or one per row of A, zb one or one per column of B. The sum is
// computed in int32 arithmetic that wraps (modulo 2^32), so it is exact
// whenever the result fits int32, and every kernel gives the same int32 on
// any number of threads.
//
// The kernels multiply unsigned by signed bytes (VPDPBUSD), so operands are
// brought to that form first: an int8 A is read as the uint8 a+128 with
// zero point za+128, a uint8 B as the int8 b-128 with zero point zb-128
// (the differences a-za and b-zb are unchanged). The zero points are then
// taken out of the sum of raw products:
//
//	Σ (a-za)(b-zb) = Σ a·b - zb·(Σa - k·za) - za·Σb
//
// with Σa per row of A (packing A) and Σb per column of B (PackInt8B); the
// kernels add the two correction terms in their epilogue.
//
// Packed layout: k in quads of 4 consecutive values, padded with zeros; B
// in panels of i8NR columns, each quad of a column 4 bytes, the panel's
// columns side by side (i8NR·4 bytes per quad), quads padded to a multiple
// of 16 (an AMX tile); A in strips of mr rows, either likewise (mr·4 bytes
// per quad) or, for AMX, row after row (rowsA). Kernels, best first
// (gemm_int8_amd64.go chooses):
//
//	amx-32x32         AMX-INT8 (TDPBUSD), where the CPU and Linux allow it
//	avx512vnni-12x32  VPDPBUSD, one per quad of k and 16 columns
//	go-12x32          portable Go (also -tags purego)
//
// All are exact, so they give the same int32. k is not blocked: a tile's
// whole sum is made at once, then stored with the corrections (a B panel of
// 32 columns is 32·k bytes, 128 KiB at k = 4096).

const (
	i8NR    = 32 // columns of a tile
	i8Quads = 16 // B's quads are padded to a multiple of this
)

// i8Kernel computes one mr×i8NR tile of C from kq packed quads of a strip
// of A and a panel of B, then adds colZb[j]·rowU[r] + rowZa[r]·colB[j].
type i8Kernel struct {
	mr int
	// rowsA: A's strip holds its rows one after the other, kq·4 bytes each,
	// and kq is B's padded count (a multiple of i8Quads)
	rowsA bool
	fn    func(kq int, a, b []byte, c []int32, ldc int, rowU, rowZa, colB, colZb []int32)
	name  string
}

// kernelI8 is the int8 kernel in use: the portable one, replaced by
// assembly where the CPU has it (gemm_int8_amd64.go) at init, or at the
// first product for AMX (i8Setup).
var (
	kernelI8 = i8Kernel{12, false, i8KernGo, "go-12x32"}
	i8Once   sync.Once
)

func i8Kern() i8Kernel {
	i8Once.Do(i8Setup)
	return kernelI8
}

// KernelNameInt8 reports the int8 micro-kernel in use.
func KernelNameInt8() string { return i8Kern().name }

// Int8B is the B operand of GemmInt8 (weights with their zero points),
// packed once and read by any number of products.
type Int8B struct {
	k, n   int
	kqp    int     // quads per panel: ceil(k/4) rounded up to i8Quads
	packed []byte  // panels of i8NR columns, kqp quads each
	colB   []int32 // Σ_k b'[k][j], padded to whole panels with zeros
	colZb  []int32 // -zb'[j], padded likewise
}

// K and N return the shape of B.
func (b *Int8B) K() int { return b.k }
func (b *Int8B) N() int { return b.n }

// Bytes is the memory the packed operand holds.
func (b *Int8B) Bytes() int { return len(b.packed) + 4*len(b.colB) + 4*len(b.colZb) }

// zeroPoint returns zero point i of zp: none (0), one for all, or one each.
func zeroPoint(zp []int32, i int) int32 {
	switch len(zp) {
	case 0:
		return 0
	case 1:
		return zp[0]
	}
	return zp[i]
}

func checkZeroPoints(what string, zp []int32, n int) {
	if len(zp) > 1 && len(zp) != n {
		panic(fmt.Sprintf("kernels: %d %s zero points for %d values (want 0, 1 or %d)", len(zp), what, n, n))
	}
}

// PackInt8B packs B (k×n, row-major with leading dimension ldb ≥ n) and its
// zero points zb (none, one, or one per column) for GemmInt8.
func PackInt8B[T int8 | uint8](k, n int, b []T, ldb int, zb []int32) *Int8B {
	if k < 0 || n < 0 || (k > 0 && n > 0 && (ldb < n || len(b) < (k-1)*ldb+n)) {
		panic(fmt.Sprintf("kernels: PackInt8B: %d values for %d×%d with ldb %d", len(b), k, n, ldb))
	}
	checkZeroPoints("column", zb, n)
	var shift int32
	var flip byte
	if _, unsigned := any(b).([]uint8); unsigned {
		shift, flip = -128, 0x80
	}
	kq, panels := (k+3)/4, (n+i8NR-1)/i8NR
	kqp := (kq + i8Quads - 1) / i8Quads * i8Quads
	p := &Int8B{k: k, n: n, kqp: kqp, packed: make([]byte, panels*kqp*4*i8NR), colB: make([]int32, panels*i8NR), colZb: make([]int32, panels*i8NR)}
	ParallelFor(panels, 1, func(lo, hi int) {
		for pn := lo; pn < hi; pn++ {
			dst := p.packed[pn*kqp*4*i8NR : (pn+1)*kqp*4*i8NR]
			j0 := pn * i8NR
			w := min(i8NR, n-j0)
			var sums [i8NR]int32
			for kk := 0; kk < k; kk++ {
				row := b[kk*ldb+j0 : kk*ldb+j0+w]
				d := dst[(kk/4)*4*i8NR+kk%4:]
				for jj, x := range row {
					v := byte(x) ^ flip
					d[jj*4] = v
					sums[jj] += int32(int8(v))
				}
			}
			for jj := 0; jj < w; jj++ {
				p.colB[j0+jj] = sums[jj]
				p.colZb[j0+jj] = -(zeroPoint(zb, j0+jj) + shift)
			}
		}
	})
	return p
}

// i8Buf holds a packed A and its row terms between products, or a
// packing worker's row buffer.
type i8Buf struct {
	a          []byte
	rowU, rowZ []int32
	row        []byte
}

var i8Pool sync.Pool

// GemmInt8 sets C (m×b.N(), row-major, leading dimension ldc) to
// (A - za)·(B - zb) in int32 (see the top of this file): A is m×b.K(),
// row-major with leading dimension lda, za none, one or one per row.
func GemmInt8[T int8 | uint8](m int, a []T, lda int, za []int32, b *Int8B, c []int32, ldc int) {
	k, n := b.k, b.n
	if m < 0 || (m > 0 && k > 0 && (lda < k || len(a) < (m-1)*lda+k)) {
		panic(fmt.Sprintf("kernels: GemmInt8: %d values for A %d×%d with lda %d", len(a), m, k, lda))
	}
	if m > 0 && n > 0 && (ldc < n || len(c) < (m-1)*ldc+n) {
		panic(fmt.Sprintf("kernels: GemmInt8: %d values for C %d×%d with ldc %d", len(c), m, n, ldc))
	}
	checkZeroPoints("row", za, m)
	if m == 0 || n == 0 {
		return
	}
	var shift int32
	var flip byte
	if _, signed := any(a).([]int8); signed {
		shift, flip = 128, 0x80
	}
	kern := i8Kern()
	mr := kern.mr
	kq, strips, panels := (k+3)/4, (m+mr-1)/mr, (n+i8NR-1)/i8NR
	if kern.rowsA {
		kq = b.kqp
	}
	buf, _ := i8Pool.Get().(*i8Buf)
	if buf == nil {
		buf = &i8Buf{}
	}
	defer i8Pool.Put(buf)
	sa := kq * 4 * mr // bytes of a strip
	if need := strips * sa; cap(buf.a) < need {
		buf.a = make([]byte, need)
	}
	if cap(buf.rowU) < strips*mr {
		buf.rowU, buf.rowZ = make([]int32, strips*mr), make([]int32, strips*mr)
	}
	pa, rowU, rowZ := buf.a[:strips*sa], buf.rowU[:strips*mr], buf.rowZ[:strips*mr]
	ParallelFor(strips, Grain(strips, mr*k), func(lo, hi int) {
		wb, _ := i8Pool.Get().(*i8Buf)
		if wb == nil {
			wb = &i8Buf{}
		}
		defer i8Pool.Put(wb)
		if cap(wb.row) < kq*4 {
			wb.row = make([]byte, kq*4)
		}
		tmp := wb.row[:kq*4] // a row, converted and padded
		clear(tmp)           // the padding past k stays zero
		for s := lo; s < hi; s++ {
			dst := pa[s*sa : (s+1)*sa]
			for r := 0; r < mr; r++ {
				i := s*mr + r
				if i >= m {
					clear(tmp)
					rowU[i], rowZ[i] = 0, 0
				} else {
					if k > 0 {
						copy(tmp, unsafe.Slice((*byte)(unsafe.Pointer(&a[i*lda])), k))
					}
					if flip != 0 {
						for kk := range tmp[:k] {
							tmp[kk] ^= 0x80
						}
					}
					z := zeroPoint(za, i) + shift
					rowU[i], rowZ[i] = sumBytes(tmp[:k])-int32(k)*z, -z
				}
				if kern.rowsA {
					copy(dst[r*kq*4:(r+1)*kq*4], tmp)
					continue
				}
				for q := 0; q < kq; q++ {
					copy(dst[q*4*mr+r*4:q*4*mr+r*4+4], tmp[4*q:4*q+4])
				}
			}
		}
	})
	tiles := strips * panels
	sb := b.kqp * 4 * i8NR // bytes of a panel
	// chunks of tiles along a strip (one A strip in L1, B panels in L2),
	// several per chunk to keep the shared counter quiet
	grain := max(Grain(tiles, 2*mr*i8NR*kq*4), min(8, tiles/16))
	ParallelFor(tiles, grain, func(lo, hi int) {
		var scratch []int32
		for t := lo; t < hi; t++ {
			s, pn := t/panels, t%panels
			i0, j0 := s*mr, pn*i8NR
			ap := pa[s*sa : (s+1)*sa]
			bp := b.packed[pn*sb : (pn+1)*sb]
			ru, rz := rowU[i0:i0+mr], rowZ[i0:i0+mr]
			cb, cz := b.colB[j0:j0+i8NR], b.colZb[j0:j0+i8NR]
			if i0+mr <= m && j0+i8NR <= n {
				kern.fn(kq, ap, bp, c[i0*ldc+j0:], ldc, ru, rz, cb, cz)
				continue
			}
			if scratch == nil {
				scratch = make([]int32, mr*i8NR)
			}
			kern.fn(kq, ap, bp, scratch, i8NR, ru, rz, cb, cz)
			for r := 0; r < mr && i0+r < m; r++ {
				copy(c[(i0+r)*ldc+j0:(i0+r)*ldc+min(j0+i8NR, n)], scratch[r*i8NR:])
			}
		}
	})
}

// i8KernGo is the portable kernel (exact int32 arithmetic, wrapping as
// VPDPBUSD and VPMULLD do).
func i8KernGo(kq int, a, b []byte, c []int32, ldc int, rowU, rowZa, colB, colZb []int32) {
	const i8MR = 12
	var t [i8MR * i8NR]int32
	a, b = a[:kq*4*i8MR], b[:kq*4*i8NR]
	for q := 0; q < kq; q++ {
		aq, bq := a[q*4*i8MR:(q+1)*4*i8MR], b[q*4*i8NR:(q+1)*4*i8NR]
		for r := 0; r < i8MR; r++ {
			a0, a1, a2, a3 := int32(aq[4*r]), int32(aq[4*r+1]), int32(aq[4*r+2]), int32(aq[4*r+3])
			if a0|a1|a2|a3 == 0 {
				continue
			}
			tr := t[r*i8NR : (r+1)*i8NR]
			for j := range tr {
				bj := bq[4*j : 4*j+4 : 4*j+4]
				tr[j] += a0*int32(int8(bj[0])) + a1*int32(int8(bj[1])) + a2*int32(int8(bj[2])) + a3*int32(int8(bj[3]))
			}
		}
	}
	_ = c[(i8MR-1)*ldc+i8NR-1]
	for r := 0; r < i8MR; r++ {
		cr := c[r*ldc : r*ldc+i8NR]
		for j := range cr {
			cr[j] = t[r*i8NR+j] + colZb[j]*rowU[r] + rowZa[r]*colB[j]
		}
	}
}

// sumBytes returns the sum of x's bytes (unsigned) in int32, wrapping.
func sumBytes(x []byte) int32 {
	const lanes = 0x00ff00ff00ff00ff
	var total uint64
	for len(x) >= 8 {
		// four 16-bit lanes of even and odd bytes; at most 256 steps of
		// 2·255 each before they are added up
		var acc uint64
		n := min(len(x)/8, 128)
		for i := 0; i < n; i++ {
			v := binary.LittleEndian.Uint64(x[8*i:])
			acc += v&lanes + (v>>8)&lanes
		}
		x = x[8*n:]
		total += acc&0xffff + (acc>>16)&0xffff + (acc>>32)&0xffff + acc>>48
	}
	for _, v := range x {
		total += uint64(v)
	}
	return int32(total)
}
