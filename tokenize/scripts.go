package tokenize

import (
	"sort"
	"sync"
	"unicode"

	"golang.org/x/text/unicode/rangetable"
)

// unicodeScriptsPre is HF's UnicodeScripts pre-tokenizer: the text is cut
// where the script changes. As in SentencePiece, Hiragana, Katakana and
// U+30FC count as Han, and the space belongs to every script (it never
// starts a piece; a leading space is dropped). HF's script table is
// Unicode 9.0's: characters assigned later (newer emoji) and unassigned or
// private-use ones belong to every script too.
type unicodeScriptsPre struct{}

const (
	scriptAny     = -1
	scriptNone    = -2
	scriptUnknown = -3
)

type scriptRange struct {
	lo, hi rune
	script int
}

// scriptTable is every range of unicode.Scripts, sorted, with the names'
// indexes.
var scriptTable = sync.OnceValues(func() ([]scriptRange, map[string]int) {
	names := make([]string, 0, len(unicode.Scripts))
	for name := range unicode.Scripts {
		names = append(names, name)
	}
	sort.Strings(names)
	idx := map[string]int{}
	var t []scriptRange
	for i, name := range names {
		idx[name] = i
		tbl := unicode.Scripts[name]
		for _, r := range tbl.R16 {
			for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
				if r.Stride == 1 {
					t = append(t, scriptRange{rune(r.Lo), rune(r.Hi), i})
					break
				}
				t = append(t, scriptRange{c, c, i})
			}
		}
		for _, r := range tbl.R32 {
			for c := rune(r.Lo); c <= rune(r.Hi); c += rune(r.Stride) {
				if r.Stride == 1 {
					t = append(t, scriptRange{rune(r.Lo), rune(r.Hi), i})
					break
				}
				t = append(t, scriptRange{c, c, i})
			}
		}
	}
	sort.Slice(t, func(a, b int) bool { return t[a].lo < t[b].lo })
	return t, idx
})

func scriptOf(r rune) int {
	t, _ := scriptTable()
	k := sort.Search(len(t), func(i int) bool { return t[i].hi >= r })
	if k < len(t) && t[k].lo <= r {
		return t[k].script
	}
	return scriptUnknown
}

var unicode9 = sync.OnceValue(func() *unicode.RangeTable { return rangetable.Assigned("9.0.0") })

func fixedScript(r rune) int {
	_, idx := scriptTable()
	switch {
	case r == 0x30FC:
		return idx["Han"]
	case r == ' ' || !unicode.Is(unicode9(), r) || unicode.Is(unicode.Co, r):
		return scriptAny
	}
	s := scriptOf(r)
	if s == scriptUnknown {
		return scriptAny
	}
	if s == idx["Hiragana"] || s == idx["Katakana"] {
		return idx["Han"]
	}
	return s
}

func (unicodeScriptsPre) split(n ntext, out []ntext) []ntext {
	last := scriptNone
	start := -1
	for i, r := range n.s {
		sc := fixedScript(r)
		if sc == scriptAny {
			continue
		}
		if sc != last {
			if start >= 0 {
				out = appendSlice(out, &n, start, i)
			}
			start = i
		}
		last = sc
	}
	if start >= 0 {
		out = appendSlice(out, &n, start, len(n.s))
	}
	return out
}
