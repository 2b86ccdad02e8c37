//go:build amd64 && !purego

// Layer normalisation of one float32 row, 16 lanes of AVX-512F: the loops
// of layernorm.go with sums in 16 partial sums and fused multiply-adds.
// Every function takes n a positive multiple of 16.

#include "textflag.h"

// HSUM0 sets X0 to the sum of the 16 lanes of Z0 (clobbers Z1).
#define HSUM0 \
	VEXTRACTF64X4 $1, Z0, Y1 \
	VADDPS Y1, Y0, Y0 \
	VEXTRACTF128 $1, Y0, X1 \
	VADDPS X1, X0, X0 \
	VPERMILPS $0x4e, X0, X1 \
	VADDPS X1, X0, X0 \
	VPERMILPS $0xb1, X0, X1 \
	VADDPS X1, X0, X0

// func lnSumAVX512(x *float32, n int) float32
TEXT ·lnSumAVX512(SB), NOSPLIT, $0-20
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	VPXORD Z0, Z0, Z0
	TESTQ CX, CX
	JEQ lnsum_done
lnsum_loop:
	VADDPS (SI), Z0, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ lnsum_loop
lnsum_done:
	HSUM0
	MOVSS X0, ret+16(FP)
	VZEROUPPER
	RET

// func lnSqDevAVX512(x *float32, n int, mean float32) float32
// Σ (x - mean)².
TEXT ·lnSqDevAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	SHRQ $4, CX
	VBROADCASTSS mean+16(FP), Z2
	VPXORD Z0, Z0, Z0
	TESTQ CX, CX
	JEQ lnsq_done
lnsq_loop:
	VMOVUPS (SI), Z3
	VSUBPS Z2, Z3, Z3
	VFMADD231PS Z3, Z3, Z0
	ADDQ $64, SI
	DECQ CX
	JNZ lnsq_loop
lnsq_done:
	HSUM0
	MOVSS X0, ret+24(FP)
	VZEROUPPER
	RET

// func lnFwdAVX512(x, w, b, y *float32, n int, mean, rstd float32)
// y = (x - mean)·rstd·w + b.
TEXT ·lnFwdAVX512(SB), NOSPLIT, $0-48
	MOVQ x+0(FP), SI
	MOVQ w+8(FP), DX
	MOVQ b+16(FP), BX
	MOVQ y+24(FP), DI
	MOVQ n+32(FP), CX
	SHRQ $4, CX
	JEQ lnfwd_done
	VBROADCASTSS mean+40(FP), Z1
	VBROADCASTSS rstd+44(FP), Z2
lnfwd_loop:
	VMOVUPS (SI), Z3
	VSUBPS Z1, Z3, Z3
	VMULPS Z2, Z3, Z3            // xhat
	VMOVUPS (BX), Z4
	VFMADD231PS (DX), Z3, Z4     // xhat·w + b
	VMOVUPS Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, DX
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JNZ lnfwd_loop
lnfwd_done:
	VZEROUPPER
	RET

// func lnBwdSumsAVX512(x, gr, w, dw, db *float32, n int, mean, rstd float32) (sdn, sdnx float32)
// dn = g·w: returns Σ dn, Σ dn·xhat; dw += g·xhat, db += g.
TEXT ·lnBwdSumsAVX512(SB), NOSPLIT, $0-64
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), BX
	MOVQ w+16(FP), DX
	MOVQ dw+24(FP), R8
	MOVQ db+32(FP), R9
	MOVQ n+40(FP), CX
	SHRQ $4, CX
	VBROADCASTSS mean+48(FP), Z1
	VBROADCASTSS rstd+52(FP), Z2
	VPXORD Z0, Z0, Z0            // Σ dn
	VPXORD Z5, Z5, Z5            // Σ dn·xhat
	TESTQ CX, CX
	JEQ lnbs_done
lnbs_loop:
	VMOVUPS (SI), Z3
	VSUBPS Z1, Z3, Z3
	VMULPS Z2, Z3, Z3            // xhat
	VMOVUPS (BX), Z4             // g
	VMULPS (DX), Z4, Z6          // dn
	VADDPS Z6, Z0, Z0
	VFMADD231PS Z6, Z3, Z5
	VMOVUPS (R8), Z7
	VFMADD231PS Z4, Z3, Z7       // dw += g·xhat
	VMOVUPS Z7, (R8)
	VADDPS (R9), Z4, Z8          // db += g
	VMOVUPS Z8, (R9)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, R8
	ADDQ $64, R9
	DECQ CX
	JNZ lnbs_loop
lnbs_done:
	HSUM0
	MOVSS X0, sdn+56(FP)
	VMOVAPS Z5, Z0
	HSUM0
	MOVSS X0, sdnx+60(FP)
	VZEROUPPER
	RET

// func lnBwdDxAVX512(x, gr, w, dx *float32, n int, mean, rstd, k1, k0 float32)
// dx = rstd·(g·w) + k1·xhat + k0.
TEXT ·lnBwdDxAVX512(SB), NOSPLIT, $0-56
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), BX
	MOVQ w+16(FP), DX
	MOVQ dx+24(FP), DI
	MOVQ n+32(FP), CX
	SHRQ $4, CX
	JEQ lnbd_done
	VBROADCASTSS mean+40(FP), Z1
	VBROADCASTSS rstd+44(FP), Z2
	VBROADCASTSS k1+48(FP), Z9
	VBROADCASTSS k0+52(FP), Z10
lnbd_loop:
	VMOVUPS (SI), Z3
	VSUBPS Z1, Z3, Z3
	VMULPS Z2, Z3, Z3            // xhat
	VMOVUPS (BX), Z4
	VMULPS (DX), Z4, Z4          // dn = g·w
	VMULPS Z2, Z4, Z4            // rstd·dn
	VFMADD231PS Z9, Z3, Z4       // + k1·xhat
	VADDPS Z10, Z4, Z4           // + k0
	VMOVUPS Z4, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DX
	ADDQ $64, DI
	DECQ CX
	JNZ lnbd_loop
lnbd_done:
	VZEROUPPER
	RET
