//go:build amd64 && !purego

// Vectorised softmax of one float32 row (16 lanes of AVX-512F): the
// max, exp (Exp32's reduction and polynomial with fused multiply-adds) and
// scaling of softmax.go, the sum in 16 partial sums.

#include "textflag.h"

DATA smC<>+0(SB)/4, $0xc2ac0000  // -86
DATA smC<>+4(SB)/4, $0x3fb8aa3b  // log2(e)
DATA smC<>+8(SB)/4, $0x4b400000  // 1.5·2²³
DATA smC<>+12(SB)/4, $0x3f318000 // ln2 high
DATA smC<>+16(SB)/4, $0xb95e8083 // ln2 low
DATA smC<>+20(SB)/4, $0x39506967 // exp polynomial
DATA smC<>+24(SB)/4, $0x3ab743ce
DATA smC<>+28(SB)/4, $0x3c088908
DATA smC<>+32(SB)/4, $0x3d2aa9c1
DATA smC<>+36(SB)/4, $0x3e2aaaaa
DATA smC<>+40(SB)/4, $0x3f000000
DATA smC<>+44(SB)/4, $0x3f800000 // 1
GLOBL smC<>(SB), RODATA|NOPTR, $48

// func softmaxRowAVX512(x, y *float32, n int)
// y = exp(x - max x) / Σ exp(x - max x) for n a positive multiple of 16.
TEXT ·softmaxRowAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ sm_done
	// max
	MOVQ SI, AX
	MOVQ CX, BX
	VMOVUPS (AX), Z0
	ADDQ $64, AX
	DECQ BX
	JEQ sm_maxred
sm_maxloop:
	VMAXPS (AX), Z0, Z0
	ADDQ $64, AX
	DECQ BX
	JNZ sm_maxloop
sm_maxred:
	VEXTRACTF64X4 $1, Z0, Y1
	VMAXPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VMAXPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VMAXPS X1, X0, X0
	VBROADCASTSS X0, Z1          // Z1 = max
	VBROADCASTSS smC<>+0(SB), Z16
	VBROADCASTSS smC<>+4(SB), Z17
	VBROADCASTSS smC<>+8(SB), Z18
	VBROADCASTSS smC<>+12(SB), Z19
	VBROADCASTSS smC<>+16(SB), Z20
	VBROADCASTSS smC<>+44(SB), Z21
	VPXORD Z2, Z2, Z2            // Z2 = partial sums
	MOVQ SI, AX
	MOVQ DI, DX
	MOVQ CX, BX
sm_exploop:
	VMOVUPS (AX), Z3
	VSUBPS Z1, Z3, Z3            // v = x - max (NaN stays NaN)
	VCMPPS $1, Z16, Z3, K1       // v < -86: exp is 0
	VMAXPS Z3, Z16, Z6           // a = max(v, -86), NaN kept
	VMOVAPS Z17, Z7
	VFMADD213PS Z18, Z6, Z7      // fn = a·log2e + magic
	VSUBPS Z18, Z7, Z7
	VMOVAPS Z6, Z8
	VFNMADD231PS Z19, Z7, Z8     // r = a - fn·ln2hi - fn·ln2lo
	VFNMADD231PS Z20, Z7, Z8
	VBROADCASTSS smC<>+20(SB), Z9
	VFMADD213PS.BCST smC<>+24(SB), Z8, Z9
	VFMADD213PS.BCST smC<>+28(SB), Z8, Z9
	VFMADD213PS.BCST smC<>+32(SB), Z8, Z9
	VFMADD213PS.BCST smC<>+36(SB), Z8, Z9
	VFMADD213PS.BCST smC<>+40(SB), Z8, Z9
	VMULPS Z8, Z8, Z10
	VFMADD213PS Z8, Z10, Z9      // p·r² + r
	VADDPS Z21, Z9, Z9           // + 1
	VCVTPS2DQ Z7, Z11
	VPSLLD $23, Z11, Z11
	VPADDD Z11, Z9, Z9           // · 2^fn
	VPXORD Z9, Z9, K1, Z9        // 0 below -86
	VMOVUPS Z9, (DX)
	VADDPS Z9, Z2, Z2
	ADDQ $64, AX
	ADDQ $64, DX
	DECQ BX
	JNZ sm_exploop
	// 1 / Σ
	VEXTRACTF64X4 $1, Z2, Y3
	VADDPS Y3, Y2, Y2
	VEXTRACTF128 $1, Y2, X3
	VADDPS X3, X2, X2
	VPERMILPS $0x4e, X2, X3
	VADDPS X3, X2, X2
	VPERMILPS $0xb1, X2, X3
	VADDPS X3, X2, X2
	VDIVSS X2, X21, X2
	VBROADCASTSS X2, Z2
	MOVQ DI, DX
sm_scaleloop:
	VMULPS (DX), Z2, Z3
	VMOVUPS Z3, (DX)
	ADDQ $64, DX
	DECQ CX
	JNZ sm_scaleloop
sm_done:
	VZEROUPPER
	RET

// func softmaxGradRowAVX512(y, g, dx *float32, n int)
// dx = y·(g - Σ g·y) for n a positive multiple of 16 (the sum in 16
// partial sums).
TEXT ·softmaxGradRowAVX512(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), SI
	MOVQ gr+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ smg_done
	VPXORD Z0, Z0, Z0
	MOVQ SI, AX
	MOVQ BX, DX
	MOVQ CX, R8
smg_dot:
	VMOVUPS (AX), Z1
	VFMADD231PS (DX), Z1, Z0
	ADDQ $64, AX
	ADDQ $64, DX
	DECQ R8
	JNZ smg_dot
	VEXTRACTF64X4 $1, Z0, Y1
	VADDPS Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0x4e, X0, X1
	VADDPS X1, X0, X0
	VPERMILPS $0xb1, X0, X1
	VADDPS X1, X0, X0
	VBROADCASTSS X0, Z0
smg_loop:
	VMOVUPS (BX), Z1
	VSUBPS Z0, Z1, Z1
	VMULPS (SI), Z1, Z1
	VMOVUPS Z1, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JNZ smg_loop
smg_done:
	VZEROUPPER
	RET
