//go:build amd64 && !purego

// Bias add and bias gradient over float32 rows, 16 lanes of AVX-512F; n is
// a positive multiple of 16. Element for element the same additions, in the
// same order, as the loops of bias.go.

#include "textflag.h"

// func addBiasAVX512(x, b, y *float32, rows, n int)
// y[r·n+j] = x[r·n+j] + b[j].
TEXT ·addBiasAVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ b+8(FP), BX
	MOVQ y+16(FP), DI
	MOVQ rows+24(FP), R8
	MOVQ n+32(FP), R9
	SHRQ $4, R9
	JEQ ab_done
	TESTQ R8, R8
	JEQ ab_done
ab_row:
	MOVQ BX, DX
	MOVQ R9, CX
ab_col:
	VMOVUPS (SI), Z0
	VADDPS (DX), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ ab_col
	DECQ R8
	JNZ ab_row
ab_done:
	VZEROUPPER
	RET

// func biasGradAVX512(dy, db *float32, rows, n int)
// db[j] += dy[r·n+j] for r = 0, 1, … in order.
TEXT ·biasGradAVX512(SB), NOSPLIT, $0-32
	MOVQ dy+0(FP), SI
	MOVQ db+8(FP), BX
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	SHRQ $4, R9
	JEQ bg_done
	TESTQ R8, R8
	JEQ bg_done
bg_row:
	MOVQ BX, DX
	MOVQ R9, CX
bg_col:
	VMOVUPS (DX), Z0
	VADDPS (SI), Z0, Z0
	VMOVUPS Z0, (DX)
	ADDQ $64, SI
	ADDQ $64, DX
	DECQ CX
	JNZ bg_col
	DECQ R8
	JNZ bg_row
bg_done:
	VZEROUPPER
	RET
