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

	lengths LengthCache
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
func (s *TextSource) Lengths() ([]int, error) { return s.lengths.Lengths(s.Len(), s.encodeUnpadded) }

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

// encodeUnpadded tokenizes rows, unpadded (truncated to MaxLength).
func (s *TextSource) encodeUnpadded(rows []int) (*tokenize.Encoding, error) {
	texts, pairs := s.Data.Texts(rows)
	return s.Tokenizer.EncodeBatch(texts, pairs, tokenize.Options{MaxLength: s.MaxLength, Padding: tokenize.DoNotPad})
}

// LengthCache keeps every row's length in tokens for a source's Lengths,
// computed once from one unpadded encoding of all its rows. The zero value
// is empty.
type LengthCache struct{ lengths []int }

// Lengths returns the cached lengths; the first call encodes rows 0..n-1
// with encode (which must not pad) and keeps each row's number of ids.
func (c *LengthCache) Lengths(n int, encode func(rows []int) (*tokenize.Encoding, error)) ([]int, error) {
	if c.lengths != nil {
		return c.lengths, nil
	}
	enc, err := encode(allRows(n))
	if err != nil {
		return nil, err
	}
	c.lengths = make([]int, len(enc.InputIDs))
	for i, ids := range enc.InputIDs {
		c.lengths[i] = len(ids)
	}
	return c.lengths, nil
}

// allRows returns 0..n-1.
func allRows(n int) []int {
	all := make([]int, n)
	for i := range all {
		all[i] = i
	}
	return all
}
