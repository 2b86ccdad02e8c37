package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"unicode/utf8"
)

// unigramModel is Hugging Face's Unigram (SentencePiece) model: the best
// segmentation by Viterbi over every vocabulary piece that matches, found
// with a byte trie, unknown characters scored min_score - 10 and fused.
// sugarme's Unigram only looks at pieces up to 20 bytes long, adds a length
// bonus HF does not have, and skips Viterbi altogether when byte_fallback is
// on; this one follows tokenizers' encode_optimized.
type unigramModel struct {
	pieces       []string
	scores       []float64
	ids          map[string]int64
	unkID        int64 // -1: none
	byteFallback bool
	minScore     float64
	byteIDs      [256]int64

	// The trie: child of node n by byte b is children[n<<8|b]; term[n] is
	// the piece id ending at n, or -1.
	children map[uint64]int32
	term     []int32

	cache wordCache // as HF's Unigram cache
}

const unkPenalty = 10.0

func buildUnigram(raw json.RawMessage) (model, error) {
	var j struct {
		UnkID        *int64            `json:"unk_id"`
		Vocab        []json.RawMessage `json:"vocab"`
		ByteFallback bool              `json:"byte_fallback"`
	}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if len(j.Vocab) == 0 {
		return nil, errors.New("Unigram: empty vocab")
	}
	m := &unigramModel{unkID: -1, byteFallback: j.ByteFallback, ids: make(map[string]int64, len(j.Vocab)),
		children: make(map[uint64]int32, 4*len(j.Vocab)), term: []int32{-1}, minScore: math.Inf(1)}
	for i, r := range j.Vocab {
		var entry []json.RawMessage
		var piece string
		if err := json.Unmarshal(r, &entry); err != nil || len(entry) != 2 || json.Unmarshal(entry[0], &piece) != nil {
			return nil, fmt.Errorf("Unigram: vocab[%d] is not [piece, score]", i)
		}
		score, err := serdeFloat(string(bytes.TrimSpace(entry[1])))
		if err != nil {
			return nil, fmt.Errorf("Unigram: vocab[%d]: %w", i, err)
		}
		m.pieces = append(m.pieces, piece)
		m.scores = append(m.scores, score)
		m.ids[piece] = int64(i)
		if score < m.minScore {
			m.minScore = score
		}
		m.insert(piece, int32(i))
	}
	if j.UnkID != nil {
		if *j.UnkID < 0 || *j.UnkID >= int64(len(m.pieces)) {
			return nil, fmt.Errorf("Unigram: unk_id %d is outside the vocab", *j.UnkID)
		}
		m.unkID = *j.UnkID
	}
	for b := range m.byteIDs {
		m.byteIDs[b] = -1
		if id, ok := m.ids[fmt.Sprintf("<0x%02X>", b)]; ok {
			m.byteIDs[b] = id
		}
	}
	return m, nil
}

func (m *unigramModel) insert(piece string, id int32) {
	if piece == "" {
		return // HF's trie never reports the empty piece
	}
	n := int32(0)
	for i := 0; i < len(piece); i++ {
		k := uint64(n)<<8 | uint64(piece[i])
		c, ok := m.children[k]
		if !ok {
			c = int32(len(m.term))
			m.term = append(m.term, -1)
			m.children[k] = c
		}
		n = c
	}
	m.term[n] = id
}

func (m *unigramModel) size() int { return len(m.pieces) }

func (m *unigramModel) eachToken(f func(string, int64)) {
	for k, v := range m.ids {
		f(k, v)
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
	if id == m.unkID || id < 0 || id >= int64(len(m.pieces)) {
		return text
	}
	return m.pieces[id]
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
		n := int32(0)
		for pos := start; pos < size; pos++ {
			c, ok := m.children[uint64(n)<<8|uint64(s[pos])]
			if !ok {
				break
			}
			n = c
			id := m.term[n]
			if id < 0 {
				continue
			}
			// (A duplicated piece keeps its last id in the trie, as HF's
			// token_to_ids does.)
			end := pos + 1
			cand := m.scores[id] + base
			if t := &best[end]; !t.reachd || cand > t.score {
				*t = latticeNode{score: cand, start: int32(start), id: id, reachd: true}
			}
			if end-start == mblen {
				hasSingle = true
			}
		}
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
		if id, ok := m.ids[piece]; ok {
			toks = append(toks, token{id: id, start: from, end: to})
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
					toks = append(toks, token{id: m.byteIDs[piece[i]], start: from, end: to})
				}
				continue
			}
		}
		if m.unkID < 0 {
			return toks, errors.New("Unigram: missing unk_id")
		}
		toks = append(toks, token{id: m.unkID, start: from, end: to})
	}
	return toks, nil
}
