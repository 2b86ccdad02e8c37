package tokenize

import "unicode/utf8"

// span is a byte range [start, end) of the original text.
type span struct{ start, end int32 }

// ntext is a piece of (normalized) text, HF's NormalizedString. When
// offsets are tracked, al holds for every byte of s the span of the
// original text it came from (every byte of one character holds the same
// span) — HF's alignments, made absolute: they index the whole input, not
// the piece. al is nil when offsets are not tracked. shift is HF's
// original_shift: where in the input the piece's original text begins.
type ntext struct {
	s     string
	al    []span
	shift int32
}

// newText is the text s found at byte base of the input, each byte aligned
// to its own character.
func newText(s string, base int, track bool) ntext {
	n := ntext{s: s, shift: int32(base)}
	if !track {
		return n
	}
	n.al = make([]span, len(s))
	for i := 0; i < len(s); {
		_, w := utf8.DecodeRuneInString(s[i:])
		sp := span{int32(base + i), int32(base + i + w)}
		for k := 0; k < w; k++ {
			n.al[i+k] = sp
		}
		i += w
	}
	return n
}

func (n *ntext) tracked() bool { return n.al != nil }

// slice is HF's NormalizedString::slice over the normalized bytes [a, b).
func (n *ntext) slice(a, b int) ntext {
	out := ntext{s: n.s[a:b], shift: n.shift}
	if n.al != nil {
		out.al = n.al[a:b:b]
		if a < b {
			out.shift = n.al[a].start
		} else {
			out.shift = n.shift + int32(a)
		}
	} else if a > 0 {
		out.shift = -1 // unknown (only Metaspace's "first" scheme reads it, and it forces tracking)
	}
	return out
}

// orig converts the normalized range [a, b) of n to the original text, as
// HF's into_encoding does: (alignment of a).start to (alignment of b-1).end;
// an empty range maps to itself past the shift; a range outside the text
// keeps its normalized offsets.
func (n *ntext) orig(a, b int32) (int32, int32) {
	if n.al == nil {
		return 0, 0
	}
	switch {
	case a == b:
		return n.shift + a, n.shift + b
	case a > b || int(b) > len(n.al):
		return a, b
	}
	return n.al[a].start, n.al[b-1].end
}

// xform builds a new ntext from an old one, character by character, the
// way HF's NormalizedString::transform does: each new character replaces
// the next old one (change 0), is inserted (change > 0) or replaces it and
// removes -change more (change < 0); a replacing character takes the span
// of the old one, an inserted one the span of the old character before it.
type xform struct {
	src *ntext
	pos int // byte offset in src.s of the next old character
	b   []byte
	al  []span
}

func newXform(src *ntext, capacity int) *xform {
	x := &xform{src: src, b: make([]byte, 0, capacity)}
	if src.al != nil {
		x.al = make([]span, 0, capacity)
	}
	return x
}

// keep copies the old character at byte i (w bytes long) with its span.
func (x *xform) keep(i, w int) {
	x.b = append(x.b, x.src.s[i:i+w]...)
	if x.al != nil {
		x.al = append(x.al, x.src.al[i:i+w]...)
	}
}

// put appends r with the span of the old character at byte i.
func (x *xform) put(r rune, i int) {
	n := len(x.b)
	x.b = utf8.AppendRune(x.b, r)
	if x.al != nil {
		a := x.src.al[i]
		for k := n; k < len(x.b); k++ {
			x.al = append(x.al, a)
		}
	}
}

// putString appends s, every byte with span a.
func (x *xform) putString(s string, a span) {
	x.b = append(x.b, s...)
	if x.al != nil {
		for range len(s) {
			x.al = append(x.al, a)
		}
	}
}

// skip drops n old characters before the first new one (HF's
// initial_offset).
func (x *xform) skip(n int) {
	for ; n > 0 && x.pos < len(x.src.s); n-- {
		_, w := utf8.DecodeRuneInString(x.src.s[x.pos:])
		x.pos += w
	}
}

// emit is one step of HF's transform.
func (x *xform) emit(r rune, change int) {
	if x.al != nil {
		var a span
		switch {
		case change > 0 && x.pos < 1:
			a = span{x.src.shift, x.src.shift}
		case change > 0:
			a = x.src.al[min(x.pos, len(x.src.al))-1]
		case x.pos < len(x.src.al):
			a = x.src.al[x.pos]
		case len(x.src.al) > 0: // past the end: Rust would panic; keep the last span
			a = x.src.al[len(x.src.al)-1]
		default:
			a = span{x.src.shift, x.src.shift}
		}
		n := len(x.b)
		x.b = utf8.AppendRune(x.b, r)
		for k := n; k < len(x.b); k++ {
			x.al = append(x.al, a)
		}
		if change <= 0 {
			x.skip(1)
		}
		if change < 0 {
			x.skip(-change)
		}
		return
	}
	x.b = utf8.AppendRune(x.b, r)
}

func (x *xform) done() ntext {
	return ntext{s: string(x.b), al: x.al, shift: x.src.shift}
}
