package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"unicode/utf8"
)

// A model turns one pre-tokenized word into tokens, appended to toks, each
// with its byte offsets in the word (HF's Model::tokenize).
type model interface {
	tokenize(word string, toks []token) ([]token, error)
	size() int
	eachToken(func(token string, id int64))
	tokenToID(token string) (int64, bool)
	// value is the token's string as HF's Token.value holds it (text is
	// the part of the word the token covers).
	value(id int64, text string) string
}

// token is one token of an encoding: its id, its byte offsets (in the word
// for a model, in the original text once aligned), the index of the word it
// belongs to, and the counts of leading and trailing spaces of its value
// (only for the byte-level offset trimming).
type token struct {
	id          uint32 // HF ids are u32; Load refuses others
	start, end  int32
	word        int32
	lead, trail int32
}

func buildModel(raw json.RawMessage) (model, error) {
	if isNull(raw) {
		return nil, errors.New("missing")
	}
	var h struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(raw, &h); err != nil {
		return nil, err
	}
	typ := h.Type
	if typ == "" { // old files carry no type: tell the models by their fields
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err != nil {
			return nil, err
		}
		v := bytes.TrimSpace(probe["vocab"])
		switch {
		case probe["merges"] != nil:
			typ = "BPE"
		case len(v) > 0 && v[0] == '[':
			typ = "Unigram"
		case probe["continuing_subword_prefix"] != nil || probe["max_input_chars_per_word"] != nil:
			typ = "WordPiece"
		default:
			return nil, errors.New("model without a type")
		}
	}
	switch typ {
	case "WordPiece":
		return buildWordPiece(raw)
	case "BPE":
		return buildBPE(raw)
	case "Unigram":
		return buildUnigram(raw)
	case "WordLevel":
		return buildWordLevel(raw)
	}
	return nil, fmt.Errorf("unknown model type %q (supported: WordPiece, BPE, Unigram, WordLevel)", typ)
}

// checkID refuses an id Hugging Face cannot hold (ids are u32 there; a
// negative id would reach Gather and wrap to another row).
func checkID(field string, id int64) error {
	if id < 0 || id > math.MaxUint32 {
		return fmt.Errorf("%s: id %d is outside 0..%d (ids are unsigned 32-bit)", field, id, uint32(math.MaxUint32))
	}
	return nil
}

// wordPieceModel is HF's WordPiece: greedy longest match from the left,
// pieces after the first carrying the continuing_subword_prefix ("##"); the
// whole word becomes the unk token when a piece is missing or the word is
// longer than max_input_chars_per_word characters.
type wordPieceModel struct {
	vocab    map[string]int64
	unk      string
	prefix   string
	maxChars int
	rev      revVocab
	cache    wordCache
}

func buildWordPiece(raw json.RawMessage) (model, error) {
	j := struct {
		UnkToken                string           `json:"unk_token"`
		ContinuingSubwordPrefix *string          `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int             `json:"max_input_chars_per_word"`
		Vocab                   map[string]int64 `json:"vocab"`
	}{UnkToken: "[UNK]"}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if len(j.Vocab) == 0 {
		return nil, errors.New("WordPiece: empty vocab")
	}
	for tok, id := range j.Vocab {
		if err := checkID(fmt.Sprintf("WordPiece: vocab[%q]", tok), id); err != nil {
			return nil, err
		}
	}
	m := &wordPieceModel{vocab: j.Vocab, unk: j.UnkToken, prefix: "##", maxChars: 100}
	if j.ContinuingSubwordPrefix != nil {
		m.prefix = *j.ContinuingSubwordPrefix
	}
	if j.MaxInputCharsPerWord != nil {
		m.maxChars = *j.MaxInputCharsPerWord
	}
	return m, nil
}

func (m *wordPieceModel) tokenize(word string, toks []token) ([]token, error) {
	if hit, ok := m.cache.get(word); ok {
		return append(toks, hit...), nil
	}
	out, err := m.pieces(word)
	if err != nil {
		return toks, err
	}
	m.cache.put(word, out)
	return append(toks, out...), nil
}

func (m *wordPieceModel) unkToken(word string) ([]token, error) {
	id, ok := m.vocab[m.unk]
	if !ok {
		return nil, fmt.Errorf("WordPiece: unk_token %s is not in the vocab", m.unk)
	}
	return []token{{id: uint32(id), end: int32(len(word))}}, nil
}

func (m *wordPieceModel) pieces(word string) ([]token, error) {
	if utf8.RuneCountInString(word) > m.maxChars {
		return m.unkToken(word)
	}
	var out []token
	var buf []byte
	for start := 0; start < len(word); {
		end := len(word)
		found := false
		for start < end {
			var id int64
			var ok bool
			if start > 0 {
				buf = append(append(buf[:0], m.prefix...), word[start:end]...)
				id, ok = m.vocab[string(buf)]
			} else {
				id, ok = m.vocab[word[start:end]]
			}
			if ok {
				out = append(out, token{id: uint32(id), start: int32(start), end: int32(end)})
				found = true
				break
			}
			_, w := utf8.DecodeLastRuneInString(word[start:end])
			end -= w
		}
		if !found {
			return m.unkToken(word)
		}
		start = end
	}
	return out, nil
}

func (m *wordPieceModel) size() int { return len(m.vocab) }

func (m *wordPieceModel) tokenToID(tok string) (int64, bool) {
	id, ok := m.vocab[tok]
	return id, ok
}

func (m *wordPieceModel) eachToken(f func(string, int64)) {
	for k, v := range m.vocab {
		f(k, v)
	}
}

func (m *wordPieceModel) value(id int64, _ string) string { return m.rev.get(m, id) }

// revVocab is a model's id -> token table, built on first use (only offset
// trimming needs it).
type revVocab struct {
	once sync.Once
	m    map[int64]string
}

func (r *revVocab) get(m model, id int64) string {
	r.once.Do(func() {
		r.m = make(map[int64]string, m.size())
		m.eachToken(func(tok string, id int64) {
			if old, ok := r.m[id]; !ok || tok < old {
				r.m[id] = tok
			}
		})
	})
	return r.m[id]
}
