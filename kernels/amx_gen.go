//go:build ignore

// amx_gen holds the emitters that gemm_bf16_gen.go and gemm_int8_gen.go
// share; go generate builds each generator together with this file.
package main

import (
	"bytes"
	"fmt"
)

// AMX (Intel SDM vol. 2, AMX instructions), VEX-encoded, written as bytes
// (Go's assembler does not know them): C4 [~R ~X ~B 00010 (0F38)]
// [W=0 ~vvvv L=0 pp] opcode ModRM [SIB].
//
//	LDTILECFG m512               VEX.128.NP.0F38.W0 49 /0 (mod != 11)
//	TILERELEASE                  VEX.128.NP.0F38.W0 49 C0
//	TILEZERO tmm                 VEX.128.F2.0F38.W0 49 11:rrr:000
//	TILELOADD tmm, [base+index]  VEX.128.F2.0F38.W0 4B 00:rrr:100, SIB 00:index:base
//	TILESTORED [base+index], tmm VEX.128.F3.0F38.W0 4B 00:rrr:100, SIB
//
// The dot-product tile instructions (TDPBF16PS, TDPBUSD) are in their
// generators.
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
// (no R13 or BP as a SIB base: with mod 00 that encodes disp32, no base)
const rAX, rCX, rDX, rBX, rSI, rDI, rR8, rR9, rR10, rR11, rR12, rR14 = 0, 1, 2, 3, 6, 7, 8, 9, 10, 11, 12, 14

var regName = map[int]string{rAX: "AX", rCX: "CX", rDX: "DX", rBX: "BX", rSI: "SI", rDI: "DI", rR8: "R8", rR9: "R9", rR10: "R10", rR11: "R11", rR12: "R12", rR14: "R14"}

func tileload(t, base, index int) string {
	return vex(0, index, base, 0b11, 0, 0x4b, byte(t)<<3|4, byte(index&7)<<3|byte(base&7)) +
		fmt.Sprintf(" // TILELOADD TMM%d, (%s)(%s*1)", t, regName[base], regName[index])
}

func tilestore(t, base, index int) string {
	return vex(0, index, base, 0b10, 0, 0x4b, byte(t)<<3|4, byte(index&7)<<3|byte(base&7)) +
		fmt.Sprintf(" // TILESTORED TMM%d, (%s)(%s*1)", t, regName[base], regName[index])
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
