package tokenize

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"ft/tensor"
)

// Truncation strategies, as in Hugging Face.
const (
	LongestFirst  = "longest_first"
	OnlyFirst     = "only_first"
	OnlySecond    = "only_second"
	DoNotTruncate = "do_not_truncate"
)

// Padding strategies, as in Hugging Face.
const (
	PadLongest   = "longest"
	PadMaxLength = "max_length"
	DoNotPad     = "do_not_pad"
)

// Options say how EncodeBatch truncates and pads. The zero value truncates
// longest_first to the model's max length (when the tokenizer declares one)
// and pads to the longest row: ready to be made into tensors.
type Options struct {
	// MaxLength bounds each row, special tokens included. 0 means the
	// tokenizer's ModelMaxLength.
	MaxLength int
	// Truncation is LongestFirst (the default), OnlyFirst, OnlySecond or
	// DoNotTruncate.
	Truncation string
	// TruncationSide is "right" (drop the end; the default unless
	// tokenizer_config.json says otherwise) or "left".
	TruncationSide string
	// Padding is PadLongest (the default: the longest row of the batch),
	// PadMaxLength or DoNotPad.
	Padding string
	// PadToMultipleOf rounds the padded length up to a multiple (0: off).
	PadToMultipleOf int
	// PaddingSide is "right" or "left"; "" takes tokenizer_config.json's
	// padding_side (right by default).
	PaddingSide string
	// NoSpecialTokens leaves out [CLS], [SEP], <s>, ... (HF's
	// add_special_tokens=False).
	NoSpecialTokens bool
}

// Encoding is a tokenized batch. Row i holds the ids of texts[i] (and
// pairs[i]); padding, if any, has attention mask 0.
type Encoding struct {
	InputIDs      [][]int64
	AttentionMask [][]int64
	TokenTypeIDs  [][]int64
}

// Model input names an Encoding can provide.
const (
	InputIDs      = "input_ids"
	AttentionMask = "attention_mask"
	TokenTypeIDs  = "token_type_ids"
)

// Tensor returns one named model input as an int64 tensor of shape
// [batch, sequence]. Rows must all have one length (pad them).
func (e *Encoding) Tensor(name string) (*tensor.Tensor, error) {
	var rows [][]int64
	switch name {
	case InputIDs:
		rows = e.InputIDs
	case AttentionMask:
		rows = e.AttentionMask
	case TokenTypeIDs:
		rows = e.TokenTypeIDs
	default:
		return nil, fmt.Errorf("tokenize: no model input %q (have %s, %s, %s)", name, InputIDs, AttentionMask, TokenTypeIDs)
	}
	n := 0
	if len(rows) > 0 {
		n = len(rows[0])
	}
	data := make([]int64, 0, len(rows)*n)
	for i, r := range rows {
		if len(r) != n {
			return nil, fmt.Errorf("tokenize: %s row %d has %d ids, row 0 has %d: pad the batch to make a tensor", name, i, len(r), n)
		}
		data = append(data, r...)
	}
	return tensor.New([]int{len(rows), n}, data), nil
}

// Tensors returns the named inputs — pass the inputs the model declares,
// for example the ONNX graph's input names.
func (e *Encoding) Tensors(names ...string) (map[string]*tensor.Tensor, error) {
	out := make(map[string]*tensor.Tensor, len(names))
	for _, n := range names {
		t, err := e.Tensor(n)
		if err != nil {
			return nil, err
		}
		out[n] = t
	}
	return out, nil
}

// EncodeBatch tokenizes texts, or text pairs when pairs is not nil (then
// len(pairs) == len(texts)), exactly as Hugging Face `tokenizers` does with
// the same truncation and padding. The rows are encoded on all cores. It is
// safe to call concurrently.
func (t *Tokenizer) EncodeBatch(texts, pairs []string, opts Options) (*Encoding, error) {
	if pairs != nil && len(pairs) != len(texts) {
		return nil, fmt.Errorf("tokenize: %d texts but %d pairs", len(texts), len(pairs))
	}
	o, err := t.resolve(opts)
	if err != nil {
		return nil, err
	}
	n := len(texts)
	enc := &Encoding{InputIDs: make([][]int64, n), AttentionMask: make([][]int64, n), TokenTypeIDs: make([][]int64, n)}
	errs := make([]error, n)
	one := func(i int) {
		var b *string
		if pairs != nil {
			b = &pairs[i]
		}
		enc.InputIDs[i], enc.TokenTypeIDs[i], errs[i] = t.encodeRow(texts[i], b, &o)
	}
	workers := min(runtime.GOMAXPROCS(0), n)
	if workers <= 1 {
		for i := 0; i < n; i++ {
			one(i)
		}
	} else {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := int(next.Add(1) - 1)
					if i >= n {
						return
					}
					one(i)
				}
			}()
		}
		wg.Wait()
	}
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("tokenize: text %d: %w", i, err)
		}
	}
	t.pad(enc, &o)
	return enc, nil
}

type resolved struct {
	Options
	truncate bool
}

func (t *Tokenizer) resolve(o Options) (resolved, error) {
	r := resolved{Options: o}
	if r.Truncation == "" {
		r.Truncation = LongestFirst
	}
	if r.Padding == "" {
		r.Padding = PadLongest
	}
	if r.TruncationSide == "" {
		r.TruncationSide = t.truncationSide
	}
	if r.PaddingSide == "" {
		r.PaddingSide = t.paddingSide
	}
	switch r.Truncation {
	case LongestFirst, OnlyFirst, OnlySecond, DoNotTruncate:
	default:
		return r, fmt.Errorf("tokenize: unknown truncation %q", o.Truncation)
	}
	switch r.Padding {
	case PadLongest, PadMaxLength, DoNotPad:
	default:
		return r, fmt.Errorf("tokenize: unknown padding %q", o.Padding)
	}
	if r.TruncationSide != "left" && r.TruncationSide != "right" {
		return r, fmt.Errorf("tokenize: truncation side %q is neither left nor right", r.TruncationSide)
	}
	if r.PaddingSide != "left" && r.PaddingSide != "right" {
		return r, fmt.Errorf("tokenize: padding side %q is neither left nor right", r.PaddingSide)
	}
	if r.MaxLength < 0 || r.PadToMultipleOf < 0 {
		return r, errors.New("tokenize: MaxLength and PadToMultipleOf must not be negative")
	}
	if r.MaxLength == 0 {
		r.MaxLength = t.maxLength
	}
	needLen := r.Padding == PadMaxLength || (r.Truncation != DoNotTruncate && o.Truncation != "")
	if r.MaxLength == 0 && needLen {
		return r, errors.New("tokenize: MaxLength is 0 and the tokenizer declares no model_max_length")
	}
	r.truncate = r.Truncation != DoNotTruncate && r.MaxLength > 0
	if r.Padding != DoNotPad && t.padID < 0 {
		return r, errors.New("tokenize: padding asked for, but the tokenizer has no pad token")
	}
	return r, nil
}

// encodeRow encodes one text (and pair), truncates and adds special tokens.
func (t *Tokenizer) encodeRow(a string, b *string, o *resolved) (ids, types []int64, err error) {
	ia, err := t.encodeSequence(a)
	if err != nil {
		return nil, nil, err
	}
	var ib []int64
	pair := b != nil
	if pair {
		if ib, err = t.encodeSequence(*b); err != nil {
			return nil, nil, fmt.Errorf("pair: %w", err)
		}
	}
	special := !o.NoSpecialTokens && t.post != nil
	if o.truncate {
		limit := o.MaxLength
		if special {
			n := t.post.added(pair)
			if limit < n {
				return nil, nil, fmt.Errorf("MaxLength %d leaves no room for the %d special tokens", limit, n)
			}
			limit -= n
		}
		if ia, ib, err = truncatePair(ia, ib, pair, limit, o.Truncation, o.TruncationSide == "left"); err != nil {
			return nil, nil, err
		}
	}
	n := len(ia) + len(ib) + 4
	ids, types = make([]int64, 0, n), make([]int64, 0, n)
	if special {
		ids, types = t.post.process(ia, ib, pair, ids, types)
	} else {
		ids, types = defaultProcess(ia, ib, pair, ids, types)
	}
	return ids, types, nil
}

// truncatePair is tokenizers' truncate_encodings.
func truncatePair(a, b []int64, pair bool, limit int, strategy string, left bool) ([]int64, []int64, error) {
	cut := func(s []int64, n int) []int64 {
		if len(s) <= n {
			return s
		}
		if left {
			return s[len(s)-n:]
		}
		return s[:n]
	}
	if limit == 0 {
		return a[:0], b[:0:0], nil
	}
	total := len(a) + len(b)
	if total <= limit {
		return a, b, nil
	}
	remove := total - limit
	switch strategy {
	case LongestFirst:
		if !pair {
			return cut(a, limit), b, nil
		}
		n1, n2 := len(a), len(b)
		swap := n1 > n2
		if swap {
			n1, n2 = n2, n1
		}
		if n1 > limit {
			n2 = n1
		} else {
			n2 = max(n1, limit-n1)
		}
		if n1+n2 > limit {
			n1 = limit / 2
			n2 = n1 + limit%2
		}
		if swap {
			n1, n2 = n2, n1
		}
		return cut(a, n1), cut(b, n2), nil
	case OnlyFirst, OnlySecond:
		target := &a
		if strategy == OnlySecond {
			if !pair {
				return nil, nil, errors.New("truncation only_second needs a pair of texts")
			}
			target = &b
		}
		if len(*target) <= remove {
			return nil, nil, fmt.Errorf("truncation %s: the sequence to truncate (%d ids) is too short to remove %d", strategy, len(*target), remove)
		}
		*target = cut(*target, len(*target)-remove)
		return a, b, nil
	}
	return a, b, nil
}

// pad is tokenizers' pad_encodings; it also fills the attention mask.
func (t *Tokenizer) pad(e *Encoding, o *resolved) {
	target := 0
	switch o.Padding {
	case PadLongest:
		for _, r := range e.InputIDs {
			target = max(target, len(r))
		}
	case PadMaxLength:
		target = o.MaxLength
	}
	if m := o.PadToMultipleOf; m > 0 && target%m != 0 {
		target += m - target%m
	}
	for i, ids := range e.InputIDs {
		n := len(ids)
		if o.Padding == DoNotPad || n >= target {
			mask := make([]int64, n)
			for k := range mask {
				mask[k] = 1
			}
			e.AttentionMask[i] = mask
			continue
		}
		p := target - n
		nid := make([]int64, 0, target)
		ntype := make([]int64, 0, target)
		mask := make([]int64, 0, target)
		if o.PaddingSide == "left" {
			nid = appendN(nid, t.padID, p)
			ntype = appendN(ntype, 0, p)
			mask = appendN(mask, 0, p)
		}
		nid = append(nid, ids...)
		ntype = append(ntype, e.TokenTypeIDs[i]...)
		mask = appendN(mask, 1, n)
		if o.PaddingSide != "left" {
			nid = appendN(nid, t.padID, p)
			ntype = appendN(ntype, 0, p)
			mask = appendN(mask, 0, p)
		}
		e.InputIDs[i], e.TokenTypeIDs[i], e.AttentionMask[i] = nid, ntype, mask
	}
}

// encodeSequence runs one text through added tokens, normalizer,
// pre-tokenizer and model, without special tokens.
func (t *Tokenizer) encodeSequence(s string) ([]int64, error) {
	if !utf8.ValidString(s) {
		for i := 0; i < len(s); {
			r, n := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && n == 1 {
				return nil, fmt.Errorf("invalid UTF-8 at byte %d", i)
			}
			i += n
		}
		return nil, errors.New("invalid UTF-8")
	}
	ids := make([]int64, 0, len(s)/3+2)
	var pieces []string
	var segs, subs []segment
	segs = t.added.raw.split(s, 0, segs[:0])
	for _, seg := range segs {
		if seg.id >= 0 {
			ids = append(ids, seg.id)
			continue
		}
		n := seg.text
		if t.norm != nil {
			n = t.norm.normalize(n)
		}
		subs = t.added.normalized.split(n, 0, subs[:0])
		for _, sub := range subs {
			if sub.id >= 0 {
				ids = append(ids, sub.id)
				continue
			}
			pieces = pieces[:0]
			if t.pre != nil {
				pieces = t.pre.split(sub.text, seg.start == 0 && sub.start == 0, pieces)
			} else {
				pieces = append(pieces, sub.text)
			}
			for _, p := range pieces {
				if p == "" {
					continue
				}
				var err error
				if ids, err = t.model.tokenize(p, ids); err != nil {
					return nil, err
				}
			}
		}
	}
	return ids, nil
}
