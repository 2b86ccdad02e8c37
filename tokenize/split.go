package tokenize

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Splitting pre-tokenizers (HF's NormalizedString::split with a pattern and
// a delimiter behaviour): Split, Whitespace, Punctuation, Digits and
// CharDelimiterSplit.

type splitBehavior int

const (
	splitRemoved splitBehavior = iota
	splitIsolated
	splitMergedWithPrevious
	splitMergedWithNext
	splitContiguous
)

func parseBehavior(s string) (splitBehavior, error) {
	switch strings.ToLower(strings.ReplaceAll(s, "_", "")) {
	case "removed":
		return splitRemoved, nil
	case "isolated":
		return splitIsolated, nil
	case "mergedwithprevious":
		return splitMergedWithPrevious, nil
	case "mergedwithnext":
		return splitMergedWithNext, nil
	case "contiguous":
		return splitContiguous, nil
	}
	return 0, fmt.Errorf("unknown split behavior %q", s)
}

// match is a span of the text and whether the pattern matched it.
type match struct {
	start, end int
	is         bool
}

// charMatches is HF's find_matches for a char predicate: every matching
// character is its own match, the runs between them are not.
func charMatches(s string, pred func(rune) bool, out []match) []match {
	if s == "" {
		return append(out, match{0, 0, false})
	}
	last := 0
	for i, r := range s {
		if pred(r) {
			if last < i {
				out = append(out, match{last, i, false})
			}
			w := utf8.RuneLen(r)
			out = append(out, match{i, i + w, true})
			last = i + w
		}
	}
	if last < len(s) {
		out = append(out, match{last, len(s), false})
	}
	return out
}

// regexMatches is HF's find_matches for a regex.
func regexMatches(s string, re *onigRegex, out []match) []match {
	if s == "" {
		return append(out, match{0, 0, false})
	}
	prev := 0
	for _, m := range re.FindAllStringIndex(s, -1) {
		if prev != m[0] {
			out = append(out, match{prev, m[0], false})
		}
		out = append(out, match{m[0], m[1], true})
		prev = m[1]
	}
	if prev != len(s) {
		out = append(out, match{prev, len(s), false})
	}
	return out
}

// splitBy is NormalizedString::split: the matches grouped as the behaviour
// says, appended to out as slices of n (empty ones dropped, as
// PreTokenizedString::split does).
func splitBy(n *ntext, ms []match, b splitBehavior, out []ntext) []ntext {
	type part struct {
		start, end int
		remove     bool
	}
	var parts []part
	switch b {
	case splitIsolated:
		for _, m := range ms {
			parts = append(parts, part{m.start, m.end, false})
		}
	case splitRemoved:
		for _, m := range ms {
			parts = append(parts, part{m.start, m.end, m.is})
		}
	case splitContiguous:
		prev := false
		for _, m := range ms {
			if m.is == prev && len(parts) > 0 {
				parts[len(parts)-1].end = m.end
			} else {
				parts = append(parts, part{m.start, m.end, false})
			}
			prev = m.is
		}
	case splitMergedWithPrevious:
		prev := false
		for _, m := range ms {
			if m.is && !prev && len(parts) > 0 {
				parts[len(parts)-1].end = m.end
			} else {
				parts = append(parts, part{m.start, m.end, false})
			}
			prev = m.is
		}
	case splitMergedWithNext:
		prev := false
		for i := len(ms) - 1; i >= 0; i-- {
			m := ms[i]
			if m.is && !prev && len(parts) > 0 {
				parts[len(parts)-1].start = m.start
			} else {
				parts = append(parts, part{m.start, m.end, false})
			}
			prev = m.is
		}
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	for _, p := range parts {
		if !p.remove {
			out = appendSlice(out, n, p.start, p.end)
		}
	}
	return out
}

// splitPre is HF's Split pre-tokenizer: a literal or any regex Oniguruma
// takes (look-around included, see compileOnig).
type splitPre struct {
	re       *onigRegex
	behavior splitBehavior
	invert   bool
}

func buildSplit(c *component) (preTokenizer, error) {
	var j struct {
		Pattern struct {
			String *string `json:"String"`
			Regex  *string `json:"Regex"`
		} `json:"pattern"`
		Behavior string `json:"behavior"`
		Invert   bool   `json:"invert"`
	}
	if err := c.decode(&j); err != nil {
		return nil, err
	}
	b, err := parseBehavior(j.Behavior)
	if err != nil {
		return nil, fmt.Errorf("Split: %w", err)
	}
	p := &splitPre{behavior: b, invert: j.Invert}
	switch {
	case j.Pattern.String != nil:
		if *j.Pattern.String == "" {
			return nil, fmt.Errorf("Split: empty String pattern")
		}
		p.re = &onigRegex{std: regexp.MustCompile(regexp.QuoteMeta(*j.Pattern.String))}
	case j.Pattern.Regex != nil:
		if p.re, err = compileOnig(*j.Pattern.Regex); err != nil {
			return nil, fmt.Errorf("Split: %w", err)
		}
	default:
		return nil, fmt.Errorf("Split: pattern is neither String nor Regex")
	}
	return p, nil
}

func (p *splitPre) split(n ntext, out []ntext) []ntext {
	ms := regexMatches(n.s, p.re, nil)
	if p.invert {
		for i := range ms {
			ms[i].is = !ms[i].is
		}
	}
	return splitBy(&n, ms, p.behavior, out)
}

// charSplit splits on the characters pred picks (Punctuation, Digits,
// CharDelimiterSplit).
type charSplit struct {
	pred     func(rune) bool
	behavior splitBehavior
}

func (p *charSplit) split(n ntext, out []ntext) []ntext {
	return splitBy(&n, charMatches(n.s, p.pred, nil), p.behavior, out)
}

func buildPunctuation(c *component) (preTokenizer, error) {
	var j struct {
		Behavior *string `json:"behavior"`
	}
	if err := c.decode(&j); err != nil {
		return nil, err
	}
	b := splitIsolated
	if j.Behavior != nil {
		var err error
		if b, err = parseBehavior(*j.Behavior); err != nil {
			return nil, fmt.Errorf("Punctuation: %w", err)
		}
	}
	return &charSplit{pred: isBertPunct, behavior: b}, nil
}

func buildDigits(c *component) (preTokenizer, error) {
	var j struct {
		Individual bool `json:"individual_digits"`
	}
	if err := c.decode(&j); err != nil {
		return nil, err
	}
	if j.Individual {
		return &charSplit{pred: unicode.IsNumber, behavior: splitIsolated}, nil
	}
	return &charSplit{pred: unicode.IsNumber, behavior: splitContiguous}, nil
}

func buildCharDelimiter(c *component) (preTokenizer, error) {
	var j struct {
		Delimiter string `json:"delimiter"`
	}
	if err := c.decode(&j); err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(j.Delimiter) != 1 {
		return nil, fmt.Errorf("CharDelimiterSplit: delimiter %q is not one character", j.Delimiter)
	}
	d, _ := utf8.DecodeRuneInString(j.Delimiter)
	return &charSplit{pred: func(r rune) bool { return r == d }, behavior: splitRemoved}, nil
}

// whitespacePre is HF's Whitespace: the matches of `\w+|[^\w\s]+` (Rust's
// Unicode classes) are kept, the rest removed.
type whitespacePre struct{}

// isRustWord is the regex crate's Unicode \w: Alphabetic, marks, decimal
// numbers, connector punctuation and the joiners.
func isRustWord(r rune) bool {
	if r < utf8.RuneSelf {
		return r == '_' || (r >= '0' && r <= '9') || (r|0x20 >= 'a' && r|0x20 <= 'z')
	}
	return unicode.In(r, unicode.L, unicode.Nl, unicode.Other_Alphabetic, unicode.M, unicode.Nd, unicode.Pc) ||
		r == 0x200C || r == 0x200D
}

func (whitespacePre) split(n ntext, out []ntext) []ntext {
	start, cls := -1, 0 // cls 1: word run, 2: other run
	for i, r := range n.s {
		c := 2
		switch {
		case isRustWord(r):
			c = 1
		case unicode.IsSpace(r):
			c = 0
		}
		if c != cls {
			if start >= 0 {
				out = appendSlice(out, &n, start, i)
			}
			start, cls = -1, c
			if c != 0 {
				start = i
			}
		}
	}
	if start >= 0 {
		out = appendSlice(out, &n, start, len(n.s))
	}
	return out
}

// wordLevelModel is HF's WordLevel: a word is its id, or the unk token's.
type wordLevelModel struct {
	vocab map[string]int64
	unk   string
	rev   revVocab
}

func buildWordLevel(raw json.RawMessage) (model, error) {
	var j struct {
		Vocab    map[string]int64 `json:"vocab"`
		UnkToken string           `json:"unk_token"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	for tok, id := range j.Vocab {
		if err := checkID(fmt.Sprintf("WordLevel: vocab[%q]", tok), id); err != nil {
			return nil, err
		}
	}
	if j.Vocab == nil {
		j.Vocab = map[string]int64{}
	}
	return &wordLevelModel{vocab: j.Vocab, unk: j.UnkToken}, nil
}

func (m *wordLevelModel) tokenize(word string, toks []token) ([]token, error) {
	id, ok := m.vocab[word]
	if !ok {
		if id, ok = m.vocab[m.unk]; !ok {
			return toks, fmt.Errorf("WordLevel: unk_token %q is not in the vocab", m.unk)
		}
	}
	return append(toks, token{id: uint32(id), end: int32(len(word))}), nil
}

func (m *wordLevelModel) size() int { return len(m.vocab) }

func (m *wordLevelModel) eachToken(f func(string, int64)) {
	for k, v := range m.vocab {
		f(k, v)
	}
}

func (m *wordLevelModel) tokenToID(tok string) (int64, bool) {
	id, ok := m.vocab[tok]
	return id, ok
}

func (m *wordLevelModel) value(id int64, text string) string {
	if _, ok := m.vocab[text]; ok {
		return text
	}
	return m.unk
}
