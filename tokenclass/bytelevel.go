package tokenclass

import (
	"strings"
	"unicode/utf8"
)

// byteLevelChars maps each byte to the character that stands for it in
// byte-level BPE vocabularies (GPT-2's bytes_to_unicode): printable bytes
// stand for themselves, the others for 256, 257, ... in byte order.
var byteLevelChars, byteLevelBytes = func() ([256]rune, map[rune]byte) {
	var chars [256]rune
	bytes := make(map[rune]byte, 256)
	n := 0
	for b := 0; b < 256; b++ {
		if ('!' <= b && b <= '~') || (0xA1 <= b && b <= 0xAC) || (0xAE <= b && b <= 0xFF) {
			chars[b] = rune(b)
		} else {
			chars[b] = rune(256 + n)
			n++
		}
		bytes[chars[b]] = byte(b)
	}
	return chars, bytes
}()

// ByteLevelDecode is the ByteLevel decoder of Hugging Face tokenizers
// (RoBERTa, GPT-2, DeBERTa-v3's fast BPE kinds): each token's characters
// are turned back into the bytes they stand for (a token with a character
// outside the byte alphabet keeps its own UTF-8 bytes), the bytes of all
// tokens are joined and read as UTF-8, each maximal ill-formed part replaced
// by U+FFFD as Rust's String::from_utf8_lossy does.
func ByteLevelDecode(tokens []string) string {
	var raw []byte
	for _, t := range tokens {
		start := len(raw)
		for _, r := range t {
			b, ok := byteLevelBytes[r]
			if !ok {
				raw = append(raw[:start], t...)
				break
			}
			raw = append(raw, b)
		}
	}
	return lossyUTF8(raw)
}

// lossyUTF8 decodes b, replacing each maximal subpart of an ill-formed
// sequence with U+FFFD (Unicode's recommended practice, which Rust follows).
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var s strings.Builder
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || n > 1 {
			s.Write(b[i : i+n])
			i += n
			continue
		}
		// The longest prefix of a well-formed sequence that starts at b[i].
		need, lo, hi := 0, byte(0x80), byte(0xBF)
		switch c := b[i]; {
		case 0xC2 <= c && c <= 0xDF:
			need = 2
		case c == 0xE0:
			need, lo = 3, 0xA0
		case 0xE1 <= c && c <= 0xEC, c == 0xEE, c == 0xEF:
			need = 3
		case c == 0xED:
			need, hi = 3, 0x9F
		case c == 0xF0:
			need, lo = 4, 0x90
		case 0xF1 <= c && c <= 0xF3:
			need = 4
		case c == 0xF4:
			need, hi = 4, 0x8F
		}
		k := 1
		if need > 0 && i+1 < len(b) && lo <= b[i+1] && b[i+1] <= hi {
			k = 2
			for k < need && i+k < len(b) && 0x80 <= b[i+k] && b[i+k] <= 0xBF {
				k++
			}
		}
		s.WriteRune(utf8.RuneError)
		i += k
	}
	return s.String()
}

// MetaspaceDecoder returns the Metaspace decoder of Hugging Face tokenizers
// (SentencePiece kinds: XLM-R, ALBERT, DeBERTa-v2/v3): the replacement
// character (usually '▁') becomes a space, except in the first token, where
// every one of them is dropped unless the tokenizer's prepend_scheme is
// "never" (prepend false).
func MetaspaceDecoder(replacement rune, prepend bool) func(tokens []string) string {
	return func(tokens []string) string {
		var b strings.Builder
		for i, t := range tokens {
			for _, r := range t {
				switch {
				case r != replacement:
					b.WriteRune(r)
				case i == 0 && prepend:
				default:
					b.WriteByte(' ')
				}
			}
		}
		return b.String()
	}
}
