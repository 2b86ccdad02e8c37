package tokenize

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A normalizer rewrites a whole segment of text (the part of the input
// between two added tokens), like a Hugging Face `Normalizer`, keeping the
// alignments to the original text when they are tracked (see ntext).
type normalizer interface {
	normalize(n ntext) ntext
}

func buildNormalizer(c *component) (normalizer, error) {
	if c == nil {
		return nil, nil
	}
	switch c.typ {
	case "Sequence":
		seq, err := sequenceOf(c, "normalizers", buildNormalizer, nil)
		return sequenceNormalizer(seq), err
	case "BertNormalizer":
		j := struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}{}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		orTrue := func(b *bool) bool { return b == nil || *b }
		return &bertNormalizer{clean: orTrue(j.CleanText), chinese: orTrue(j.HandleChineseChars),
			stripAccents: j.StripAccents, lowercase: orTrue(j.Lowercase)}, nil
	case "Lowercase":
		return lowercaseNormalizer{}, nil
	case "StripAccents":
		return stripAccentsNormalizer{}, nil
	case "NFD":
		return formNormalizer{}, nil
	case "NFKD":
		return formNormalizer{compat: true}, nil
	case "NFC":
		return formNormalizer{composed: true}, nil
	case "NFKC":
		return formNormalizer{compat: true, composed: true}, nil
	case "Nmt":
		return nmtNormalizer{}, nil
	case "Precompiled":
		var j struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		if j.Charsmap == nil {
			return nil, errors.New("Precompiled: no precompiled_charsmap")
		}
		return newPrecompiled(*j.Charsmap)
	case "Strip":
		var j struct {
			Left  bool `json:"strip_left"`
			Right bool `json:"strip_right"`
		}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		return stripNormalizer{left: j.Left, right: j.Right}, nil
	case "Prepend":
		var j struct {
			Prepend string `json:"prepend"`
		}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		return prependNormalizer{j.Prepend}, nil
	case "Replace":
		r, err := parseReplace(c)
		if err != nil {
			return nil, err
		}
		return &r, nil
	case "":
		return nil, fmt.Errorf("normalizer without a type")
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", c.typ)
}

type sequenceNormalizer []normalizer

func (s sequenceNormalizer) normalize(x ntext) ntext {
	for _, n := range s {
		x = n.normalize(x)
	}
	return x
}

// bertNormalizer is Hugging Face's BertNormalizer. strip_accents null means
// "follow lowercase" (sugarme strips accents only when asked explicitly, so
// uncased BERT keeps "Café"; HF gives "cafe").
type bertNormalizer struct {
	clean, chinese bool
	stripAccents   *bool
	lowercase      bool
}

func (b *bertNormalizer) normalize(n ntext) ntext {
	if (b.clean || b.chinese) && b.needsCleaning(n.s) {
		x := newXform(&n, len(n.s)+8)
		for i, r := range n.s {
			if b.clean {
				if r == 0 || r == 0xFFFD || isBertControl(r) {
					continue
				}
				if isBertWhitespace(r) {
					r = ' '
				}
			}
			if b.chinese && isChineseChar(r) {
				x.put(' ', i)
				x.put(r, i)
				x.put(' ', i)
				continue
			}
			x.put(r, i)
		}
		n = x.done()
	}
	strip := b.lowercase
	if b.stripAccents != nil {
		strip = *b.stripAccents
	}
	if strip {
		n = dropMarks(unicodeForm(n, false, false), unicode.Mn)
	}
	if b.lowercase {
		n = lowercase(n)
	}
	return n
}

// needsCleaning reports whether clean_text or handle_chinese_chars would
// change s.
func (b *bertNormalizer) needsCleaning(s string) bool {
	for _, r := range s {
		if r < utf8.RuneSelf {
			if b.clean && (r < ' ' || r == 0x7F) {
				return true
			}
			continue
		}
		if b.clean && (r == 0xFFFD || isBertControl(r) || isBertWhitespace(r)) {
			return true
		}
		if b.chinese && isChineseChar(r) {
			return true
		}
	}
	return false
}

// isBertWhitespace is BERT's whitespace: \t, \n, \r and every character
// with the Unicode White_Space property (Rust's char::is_whitespace).
func isBertWhitespace(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' || unicode.IsSpace(r)
}

// isBertControl is BERT's control: Unicode category C other than \t \n \r.
func isBertControl(r rune) bool {
	if r == '\t' || r == '\n' || r == '\r' {
		return false
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs)
}

// isChineseChar is the CJK Unified Ideographs blocks BERT pads with spaces.
func isChineseChar(r rune) bool {
	return (r >= 0x4E00 && r <= 0x9FFF) ||
		(r >= 0x3400 && r <= 0x4DBF) ||
		(r >= 0x20000 && r <= 0x2A6DF) ||
		(r >= 0x2A700 && r <= 0x2B73F) ||
		(r >= 0x2B740 && r <= 0x2B81F) ||
		(r >= 0x2B920 && r <= 0x2CEAF) ||
		(r >= 0xF900 && r <= 0xFAFF) ||
		(r >= 0x2F800 && r <= 0x2FA1F)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// dropMarks removes the characters of the table (HF's filter: the others
// keep their spans).
func dropMarks(n ntext, table *unicode.RangeTable) ntext {
	if isASCII(n.s) {
		return n
	}
	found := false
	for _, r := range n.s {
		if r >= utf8.RuneSelf && unicode.Is(table, r) {
			found = true
			break
		}
	}
	if !found {
		return n
	}
	x := newXform(&n, len(n.s))
	for i, r := range n.s {
		if r >= utf8.RuneSelf && unicode.Is(table, r) {
			continue
		}
		x.keep(i, utf8.RuneLen(r))
	}
	return x.done()
}

// lowercase maps each character to its full lower case, as Rust's
// char::to_lowercase does per character: U+0130 (İ) becomes "i̇", two
// characters, where Go's unicode.ToLower gives "i". Every character of the
// lower case takes the span of the character it came from.
func lowercase(n ntext) ntext {
	if isASCII(n.s) {
		for i := 0; i < len(n.s); i++ {
			if c := n.s[i]; c >= 'A' && c <= 'Z' {
				// same bytes, same spans
				return ntext{s: strings.ToLower(n.s), al: n.al, shift: n.shift}
			}
		}
		return n
	}
	x := newXform(&n, len(n.s)+4)
	for i, r := range n.s {
		if r == 0x130 {
			x.put('i', i)
			x.put(0x307, i)
			continue
		}
		x.put(unicode.ToLower(r), i)
	}
	return x.done()
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(n ntext) ntext { return lowercase(n) }

// stripAccentsNormalizer is HF's StripAccents: it drops every combining
// mark (category M), not only Mn.
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(n ntext) ntext { return dropMarks(n, unicode.M) }

type formNormalizer struct{ compat, composed bool }

func (f formNormalizer) normalize(n ntext) ntext { return unicodeForm(n, f.compat, f.composed) }

// nmtNormalizer is HF's Nmt: drop ASCII control characters and map other
// code points considered whitespace to a space.
type nmtNormalizer struct{}

func nmtRune(r rune) rune {
	switch {
	case r >= 0x1 && r <= 0x8, r == 0xB, r >= 0xE && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
		return -1
	case r == 0x9, r == 0xA, r == 0xC, r == 0xD, r == 0x1680, r >= 0x200B && r <= 0x200F,
		r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
		return ' '
	}
	return r
}

func (nmtNormalizer) normalize(n ntext) ntext {
	same := true
	for _, r := range n.s {
		if nmtRune(r) != r {
			same = false
			break
		}
	}
	if same {
		return n
	}
	x := newXform(&n, len(n.s))
	for i, r := range n.s {
		if m := nmtRune(r); m >= 0 {
			x.put(m, i)
		}
	}
	return x.done()
}

type stripNormalizer struct{ left, right bool }

func (st stripNormalizer) normalize(n ntext) ntext {
	a, b := 0, len(n.s)
	if st.left {
		a = len(n.s) - len(strings.TrimLeftFunc(n.s, unicode.IsSpace))
	}
	if st.right {
		b = len(strings.TrimRightFunc(n.s, unicode.IsSpace))
	}
	if a >= b {
		a, b = 0, 0
	}
	out := ntext{s: n.s[a:b], shift: n.shift}
	if n.al != nil {
		out.al = n.al[a:b:b]
	}
	return out
}

type prependNormalizer struct{ prefix string }

// normalize gives every character of the prefix the span of the first
// character (HF's NormalizedString::prepend).
func (p prependNormalizer) normalize(n ntext) ntext { return prepend(n, p.prefix) }

func prepend(n ntext, prefix string) ntext {
	if n.s == "" || prefix == "" {
		return n
	}
	x := newXform(&n, len(prefix)+len(n.s))
	if n.al != nil {
		x.putString(prefix, n.al[0])
	} else {
		x.putString(prefix, span{})
	}
	x.keep(0, len(n.s))
	return x.done()
}

// replaceNormalizer is HF's Replace, with a literal or a regular
// expression pattern (sugarme ignores the regex form; XLM-R and ALBERT use
// it to squeeze runs of spaces). Every character of the content takes the
// span of the last character of the match.
// parseReplace reads a Replace normalizer or decoder (the same JSON in
// tokenizer.json): a String or Regex pattern and its replacement content.
func parseReplace(c *component) (replaceNormalizer, error) {
	var j struct {
		Pattern struct {
			String *string `json:"String"`
			Regex  *string `json:"Regex"`
		} `json:"pattern"`
		Content string `json:"content"`
	}
	if err := c.decode(&j); err != nil {
		return replaceNormalizer{}, err
	}
	switch {
	case j.Pattern.String != nil:
		return replaceNormalizer{literal: *j.Pattern.String, content: j.Content}, nil
	case j.Pattern.Regex != nil:
		re, err := compileOnig(*j.Pattern.Regex)
		if err != nil {
			return replaceNormalizer{}, fmt.Errorf("Replace: %w", err)
		}
		return replaceNormalizer{re: re, content: j.Content}, nil
	}
	return replaceNormalizer{}, fmt.Errorf("Replace: pattern is neither String nor Regex")
}

type replaceNormalizer struct {
	literal string
	re      *onigRegex
	content string
}

func (r *replaceNormalizer) normalize(n ntext) ntext {
	var matches [][]int
	if r.re != nil {
		matches = r.re.FindAllStringIndex(n.s, -1)
	} else if r.literal != "" {
		for i := 0; ; {
			k := strings.Index(n.s[i:], r.literal)
			if k < 0 {
				break
			}
			matches = append(matches, []int{i + k, i + k + len(r.literal)})
			i += k + len(r.literal)
		}
	}
	return replaceMatches(n, matches, r.content)
}

// replaceMatches is HF's NormalizedString::replace.
func replaceMatches(n ntext, matches [][]int, content string) ntext {
	if len(matches) == 0 {
		return n
	}
	x := newXform(&n, len(n.s)+len(content)*len(matches))
	last := 0
	for _, m := range matches {
		x.keep(last, m[0]-last)
		var a span
		if n.al != nil {
			if m[1] >= 1 {
				a = n.al[m[1]-1]
			} else {
				a = span{n.shift, n.shift}
			}
		}
		x.putString(content, a)
		last = m[1]
	}
	x.keep(last, len(n.s)-last)
	return x.done()
}

// Oniguruma (which `tokenizers` uses) and Go's RE2 agree on the patterns
// tokenizer files hold except for the Perl classes, which are Unicode-wide
// in Oniguruma and ASCII-only in RE2. compileRE2 rewrites them; look-around
// cannot be expressed in RE2 and gives an error (compileOnig then uses the
// backtracking engine).
const (
	onigSpace = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	onigWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
	onigDigit = `\p{Nd}`
)

func compileRE2(pat string) (*regexp.Regexp, error) {
	for _, la := range []string{"(?=", "(?!", "(?<=", "(?<!", "(?>"} {
		if strings.Contains(pat, la) {
			return nil, fmt.Errorf("regex %q: look-around and atomic groups are not supported", pat)
		}
	}
	var b strings.Builder
	inClass := false
	for i := 0; i < len(pat); i++ {
		c := pat[i]
		if c == '\\' && i+1 < len(pat) {
			d := pat[i+1]
			i++
			var in, out string
			switch d {
			case 's':
				in, out = onigSpace, "["+onigSpace+"]"
			case 'S':
				out = "[^" + onigSpace + "]"
			case 'w':
				in, out = onigWord, "["+onigWord+"]"
			case 'W':
				out = "[^" + onigWord + "]"
			case 'd':
				in, out = onigDigit, onigDigit
			case 'D':
				in, out = `\P{Nd}`, `\P{Nd}`
			default:
				b.WriteByte(c)
				b.WriteByte(d)
				continue
			}
			if inClass {
				if in == "" {
					return nil, fmt.Errorf("regex %q: \\%c inside a character class is not supported", pat, d)
				}
				b.WriteString(in)
			} else {
				b.WriteString(out)
			}
			continue
		}
		switch {
		case c == '[' && !inClass:
			inClass = true
			b.WriteByte(c)
			if i+1 < len(pat) && pat[i+1] == '^' {
				b.WriteByte('^')
				i++
			}
			if i+1 < len(pat) && pat[i+1] == ']' { // a literal ] first in a class
				b.WriteString(`\]`)
				i++
			}
			continue
		case c == ']' && inClass:
			inClass = false
		}
		b.WriteByte(c)
	}
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pat, err)
	}
	return re, nil
}
