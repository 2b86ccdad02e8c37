package tokenize

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/rivo/uniseg"
)

// precompiledNormalizer is HF's Precompiled: SentencePiece's normalization
// rules (nmt_nfkc for XLM-R and ALBERT), compiled into a double-array trie
// from bytes to replacement strings. sugarme has the trie, but its
// normalizer stops at the first rewritten grapheme and mangles nonspacing
// marks, and it indexes the trie without bounds checks; this one follows
// tokenizers (per grapheme cluster under 6 bytes, else per character) and
// checks every index.
type precompiledNormalizer struct {
	trie       []uint32
	normalized string
}

func newPrecompiled(b64 string) (*precompiledNormalizer, error) {
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("Precompiled: precompiled_charsmap: %w", err)
	}
	if len(data) < 4 {
		return nil, errors.New("Precompiled: precompiled_charsmap is too short")
	}
	size := int(binary.LittleEndian.Uint32(data))
	if size%4 != 0 || size > len(data)-4 || size == 0 {
		return nil, errors.New("Precompiled: precompiled_charsmap has a bad trie size")
	}
	p := &precompiledNormalizer{trie: make([]uint32, size/4)}
	for i := range p.trie {
		p.trie[i] = binary.LittleEndian.Uint32(data[4+4*i:])
	}
	p.normalized = string(data[4+size:])
	if !utf8.ValidString(p.normalized) {
		return nil, errors.New("Precompiled: precompiled_charsmap holds invalid UTF-8")
	}
	return p, nil
}

func unitHasLeaf(u uint32) bool  { return (u>>8)&1 == 1 }
func unitValue(u uint32) int     { return int(u & (1<<31 - 1)) }
func unitLabel(u uint32) uint32  { return u & (1<<31 | 0xFF) }
func unitOffset(u uint32) uint32 { return (u >> 10) << ((u & (1 << 9)) >> 6) }

// transform is spm_precompiled's transform: the replacement of the
// shortest prefix of chunk that the trie holds.
func (p *precompiledNormalizer) transform(chunk string) (string, bool) {
	pos := unitOffset(p.trie[0])
	for i := 0; i < len(chunk); i++ {
		c := chunk[i]
		if c == 0 {
			break
		}
		pos ^= uint32(c)
		if int(pos) >= len(p.trie) {
			return "", false
		}
		u := p.trie[pos]
		if unitLabel(u) != uint32(c) {
			return "", false
		}
		pos ^= unitOffset(u)
		if unitHasLeaf(u) {
			if int(pos) >= len(p.trie) {
				return "", false
			}
			at := unitValue(p.trie[pos])
			if at > len(p.normalized) {
				return "", false
			}
			end := strings.IndexByte(p.normalized[at:], 0)
			if end < 0 {
				end = len(p.normalized) - at
			}
			return p.normalized[at : at+end], true
		}
	}
	return "", false
}

// normalize follows tokenizers' Precompiled::normalize, including how it
// records the changes (a shorter replacement credits its removals to the
// character before it).
func (p *precompiledNormalizer) normalize(n ntext) ntext {
	type change struct {
		r rune
		c int
	}
	var b strings.Builder
	var changes []change
	track := n.tracked()
	if !track {
		b.Grow(len(n.s))
	}
	modified := false
	replace := func(old, repl string) {
		modified = true
		if !track {
			b.WriteString(repl)
			return
		}
		k := len(changes)
		for _, r := range repl {
			changes = append(changes, change{r, 0})
		}
		diff := utf8.RuneCountInString(repl) - utf8.RuneCountInString(old)
		switch {
		case diff > 0:
			for i := len(changes) - diff; i < len(changes); i++ {
				if i >= k {
					changes[i].c = 1
				}
			}
		case diff < 0 && len(changes) > 0:
			changes[len(changes)-1].c += diff
		}
	}
	same := func(part string) {
		if !track {
			b.WriteString(part)
			return
		}
		r, _ := utf8.DecodeRuneInString(part)
		changes = append(changes, change{r, 0})
	}
	s := n.s
	state := -1
	for s != "" {
		var g string
		g, s, _, state = uniseg.FirstGraphemeClusterInString(s, state)
		if len(g) < 6 {
			if repl, ok := p.transform(g); ok {
				replace(g, repl)
				continue
			}
		}
		for i, r := range g {
			part := g[i : i+utf8.RuneLen(r)]
			if repl, ok := p.transform(part); ok {
				replace(part, repl)
			} else {
				same(part)
			}
		}
	}
	if !modified {
		return n
	}
	if !track {
		return ntext{s: b.String(), shift: n.shift}
	}
	x := newXform(&n, len(n.s))
	for _, c := range changes {
		x.emit(c.r, c.c)
	}
	return x.done()
}
