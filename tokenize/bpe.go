package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// bpeModel is Hugging Face's BPE. sugarme's BPE breaks ties between equal
// merges of one pair by an unset timestamp, so in "aaa" it may merge the
// right pair first; HF merges the lowest rank, then the leftmost position.
type bpeModel struct {
	vocab        map[string]int64
	merges       map[uint64]bpeMerge
	unkID        int64 // -1: none
	prefix       string
	suffix       string
	fuseUnk      bool
	byteFallback bool
	ignoreMerges bool
	byteIDs      [256]int64 // ids of <0xXX>, -1 when missing

	rev   revVocab
	cache wordCache
}

type bpeMerge struct {
	rank  int32
	newID int32
}

func pairKey(a, b int64) uint64 { return uint64(a)<<32 | uint64(uint32(b)) }

func buildBPE(raw json.RawMessage) (model, error) {
	var j struct {
		Dropout                 *float64         `json:"dropout"`
		UnkToken                *string          `json:"unk_token"`
		ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
		EndOfWordSuffix         *string          `json:"end_of_word_suffix"`
		FuseUnk                 bool             `json:"fuse_unk"`
		ByteFallback            bool             `json:"byte_fallback"`
		IgnoreMerges            bool             `json:"ignore_merges"`
		Vocab                   map[string]int64 `json:"vocab"`
		Merges                  json.RawMessage  `json:"merges"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if j.Dropout != nil && *j.Dropout != 0 {
		return nil, fmt.Errorf("BPE: dropout %g makes ids random; only dropout null or 0 is supported", *j.Dropout)
	}
	m := &bpeModel{vocab: j.Vocab, unkID: -1, fuseUnk: j.FuseUnk, byteFallback: j.ByteFallback,
		ignoreMerges: j.IgnoreMerges, merges: make(map[uint64]bpeMerge)}
	if m.vocab == nil {
		m.vocab = map[string]int64{}
	}
	for tok, id := range m.vocab {
		if id < 0 || id > 1<<31-1 {
			return nil, fmt.Errorf("BPE: vocab[%q]: id %d is outside 0..%d", tok, id, 1<<31-1)
		}
	}
	if j.UnkToken != nil {
		id, ok := m.vocab[*j.UnkToken]
		if !ok {
			return nil, fmt.Errorf("BPE: unk_token %q is not in the vocab", *j.UnkToken)
		}
		m.unkID = id
	}
	if j.ContinuingSubwordPrefix != nil {
		m.prefix = *j.ContinuingSubwordPrefix
	}
	if j.EndOfWordSuffix != nil {
		m.suffix = *j.EndOfWordSuffix
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := m.vocab[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	pairs, err := parseMerges(j.Merges)
	if err != nil {
		return nil, err
	}
	for rank, p := range pairs {
		a, ok := m.vocab[p[0]]
		if !ok {
			return nil, fmt.Errorf("BPE: merge %d: %q is not in the vocab", rank, p[0])
		}
		b, ok := m.vocab[p[1]]
		if !ok {
			return nil, fmt.Errorf("BPE: merge %d: %q is not in the vocab", rank, p[1])
		}
		second := p[1]
		if m.prefix != "" {
			second = strings.TrimPrefix(second, m.prefix)
		}
		n, ok := m.vocab[p[0]+second]
		if !ok {
			return nil, fmt.Errorf("BPE: merge %d: %q is not in the vocab", rank, p[0]+second)
		}
		m.merges[pairKey(a, b)] = bpeMerge{rank: int32(rank), newID: int32(n)}
	}
	return m, nil
}

// parseMerges reads both forms HF writes: [["a", "b"], ...] and ["a b", ...].
func parseMerges(raw json.RawMessage) ([][2]string, error) {
	if isNull(raw) {
		return nil, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, fmt.Errorf("BPE: merges: %w", err)
	}
	out := make([][2]string, 0, len(items))
	for i, it := range items {
		it = bytes.TrimSpace(it)
		if len(it) > 0 && it[0] == '[' {
			var p []string
			if err := json.Unmarshal(it, &p); err != nil || len(p) != 2 {
				return nil, fmt.Errorf("BPE: merge %d is not a pair of strings", i)
			}
			out = append(out, [2]string{p[0], p[1]})
			continue
		}
		var s string
		if err := json.Unmarshal(it, &s); err != nil {
			return nil, fmt.Errorf("BPE: merge %d: %w", i, err)
		}
		if strings.HasPrefix(s, "#version") {
			continue
		}
		parts := strings.Split(s, " ")
		if len(parts) != 2 {
			return nil, fmt.Errorf("BPE: merge %d (%q) is not two tokens", i, s)
		}
		out = append(out, [2]string{parts[0], parts[1]})
	}
	return out, nil
}

func (m *bpeModel) size() int { return len(m.vocab) }

func (m *bpeModel) tokenToID(tok string) (int64, bool) {
	id, ok := m.vocab[tok]
	return id, ok
}

func (m *bpeModel) eachToken(f func(string, int64)) {
	for k, v := range m.vocab {
		f(k, v)
	}
}

type bpeSymbol struct {
	id         int64
	prev, next int32
	len        int32 // bytes of the word
	gone       bool
}

type bpeHeapItem struct {
	rank, pos int32
	newID     int32
}

func (m *bpeModel) tokenize(word string, toks []token) ([]token, error) {
	if word == "" {
		return toks, nil
	}
	if m.ignoreMerges {
		if id, ok := m.vocab[word]; ok {
			return append(toks, token{id: uint32(id), end: int32(len(word))}), nil
		}
	}
	if hit, ok := m.cache.get(word); ok {
		return append(toks, hit...), nil
	}
	out, err := m.mergeWord(word)
	if err != nil {
		return toks, err
	}
	m.cache.put(word, out)
	return append(toks, out...), nil
}

func (m *bpeModel) value(id int64, _ string) string { return m.rev.get(m, id) }

// mergeWord follows tokenizers' Word::merge_all: a min-heap on (rank,
// position) over the pairs of adjacent symbols.
func (m *bpeModel) mergeWord(w string) ([]token, error) {
	syms := make([]bpeSymbol, 0, len(w))
	add := func(id int64, n int) {
		syms = append(syms, bpeSymbol{id: id, prev: int32(len(syms) - 1), next: int32(len(syms) + 1), len: int32(n)})
	}
	unk, unkLen, haveUnk := int64(0), 0, false
	var sb strings.Builder
	for i := 0; i < len(w); {
		_, n := utf8.DecodeRuneInString(w[i:])
		s := w[i : i+n]
		if i > 0 && m.prefix != "" || i+n == len(w) && m.suffix != "" {
			sb.Reset()
			if i > 0 {
				sb.WriteString(m.prefix)
			}
			sb.WriteString(s)
			if i+n == len(w) {
				sb.WriteString(m.suffix)
			}
			s = sb.String()
		}
		i += n
		if id, ok := m.vocab[s]; ok {
			if haveUnk {
				add(unk, unkLen)
				haveUnk = false
			}
			add(id, n)
			continue
		}
		if m.byteFallback {
			all := true
			for k := 0; k < len(s); k++ {
				if m.byteIDs[s[k]] < 0 {
					all = false
					break
				}
			}
			if all {
				// HF adds the byte pieces here without flushing a pending unk.
				for k := 0; k < len(s); k++ {
					add(m.byteIDs[s[k]], 1)
				}
				continue
			}
		}
		if m.unkID >= 0 {
			switch {
			case haveUnk && m.fuseUnk:
				unkLen += n
			case haveUnk:
				add(unk, unkLen)
				unkLen = n
			default:
				unkLen = n
			}
			unk, haveUnk = m.unkID, true
		}
	}
	if haveUnk {
		add(unk, unkLen)
	}
	if len(syms) == 0 {
		return nil, nil
	}
	syms[len(syms)-1].next = -1

	heap := make([]bpeHeapItem, 0, len(syms))
	for i := 0; i+1 < len(syms); i++ {
		if mg, ok := m.merges[pairKey(syms[i].id, syms[i+1].id)]; ok {
			heap = heapPush(heap, bpeHeapItem{rank: mg.rank, pos: int32(i), newID: mg.newID})
		}
	}
	for len(heap) > 0 {
		var top bpeHeapItem
		top, heap = heapPop(heap)
		cur := &syms[top.pos]
		if cur.gone || cur.next == -1 {
			continue
		}
		nextPos := cur.next
		right := syms[nextPos]
		if mg, ok := m.merges[pairKey(cur.id, right.id)]; !ok || mg.newID != top.newID {
			continue
		}
		cur.id = int64(top.newID)
		cur.len += right.len
		cur.next = right.next
		syms[nextPos].gone = true
		if right.next >= 0 {
			syms[right.next].prev = top.pos
		}
		if cur.prev >= 0 {
			if mg, ok := m.merges[pairKey(syms[cur.prev].id, cur.id)]; ok {
				heap = heapPush(heap, bpeHeapItem{rank: mg.rank, pos: cur.prev, newID: mg.newID})
			}
		}
		if cur.next >= 0 {
			if mg, ok := m.merges[pairKey(cur.id, syms[cur.next].id)]; ok {
				heap = heapPush(heap, bpeHeapItem{rank: mg.rank, pos: top.pos, newID: mg.newID})
			}
		}
	}
	out := make([]token, 0, len(syms))
	pos := int32(0)
	for _, s := range syms {
		if !s.gone {
			out = append(out, token{id: uint32(s.id), start: pos, end: pos + s.len})
			pos += s.len
		}
	}
	return out, nil
}

func heapLess(a, b bpeHeapItem) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

func heapPush(h []bpeHeapItem, x bpeHeapItem) []bpeHeapItem {
	h = append(h, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !heapLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	return h
}

func heapPop(h []bpeHeapItem) (bpeHeapItem, []bpeHeapItem) {
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h = h[:n]
	for i := 0; ; {
		l, r, s := 2*i+1, 2*i+2, i
		if l < n && heapLess(h[l], h[s]) {
			s = l
		}
		if r < n && heapLess(h[r], h[s]) {
			s = r
		}
		if s == i {
			break
		}
		h[i], h[s] = h[s], h[i]
		i = s
	}
	return top, h
}

// wordCache remembers the ids of short words for a model whose output for
// a word never changes (HF's BPE keeps such a cache; for WordPiece it only
// saves time). It is sharded so that concurrent encoders rarely meet on a
// lock, and a full shard is simply cleared.
type wordCache struct {
	once   sync.Once
	shards [64]cacheShard
}

type cacheShard struct {
	mu sync.RWMutex
	m  map[string][]token
}

const (
	cacheMaxWord  = 64
	cachePerShard = 2048
)

func (c *wordCache) shard(w string) *cacheShard {
	c.once.Do(func() {
		for i := range c.shards {
			c.shards[i].m = make(map[string][]token)
		}
	})
	h := uint32(2166136261)
	for i := 0; i < len(w); i++ {
		h = (h ^ uint32(w[i])) * 16777619
	}
	return &c.shards[h%uint32(len(c.shards))]
}

func (c *wordCache) get(w string) ([]token, bool) {
	if len(w) > cacheMaxWord {
		return nil, false
	}
	s := c.shard(w)
	s.mu.RLock()
	v, ok := s.m[w]
	s.mu.RUnlock()
	return v, ok
}

func (c *wordCache) put(w string, ids []token) {
	if len(w) > cacheMaxWord {
		return
	}
	s := c.shard(w)
	s.mu.Lock()
	if len(s.m) >= cachePerShard {
		clear(s.m)
	}
	s.m[w] = ids
	s.mu.Unlock()
}
