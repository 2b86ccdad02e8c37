package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	sugarmodel "github.com/sugarme/tokenizer/model"
	"github.com/sugarme/tokenizer/model/wordpiece"
)

// A model turns one pre-tokenized word into ids, appended to ids.
type model interface {
	tokenize(word string, ids []int64) ([]int64, error)
	size() int
	eachToken(func(token string, id int64))
}

func buildModel(raw json.RawMessage) (model, error) {
	if isNull(raw) {
		return nil, errors.New("missing")
	}
	typ, err := typeOf(raw)
	if err != nil {
		return nil, err
	}
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
	}
	return nil, fmt.Errorf("unknown model type %q (supported: WordPiece, BPE, Unigram)", typ)
}

// wordPieceModel is sugarme's WordPiece, which follows HF exactly (greedy
// longest match, "##" continuation, [UNK] for the whole word when a piece is
// missing or the word is longer than max_input_chars_per_word characters).
type wordPieceModel struct {
	wp    wordpiece.WordPiece
	vocab map[string]int
	cache wordCache
}

func buildWordPiece(raw json.RawMessage) (model, error) {
	j := struct {
		UnkToken                string         `json:"unk_token"`
		ContinuingSubwordPrefix *string        `json:"continuing_subword_prefix"`
		MaxInputCharsPerWord    *int           `json:"max_input_chars_per_word"`
		Vocab                   map[string]int `json:"vocab"`
	}{UnkToken: "[UNK]"}
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
	}
	if len(j.Vocab) == 0 {
		return nil, errors.New("WordPiece: empty vocab")
	}
	prefix, maxChars := "##", 100
	if j.ContinuingSubwordPrefix != nil {
		prefix = *j.ContinuingSubwordPrefix
	}
	if j.MaxInputCharsPerWord != nil {
		maxChars = *j.MaxInputCharsPerWord
	}
	v := sugarmodel.Vocab(j.Vocab)
	wp := wordpiece.NewWordPieceBuilder().Vocab(&v).UnkToken(j.UnkToken).
		ContinuingSubwordPrefix(prefix).MaxInputCharsPerWord(maxChars).Build()
	return &wordPieceModel{wp: wp, vocab: j.Vocab}, nil
}

func (m *wordPieceModel) tokenize(word string, ids []int64) ([]int64, error) {
	if hit, ok := m.cache.get(word); ok {
		return append(ids, hit...), nil
	}
	toks, err := m.wp.Tokenize(word)
	if err != nil {
		return ids, errors.New(strings.TrimSpace(err.Error()))
	}
	out := make([]int64, len(toks))
	for i, t := range toks {
		out[i] = int64(t.Id)
	}
	m.cache.put(word, out)
	return append(ids, out...), nil
}

func (m *wordPieceModel) size() int { return len(m.vocab) }

func (m *wordPieceModel) eachToken(f func(string, int64)) {
	for k, v := range m.vocab {
		f(k, int64(v))
	}
}
