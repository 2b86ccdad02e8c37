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
	var out strings.Builder
	out.Grow(len(pat) + 32)
	backtrack := false
	var groups []int // output offsets of the open groups
	last := -1       // output offset of the last atom
	inClass := false
	classStart := 0
	for i := 0; i < len(pat); {
		c := pat[i]
		switch {
		case c == '\\':
			if i+1 >= len(pat) {
				return "", false, fmt.Errorf("trailing backslash")
			}
			start := out.Len()
			d := pat[i+1]
			i += 2
			switch d {
			case 's', 'w':
				cls := netSpace
				if d == 'w' {
					cls = netWord
				}
				if inClass {
					out.WriteString(cls)
				} else {
					out.WriteString("[" + cls + "]")
				}
			case 'S', 'W':
				if inClass {
					return "", false, fmt.Errorf(`\%c inside a character class is not supported`, d)
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
				if inClass {
					out.WriteString(`0-9a-fA-F`)
				} else {
					out.WriteString(`[0-9a-fA-F]`)
				}
			case 'x':
				if i < len(pat) && pat[i] == '{' {
					k := strings.IndexByte(pat[i:], '}')
					if k < 0 {
						return "", false, fmt.Errorf(`unterminated \x{`)
					}
					var v rune
					if _, err := fmt.Sscanf(pat[i+1:i+k], "%x", &v); err != nil || v > utf8.MaxRune {
						return "", false, fmt.Errorf(`bad escape \x{%s}`, pat[i+1:i+k])
					}
					i += k + 1
					if v <= 0xFFFF {
						fmt.Fprintf(&out, `\u%04X`, v)
					} else {
						out.WriteRune(v)
					}
				} else {
					out.WriteString(`\x`)
				}
			case 'p', 'P':
				if i < len(pat) && pat[i] == '{' {
					k := strings.IndexByte(pat[i:], '}')
					if k < 0 {
						return "", false, fmt.Errorf(`unterminated \%c{`, d)
					}
					name := pat[i+1 : i+k]
					i += k + 1
					if strings.HasPrefix(name, "^") { // \p{^L} is \P{L}
						name = name[1:]
						d ^= 'p' ^ 'P'
					}
					fmt.Fprintf(&out, `\%c{%s}`, d, name)
				} else {
					out.WriteByte('\\')
					out.WriteByte(d)
				}
			case 'b', 'B':
				// Unicode word boundaries (RE2's are ASCII)
				backtrack = true
				out.WriteByte('\\')
				out.WriteByte(d)
			case 'k', 'g', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				backtrack = true
				out.WriteByte('\\')
				out.WriteByte(d)
			case 'R', 'X', 'K', 'y', 'Y', 'O':
				return "", false, fmt.Errorf(`\%c is not supported`, d)
			default:
				_, w := utf8.DecodeRuneInString(pat[i-1:])
				out.WriteByte('\\')
				out.WriteString(pat[i-1 : i-1+w])
				i += w - 1
			}
			if !inClass {
				last = start
			}
		case inClass:
			switch c {
			case ']':
				inClass = false
				last = classStart
			case '[':
				return "", false, fmt.Errorf("nested character classes are not supported")
			case '&':
				if i+1 < len(pat) && pat[i+1] == '&' {
					return "", false, fmt.Errorf("character class intersection (&&) is not supported")
				}
			}
			out.WriteByte(c)
			i++
		case c == '[':
			classStart = out.Len()
			inClass = true
			out.WriteByte('[')
			i++
			if i < len(pat) && pat[i] == '^' {
				out.WriteByte('^')
				i++
			}
			if i < len(pat) && pat[i] == ']' { // a literal ] first in a class
				out.WriteString(`\]`)
				i++
			}
		case c == '(':
			start := out.Len()
			out.WriteByte('(')
			i++
			if i < len(pat) && pat[i] == '?' {
				rest := pat[i+1:]
				switch {
				case strings.HasPrefix(rest, "="), strings.HasPrefix(rest, "!"), strings.HasPrefix(rest, ">"),
					strings.HasPrefix(rest, "<="), strings.HasPrefix(rest, "<!"):
					backtrack = true
				case strings.HasPrefix(rest, "#"):
					return "", false, fmt.Errorf("comment groups are not supported")
				default:
					// (?flags) or (?flags:...) or a named group: copied as is
					k := strings.IndexAny(rest, ":)>")
					if k >= 0 && rest[k] == ')' {
						out.WriteString(pat[i : i+1+k+1])
						i += k + 2
						continue
					}
				}
			}
			groups = append(groups, start)
		case c == ')':
			if len(groups) == 0 {
				return "", false, fmt.Errorf("unmatched )")
			}
			last = groups[len(groups)-1]
			groups = groups[:len(groups)-1]
			out.WriteByte(')')
			i++
		case c == '^' || c == '$':
			// line anchors in Ruby (RE2's match the text's ends only)
			backtrack = true
			out.WriteByte(c)
			i++
		case c == '?' || c == '*' || c == '+':
			out.WriteByte(c)
			i++
			if i < len(pat) && pat[i] == '+' {
				if last < 0 {
					return "", false, fmt.Errorf("possessive quantifier without an operand")
				}
				s := out.String()
				out.Reset()
				out.WriteString(s[:last] + "(?>" + s[last:] + ")")
				backtrack = true
				i++
			}
		case c == '{':
			k := strings.IndexByte(pat[i:], '}')
			if k < 0 {
				out.WriteByte(c)
				i++
				continue
			}
			out.WriteString(pat[i : i+k+1])
			i += k + 1
			if i < len(pat) && pat[i] == '+' && last >= 0 {
				// Ruby: X{n,m}+ repeats X{n,m} (not possessive; an error in .NET)
				s := out.String()
				out.Reset()
				out.WriteString(s[:last] + "(?:" + s[last:] + ")")
			}
		default:
			last = out.Len()
			_, w := utf8.DecodeRuneInString(pat[i:])
			out.WriteString(pat[i : i+w])
			i += w
		}
	}
	if inClass {
		return "", false, fmt.Errorf("unterminated character class")
	}
	return out.String(), backtrack, nil
}
