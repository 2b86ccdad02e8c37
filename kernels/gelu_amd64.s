//go:build amd64 && !purego

// Vectorised GELU (erf form) for float32, 16 lanes of AVX-512F: the
// formulas of gelu.go (Erf32, Exp32) with fused multiply-adds.

#include "textflag.h"

DATA geluC<>+0(SB)/4, $0x3f3504f3   // 1/√2
DATA geluC<>+4(SB)/4, $0xc0800000   // -4
DATA geluC<>+8(SB)/4, $0x40800000   // 4
DATA geluC<>+12(SB)/4, $0xaf95df0b  // erf numerator, highest power first
DATA geluC<>+16(SB)/4, $0x32edffee
DATA geluC<>+20(SB)/4, $0xb60cff51
DATA geluC<>+24(SB)/4, $0xb86ec2d2
DATA geluC<>+28(SB)/4, $0xba40ac63
DATA geluC<>+32(SB)/4, $0xbb41a1f6
DATA geluC<>+36(SB)/4, $0xbc83dbd4
DATA geluC<>+40(SB)/4, $0xb77460cd  // erf denominator
DATA geluC<>+44(SB)/4, $0xb95fbd29
DATA geluC<>+48(SB)/4, $0xbadc924e
DATA geluC<>+52(SB)/4, $0xbbf19bf8
DATA geluC<>+56(SB)/4, $0xbc69b6a7
DATA geluC<>+60(SB)/4, $0x3f000000  // 0.5
DATA geluC<>+64(SB)/4, $0xbf000000  // -0.5
DATA geluC<>+68(SB)/4, $0xc2ac0000  // -86
DATA geluC<>+72(SB)/4, $0x3fb8aa3b  // log2(e)
DATA geluC<>+76(SB)/4, $0x4b400000  // 1.5·2²³
DATA geluC<>+80(SB)/4, $0x3f318000  // ln2 high
DATA geluC<>+84(SB)/4, $0xb95e8083  // ln2 low
DATA geluC<>+88(SB)/4, $0x39506967  // exp polynomial
DATA geluC<>+92(SB)/4, $0x3ab743ce
DATA geluC<>+96(SB)/4, $0x3c088908
DATA geluC<>+100(SB)/4, $0x3d2aa9c1
DATA geluC<>+104(SB)/4, $0x3e2aaaaa
DATA geluC<>+108(SB)/4, $0x3f000000
DATA geluC<>+112(SB)/4, $0x3f800000 // 1
DATA geluC<>+116(SB)/4, $0x3ecc422a // 1/√(2π)
GLOBL geluC<>(SB), RODATA|NOPTR, $120

// ERF16 sets Z5 = erf(Z1) for Z1 already clamped to [-4, 4] (clobbers Z2-Z4).
#define ERF16 \
	VMULPS Z1, Z1, Z2 \
	VBROADCASTSS geluC<>+12(SB), Z3 \
	VFMADD213PS.BCST geluC<>+16(SB), Z2, Z3 \
	VFMADD213PS.BCST geluC<>+20(SB), Z2, Z3 \
	VFMADD213PS.BCST geluC<>+24(SB), Z2, Z3 \
	VFMADD213PS.BCST geluC<>+28(SB), Z2, Z3 \
	VFMADD213PS.BCST geluC<>+32(SB), Z2, Z3 \
	VFMADD213PS.BCST geluC<>+36(SB), Z2, Z3 \
	VMULPS Z1, Z3, Z3 \
	VBROADCASTSS geluC<>+40(SB), Z4 \
	VFMADD213PS.BCST geluC<>+44(SB), Z2, Z4 \
	VFMADD213PS.BCST geluC<>+48(SB), Z2, Z4 \
	VFMADD213PS.BCST geluC<>+52(SB), Z2, Z4 \
	VFMADD213PS.BCST geluC<>+56(SB), Z2, Z4 \
	VDIVPS Z4, Z3, Z5

// func geluFwdAVX512(x, y *float32, n int)
// y = ½x(1 + erf(x/√2)) for n a multiple of 16.
TEXT ·geluFwdAVX512(SB), NOSPLIT, $0-24
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DI
	MOVQ n+16(FP), CX
	SHRQ $4, CX
	JEQ geluFwd_done
	VBROADCASTSS geluC<>+0(SB), Z16
	VBROADCASTSS geluC<>+4(SB), Z17
	VBROADCASTSS geluC<>+8(SB), Z18
	VBROADCASTSS geluC<>+60(SB), Z19
geluFwd_loop:
	VMOVUPS (SI), Z0
	VMULPS Z16, Z0, Z1
	VMAXPS Z17, Z1, Z1
	VMINPS Z18, Z1, Z1
	ERF16
	VMULPS Z19, Z0, Z6
	VFMADD213PS Z6, Z6, Z5
	VMOVUPS Z5, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ geluFwd_loop
geluFwd_done:
	VZEROUPPER
	RET

// func geluBwdAVX512(x, gr, dx *float32, n int)
// dx = g·(Φ(x) + x·φ(x)), Φ(x) = ½(1 + erf(x/√2)), φ(x) = exp(-x²/2)/√(2π),
// for n a multiple of 16.
TEXT ·geluBwdAVX512(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), SI
	MOVQ gr+8(FP), BX
	MOVQ dx+16(FP), DI
	MOVQ n+24(FP), CX
	SHRQ $4, CX
	JEQ geluBwd_done
	VBROADCASTSS geluC<>+0(SB), Z16
	VBROADCASTSS geluC<>+4(SB), Z17
	VBROADCASTSS geluC<>+8(SB), Z18
	VBROADCASTSS geluC<>+60(SB), Z19
	VBROADCASTSS geluC<>+64(SB), Z20
	VBROADCASTSS geluC<>+68(SB), Z21
	VBROADCASTSS geluC<>+72(SB), Z22
	VBROADCASTSS geluC<>+76(SB), Z23
	VBROADCASTSS geluC<>+80(SB), Z24
	VBROADCASTSS geluC<>+84(SB), Z25
	VBROADCASTSS geluC<>+112(SB), Z26
	VBROADCASTSS geluC<>+116(SB), Z27
geluBwd_loop:
	VMOVUPS (SI), Z0
	VMULPS Z16, Z0, Z1
	VMAXPS Z17, Z1, Z1
	VMINPS Z18, Z1, Z1
	ERF16
	VFMADD213PS Z19, Z19, Z5     // Z5 = Φ = ½erf + ½
	// a = max(-x²/2, -86); exp(a) as Exp32
	VMULPS Z0, Z0, Z6
	VMULPS Z20, Z6, Z6
	VMAXPS Z21, Z6, Z6
	VMOVAPS Z22, Z7
	VFMADD213PS Z23, Z6, Z7      // fn = a·log2e + magic
	VSUBPS Z23, Z7, Z7           // fn -= magic
	VMOVAPS Z6, Z8
	VFNMADD231PS Z24, Z7, Z8     // r = a - fn·ln2hi
	VFNMADD231PS Z25, Z7, Z8     // r -= fn·ln2lo
	VBROADCASTSS geluC<>+88(SB), Z9
	VFMADD213PS.BCST geluC<>+92(SB), Z8, Z9
	VFMADD213PS.BCST geluC<>+96(SB), Z8, Z9
	VFMADD213PS.BCST geluC<>+100(SB), Z8, Z9
	VFMADD213PS.BCST geluC<>+104(SB), Z8, Z9
	VFMADD213PS.BCST geluC<>+108(SB), Z8, Z9
	VMULPS Z8, Z8, Z10
	VFMADD213PS Z8, Z10, Z9      // p·r² + r
	VADDPS Z26, Z9, Z9           // + 1
	VCVTPS2DQ Z7, Z11
	VPSLLD $23, Z11, Z11
	VPADDD Z11, Z9, Z9           // · 2^fn
	VMULPS Z27, Z9, Z9           // φ(x)
	VFMADD213PS Z5, Z0, Z9       // Φ + x·φ
	VMULPS (BX), Z9, Z9
	VMOVUPS Z9, (DI)
	ADDQ $64, SI
	ADDQ $64, BX
	ADDQ $64, DI
	DECQ CX
	JNZ geluBwd_loop
geluBwd_done:
	VZEROUPPER
	RET
