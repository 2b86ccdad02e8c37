//go:build ignore

// gemm_bf16_gen writes gemm_bf16_amd64.s: go generate ./kernels (or
// go run gemm_bf16_gen.go in this folder).
//
// Go's assembler (go1.26) does not know the AVX512_BF16 instructions, so
// VDPBF16PS and VCVTNE2PS2BF16 are written as bytes, register forms only:
//
//	62 P0 P1 P2 opcode ModRM        (EVEX, Intel SDM vol. 2, 2.7)
//	P0 = ~R ~X ~B ~R' 0 0 m m       R, R': bits 3, 4 of the destination;
//	                                X, B: bits 4, 3 of the r/m source; mm = 10 (0F38)
//	P1 = W ~v3 ~v2 ~v1 ~v0 1 p p    W = 0; vvvv: bits 3..0 of the first source;
//	                                pp = 10 (F3) for VDPBF16PS, 11 (F2) for VCVTNE2PS2BF16
//	P2 = z L' L b ~V' a a a         z = 0, L'L = 10 (512 bits), b = 0, V': bit 4 of
//	                                the first source, aaa = 000 (no mask)
//	ModRM = 11 dst[2:0] src2[2:0]
//	VDPBF16PS      zmm1, zmm2, zmm3: EVEX.512.F3.0F38.W0 52 /r
//	VCVTNE2PS2BF16 zmm1, zmm2, zmm3: EVEX.512.F2.0F38.W0 72 /r
//
// (Intel operand order: destination first.) TestBF16Encoding checks the
// kernels against the Go emulation; `objdump -d` of a test binary shows the
// mnemonics.
package main

import (
	"bytes"
	"fmt"
	"os"
)

// evex returns the bytes of a register-form EVEX.512.0F38.W0 instruction.
func evex(opcode, pp byte, dst, src1, src2 int) string {
	inv := func(r, bit int) byte { return byte(^(r >> bit) & 1) }
	p0 := inv(dst, 3)<<7 | inv(src2, 4)<<6 | inv(src2, 3)<<5 | inv(dst, 4)<<4 | 0b10
	p1 := byte(^src1&0xf)<<3 | 1<<2 | pp
	p2 := byte(0b10)<<5 | inv(src1, 4)<<3
	modrm := 0xc0 | byte(dst&7)<<3 | byte(src2&7)
	var b bytes.Buffer
	for i, x := range []byte{0x62, p0, p1, p2, opcode, modrm} {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "BYTE $0x%02x", x)
	}
	return b.String()
}

// vdpbf16ps: dst.fp32[i] += src1.bf16[2i+1]·src2.bf16[2i+1] + src1.bf16[2i]·src2.bf16[2i].
func vdpbf16ps(dst, src1, src2 int) string {
	return fmt.Sprintf("%s // VDPBF16PS Z%d, Z%d, Z%d (Intel order)", evex(0x52, 0b10, dst, src1, src2), dst, src1, src2)
}

// vcvtne2ps2bf16: dst.bf16[0..15] = src2.fp32[0..15], dst.bf16[16..31] = src1.fp32[0..15].
func vcvtne2ps2bf16(dst, src1, src2 int) string {
	return fmt.Sprintf("%s // VCVTNE2PS2BF16 Z%d, Z%d, Z%d (Intel order)", evex(0x72, 0b11, dst, src1, src2), dst, src1, src2)
}

// AMX (Intel SDM vol. 2, AMX instructions), VEX-encoded, also written as
// bytes: C4 [~R ~X ~B 00010 (0F38)] [W=0 ~vvvv L=0 pp] opcode ModRM [SIB].
//
//	LDTILECFG m512               VEX.128.NP.0F38.W0 49 /0 (mod != 11)
//	TILERELEASE                  VEX.128.NP.0F38.W0 49 C0
//	TILEZERO tmm                 VEX.128.F2.0F38.W0 49 11:rrr:000
//	TILELOADD tmm, [base+index]  VEX.128.F2.0F38.W0 4B 00:rrr:100, SIB 00:index:base
//	TILESTORED [base+index], tmm VEX.128.F3.0F38.W0 4B 00:rrr:100, SIB
//	TDPBF16PS tmm1, tmm2, tmm3   VEX.128.F3.0F38.W0 5C 11:tmm1:tmm2, vvvv = tmm3
//	                             (tmm1 += tmm2 (rows of A) · tmm3 (pair rows of B))
func vex(r, x, b int, pp byte, vvvv int, rest ...byte) string {
	b1 := byte((^r>>3)&1)<<7 | byte((^x>>3)&1)<<6 | byte((^b>>3)&1)<<5 | 0b00010
	b2 := byte(^vvvv&0xf)<<3 | pp
	var s bytes.Buffer
	for i, x := range append([]byte{0xc4, b1, b2}, rest...) {
		if i > 0 {
			s.WriteString("; ")
		}
		fmt.Fprintf(&s, "BYTE $0x%02x", x)
	}
	return s.String()
}

// general-purpose register numbers of the encoding
const rAX, rCX, rDX, rBX, rSI, rDI, rR9, rR10, rR11, rR12, rR14 = 0, 1, 2, 3, 6, 7, 9, 10, 11, 12, 14

var regName = map[int]string{rAX: "AX", rCX: "CX", rDX: "DX", rBX: "BX", rSI: "SI", rDI: "DI", rR9: "R9", rR10: "R10", rR11: "R11", rR12: "R12", rR14: "R14"}

func tileload(t, base, index int) string {
	return vex(0, index, base, 0b11, 0, 0x4b, byte(t)<<3|4, byte(index&7)<<3|byte(base&7)) +
		fmt.Sprintf(" // TILELOADD TMM%d, (%s)(%s*1)", t, regName[base], regName[index])
}

func tilestore(t, base, index int) string {
	return vex(0, index, base, 0b10, 0, 0x4b, byte(t)<<3|4, byte(index&7)<<3|byte(base&7)) +
		fmt.Sprintf(" // TILESTORED TMM%d, (%s)(%s*1)", t, regName[base], regName[index])
}

func tdpbf16ps(c, a, b int) string {
	return vex(0, 0, 0, 0b10, b, 0x5c, 0xc0|byte(c)<<3|byte(a)) + fmt.Sprintf(" // TDPBF16PS TMM%d, TMM%d, TMM%d", c, a, b)
}

func tilezero(t int) string {
	return vex(0, 0, 0, 0b11, 0, 0x49, 0xc0|byte(t)<<3) + fmt.Sprintf(" // TILEZERO TMM%d", t)
}

func ldtilecfg(base int) string {
	return vex(0, 0, base, 0, 0, 0x49, byte(base&7)) + fmt.Sprintf(" // LDTILECFG (%s)", regName[base])
}

func tilerelease() string { return vex(0, 0, 0, 0, 0, 0x49, 0xc0) + " // TILERELEASE" }

var out bytes.Buffer

func p(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }

// vec is a vector width: its register letter, its size in bytes and its
// XOR instruction.
type vec struct {
	reg   string
	bytes int
	xor   string
}

var (
	zmm = vec{"Z", 64, "VPXORD"}
	ymm = vec{"Y", 32, "VPXOR"}
)

// store writes the epilogue of the rows×(2 vectors) kernels: alpha·tile
// into C (acc false) or added to C (acc true); tile row r in v(2r),
// v(2r+1); alphaReg holds alpha.
func store(name string, v vec, rows, alphaReg int) {
	p("\tVBROADCASTSS alpha+40(FP), %s%d", v.reg, alphaReg)
	for i := 0; i < 2*rows; i++ {
		p("\tVMULPS %s%d, %s%d, %s%d", v.reg, alphaReg, v.reg, i, v.reg, i)
	}
	p("\tMOVBLZX acc+44(FP), R9")
	p("\tTESTQ R9, R9")
	p("\tJEQ %s_overwrite", name)
	for r := 0; r < rows; r++ {
		if r > 0 {
			p("\tADDQ R8, DX")
		}
		p("\tVADDPS 0(DX), %s%d, %s%d", v.reg, 2*r, v.reg, 2*r)
		p("\tVMOVUPS %s%d, 0(DX)", v.reg, 2*r)
		p("\tVADDPS %d(DX), %s%d, %s%d", v.bytes, v.reg, 2*r+1, v.reg, 2*r+1)
		p("\tVMOVUPS %s%d, %d(DX)", v.reg, 2*r+1, v.bytes)
	}
	p("\tVZEROUPPER")
	p("\tRET")
	p("%s_overwrite:", name)
	for r := 0; r < rows; r++ {
		if r > 0 {
			p("\tADDQ R8, DX")
		}
		p("\tVMOVUPS %s%d, 0(DX)", v.reg, 2*r)
		p("\tVMOVUPS %s%d, %d(DX)", v.reg, 2*r+1, v.bytes)
	}
	p("\tVZEROUPPER")
	p("\tRET")
}

// prologue loads the arguments of the dot kernels and zeroes the nacc
// accumulators.
func prologue(name string, frame int, v vec, nacc int) {
	p("TEXT ·%s(SB), NOSPLIT, $%d-45", name, frame)
	p("\tMOVQ kc2+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ b+16(FP), DI")
	p("\tMOVQ c+24(FP), DX")
	p("\tMOVQ ldc+32(FP), R8")
	p("\tSHLQ $2, R8")
	for i := 0; i < nacc; i++ {
		p("\t%s %s%d, %s%d, %s%d", v.xor, v.reg, i, v.reg, i, v.reg, i)
	}
}

// flushToZero saves MXCSR at 0(SP) and sets its FTZ bit (restored by
// LDMXCSR 0(SP)).
func flushToZero() {
	p("\tSTMXCSR 0(SP)")
	p("\tMOVL 0(SP), AX")
	p("\tORL $0x8000, AX")
	p("\tMOVL AX, 4(SP)")
	p("\tLDMXCSR 4(SP)")
	p("\tMOVL $0xffff0000, AX")
}

func header() {
	p("// Code generated by gemm_bf16_gen.go; DO NOT EDIT.")
	p("")
	p("//go:build amd64 && !purego")
	p("")
	p("#include \"textflag.h\"")
	p("")
}

func emitBF16DotAVX512() {
	p("// func bf16dotAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)")
	p("//")
	p("// AVX512_BF16: C[8×32] = alpha·A·B (acc false) or C + alpha·A·B (acc true) for")
	p("// packed strips of bf16 pairs A (kc2×8) and B (kc2×32): one VDPBF16PS per")
	p("// pair of k and 16 columns. Tile row r in Z2r, Z2r+1; B in Z24, Z25; A's")
	p("// pair of row r broadcast in Z16+r.")
	prologue("bf16dotAVX512", 0, zmm, 16)
	p("\tTESTQ CX, CX")
	p("\tJEQ bf16dotAVX512_store")
	p("bf16dotAVX512_loop:")
	p("\tVMOVDQU32 0(DI), Z24")
	p("\tVMOVDQU32 64(DI), Z25")
	for r := 0; r < 8; r++ {
		p("\tVPBROADCASTD %d(SI), Z%d", 4*r, 16+r)
		p("\t%s", vdpbf16ps(2*r, 24, 16+r))
		p("\t%s", vdpbf16ps(2*r+1, 25, 16+r))
	}
	p("\tADDQ $32, SI")
	p("\tADDQ $128, DI")
	p("\tDECQ CX")
	p("\tJNZ bf16dotAVX512_loop")
	p("bf16dotAVX512_store:")
	store("bf16dotAVX512", zmm, 8, 31)
	p("")
}

func emitBF16FmaAVX512() {
	p("// func bf16fmaAVX512(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)")
	p("//")
	p("// AVX-512F without AVX512_BF16: bf16dotAVX512's sums by the definition of")
	p("// VDPBF16PS (Intel SDM): per pair, acc = fma(hi·hi, acc) then")
	p("// acc = fma(lo·lo, acc), with results flushed to zero (MXCSR.FTZ, set")
	p("// here for the loop and restored before alpha is applied). bf16 → fp32 is")
	p("// a shift (lo) or a mask (hi). Packing has flushed bf16 denormals to zero")
	p("// (VDPBF16PS's DAZ) and accumulators are never denormal.")
	prologue("bf16fmaAVX512", 8, zmm, 16)
	flushToZero()
	p("\tVPBROADCASTD AX, Z31")
	p("\tTESTQ CX, CX")
	p("\tJEQ bf16fmaAVX512_done")
	p("bf16fmaAVX512_loop:")
	p("\tVMOVDQU32 0(DI), Z24")
	p("\tVMOVDQU32 64(DI), Z25")
	p("\tVPANDD Z31, Z24, Z26")
	p("\tVPANDD Z31, Z25, Z27")
	p("\tVPSLLD $16, Z24, Z24")
	p("\tVPSLLD $16, Z25, Z25")
	for r := 0; r < 8; r++ {
		lo, hi := 16+2*(r%4), 17+2*(r%4)
		p("\tVPBROADCASTD %d(SI), Z%d", 4*r, lo)
		p("\tVPANDD Z31, Z%d, Z%d", lo, hi)
		p("\tVPSLLD $16, Z%d, Z%d", lo, lo)
		p("\tVFMADD231PS Z26, Z%d, Z%d", hi, 2*r)
		p("\tVFMADD231PS Z27, Z%d, Z%d", hi, 2*r+1)
		p("\tVFMADD231PS Z24, Z%d, Z%d", lo, 2*r)
		p("\tVFMADD231PS Z25, Z%d, Z%d", lo, 2*r+1)
	}
	p("\tADDQ $32, SI")
	p("\tADDQ $128, DI")
	p("\tDECQ CX")
	p("\tJNZ bf16fmaAVX512_loop")
	p("bf16fmaAVX512_done:")
	p("\tLDMXCSR 0(SP)")
	p("bf16fmaAVX512_store:")
	store("bf16fmaAVX512", zmm, 8, 31)
	p("")
}

func emitBF16FmaAVX2() {
	p("// func bf16fmaAVX2(kc2 int, a, b *uint32, c *float32, ldc int, alpha float32, acc bool)")
	p("//")
	p("// AVX2 and FMA: bf16fmaAVX512 for a 4×16 tile (packed strips A kc2×4, B")
	p("// kc2×16). Tile row r in Y2r, Y2r+1; B's high halves in Y10, Y11, low")
	p("// halves in Y8, Y9; A's pair of a row in Y12 (low) and Y13 (high).")
	prologue("bf16fmaAVX2", 8, ymm, 8)
	flushToZero()
	p("\tMOVD AX, X15")
	p("\tVPBROADCASTD X15, Y15")
	p("\tTESTQ CX, CX")
	p("\tJEQ bf16fmaAVX2_done")
	p("bf16fmaAVX2_loop:")
	p("\tVMOVDQU 0(DI), Y8")
	p("\tVMOVDQU 32(DI), Y9")
	p("\tVPAND Y15, Y8, Y10")
	p("\tVPAND Y15, Y9, Y11")
	p("\tVPSLLD $16, Y8, Y8")
	p("\tVPSLLD $16, Y9, Y9")
	for r := 0; r < 4; r++ {
		p("\tVPBROADCASTD %d(SI), Y12", 4*r)
		p("\tVPAND Y15, Y12, Y13")
		p("\tVPSLLD $16, Y12, Y12")
		p("\tVFMADD231PS Y10, Y13, Y%d", 2*r)
		p("\tVFMADD231PS Y11, Y13, Y%d", 2*r+1)
		p("\tVFMADD231PS Y8, Y12, Y%d", 2*r)
		p("\tVFMADD231PS Y9, Y12, Y%d", 2*r+1)
	}
	p("\tADDQ $16, SI")
	p("\tADDQ $64, DI")
	p("\tDECQ CX")
	p("\tJNZ bf16fmaAVX2_loop")
	p("bf16fmaAVX2_done:")
	p("\tLDMXCSR 0(SP)")
	store("bf16fmaAVX2", ymm, 4, 15)
	p("")
}

func emitCvtBF16AVX512() {
	p("// func cvtBF16AVX512(dst *uint16, src *float32, n int)")
	p("//")
	p("// dst[i] = bf16(src[i]) by VCVTNE2PS2BF16 (round to nearest even, NaN")
	p("// quieted, denormals to signed zero), n a positive multiple of 32.")
	p("TEXT ·cvtBF16AVX512(SB), NOSPLIT, $0-24")
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ n+16(FP), CX")
	p("cvtBF16AVX512_loop:")
	p("\tVMOVUPS 0(SI), Z0")
	p("\tVMOVUPS 64(SI), Z1")
	p("\t%s", vcvtne2ps2bf16(2, 1, 0))
	p("\tVMOVDQU32 Z2, 0(DI)")
	p("\tADDQ $128, SI")
	p("\tADDQ $64, DI")
	p("\tSUBQ $32, CX")
	p("\tJNZ cvtBF16AVX512_loop")
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// amxKLoop is the k loop of the AMX kernels: CX steps of 16 pairs, A rows
// 0..15 at SI and 16..31 at R9 (BX bytes apart), B columns 0..15 at DI and
// 16..31 at R11 (DX = 128 bytes apart), summed into TMM0..3.
func amxKLoop(label string) {
	p("%s:", label)
	p("\t%s", tileload(4, rSI, rBX))
	p("\t%s", tileload(5, rR9, rBX))
	p("\t%s", tileload(6, rDI, rDX))
	p("\t%s", tileload(7, rR11, rDX))
	p("\t%s", tdpbf16ps(0, 4, 6))
	p("\t%s", tdpbf16ps(1, 4, 7))
	p("\t%s", tdpbf16ps(2, 5, 6))
	p("\t%s", tdpbf16ps(3, 5, 7))
	p("\tADDQ $64, SI")
	p("\tADDQ $64, R9")
	p("\tADDQ $2048, DI")
	p("\tADDQ $2048, R11")
	p("\tDECQ CX")
	p("\tJNZ %s", label)
}

// amxStoreTiles stores TMM0..3 at AX, R10, R12, R14, rows DX bytes apart.
func amxStoreTiles() {
	p("\t%s", tilestore(0, rAX, rDX))
	p("\t%s", tilestore(1, rR10, rDX))
	p("\t%s", tilestore(2, rR12, rDX))
	p("\t%s", tilestore(3, rR14, rDX))
}

// amxToScratch stores TMM0..3 as a 32×32 block at 0(SP), rows DX = 128
// bytes apart, leaving AX at it.
func amxToScratch() {
	p("\tLEAQ 0(SP), AX")
	p("\tLEAQ 64(AX), R10")
	p("\tLEAQ 2048(AX), R12")
	p("\tLEAQ 2112(AX), R14")
	amxStoreTiles()
}

// amxScaleScratch writes alpha·scratch into C (acc false) or adds it to C
// (acc true), 32 rows of 32 columns; cAddr loads C's address into DX, the
// offsets are those of ldc, alpha and acc among the arguments.
func amxScaleScratch(name, cAddr string, ldc, alpha, acc int) {
	p("\tMOVQ %s, DX", cAddr)
	p("\tMOVQ ldc+%d(FP), R8", ldc)
	p("\tSHLQ $2, R8")
	p("\tVBROADCASTSS alpha+%d(FP), Z31", alpha)
	p("\tMOVBLZX acc+%d(FP), R9", acc)
	p("\tMOVQ $32, CX")
	p("%s_store:", name)
	p("\tVMULPS 0(AX), Z31, Z0")
	p("\tVMULPS 64(AX), Z31, Z1")
	p("\tTESTQ R9, R9")
	p("\tJEQ %s_overwrite", name)
	p("\tVADDPS 0(DX), Z0, Z0")
	p("\tVADDPS 64(DX), Z1, Z1")
	p("%s_overwrite:", name)
	p("\tVMOVUPS Z0, 0(DX)")
	p("\tVMOVUPS Z1, 64(DX)")
	p("\tADDQ $128, AX")
	p("\tADDQ R8, DX")
	p("\tDECQ CX")
	p("\tJNZ %s_store", name)
}

func emitBF16AMX() {
	p("// func bf16amx(kq int, a *uint32, aStride int, b *uint32, c *float32, ldc int, alpha float32, acc bool, cfg *byte)")
	p("//")
	p("// AMX-BF16: C[32×32] = alpha·A·B (acc false) or C + alpha·A·B (acc true) for")
	p("// A as 32 rows of bf16 pairs (row r at a + r·aStride bytes) and B as pair")
	p("// rows of 32 columns (128 bytes each), kq steps of 16 pairs. Tiles (cfg:")
	p("// palette 1, 16 rows of 64 bytes each): TMM0..3 the 2×2 blocks of C,")
	p("// TMM4, 5 rows 0..15, 16..31 of A, TMM6, 7 columns 0..15, 16..31 of B.")
	p("// The sum goes through a 32×32 scratch in the frame to apply alpha as the")
	p("// other kernels do. The tile state is released before returning: nothing")
	p("// lives across calls.")
	p("TEXT ·bf16amx(SB), 0, $4096-64")
	p("\tMOVQ kq+0(FP), CX")
	p("\tMOVQ a+8(FP), SI")
	p("\tMOVQ aStride+16(FP), BX")
	p("\tMOVQ b+24(FP), DI")
	p("\tMOVQ cfg+56(FP), AX")
	p("\t%s", ldtilecfg(rAX))
	for i := 0; i < 4; i++ {
		p("\t%s", tilezero(i))
	}
	p("\tMOVQ BX, R10")
	p("\tSHLQ $4, R10")
	p("\tLEAQ (SI)(R10*1), R9")
	p("\tLEAQ 64(DI), R11")
	p("\tMOVQ $128, DX")
	amxKLoop("bf16amx_loop")
	amxToScratch()
	p("\t%s", tilerelease())
	amxScaleScratch("bf16amx", "c+32(FP)", 40, 48, 52)
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func emitBF16AMXTile() {
	p("// func bf16amxTile(kq int, a *uint32, aStride, mStrips int, b *uint32, nStrips int, c *float32, ldc int, alpha float32, acc, direct bool, cfg *byte)")
	p("//")
	p("// bf16amx over mStrips×nStrips tiles of 32×32 with one tile configuration:")
	p("// A strips 32·aStride bytes apart, B strips kq·2048 bytes apart, C tile")
	p("// (i, j) at c + (32i·ldc + 32j)·4 bytes; B strips outer, A strips inner,")
	p("// each tile computed as bf16amx computes it. direct (alpha = 1, acc false):")
	p("// the tiles are stored into C as they are (alpha·x = x).")
	p("TEXT ·bf16amxTile(SB), 0, $4160-80")
	p("\tMOVQ cfg+72(FP), AX")
	p("\t%s", ldtilecfg(rAX))
	p("\tMOVQ b+32(FP), AX")
	p("\tMOVQ AX, 4112(SP)") // bcur
	p("\tMOVQ c+48(FP), AX")
	p("\tMOVQ AX, 4128(SP)") // ccol
	p("\tMOVQ nStrips+40(FP), AX")
	p("\tMOVQ AX, 4096(SP)") // jr count
	p("bf16amxTile_jr:")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ AX, 4120(SP)") // acur
	p("\tMOVQ 4128(SP), AX")
	p("\tMOVQ AX, 4136(SP)") // crow
	p("\tMOVQ mStrips+24(FP), AX")
	p("\tMOVQ AX, 4104(SP)") // ir count
	p("bf16amxTile_ir:")
	for i := 0; i < 4; i++ {
		p("\t%s", tilezero(i))
	}
	p("\tMOVQ kq+0(FP), CX")
	p("\tMOVQ 4120(SP), SI")
	p("\tMOVQ aStride+16(FP), BX")
	p("\tMOVQ BX, R10")
	p("\tSHLQ $4, R10")
	p("\tLEAQ (SI)(R10*1), R9")
	p("\tMOVQ 4112(SP), DI")
	p("\tLEAQ 64(DI), R11")
	p("\tMOVQ $128, DX")
	amxKLoop("bf16amxTile_k")
	p("\tMOVBLZX direct+69(FP), AX")
	p("\tTESTQ AX, AX")
	p("\tJEQ bf16amxTile_scratch")
	p("\tMOVQ 4136(SP), AX")
	p("\tMOVQ ldc+56(FP), DX")
	p("\tSHLQ $2, DX")
	p("\tLEAQ 64(AX), R10")
	p("\tMOVQ DX, R12")
	p("\tSHLQ $4, R12")
	p("\tADDQ AX, R12")
	p("\tLEAQ 64(R12), R14")
	amxStoreTiles()
	p("\tJMP bf16amxTile_next")
	p("bf16amxTile_scratch:")
	amxToScratch()
	amxScaleScratch("bf16amxTile", "4136(SP)", 56, 64, 68)
	p("bf16amxTile_next:")
	p("\tMOVQ aStride+16(FP), AX")
	p("\tSHLQ $5, AX")
	p("\tADDQ AX, 4120(SP)")
	p("\tMOVQ ldc+56(FP), AX")
	p("\tSHLQ $7, AX")
	p("\tADDQ AX, 4136(SP)")
	p("\tDECQ 4104(SP)")
	p("\tJNZ bf16amxTile_ir")
	p("\tMOVQ kq+0(FP), AX")
	p("\tSHLQ $11, AX")
	p("\tADDQ AX, 4112(SP)")
	p("\tADDQ $128, 4128(SP)")
	p("\tDECQ 4096(SP)")
	p("\tJNZ bf16amxTile_jr")
	p("\t%s", tilerelease())
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func emitCvtPairsAVX512() {
	p("// bf16ilv: word indices interleaving two 16-word halves (VPERMW).")
	for i := 0; i < 8; i++ {
		var q uint64
		for j := 0; j < 4; j++ {
			w := 4*i + j
			q |= uint64(w/2+16*(w%2)) << (16 * j)
		}
		p("DATA bf16ilv<>+%d(SB)/8, $0x%016x", 8*i, q)
	}
	p("GLOBL bf16ilv<>(SB), RODATA|NOPTR, $64")
	p("")
	p("// func cvtPairsAVX512(dst *uint32, src0, src1 *float32, blocks, w16, stride int)")
	p("//")
	p("// dst lanes = bf16(src0[c]) | bf16(src1[c])<<16 (VCVTNE2PS2BF16, then")
	p("// VPERMW to interleave) for blocks·16 values c: every w16 blocks of 16")
	p("// lanes (a strip), dst moves on to the next strip, stride bytes on.")
	p("TEXT ·cvtPairsAVX512(SB), NOSPLIT, $0-48")
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src0+8(FP), SI")
	p("\tMOVQ src1+16(FP), DX")
	p("\tMOVQ blocks+24(FP), CX")
	p("\tMOVQ w16+32(FP), R8")
	p("\tMOVQ stride+40(FP), R9")
	p("\tVMOVDQU32 bf16ilv<>(SB), Z30")
	p("cvtPairsAVX512_strip:")
	p("\tMOVQ DI, R10")
	p("\tMOVQ R8, R11")
	p("cvtPairsAVX512_loop:")
	p("\tVMOVUPS 0(SI), Z0")
	p("\tVMOVUPS 0(DX), Z1")
	p("\t%s", vcvtne2ps2bf16(2, 1, 0))
	p("\tVPERMW Z2, Z30, Z3")
	p("\tVMOVDQU32 Z3, 0(R10)")
	p("\tADDQ $64, SI")
	p("\tADDQ $64, DX")
	p("\tADDQ $64, R10")
	p("\tDECQ CX")
	p("\tJEQ cvtPairsAVX512_done")
	p("\tDECQ R11")
	p("\tJNZ cvtPairsAVX512_loop")
	p("\tADDQ R9, DI")
	p("\tJMP cvtPairsAVX512_strip")
	p("cvtPairsAVX512_done:")
	p("\tVZEROUPPER")
	p("\tRET")
}

func main() {
	header()
	emitBF16DotAVX512()
	emitBF16FmaAVX512()
	emitBF16FmaAVX2()
	emitCvtBF16AVX512()
	emitBF16AMX()
	emitBF16AMXTile()
	emitCvtPairsAVX512()
	if err := os.WriteFile("gemm_bf16_amd64.s", out.Bytes(), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
