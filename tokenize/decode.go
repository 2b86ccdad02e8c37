package tokenize

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Decoders turn tokens back into text, as HF's decoders do: each takes the
// list of token strings and returns a list (decode_chain); Decode joins the
// last list.
type decoder interface {
	decodeChain(toks []string) []string
}

// Decode returns the text of ids as HF's Tokenizer.decode(ids,
// skip_special_tokens) gives it: ids become tokens (added tokens first,
// then the model's vocabulary; ids of neither are dropped, as HF drops
// them), special added tokens are left out when skipSpecial, and the
// tokenizer.json decoder (ByteLevel, Metaspace, WordPiece, BPEDecoder,
// ByteFallback, Fuse, Strip, Replace, Sequence) makes the text; without a
// decoder the tokens are joined with spaces. Bytes that are not UTF-8 (a
// piece of a character) become U+FFFD as in HF.
func (t *Tokenizer) Decode(ids []int64, skipSpecial bool) (string, error) {
	if t.decErr != nil {
		return "", t.decErr
	}
	toks := make([]string, 0, len(ids))
	for _, id := range ids {
		s, ok := t.id2added[id]
		if ok {
			if skipSpecial && t.special[s] {
				continue
			}
		} else if s, ok = t.idToModelToken(id); !ok {
			continue
		} else if skipSpecial && t.special[s] {
			continue
		}
		toks = append(toks, s)
	}
	if t.dec == nil {
		return strings.Join(toks, " "), nil
	}
	return strings.Join(t.dec.decodeChain(toks), ""), nil
}

// idToModelToken is the model's id_to_token.
func (t *Tokenizer) idToModelToken(id int64) (string, bool) {
	t.decRev.once.Do(func() {
		t.decRev.m = make(map[int64]string, t.model.size())
		t.model.eachToken(func(tok string, id int64) {
			if old, ok := t.decRev.m[id]; !ok || tok < old {
				t.decRev.m[id] = tok
			}
		})
	})
	s, ok := t.decRev.m[id]
	return s, ok
}

func buildDecoder(c *component) (decoder, error) {
	if c == nil {
		return nil, nil
	}
	switch c.typ {
	case "ByteLevel":
		return byteLevelDecoder{}, nil
	case "Metaspace":
		j := struct {
			Replacement    *string `json:"replacement"`
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		d := metaspaceDecoder{replacement: '▁', strip: true}
		if j.Replacement != nil {
			if utf8.RuneCountInString(*j.Replacement) != 1 {
				return nil, fmt.Errorf("Metaspace: replacement %q is not one character", *j.Replacement)
			}
			d.replacement, _ = utf8.DecodeRuneInString(*j.Replacement)
		}
		switch {
		case j.PrependScheme != nil:
			switch *j.PrependScheme {
			case "always", "first":
			case "never":
				d.strip = false
			default:
				return nil, fmt.Errorf("Metaspace: unknown prepend_scheme %q", *j.PrependScheme)
			}
		case j.AddPrefixSpace != nil:
			d.strip = *j.AddPrefixSpace
		}
		return d, nil
	case "WordPiece":
		j := struct {
			Prefix  *string `json:"prefix"`
			Cleanup *bool   `json:"cleanup"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		d := wordPieceDecoder{prefix: "##", cleanup: j.Cleanup == nil || *j.Cleanup}
		if j.Prefix != nil {
			d.prefix = *j.Prefix
		}
		return d, nil
	case "BPEDecoder":
		j := struct {
			Suffix *string `json:"suffix"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		d := bpeDecoder{suffix: "</w>"}
		if j.Suffix != nil {
			d.suffix = *j.Suffix
		}
		return d, nil
	case "ByteFallback":
		return byteFallbackDecoder{}, nil
	case "Fuse":
		return fuseDecoder{}, nil
	case "Strip":
		j := struct {
			Content string `json:"content"`
			Start   int    `json:"start"`
			Stop    int    `json:"stop"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		if utf8.RuneCountInString(j.Content) != 1 || j.Start < 0 || j.Stop < 0 {
			return nil, fmt.Errorf("Strip: content %q is not one character or start/stop is negative", j.Content)
		}
		r, _ := utf8.DecodeRuneInString(j.Content)
		return stripDecoder{content: r, start: j.Start, stop: j.Stop}, nil
	case "Replace":
		r, err := parseReplace(c)
		if err != nil {
			return nil, err
		}
		return replaceDecoder{r}, nil
	case "Sequence":
		seq, err := sequenceOf(c, "decoders", buildDecoder, nil)
		if err != nil {
			return nil, err
		}
		return sequenceDecoder(seq), nil
	case "":
		return nil, fmt.Errorf("decoder without a type")
	}
	return nil, fmt.Errorf("unsupported decoder type %q", c.typ)
}

// loadDecoder builds tokenizer.json's decoder; an error is kept for Decode
// (encoding does not need the decoder).
func (t *Tokenizer) loadDecoder(raw json.RawMessage) {
	c, err := parseComponent(raw)
	if err == nil {
		t.dec, err = buildDecoder(c)
	}
	if err != nil {
		t.decErr = fmt.Errorf("tokenize: tokenizer.json decoder: %w", err)
	}
}

type sequenceDecoder []decoder

func (s sequenceDecoder) decodeChain(toks []string) []string {
	for _, d := range s {
		toks = d.decodeChain(toks)
	}
	return toks
}

// byteLevelDecoder maps the byte-level alphabet back to bytes over all the
// tokens at once (a token with a character outside the alphabet keeps its
// UTF-8 bytes) and reads them as Rust's String::from_utf8_lossy does.
type byteLevelDecoder struct{}

func (byteLevelDecoder) decodeChain(toks []string) []string {
	byteOf := byteLevelInverse()
	var buf []byte
	for _, t := range toks {
		n := len(buf)
		for _, r := range t {
			c, ok := byteOf[r]
			if !ok {
				buf = append(buf[:n], t...)
				break
			}
			buf = append(buf, c)
		}
	}
	return []string{lossyUTF8(buf)}
}

// lossyUTF8 is Rust's String::from_utf8_lossy: each maximal invalid
// subpart (a truncated sequence counts once) becomes one U+FFFD.
func lossyUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	var out strings.Builder
	for i := 0; i < len(b); {
		r, w := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || w > 1 {
			out.Write(b[i : i+w])
			i += w
			continue
		}
		out.WriteRune(utf8.RuneError)
		i += invalidPrefix(b[i:])
	}
	return out.String()
}

// invalidPrefix is the length of the maximal subpart of an ill-formed
// sequence at the start of b (Unicode 3.9, D93b): the longest prefix of a
// well-formed sequence, at least one byte.
func invalidPrefix(b []byte) int {
	c := b[0]
	var n int
	lo, hi := byte(0x80), byte(0xBF)
	switch {
	case c >= 0xC2 && c <= 0xDF:
		n = 2
	case c == 0xE0:
		n, lo = 3, 0xA0
	case c == 0xED:
		n, hi = 3, 0x9F
	case c >= 0xE1 && c <= 0xEF:
		n = 3
	case c == 0xF0:
		n, lo = 4, 0x90
	case c == 0xF4:
		n, hi = 4, 0x8F
	case c >= 0xF1 && c <= 0xF3:
		n = 4
	default:
		return 1
	}
	k := 1
	for k < n && k < len(b) {
		x := b[k]
		if k == 1 {
			if x < lo || x > hi {
				break
			}
		} else if x < 0x80 || x > 0xBF {
			break
		}
		k++
	}
	return k
}

// metaspaceDecoder turns the replacement character back into spaces; in
// the first token it drops them (unless prepend_scheme is "never").
type metaspaceDecoder struct {
	replacement rune
	strip       bool
}

func (d metaspaceDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		var b strings.Builder
		for _, r := range t {
			if r == d.replacement {
				if i == 0 && d.strip {
					continue
				}
				r = ' '
			}
			b.WriteRune(r)
		}
		out[i] = b.String()
	}
	return out
}

// wordPieceDecoder glues continuation pieces (prefix dropped) and puts a
// space before the others; cleanup undoes BERT's tokenization of
// punctuation and contractions, token by token as HF does.
type wordPieceDecoder struct {
	prefix  string
	cleanup bool
}

func cleanupTokenization(s string) string {
	for _, r := range [][2]string{{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
		{" n't", "n't"}, {" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

func (d wordPieceDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		if i != 0 {
			if strings.HasPrefix(t, d.prefix) {
				t = strings.Replace(t, d.prefix, "", 1)
			} else {
				t = " " + t
			}
		}
		if d.cleanup {
			t = cleanupTokenization(t)
		}
		out[i] = t
	}
	return out
}

// bpeDecoder is HF's BPEDecoder: the end-of-word suffix becomes a space
// (nothing in the last token).
type bpeDecoder struct{ suffix string }

func (d bpeDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		rep := " "
		if i == len(toks)-1 {
			rep = ""
		}
		out[i] = strings.ReplaceAll(t, d.suffix, rep)
	}
	return out
}

// byteFallbackDecoder turns runs of <0xXX> tokens into their bytes: the
// text when they are UTF-8, else one U+FFFD per byte.
type byteFallbackDecoder struct{}

func byteToken(t string) (byte, bool) {
	if len(t) != 6 || !strings.HasPrefix(t, "<0x") || t[5] != '>' {
		return 0, false
	}
	// Rust's u8::from_str_radix: an optional '+' then hex digits
	h := t[3:5]
	if h[0] == '+' {
		h = h[1:]
	}
	var v byte
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c|0x20 >= 'a' && c|0x20 <= 'f':
			c = c | 0x20 - 'a' + 10
		default:
			return 0, false
		}
		v = v<<4 | c
	}
	return v, true
}

func (byteFallbackDecoder) decodeChain(toks []string) []string {
	out := make([]string, 0, len(toks))
	var pending []byte
	flush := func() {
		if len(pending) == 0 {
			return
		}
		if utf8.Valid(pending) {
			out = append(out, string(pending))
		} else {
			for range pending {
				out = append(out, "\uFFFD")
			}
		}
		pending = pending[:0]
	}
	for _, t := range toks {
		if b, ok := byteToken(t); ok {
			pending = append(pending, b)
			continue
		}
		flush()
		out = append(out, t)
	}
	flush()
	return out
}

// fuseDecoder joins every token into one.
type fuseDecoder struct{}

func (fuseDecoder) decodeChain(toks []string) []string {
	return []string{strings.Join(toks, "")}
}

// stripDecoder removes up to start leading and stop trailing content
// characters from each token.
type stripDecoder struct {
	content     rune
	start, stop int
}

func (d stripDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		rs := []rune(t)
		a := 0
		for a < len(rs) && a < d.start && rs[a] == d.content {
			a++
		}
		b := len(rs)
		for k := 0; k < d.stop && b > a && rs[b-1] == d.content; k++ {
			b--
		}
		out[i] = string(rs[a:b])
	}
	return out
}

// replaceDecoder applies HF's Replace to each token.
type replaceDecoder struct{ r replaceNormalizer }

func (d replaceDecoder) decodeChain(toks []string) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = d.r.normalize(ntext{s: t}).s
	}
	return out
}
