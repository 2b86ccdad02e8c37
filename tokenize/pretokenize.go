package tokenize

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	sugarpre "github.com/sugarme/tokenizer/pretokenizer"
)

// A preTokenizer splits a normalized segment into the words the model sees
// (HF's PreTokenizer), appending them to out; the pieces keep their
// alignments when they are tracked.
type preTokenizer interface {
	split(n ntext, out []ntext) []ntext
}

func buildPreTokenizer(c *component) (preTokenizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.typ {
	case "Sequence":
		seq, err := sequenceOf(c, "pretokenizers", buildPreTokenizer, nil)
		return sequencePreTokenizer(seq), err
	case "BertPreTokenizer":
		return bertPreTokenizer{}, nil
	case "WhitespaceSplit":
		return whitespaceSplit{}, nil
	case "Whitespace":
		return whitespacePre{}, nil
	case "UnicodeScripts":
		return unicodeScriptsPre{}, nil
	case "Split":
		return buildSplit(c)
	case "Punctuation":
		return buildPunctuation(c)
	case "Digits":
		return buildDigits(c)
	case "CharDelimiterSplit":
		return buildCharDelimiter(c)
	case "ByteLevel":
		j := struct {
			AddPrefixSpace *bool `json:"add_prefix_space"`
			UseRegex       *bool `json:"use_regex"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		return &byteLevel{addPrefixSpace: j.AddPrefixSpace == nil || *j.AddPrefixSpace,
			useRegex: j.UseRegex == nil || *j.UseRegex}, nil
	case "Metaspace":
		j := struct {
			Replacement    *string `json:"replacement"`
			PrependScheme  *string `json:"prepend_scheme"`
			AddPrefixSpace *bool   `json:"add_prefix_space"` // before tokenizers 0.19
			Split          *bool   `json:"split"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		m := &metaspace{replacement: "▁", scheme: "always", splitWords: j.Split == nil || *j.Split}
		if j.Replacement != nil {
			if utf8.RuneCountInString(*j.Replacement) != 1 {
				return nil, fmt.Errorf("Metaspace: replacement %q is not one character", *j.Replacement)
			}
			m.replacement = *j.Replacement
		}
		switch {
		case j.PrependScheme != nil:
			m.scheme = *j.PrependScheme
		case j.AddPrefixSpace != nil && !*j.AddPrefixSpace:
			m.scheme = "never"
		}
		if m.scheme != "always" && m.scheme != "first" && m.scheme != "never" {
			return nil, fmt.Errorf("Metaspace: unknown prepend_scheme %q", m.scheme)
		}
		return m, nil
	case "":
		return nil, fmt.Errorf("pre_tokenizer without a type")
	}
	return nil, fmt.Errorf("unsupported pre_tokenizer type %q", c.typ)
}

// needsAlignments reports whether p reads where a piece begins in the
// input (Metaspace's prepend_scheme "first").
func needsAlignments(p preTokenizer) bool {
	switch p := p.(type) {
	case *metaspace:
		return p.scheme == "first"
	case sequencePreTokenizer:
		for _, q := range p {
			if needsAlignments(q) {
				return true
			}
		}
	}
	return false
}

type sequencePreTokenizer []preTokenizer

func (seq sequencePreTokenizer) split(n ntext, out []ntext) []ntext {
	pieces := []ntext{n}
	for _, p := range seq {
		var next []ntext
		for _, piece := range pieces {
			next = p.split(piece, next)
		}
		pieces = next
	}
	return append(out, pieces...)
}

// appendSlice appends n[a:b] unless it is empty (HF drops empty splits).
func appendSlice(out []ntext, n *ntext, a, b int) []ntext {
	if a < b {
		out = append(out, n.slice(a, b))
	}
	return out
}

// bertPreTokenizer splits on whitespace — every Unicode White_Space
// character, as Rust's char::is_whitespace; sugarme's version only knows
// ASCII spaces — and isolates each punctuation character (ASCII
// punctuation or Unicode category P).
type bertPreTokenizer struct{}

func (bertPreTokenizer) split(n ntext, out []ntext) []ntext {
	s := n.s
	start := -1
	for i, r := range s {
		switch {
		case unicode.IsSpace(r):
			if start >= 0 {
				out = appendSlice(out, &n, start, i)
				start = -1
			}
		case isBertPunct(r):
			if start >= 0 {
				out = appendSlice(out, &n, start, i)
				start = -1
			}
			out = appendSlice(out, &n, i, i+utf8.RuneLen(r))
		default:
			if start < 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = appendSlice(out, &n, start, len(s))
	}
	return out
}

func isBertPunct(r rune) bool {
	if r < utf8.RuneSelf {
		return (r >= 33 && r <= 47) || (r >= 58 && r <= 64) || (r >= 91 && r <= 96) || (r >= 123 && r <= 126)
	}
	return unicode.IsPunct(r)
}

type whitespaceSplit struct{}

func (whitespaceSplit) split(n ntext, out []ntext) []ntext {
	start := -1
	for i, r := range n.s {
		if unicode.IsSpace(r) {
			if start >= 0 {
				out = appendSlice(out, &n, start, i)
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = appendSlice(out, &n, start, len(n.s))
	}
	return out
}

// metaspace is HF's Metaspace: spaces become the replacement character
// (▁), one is prepended per the scheme, and each ▁ starts a new piece.
type metaspace struct {
	replacement string
	scheme      string // always, first, never
	splitWords  bool
}

func (m *metaspace) split(n ntext, out []ntext) []ntext {
	// After the spaces are replaced the text starts with ▁ if it started
	// with a space or a ▁; then no ▁ is prepended.
	prefix := n.s != "" && n.s[0] != ' ' && !strings.HasPrefix(n.s, m.replacement) &&
		(m.scheme == "always" || (m.scheme == "first" && n.shift == 0))
	spaces := strings.IndexByte(n.s, ' ') >= 0
	switch {
	case n.al == nil && (spaces || prefix):
		s := n.s
		if spaces {
			s = strings.ReplaceAll(s, " ", m.replacement)
		}
		if prefix {
			s = m.replacement + s
		}
		n = ntext{s: s, shift: n.shift}
	case n.al != nil:
		if spaces {
			var matches [][]int
			for i := 0; i < len(n.s); i++ {
				if n.s[i] == ' ' {
					matches = append(matches, []int{i, i + 1})
				}
			}
			n = replaceMatches(n, matches, m.replacement)
		}
		if prefix {
			n = prepend(n, m.replacement)
		}
	}
	if !m.splitWords {
		return appendSlice(out, &n, 0, len(n.s))
	}
	s := n.s
	for start := 0; start < len(s); {
		k := strings.Index(s[start+1:], m.replacement)
		if k < 0 {
			return appendSlice(out, &n, start, len(s))
		}
		end := start + 1 + k
		out = appendSlice(out, &n, start, end)
		start = end
	}
	return out
}

// byteLevel is GPT-2's byte-level pre-tokenizer. Its split pattern
//
//	's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//
// needs a look-ahead that Go's regexp lacks (sugarme drops `\s+(?!\S)`,
// which changes how runs of whitespace split); gpt2Next scans it by hand.
// Each piece's bytes are then mapped to the printable characters of the
// byte-level alphabet.
type byteLevel struct {
	addPrefixSpace bool
	useRegex       bool
}

// byteChars maps a byte to its character in the byte-level alphabet
// (taken from sugarme, which has the GPT-2 table right).
var byteChars = func() (t [256]string) {
	for b, c := range sugarpre.BytesChar {
		t[b] = c
	}
	return t
}()

func (b *byteLevel) split(n ntext, out []ntext) []ntext {
	if b.addPrefixSpace && !strings.HasPrefix(n.s, " ") {
		n = prepend(n, " ")
	}
	if !b.useRegex {
		if n.s != "" {
			out = append(out, byteLevelText(n))
		}
		return out
	}
	for i := 0; i < len(n.s); {
		j := gpt2Next(n.s, i)
		out = append(out, byteLevelText(n.slice(i, j)))
		i = j
	}
	return out
}

// byteLevelText maps each byte to its character of the byte-level alphabet;
// every character takes the span of the character its byte belongs to.
func byteLevelText(n ntext) ntext {
	s := byteLevelChars(n.s)
	out := ntext{s: s, shift: n.shift}
	if n.al != nil {
		out.al = make([]span, 0, len(s))
		for i := 0; i < len(n.s); i++ {
			for range len(byteChars[n.s[i]]) {
				out.al = append(out.al, n.al[i])
			}
		}
	}
	return out
}

func byteLevelChars(s string) string {
	n := 0
	for i := 0; i < len(s); i++ {
		n += len(byteChars[s[i]])
	}
	var sb strings.Builder
	sb.Grow(n)
	for i := 0; i < len(s); i++ {
		sb.WriteString(byteChars[s[i]])
	}
	return sb.String()
}

type charClass uint8

const (
	classSpace charClass = iota
	classLetter
	classNumber
	classOther
)

func classify(r rune) charClass {
	if r < utf8.RuneSelf {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
			return classLetter
		case r >= '0' && r <= '9':
			return classNumber
		case r == ' ', r >= '\t' && r <= '\r':
			return classSpace
		}
		return classOther
	}
	switch {
	case unicode.IsLetter(r):
		return classLetter
	case unicode.IsNumber(r):
		return classNumber
	case unicode.IsSpace(r):
		return classSpace
	}
	return classOther
}

// gpt2Next returns the end of the match of the GPT-2 pattern at s[i:].
func gpt2Next(s string, i int) int {
	r, n := utf8.DecodeRuneInString(s[i:])
	if r == '\'' {
		rest := s[i+1:]
		if len(rest) >= 2 && (rest[:2] == "re" || rest[:2] == "ve" || rest[:2] == "ll") {
			return i + 3
		}
		if len(rest) >= 1 && (rest[0] == 's' || rest[0] == 't' || rest[0] == 'm' || rest[0] == 'd') {
			return i + 2
		}
	}
	j, c := i+n, classify(r)
	if r == ' ' && j < len(s) {
		r2, n2 := utf8.DecodeRuneInString(s[j:])
		if c2 := classify(r2); c2 != classSpace {
			j, c = j+n2, c2
		}
	}
	if c != classSpace {
		for j < len(s) {
			r, n := utf8.DecodeRuneInString(s[j:])
			if classify(r) != c {
				break
			}
			j += n
		}
		return j
	}
	// A run of whitespace: all of it at the end of the text, otherwise all
	// but its last character (which goes with the next word), unless it is
	// a single character.
	last := i
	for j = i; j < len(s); {
		r, n := utf8.DecodeRuneInString(s[j:])
		if classify(r) != classSpace {
			break
		}
		last = j
		j += n
	}
	if j == len(s) || last == i {
		return j
	}
	return last
}
