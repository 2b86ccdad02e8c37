package tokenize

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/dlclark/regexp2"
)

// onigRegex is a regex of a tokenizer.json (Split pre-tokenizer, Replace
// normalizer) with the semantics `tokenizers` gives it through Oniguruma
// (Ruby syntax, UTF-8, Unicode classes). Patterns RE2 can express run on
// Go's regexp (fast, linear); the rest — look-around such as the `\s+(?!\S)`
// of the GPT-4, Llama 3, Qwen2, Tekken and DeepSeek patterns, possessive
// quantifiers, atomic groups, back-references — on regexp2, a backtracking
// engine with .NET semantics, after compileOnig rewrote what the two
// dialects mean differently.
type onigRegex struct {
	std *regexp.Regexp
	bt  *regexp2.Regexp
	// ws > 0: std is the pattern with its final `\s+(?!\S)|\s+` turned
	// into a group `(\s+)` numbered ws, and FindAllStringIndex gives that
	// group's matches back their look-ahead (see wsTailMatches).
	ws int
}

// wsTail ends the GPT-4-style patterns (cl100k, o200k, Llama 3, Qwen2,
// Tekken, DeepSeek): the only look-ahead in most of them.
const wsTail = `|\s+(?!\S)|\s+`

// FindAllStringIndex returns the byte spans of the successive matches in s
// as Oniguruma's find_iter gives them (an empty match right after the
// previous match is skipped, as in Go's regexp).
func (r *onigRegex) FindAllStringIndex(s string, _ int) [][]int {
	if r.std != nil {
		if r.ws > 0 {
			return r.wsTailMatches(s)
		}
		return r.std.FindAllStringIndex(s, -1)
	}
	runes := make([]rune, 0, len(s))
	offs := make([]int, 0, len(s)+1)
	for i, c := range s {
		runes = append(runes, c)
		offs = append(offs, i)
	}
	offs = append(offs, len(s))
	var out [][]int
	prevEnd := -1
	// regexp2 returns an error only on a match timeout, and none is set.
	m, _ := r.bt.FindRunesMatch(runes)
	for m != nil {
		st, en := m.Index, m.Index+m.Length
		if st != en || st != prevEnd {
			out = append(out, []int{offs[st], offs[en]})
			prevEnd = en
		}
		m, _ = r.bt.FindNextMatch(m)
	}
	return out
}

// wsTailMatches runs a pattern ending in `\s+(?!\S)|\s+` on Go's regexp.
// Where the earlier alternatives fail at a position and a run of spaces
// [a, b) starts there, the look-ahead alternative takes [a, b-1) when the
// run is longer than one character and followed by a non-space (its last
// space then starts the next match, usually with the word after it), else
// [a, b) as `\s+` does. The search goes on from the end of each match,
// as Oniguruma's find_iter does; the patterns have no anchors, word
// boundaries or look-behind, so searching the rest of the text alone is
// the same.
func (r *onigRegex) wsTailMatches(s string) [][]int {
	var out [][]int
	pos, prevEnd := 0, -1
	for pos <= len(s) {
		m := r.std.FindStringSubmatchIndex(s[pos:])
		if m == nil {
			break
		}
		a, b := pos+m[0], pos+m[1]
		if g := m[2*r.ws]; g >= 0 && b < len(s) {
			if _, w := utf8.DecodeLastRuneInString(s[a:b]); b-w > a {
				b -= w
			}
		}
		if a == b && a == prevEnd {
			// an empty match right after the previous one: skip a character
			if a >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[a:])
			pos = a + w
			continue
		}
		out = append(out, []int{a, b})
		prevEnd = b
		if a == b {
			if a >= len(s) {
				break
			}
			_, w := utf8.DecodeRuneInString(s[a:])
			pos = a + w
		} else {
			pos = b
		}
	}
	return out
}

// compileOnig compiles a tokenizer.json regex. Oniguruma's Perl classes
// are Unicode-wide: \s is White_Space, \w letters, marks, decimal digits and
// connector punctuation, \d decimal digits; both paths spell them out (.NET's
// \w lacks the spacing and enclosing marks). ^ and $ match at every line,
// as in Ruby.
func compileOnig(pat string) (*onigRegex, error) {
	net, backtrack, err := onigToNET(pat)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pat, err)
	}
	if !backtrack {
		if re, err := compileRE2(pat); err == nil {
			return &onigRegex{std: re}, nil
		}
	}
	if head, ok := strings.CutSuffix(pat, wsTail); ok {
		if _, bt, err := onigToNET(head); err == nil && !bt {
			if re, err := compileRE2(head + `|(?P<ftws>\s+)`); err == nil {
				return &onigRegex{std: re, ws: re.SubexpIndex("ftws")}, nil
			}
		}
	}
	re, err := regexp2.Compile(net, regexp2.Multiline)
	if err != nil {
		return nil, fmt.Errorf("regex %q: %w", pat, err)
	}
	return &onigRegex{bt: re}, nil
}

const (
	netSpace = `\t-\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000`
	netWord  = `\p{L}\p{M}\p{Nd}\p{Pc}`
)

// onigToNET rewrites an Oniguruma (Ruby syntax) pattern for regexp2 and
// says whether it needs regexp2: backtracking (look-around, atomic groups,
// possessive quantifiers, back-references) or a meaning RE2 gives
// differently (^ and $ at every line, Unicode \b). Possessive X?+, X*+, X++ become (?>X?),
// (?>X*), (?>X+); \x{HHHH} becomes a \u escape or the character.
func onigToNET(pat string) (string, bool, error) {
	tr := &onigTranslator{pat: pat, last: -1}
	tr.out.Grow(len(pat) + 32)
	for tr.i < len(pat) {
		c := pat[tr.i]
		var err error
		switch {
		case c == '\\':
			err = tr.escape()
		case tr.inClass:
			err = tr.classByte(c)
		case c == '[':
			tr.openClass()
		case c == '(':
			err = tr.openGroup()
		case c == ')':
			err = tr.closeGroup()
		case c == '^' || c == '$':
			// line anchors in Ruby (RE2's match the text's ends only)
			tr.backtrack = true
			tr.out.WriteByte(c)
			tr.i++
		case c == '?' || c == '*' || c == '+':
			err = tr.quantifier(c)
		case c == '{':
			tr.repeat()
		default:
			tr.last = tr.out.Len()
			_, w := utf8.DecodeRuneInString(pat[tr.i:])
			tr.out.WriteString(pat[tr.i : tr.i+w])
			tr.i += w
		}
		if err != nil {
			return "", false, err
		}
	}
	if tr.inClass {
		return "", false, fmt.Errorf("unterminated character class")
	}
	return tr.out.String(), tr.backtrack, nil
}

// onigTranslator is onigToNET's state: the pattern and the position in it,
// the output so far and what it needs to rewrite quantifiers.
type onigTranslator struct {
	pat        string
	i          int // next byte of pat
	out        strings.Builder
	backtrack  bool  // the output needs regexp2
	groups     []int // output offsets of the open groups
	last       int   // output offset of the last atom (-1: none)
	inClass    bool
	classStart int // output offset of the open class
}

// escape translates the escape at pat[i] ('\\').
func (tr *onigTranslator) escape() error {
	pat := tr.pat
	i := tr.i
	if i+1 >= len(pat) {
		return fmt.Errorf("trailing backslash")
	}
	out := &tr.out
	start := out.Len()
	d := pat[i+1]
	i += 2
	switch d {
	case 's', 'w':
		cls := netSpace
		if d == 'w' {
			cls = netWord
		}
		if tr.inClass {
			out.WriteString(cls)
		} else {
			out.WriteString("[" + cls + "]")
		}
	case 'S', 'W':
		if tr.inClass {
			return fmt.Errorf(`\%c inside a character class is not supported`, d)
		}
		cls := netSpace
		if d == 'W' {
			cls = netWord
		}
		out.WriteString("[^" + cls + "]")
	case 'd':
		out.WriteString(`\p{Nd}`)
	case 'D':
		out.WriteString(`\P{Nd}`)
	case 'h':
		if tr.inClass {
			out.WriteString(`0-9a-fA-F`)
		} else {
			out.WriteString(`[0-9a-fA-F]`)
		}
	case 'x':
		n, err := tr.hexEscape(i)
		if err != nil {
			return err
		}
		i = n
	case 'p', 'P':
		n, err := tr.propertyEscape(i, d)
		if err != nil {
			return err
		}
		i = n
	case 'b', 'B':
		// Unicode word boundaries (RE2's are ASCII)
		tr.backtrack = true
		out.WriteByte('\\')
		out.WriteByte(d)
	case 'k', 'g', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		tr.backtrack = true
		out.WriteByte('\\')
		out.WriteByte(d)
	case 'R', 'X', 'K', 'y', 'Y', 'O':
		return fmt.Errorf(`\%c is not supported`, d)
	default:
		_, w := utf8.DecodeRuneInString(pat[i-1:])
		out.WriteByte('\\')
		out.WriteString(pat[i-1 : i-1+w])
		i += w - 1
	}
	if !tr.inClass {
		tr.last = start
	}
	tr.i = i
	return nil
}

// hexEscape translates what follows \x at pat[i] and returns the position
// after it: \x{HHHH} becomes a \u escape or the character.
func (tr *onigTranslator) hexEscape(i int) (int, error) {
	pat, out := tr.pat, &tr.out
	if i < len(pat) && pat[i] == '{' {
		k := strings.IndexByte(pat[i:], '}')
		if k < 0 {
			return 0, fmt.Errorf(`unterminated \x{`)
		}
		var v rune
		if _, err := fmt.Sscanf(pat[i+1:i+k], "%x", &v); err != nil || v > utf8.MaxRune {
			return 0, fmt.Errorf(`bad escape \x{%s}`, pat[i+1:i+k])
		}
		i += k + 1
		if v <= 0xFFFF {
			fmt.Fprintf(out, `\u%04X`, v)
		} else {
			out.WriteRune(v)
		}
	} else {
		out.WriteString(`\x`)
	}
	return i, nil
}

// propertyEscape translates what follows \p or \P (d) at pat[i] and
// returns the position after it: \p{^L} becomes \P{L}.
func (tr *onigTranslator) propertyEscape(i int, d byte) (int, error) {
	pat, out := tr.pat, &tr.out
	if i < len(pat) && pat[i] == '{' {
		k := strings.IndexByte(pat[i:], '}')
		if k < 0 {
			return 0, fmt.Errorf(`unterminated \%c{`, d)
		}
		name := pat[i+1 : i+k]
		i += k + 1
		if strings.HasPrefix(name, "^") { // \p{^L} is \P{L}
			name = name[1:]
			d ^= 'p' ^ 'P'
		}
		fmt.Fprintf(out, `\%c{%s}`, d, name)
	} else {
		out.WriteByte('\\')
		out.WriteByte(d)
	}
	return i, nil
}

// classByte copies byte c inside a character class.
func (tr *onigTranslator) classByte(c byte) error {
	switch c {
	case ']':
		tr.inClass = false
		tr.last = tr.classStart
	case '[':
		return fmt.Errorf("nested character classes are not supported")
	case '&':
		if tr.i+1 < len(tr.pat) && tr.pat[tr.i+1] == '&' {
			return fmt.Errorf("character class intersection (&&) is not supported")
		}
	}
	tr.out.WriteByte(c)
	tr.i++
	return nil
}

// openClass starts a character class at pat[i] ('[').
func (tr *onigTranslator) openClass() {
	pat := tr.pat
	tr.classStart = tr.out.Len()
	tr.inClass = true
	tr.out.WriteByte('[')
	tr.i++
	if tr.i < len(pat) && pat[tr.i] == '^' {
		tr.out.WriteByte('^')
		tr.i++
	}
	if tr.i < len(pat) && pat[tr.i] == ']' { // a literal ] first in a class
		tr.out.WriteString(`\]`)
		tr.i++
	}
}

// openGroup translates the group opening at pat[i] ('(').
func (tr *onigTranslator) openGroup() error {
	pat := tr.pat
	start := tr.out.Len()
	tr.out.WriteByte('(')
	tr.i++
	if i := tr.i; i < len(pat) && pat[i] == '?' {
		rest := pat[i+1:]
		switch {
		case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"), strings.HasPrefix(rest, ">"),
			strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
			tr.backtrack = true
		case strings.HasPrefix(rest, "#"):
			return fmt.Errorf("comment groups are not supported")
		default:
			// (?flags) or (?flags:...) or a named group: copied as is
			k := strings.IndexAny(rest, ":)>")
			if k >= 0 && rest[k] == ')' {
				tr.out.WriteString(pat[i : i+1+k+1])
				tr.i += k + 2
				return nil
			}
		}
	}
	tr.groups = append(tr.groups, start)
	return nil
}

// closeGroup translates ')' at pat[i].
func (tr *onigTranslator) closeGroup() error {
	if len(tr.groups) == 0 {
		return fmt.Errorf("unmatched )")
	}
	tr.last = tr.groups[len(tr.groups)-1]
	tr.groups = tr.groups[:len(tr.groups)-1]
	tr.out.WriteByte(')')
	tr.i++
	return nil
}

// quantifier translates ?, * or + (c) at pat[i]: possessive X?+, X*+, X++
// become (?>X?), (?>X*), (?>X+).
func (tr *onigTranslator) quantifier(c byte) error {
	tr.out.WriteByte(c)
	tr.i++
	if tr.i < len(tr.pat) && tr.pat[tr.i] == '+' {
		if tr.last < 0 {
			return fmt.Errorf("possessive quantifier without an operand")
		}
		s := tr.out.String()
		tr.out.Reset()
		tr.out.WriteString(s[:tr.last] + "(?>" + s[tr.last:] + ")")
		tr.backtrack = true
		tr.i++
	}
	return nil
}

// repeat translates a {n,m} repetition at pat[i] ('{').
func (tr *onigTranslator) repeat() {
	pat := tr.pat
	k := strings.IndexByte(pat[tr.i:], '}')
	if k < 0 {
		tr.out.WriteByte('{')
		tr.i++
		return
	}
	tr.out.WriteString(pat[tr.i : tr.i+k+1])
	tr.i += k + 1
	if tr.i < len(pat) && pat[tr.i] == '+' && tr.last >= 0 {
		// Ruby: X{n,m}+ repeats X{n,m} (not possessive; an error in .NET)
		s := tr.out.String()
		tr.out.Reset()
		tr.out.WriteString(s[:tr.last] + "(?:" + s[tr.last:] + ")")
	}
}
