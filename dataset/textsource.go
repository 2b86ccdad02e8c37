package dataset

import (
	"fmt"

	"ft/tokenize"
)

// TextSource makes batches from a dataset: the rows' texts are tokenized
// (dynamic padding to the longest row of the batch, truncation to MaxLength)
// into the inputs the model declares, and their labels become the target.
type TextSource struct {
	Data      *Dataset
	Tokenizer *tokenize.Tokenizer
	Inputs    []string // the model's input names
	MaxLength int

	lengths []int // Lengths, once computed
}

// NewTextSource checks that the tokenizer can give every model input
// (inputs: the model's input names, as graph.Graph.InputNames gives them).
func NewTextSource(d *Dataset, tok *tokenize.Tokenizer, inputs []string, maxLength int) (*TextSource, error) {
	for _, in := range inputs {
		switch in {
		case tokenize.InputIDs, tokenize.AttentionMask, tokenize.TokenTypeIDs:
		default:
			return nil, fmt.Errorf("the model takes an input %q that a tokenizer does not make (it makes input_ids, attention_mask, token_type_ids)", in)
		}
	}
	return &TextSource{Data: d, Tokenizer: tok, Inputs: inputs, MaxLength: maxLength}, nil
}

// Len returns the number of rows.
func (s *TextSource) Len() int { return s.Data.Len() }

// Lengths returns every row's length in tokens (special tokens included,
// truncated to MaxLength), tokenizing all rows once.
func (s *TextSource) Lengths() ([]int, error) {
	if s.lengths != nil {
		return s.lengths, nil
	}
	enc, err := s.encodeAll()
	if err != nil {
		return nil, err
	}
	s.lengths = make([]int, len(enc.InputIDs))
	for i, ids := range enc.InputIDs {
		s.lengths[i] = len(ids)
	}
	return s.lengths, nil
}

// Batch tokenizes the rows.
func (s *TextSource) Batch(rows []int) (*Batch, error) {
	texts, pairs := s.Data.Texts(rows)
	enc, err := s.Tokenizer.EncodeBatch(texts, pairs, tokenize.Options{MaxLength: s.MaxLength})
	if err != nil {
		return nil, err
	}
	feeds, err := enc.Tensors(s.Inputs...)
	if err != nil {
		return nil, err
	}
	b := &Batch{Feeds: feeds, Size: len(rows)}
	if s.Data.LabelColumn != "" {
		if b.Target, err = s.Data.LabelTensor(rows); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// encodeAll tokenizes every row, unpadded (truncated to MaxLength).
func (s *TextSource) encodeAll() (*tokenize.Encoding, error) {
	all := make([]int, s.Data.Len())
	for i := range all {
		all[i] = i
	}
	texts, pairs := s.Data.Texts(all)
	return s.Tokenizer.EncodeBatch(texts, pairs, tokenize.Options{MaxLength: s.MaxLength, Padding: tokenize.DoNotPad})
}
