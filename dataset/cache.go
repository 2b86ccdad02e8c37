package dataset

import (
	"errors"
	"fmt"

	"ft/tensor"
	"ft/tokenize"
)

// CachedTextSource is a TextSource whose rows are tokenized once, up front:
// Batch only pads the cached ids of its rows to the longest one, so a batch
// is the same as TextSource's (bit for bit) at any batch size, without
// running the tokenizer again. Several trainings over the same data (a
// hyper-parameter sweep) can share one. It is immutable and safe for
// concurrent use.
type CachedTextSource struct {
	Data   *Dataset
	Inputs []string // the model's input names

	ids, types [][]int64 // per row, truncated, special tokens added, unpadded
	padID      int64
	padLeft    bool
}

// Cached tokenizes every row of s once (truncated to s.MaxLength, not
// padded) and returns a source that makes its batches from those ids.
func (s *TextSource) Cached() (*CachedTextSource, error) {
	if s.Tokenizer.PadID() < 0 {
		return nil, errors.New("tokenize: padding asked for, but the tokenizer has no pad token")
	}
	enc, err := s.encodeUnpadded(allRows(s.Len()))
	if err != nil {
		return nil, err
	}
	c := &CachedTextSource{Data: s.Data, Inputs: s.Inputs, ids: enc.InputIDs, types: enc.TokenTypeIDs, padID: s.Tokenizer.PadID()}
	// The padding side comes from tokenizer_config.json, which the
	// tokenizer keeps to itself: ask it, by padding two rows of different
	// lengths as TextSource would. When all rows have one length no batch
	// is ever padded and the side does not matter.
	for j := 1; j < len(c.ids); j++ {
		if len(c.ids[j]) == len(c.ids[0]) {
			continue
		}
		short, long := 0, j
		if len(c.ids[j]) < len(c.ids[0]) {
			short, long = j, 0
		}
		t, p := s.Data.Texts([]int{short, long})
		e, err := s.Tokenizer.EncodeBatch(t, p, tokenize.Options{MaxLength: s.MaxLength})
		if err != nil {
			return nil, err
		}
		c.padLeft = e.AttentionMask[0][0] == 0
		break
	}
	return c, nil
}

// Len returns the number of rows.
func (c *CachedTextSource) Len() int { return len(c.ids) }

// Lengths returns every row's length in tokens.
func (c *CachedTextSource) Lengths() ([]int, error) {
	l := make([]int, len(c.ids))
	for i, ids := range c.ids {
		l[i] = len(ids)
	}
	return l, nil
}

// Batch pads the rows' cached ids to the longest row (as the tokenizer pads
// a batch: pad id, token type 0, attention mask 0, on the tokenizer's
// padding side) and adds their labels.
func (c *CachedTextSource) Batch(rows []int) (*Batch, error) {
	width := 0
	for _, r := range rows {
		if r < 0 || r >= len(c.ids) {
			return nil, fmt.Errorf("row %d out of range [0, %d)", r, len(c.ids))
		}
		width = max(width, len(c.ids[r]))
	}
	n := len(rows)
	ids := make([]int64, n*width)
	types := make([]int64, n*width)
	mask := make([]int64, n*width)
	for i, r := range rows {
		k := len(c.ids[r])
		off := i * width
		pad := width - k
		if c.padLeft {
			off += pad
		}
		copy(ids[off:off+k], c.ids[r])
		copy(types[off:off+k], c.types[r])
		for x := off; x < off+k; x++ {
			mask[x] = 1
		}
		// the padding: pad id, type 0, mask 0
		lo, hi := i*width+k, (i+1)*width
		if c.padLeft {
			lo, hi = i*width, i*width+pad
		}
		for x := lo; x < hi; x++ {
			ids[x] = c.padID
		}
	}
	feeds := make(map[string]*tensor.Tensor, len(c.Inputs))
	for _, name := range c.Inputs {
		switch name {
		case tokenize.InputIDs:
			feeds[name] = tensor.New([]int{n, width}, ids)
		case tokenize.AttentionMask:
			feeds[name] = tensor.New([]int{n, width}, mask)
		case tokenize.TokenTypeIDs:
			feeds[name] = tensor.New([]int{n, width}, types)
		default:
			return nil, fmt.Errorf("the model takes an input %q that a tokenizer does not make (it makes input_ids, attention_mask, token_type_ids)", name)
		}
	}
	b := &Batch{Feeds: feeds, Size: n}
	if c.Data.LabelColumn != "" {
		var err error
		if b.Target, err = c.Data.LabelTensor(rows); err != nil {
			return nil, err
		}
	}
	return b, nil
}
