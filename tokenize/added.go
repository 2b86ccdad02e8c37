package tokenize

import (
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"
)

// addedVocab finds the added tokens of tokenizer.json ([CLS], <mask>, ...)
// in the text before the model sees it, as HF's AddedVocabulary does:
// tokens with normalized=false are found in the raw text, the others in the
// normalized text, leftmost-longest, honouring single_word, lstrip and
// rstrip.
type addedVocab struct {
	raw, normalized matcher
}

type matcher struct {
	pats   []string
	tokens []addedToken
	first  [256][]int32 // pattern indexes by first byte, longest first
}

func newAddedVocab(tokens []addedToken, n normalizer) (*addedVocab, error) {
	av := &addedVocab{}
	for _, t := range tokens {
		if t.Content == "" {
			return nil, fmt.Errorf("added token %d has empty content", t.ID)
		}
		if t.Normalized {
			p := t.Content
			if n != nil {
				p = n.normalize(ntext{s: p}).s
			}
			if p != "" {
				av.normalized.add(p, t)
			}
		} else {
			av.raw.add(t.Content, t)
		}
	}
	av.raw.index()
	av.normalized.index()
	return av, nil
}

func (m *matcher) add(p string, t addedToken) {
	m.pats = append(m.pats, p)
	m.tokens = append(m.tokens, t)
}

func (m *matcher) index() {
	for i, p := range m.pats {
		m.first[p[0]] = append(m.first[p[0]], int32(i))
	}
	for b := range m.first {
		l := m.first[b]
		sort.SliceStable(l, func(x, y int) bool { return len(m.pats[l[x]]) > len(m.pats[l[y]]) })
	}
}

// segment is a piece of text, or an added token when id >= 0. start is its
// byte offset in the string that was split.
type segment struct {
	text  string
	id    int64
	start int
}

// split cuts s at the added tokens m finds, appending to out. Empty text
// segments are dropped, as HF drops empty splits.
func (m *matcher) split(s string, base int, out []segment) []segment {
	if len(m.pats) == 0 {
		if s != "" {
			out = append(out, segment{text: s, id: -1, start: base})
		}
		return out
	}
	emit := func(from, to int) {
		if to > from {
			out = append(out, segment{text: s[from:to], id: -1, start: base + from})
		}
	}
	startOffset := 0
	for i := 0; i < len(s); {
		k := m.longestAt(s, i)
		if k < 0 {
			i++
			continue
		}
		t := m.tokens[k]
		start, stop := i, i+len(m.pats[k])
		i = stop
		if t.SingleWord {
			startSpace := start == 0 || !endsWithWord(s[:start])
			stopSpace := stop == len(s) || !startsWithWord(s[stop:])
			if !startSpace || !stopSpace {
				continue
			}
		}
		if t.LStrip {
			ns := len(trimRightSpace(s[:start]))
			start = max(ns, startOffset)
		}
		if t.RStrip {
			stop = len(s) - len(trimLeftSpace(s[stop:]))
			i = max(i, stop)
		}
		emit(startOffset, start)
		out = append(out, segment{text: s[start:stop], id: t.ID, start: base + start})
		startOffset = stop
	}
	emit(startOffset, len(s))
	return out
}

func (m *matcher) longestAt(s string, i int) int {
	for _, k := range m.first[s[i]] {
		p := m.pats[k]
		if len(s)-i >= len(p) && s[i:i+len(p)] == p {
			return int(k)
		}
	}
	return -1
}

func isWordChar(r rune) bool {
	return r == '_' || unicode.In(r, unicode.L, unicode.N, unicode.Other_Alphabetic)
}

func endsWithWord(s string) bool {
	r, n := utf8.DecodeLastRuneInString(s)
	return n > 0 && isWordChar(r)
}

func startsWithWord(s string) bool {
	r, n := utf8.DecodeRuneInString(s)
	return n > 0 && isWordChar(r)
}

func trimRightSpace(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	return s
}

func trimLeftSpace(s string) string {
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !unicode.IsSpace(r) {
			break
		}
		s = s[n:]
	}
	return s
}
