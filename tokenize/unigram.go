package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// unigramModel is Hugging Face's Unigram (SentencePiece) model: the best
// segmentation by Viterbi over every vocabulary piece that matches, found
// with a byte trie, unknown characters scored min_score - 10 and fused.
// sugarme's Unigram only looks at pieces up to 20 bytes long, adds a length
// bonus HF does not have, and skips Viterbi altogether when byte_fallback is
// on; this one follows tokenizers' encode_optimized.
//
// Memory: the pieces live in one string (arena, offsets off), and the trie
// is a compact radix tree over them (one node per piece end or branch,
// edges pointing into the arena), so a vocabulary costs about twice its
// file size, not the ~11x (38x allocated while loading) of a map-based trie
// and per-piece JSON values.
type unigramModel struct {
	arena        string
	off          []uint32 // piece i is arena[off[i]:off[i+1]]
	scores       []float64
	unkID        int64 // -1: none
	byteFallback bool
	minScore     float64
	byteIDs      [256]int64

	// The radix trie, node 0 the root. The children of node n are the
	// nodes first[n] .. first[n]+nchild[n]-1, sorted by the first byte of
	// their edge, which is arena[edge[c] : edge[c]+elen[c]]; term[n] is
	// the id of the piece ending at n, or -1.
	first  []int32
	nchild []uint16
	edge   []uint32
	elen   []uint32
	term   []int32

	cache wordCache // as HF's Unigram cache
}

const unkPenalty = 10.0

func (m *unigramModel) piece(i int) string { return m.arena[m.off[i]:m.off[i+1]] }

// unigramVocab reads the [[piece, score], ...] list in one pass, without a
// JSON value per entry.
type unigramVocab struct {
	arena  []byte
	off    []uint32
	scores []float64
}

func (v *unigramVocab) UnmarshalJSON(b []byte) error {
	p := 0
	ws := func() {
		for p < len(b) && (b[p] == ' ' || b[p] == '\t' || b[p] == '\n' || b[p] == '\r') {
			p++
		}
	}
	expect := func(c byte) bool {
		ws()
		if p < len(b) && b[p] == c {
			p++
			return true
		}
		return false
	}
	if string(b) == "null" {
		return nil
	}
	if !expect('[') {
		return errors.New("Unigram: vocab is not a list")
	}
	v.arena = make([]byte, 0, len(b)/2)
	est := bytes.Count(b, []byte{'['}) // at least the number of entries
	v.off = make([]uint32, 1, est+1)
	v.scores = make([]float64, 0, est)
	if expect(']') {
		return nil
	}
	for i := 0; ; i++ {
		bad := func() error { return fmt.Errorf("Unigram: vocab[%d] is not [piece, score]", i) }
		if !expect('[') {
			return bad()
		}
		ws()
		if p >= len(b) || b[p] != '"' {
			return bad()
		}
		start, escaped := p, false
		for p++; p < len(b) && b[p] != '"'; p++ {
			if b[p] == '\\' {
				escaped = true
				p++
			}
		}
		if p >= len(b) {
			return bad()
		}
		p++
		if escaped {
			var s string
			if err := json.Unmarshal(b[start:p], &s); err != nil {
				return bad()
			}
			v.arena = append(v.arena, s...)
		} else {
			if !utf8.Valid(b[start+1 : p-1]) {
				return bad()
			}
			v.arena = append(v.arena, b[start+1:p-1]...)
		}
		if len(v.arena) > math.MaxUint32 {
			return errors.New("Unigram: vocab over 4 GiB")
		}
		v.off = append(v.off, uint32(len(v.arena)))
		if !expect(',') {
			return bad()
		}
		ws()
		numStart := p
		for p < len(b) && b[p] != ']' && b[p] != ',' && b[p] != ' ' && b[p] != '\n' && b[p] != '\t' && b[p] != '\r' {
			p++
		}
		score, err := serdeFloat(string(b[numStart:p]))
		if err != nil {
			return fmt.Errorf("Unigram: vocab[%d]: %w", i, err)
		}
		v.scores = append(v.scores, score)
		if !expect(']') {
			return bad()
		}
		if expect(']') {
			break
		}
		if !expect(',') {
			return fmt.Errorf("Unigram: vocab: expected , or ] after entry %d", i)
		}
	}
	ws()
	if p != len(b) {
		return errors.New("Unigram: vocab: trailing data")
	}
	return nil
}

func buildUnigram(raw json.RawMessage) (model, error) {
	var j struct {
		UnkID        *int64       `json:"unk_id"`
		Vocab        unigramVocab `json:"vocab"`
		ByteFallback bool         `json:"byte_fallback"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	n := len(j.Vocab.scores)
	if n == 0 {
		return nil, errors.New("Unigram: empty vocab")
	}
	if n > math.MaxInt32 {
		return nil, errors.New("Unigram: vocab has over 2^31 pieces")
	}
	m := &unigramModel{arena: string(j.Vocab.arena), off: j.Vocab.off, scores: j.Vocab.scores,
		unkID: -1, byteFallback: j.ByteFallback, minScore: math.Inf(1)}
	for _, s := range m.scores {
		m.minScore = min(m.minScore, s)
	}
	m.buildTrie()
	if j.UnkID != nil {
		if *j.UnkID < 0 || *j.UnkID >= int64(n) {
			return nil, fmt.Errorf("Unigram: unk_id %d is outside the vocab", *j.UnkID)
		}
		m.unkID = *j.UnkID
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := m.tokenToID(fmt.Sprintf("<0x%02X>", b)); ok {
			m.byteIDs[b] = id
		}
	}
	return m, nil
}

// buildTrie makes the radix trie from the pieces sorted by their bytes (a
// stable sort, so that of two equal pieces the later id wins, as in HF's
// token_to_ids; the empty piece is never found, as in HF's trie).
func (m *unigramModel) buildTrie() {
	n := len(m.scores)
	order := make([]int32, 0, n)
	for i := 0; i < n; i++ {
		if m.off[i] != m.off[i+1] {
			order = append(order, int32(i))
		}
	}
	slices.SortStableFunc(order, func(a, b int32) int { return strings.Compare(m.piece(int(a)), m.piece(int(b))) })
	// a radix tree has at most a leaf and a branch per piece
	c := 2*len(order) + 1
	m.first, m.nchild, m.edge, m.elen, m.term = make([]int32, 0, c), make([]uint16, 0, c), make([]uint32, 0, c), make([]uint32, 0, c), make([]int32, 0, c)
	m.newNode(0, 0)
	type job struct {
		node   int32
		lo, hi int
		depth  int
	}
	stack := []job{{0, 0, len(order), 0}}
	for len(stack) > 0 {
		jb := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		lo := jb.lo
		// pieces ending here come first; the last of them wins
		for lo < jb.hi && len(m.piece(int(order[lo]))) == jb.depth {
			m.term[jb.node] = order[lo]
			lo++
		}
		// groups by the next byte
		firstChild := int32(len(m.term))
		count := 0
		for a := lo; a < jb.hi; {
			pa := m.piece(int(order[a]))
			c := pa[jb.depth]
			b := a + 1
			for b < jb.hi && m.piece(int(order[b]))[jb.depth] == c {
				b++
			}
			pz := m.piece(int(order[b-1]))
			l := jb.depth + 1
			for l < len(pa) && l < len(pz) && pa[l] == pz[l] {
				l++
			}
			child := m.newNode(m.off[order[a]]+uint32(jb.depth), uint32(l-jb.depth))
			stack = append(stack, job{child, a, b, l})
			count++
			a = b
		}
		m.first[jb.node] = firstChild
		m.nchild[jb.node] = uint16(count)
	}
}

func (m *unigramModel) newNode(edge, elen uint32) int32 {
	m.first = append(m.first, 0)
	m.nchild = append(m.nchild, 0)
	m.edge = append(m.edge, edge)
	m.elen = append(m.elen, elen)
	m.term = append(m.term, -1)
	return int32(len(m.term) - 1)
}

// child is the child of node n whose edge starts with c, or -1.
func (m *unigramModel) child(n int32, c byte) int32 {
	lo, hi := m.first[n], m.first[n]+int32(m.nchild[n])
	for lo < hi {
		mid := int32(uint32(lo+hi) >> 1)
		switch b := m.arena[m.edge[mid]]; {
		case b == c:
			return mid
		case b < c:
			lo = mid + 1
		default:
			hi = mid
		}
	}
	return -1
}

// matches calls f(end, id) for every piece that s[start:] begins with,
// shortest first.
func (m *unigramModel) matches(s string, start int, f func(end int, id int32)) {
	n, pos := int32(0), start
	for pos < len(s) {
		c := m.child(n, s[pos])
		if c < 0 {
			return
		}
		e, l := m.edge[c], int(m.elen[c])
		if len(s)-pos < l || s[pos:pos+l] != m.arena[e:e+uint32(l)] {
			return
		}
		pos += l
		n = c
		if id := m.term[n]; id >= 0 {
			f(pos, id)
		}
	}
}

func (m *unigramModel) tokenToID(s string) (int64, bool) {
	id := int32(-1)
	if s != "" {
		m.matches(s, 0, func(end int, i int32) {
			if end == len(s) {
				id = i
			}
		})
	}
	return int64(id), id >= 0
}

func (m *unigramModel) size() int { return len(m.scores) }

func (m *unigramModel) eachToken(f func(string, int64)) {
	for i := range m.scores {
		f(m.piece(i), int64(i))
	}
}

type latticeNode struct {
	score  float64
	start  int32
	id     int32
	reachd bool
}

func (m *unigramModel) tokenize(s string, toks []token) ([]token, error) {
	if s == "" {
		return toks, nil
	}
	if hit, ok := m.cache.get(s); ok {
		return append(toks, hit...), nil
	}
	out, err := m.viterbi(s, nil)
	if err != nil {
		return toks, err
	}
	m.cache.put(s, out)
	return append(toks, out...), nil
}

// value is the piece, or for the unk token the text it stands for (HF's
// Unigram keeps the text there).
func (m *unigramModel) value(id int64, text string) string {
	if id == m.unkID || id < 0 || id >= int64(len(m.scores)) {
		return text
	}
	return m.piece(int(id))
}

// viterbi is tokenizers' Unigram::encode_optimized followed by the id
// lookup (with byte fallback) of Unigram::tokenize.
func (m *unigramModel) viterbi(s string, toks []token) ([]token, error) {
	size := len(s)
	best := make([]latticeNode, size+1)
	unkScore := m.minScore - unkPenalty
	for start := 0; start < size; {
		base := best[start].score
		_, mblen := utf8.DecodeRuneInString(s[start:])
		hasSingle := false
		m.matches(s, start, func(end int, id int32) {
			// (A duplicated piece keeps its last id in the trie, as HF's
			// token_to_ids does.)
			cand := m.scores[id] + base
			if t := &best[end]; !t.reachd || cand > t.score {
				*t = latticeNode{score: cand, start: int32(start), id: id, reachd: true}
			}
			if end-start == mblen {
				hasSingle = true
			}
		})
		if !hasSingle {
			if m.unkID < 0 {
				return toks, errors.New("Unigram: a character is not in the vocab and the model has no unk_id")
			}
			cand := unkScore + base
			if t := &best[start+mblen]; !t.reachd || cand > t.score {
				*t = latticeNode{score: cand, start: int32(start), id: int32(m.unkID), reachd: true}
			}
		}
		start += mblen
	}
	// Backtrack; consecutive unknown pieces fuse into one (fuse_unk is
	// always on in HF's Unigram).
	type span struct{ from, to int }
	var spans []span
	unkEnd := -1
	for end := size; end > 0; {
		nd := best[end]
		st := int(nd.start)
		if m.unkID >= 0 && int64(nd.id) == m.unkID {
			if unkEnd < 0 {
				unkEnd = end
			}
		} else {
			if unkEnd >= 0 {
				spans = append(spans, span{end, unkEnd})
				unkEnd = -1
			}
			spans = append(spans, span{st, end})
		}
		end = st
	}
	if unkEnd >= 0 {
		spans = append(spans, span{0, unkEnd})
	}
	for k := len(spans) - 1; k >= 0; k-- {
		from, to := int32(spans[k].from), int32(spans[k].to)
		piece := s[from:to]
		if id, ok := m.tokenToID(piece); ok {
			toks = append(toks, token{id: uint32(id), start: from, end: to})
			continue
		}
		if m.byteFallback {
			all := true
			for i := 0; i < len(piece); i++ {
				if m.byteIDs[piece[i]] < 0 {
					all = false
					break
				}
			}
			if all {
				for i := 0; i < len(piece); i++ {
					toks = append(toks, token{id: uint32(m.byteIDs[piece[i]]), start: from, end: to})
				}
				continue
			}
		}
		if m.unkID < 0 {
			return toks, errors.New("Unigram: missing unk_id")
		}
		toks = append(toks, token{id: uint32(m.unkID), start: from, end: to})
	}
	return toks, nil
}
