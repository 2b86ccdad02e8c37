package tokenize

import (
	"slices"
	"sync"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Unicode normalization with alignments, as the unicode-normalization-
// alignments crate that `tokenizers` uses computes it: every output
// character carries a change (0: replaces the next input character, 1:
// inserted, -n: replaces it and removes n more), from which xform derives
// the spans. The character data (decompositions, combining classes,
// compositions) come from golang.org/x/text/unicode/norm; the order of
// operations is the crate's, so that the spans are HF's. (x/text's own
// String also inserts U+034F after 30 combining marks, the "stream-safe"
// format, which the crate does not: this is also why ids go through here.)

type uchange struct {
	r      rune
	ccc    uint8
	change int32
}

func cccOf(r rune) uint8 {
	var b [utf8.UTFMax]byte
	n := utf8.EncodeRune(b[:], r)
	return norm.NFD.Properties(b[:n]).CCC()
}

const (
	hangulS = 0xAC00
	hangulL = 0x1100
	hangulV = 0x1161
	hangulT = 0x11A7
	hangulN = 588
	hangulC = 11172
)

// decompose appends the full canonical (or compatibility) decomposition of
// every character of s, each run of combining marks sorted by combining
// class (stable), as the crate's Decompositions iterator yields them.
func decompose(s string, compat bool, out []uchange) []uchange {
	f := norm.NFD
	if compat {
		f = norm.NFKD
	}
	pending := len(out) // start of the block not yet sorted
	push := func(r rune, first bool) {
		c := cccOf(r)
		if c == 0 {
			sortMarks(out[pending:])
			pending = len(out)
		}
		ch := int32(1)
		if first {
			ch = 0
		}
		out = append(out, uchange{r: r, ccc: c, change: ch})
	}
	for i := 0; i < len(s); {
		r, w := utf8.DecodeRuneInString(s[i:])
		if r >= hangulS && r < hangulS+hangulC {
			si := r - hangulS
			push(hangulL+si/hangulN, true)
			push(hangulV+(si%hangulN)/28, false)
			if t := si % 28; t != 0 {
				push(hangulT+t, false)
			}
		} else if d := f.Properties([]byte(s[i : i+w])).Decomposition(); len(d) > 0 {
			first := true
			for k := 0; k < len(d); {
				dr, dw := utf8.DecodeRune(d[k:])
				push(dr, first)
				first = false
				k += dw
			}
		} else {
			push(r, true)
		}
		i += w
	}
	sortMarks(out[pending:])
	return out
}

func sortMarks(b []uchange) {
	slices.SortStableFunc(b, func(x, y uchange) int { return int(x.ccc) - int(y.ccc) })
}

var composeCache sync.Map // [2]rune -> rune (-1: none)

// compose is the primary composite of a and b, or -1.
func compose(a, b rune) rune {
	if a >= hangulL && a < hangulL+19 && b >= hangulV && b < hangulV+21 {
		return hangulS + ((a-hangulL)*21+(b-hangulV))*28
	}
	if a >= hangulS && a < hangulS+hangulC && (a-hangulS)%28 == 0 && b > hangulT && b < hangulT+28 {
		return a + (b - hangulT)
	}
	key := [2]rune{a, b}
	if v, ok := composeCache.Load(key); ok {
		return v.(rune)
	}
	var buf [2 * utf8.UTFMax]byte
	n := utf8.EncodeRune(buf[:], a)
	n += utf8.EncodeRune(buf[n:], b)
	c := norm.NFC.Bytes(buf[:n])
	r, w := utf8.DecodeRune(c)
	if w != len(c) || r == a {
		r = -1
	}
	composeCache.Store(key, r)
	return r
}

// recompose is the crate's Recompositions iterator over a decomposed
// stream.
func recompose(in []uchange) []uchange {
	out := make([]uchange, 0, len(in))
	var buf []uchange
	var composee uchange
	haveComposee := false
	var lastCCC uint8
	haveLast := false
	for _, ch := range in {
		if !haveComposee {
			if ch.ccc != 0 {
				out = append(out, ch)
				continue
			}
			composee, haveComposee = ch, true
			continue
		}
		if !haveLast {
			if r := compose(composee.r, ch.r); r >= 0 {
				composee = uchange{r: r, change: composee.change + ch.change - 1}
				continue
			}
			if ch.ccc == 0 {
				out = append(out, composee)
				composee = ch
				continue
			}
			buf = append(buf, ch)
			lastCCC, haveLast = ch.ccc, true
			continue
		}
		if lastCCC >= ch.ccc {
			if ch.ccc == 0 { // blocked: flush
				out = append(out, composee)
				out = append(out, buf...)
				buf = buf[:0]
				composee = ch
				haveLast = false
				continue
			}
			buf = append(buf, ch)
			lastCCC = ch.ccc
			continue
		}
		if r := compose(composee.r, ch.r); r >= 0 {
			composee = uchange{r: r, change: composee.change + ch.change - 1}
			continue
		}
		buf = append(buf, ch)
		lastCCC = ch.ccc
	}
	if haveComposee {
		out = append(out, composee)
	}
	return append(out, buf...)
}

// unicodeForm is NFD, NFKD, NFC or NFKC as `tokenizers` applies them.
func unicodeForm(n ntext, compat, composed bool) ntext {
	if isASCII(n.s) {
		return n
	}
	var f norm.Form
	switch {
	case compat && composed:
		f = norm.NFKC
	case compat:
		f = norm.NFKD
	case composed:
		f = norm.NFC
	default:
		f = norm.NFD
	}
	if f.IsNormalString(n.s) {
		return n
	}
	ch := decompose(n.s, compat, make([]uchange, 0, len(n.s)+8))
	if composed {
		ch = recompose(ch)
	}
	x := newXform(&n, len(n.s)+8)
	for _, c := range ch {
		x.emit(c.r, int(c.change))
	}
	return x.done()
}
