package finetune

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
}

// NewTextSource checks that the tokenizer can give every model input.
func NewTextSource(d *Dataset, tok *tokenize.Tokenizer, m *Model, maxLength int) (*TextSource, error) {
	inputs := m.Graph.InputNames()
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
