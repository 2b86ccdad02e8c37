package tokenize

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// A normalizer rewrites a whole segment of text (the part of the input
// between two added tokens), like a Hugging Face `Normalizer`. Offsets are
// not tracked: ft needs ids, not alignments.
type normalizer interface {
	normalize(s string) string
}

func buildNormalizer(raw json.RawMessage) (normalizer, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := typeOf(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "Sequence":
		seq, err := sequenceOf(raw, "normalizers", buildNormalizer, nil)
		return sequenceNormalizer(seq), err
	case "BertNormalizer":
		j := struct {
			CleanText          *bool `json:"clean_text"`
			HandleChineseChars *bool `json:"handle_chinese_chars"`
			StripAccents       *bool `json:"strip_accents"`
			Lowercase          *bool `json:"lowercase"`
		}{}
		if err := json.Unmarshal(raw, &j); err != nil {
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
		return formNormalizer{norm.NFD}, nil
	case "NFKD":
		return formNormalizer{norm.NFKD}, nil
	case "NFC":
		return formNormalizer{norm.NFC}, nil
	case "NFKC":
		return formNormalizer{norm.NFKC}, nil
	case "Nmt":
		return nmtNormalizer{}, nil
	case "Precompiled":
		var j struct {
			Charsmap *string `json:"precompiled_charsmap"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
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
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		return stripNormalizer{left: j.Left, right: j.Right}, nil
	case "Prepend":
		var j struct {
			Prepend string `json:"prepend"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		return prependNormalizer{j.Prepend}, nil
	case "Replace":
		var j struct {
			Pattern struct {
				String *string `json:"String"`
				Regex  *string `json:"Regex"`
			} `json:"pattern"`
			Content string `json:"content"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		switch {
		case j.Pattern.String != nil:
			return &replaceNormalizer{literal: *j.Pattern.String, content: j.Content}, nil
		case j.Pattern.Regex != nil:
			re, err := compileOnig(*j.Pattern.Regex)
			if err != nil {
				return nil, fmt.Errorf("Replace: %w", err)
			}
			return &replaceNormalizer{re: re, content: j.Content}, nil
		}
		return nil, fmt.Errorf("Replace: pattern is neither String nor Regex")
	case "":
		return nil, fmt.Errorf("normalizer without a type")
	}
	return nil, fmt.Errorf("unsupported normalizer type %q", typ)
}

type sequenceNormalizer []normalizer

func (s sequenceNormalizer) normalize(x string) string {
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

func (b *bertNormalizer) normalize(s string) string {
	if b.clean || b.chinese {
		buf := make([]byte, 0, len(s)+8)
		for _, r := range s {
			if b.clean {
				if r == 0 || r == 0xFFFD || isBertControl(r) {
					continue
				}
				if isBertWhitespace(r) {
					r = ' '
				}
			}
			if b.chinese && isChineseChar(r) {
				buf = append(buf, ' ')
				buf = utf8.AppendRune(buf, r)
				buf = append(buf, ' ')
				continue
			}
			buf = utf8.AppendRune(buf, r)
		}
		s = string(buf)
	}
	strip := b.lowercase
	if b.stripAccents != nil {
		strip = *b.stripAccents
	}
	if strip {
		s = stripNonspacingMarks(nfd(s))
	}
	if b.lowercase {
		s = lowercase(s)
	}
	return s
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

func nfd(s string) string {
	if isASCII(s) {
		return s
	}
	return norm.NFD.String(s)
}

// stripNonspacingMarks drops category Mn (what BertNormalizer strips).
func stripNonspacingMarks(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Mn, r) {
			return -1
		}
		return r
	}, s)
}

// lowercase maps each character to its full lower case, as Rust's
// char::to_lowercase does per character: U+0130 (İ) becomes "i̇", two
// characters, where Go's unicode.ToLower gives "i".
func lowercase(s string) string {
	if isASCII(s) {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c >= 'A' && c <= 'Z' {
				return strings.ToLower(s)
			}
		}
		return s
	}
	buf := make([]byte, 0, len(s)+4)
	for _, r := range s {
		if r == 0x130 {
			buf = append(buf, "i\u0307"...)
			continue
		}
		buf = utf8.AppendRune(buf, unicode.ToLower(r))
	}
	return string(buf)
}

type lowercaseNormalizer struct{}

func (lowercaseNormalizer) normalize(s string) string { return lowercase(s) }

// stripAccentsNormalizer is HF's StripAccents: it drops every combining
// mark (category M), not only Mn.
type stripAccentsNormalizer struct{}

func (stripAccentsNormalizer) normalize(s string) string {
	if isASCII(s) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.M, r) {
			return -1
		}
		return r
	}, s)
}

type formNormalizer struct{ f norm.Form }

func (n formNormalizer) normalize(s string) string {
	if isASCII(s) {
		return s
	}
	return n.f.String(s)
}

// nmtNormalizer is HF's Nmt: drop ASCII control characters and map other
// code points considered whitespace to a space.
type nmtNormalizer struct{}

func (nmtNormalizer) normalize(s string) string {
	buf := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r >= 0x1 && r <= 0x8, r == 0xB, r >= 0xE && r <= 0x1F, r == 0x7F, r == 0x8F, r == 0x9F:
			continue
		case r == 0x9, r == 0xA, r == 0xC, r == 0xD, r == 0x1680, r >= 0x200B && r <= 0x200F,
			r == 0x2028, r == 0x2029, r == 0x2581, r == 0xFEFF, r == 0xFFFD:
			r = ' '
		}
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf)
}

type stripNormalizer struct{ left, right bool }

func (n stripNormalizer) normalize(s string) string {
	if n.left {
		s = strings.TrimLeftFunc(s, unicode.IsSpace)
	}
	if n.right {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
	}
	return s
}

type prependNormalizer struct{ prefix string }

func (n prependNormalizer) normalize(s string) string {
	if s == "" {
		return s
	}
	return n.prefix + s
}

// replaceNormalizer is HF's Replace, with a literal or a regular
// expression pattern (sugarme ignores the regex form; XLM-R and ALBERT use
// it to squeeze runs of spaces).
type replaceNormalizer struct {
	literal string
	re      *regexp.Regexp
	content string
}

func (n *replaceNormalizer) normalize(s string) string {
	if n.re != nil {
		return n.re.ReplaceAllLiteralString(s, n.content)
	}
	if n.literal == "" {
		return s
	}
	return strings.ReplaceAll(s, n.literal, n.content)
}

// Oniguruma (which `tokenizers` uses) and Go's RE2 agree on the patterns
// tokenizer files hold except for the Perl classes, which are Unicode-wide
// in Oniguruma and ASCII-only in RE2. compileOnig rewrites them; look-around
// cannot be expressed in RE2 and gives an error.
const (
	onigSpace = `\t-\r \x{85}\x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}`
	onigWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
	onigDigit = `\p{Nd}`
)

func compileOnig(pat string) (*regexp.Regexp, error) {
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
