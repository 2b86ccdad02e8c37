package tokenize

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"unicode"
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
	// ReturnOffsets fills Encoding.Offsets (HF's return_offsets_mapping),
	// and WordIDs and SequenceIDs. It costs time: the normalizers then track
	// where each character came from.
	ReturnOffsets bool
	// ReturnWordIDs fills Encoding.WordIDs and SequenceIDs (EncodeWords
	// always does).
	ReturnWordIDs bool
}

// Encoding is a tokenized batch. Row i holds the ids of texts[i] (and
// pairs[i]); padding, if any, has attention mask 0.
type Encoding struct {
	InputIDs      [][]int64
	AttentionMask [][]int64
	TokenTypeIDs  [][]int64
	// Offsets[i][k] is the byte range [start, end) of the text that token k
	// of row i stands for — in texts[i] or pairs[i] as SequenceIDs[i][k]
	// says; for EncodeWords, in the word WordIDs[i][k] of that sequence.
	// Special and pad tokens have [0, 0]. HF's Python API counts characters
	// (code points) where this counts bytes of the UTF-8 string: convert
	// with utf8.RuneCountInString(text[:offset]). Filled only when
	// Options.ReturnOffsets is set.
	Offsets [][][2]int
	// WordIDs[i][k] is the word token k belongs to, -1 for special and pad
	// tokens (HF's word_ids): for EncodeBatch the index of the piece the
	// pre-tokenizer cut (added tokens count as pieces), for EncodeWords the
	// index of the input word in its sequence. Filled by EncodeWords, and
	// by EncodeBatch with Options.ReturnWordIDs or ReturnOffsets (as
	// SequenceIDs).
	WordIDs [][]int
	// SequenceIDs[i][k] is 0 for a token of the text, 1 for one of the pair
	// and -1 for special and pad tokens (HF's sequence_ids; a tokenizer
	// without a post-processor counts the padding of a single text as
	// sequence 0, as HF does).
	SequenceIDs [][]int
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
	return t.encodeAll(len(texts), pairs != nil, opts, func(i int) (input, input) {
		var b input
		if pairs != nil {
			b.text = pairs[i]
		}
		return input{text: texts[i]}, b
	})
}

// EncodeWords tokenizes text already split into words, as HF does with
// is_split_into_words=True (tokenizers' is_pretokenized): each word is
// encoded on its own (added tokens, normalizer, pre-tokenizer and model), so
// a word never merges with its neighbours and a Metaspace or byte-level
// tokenizer treats each as the start of a text. WordIDs give each token's
// word, which token classification aligns its labels with. pairWords, when
// not nil, holds the second sequence of each row (then len(pairWords) ==
// len(words)). An empty word gives no token.
//
// For a byte-level tokenizer (RoBERTa, GPT-2) transformers requires
// add_prefix_space=True with split words; WithAddPrefixSpace(true) gives
// the same tokens.
func (t *Tokenizer) EncodeWords(words, pairWords [][]string, opts Options) (*Encoding, error) {
	if pairWords != nil && len(pairWords) != len(words) {
		return nil, fmt.Errorf("tokenize: %d rows of words but %d pairs", len(words), len(pairWords))
	}
	opts.ReturnWordIDs = true
	return t.encodeAll(len(words), pairWords != nil, opts, func(i int) (input, input) {
		a := input{words: words[i], isWords: true}
		var b input
		if pairWords != nil {
			b = input{words: pairWords[i], isWords: true}
		}
		return a, b
	})
}

// input is one sequence: a text, or words.
type input struct {
	text    string
	words   []string
	isWords bool
}

func (t *Tokenizer) encodeAll(n int, pair bool, opts Options, get func(int) (input, input)) (*Encoding, error) {
	o, err := t.resolve(opts)
	if err != nil {
		return nil, err
	}
	o.pair = pair
	o.ReturnWordIDs = o.ReturnWordIDs || o.ReturnOffsets
	rows := make([]row, n)
	errs := make([]error, n)
	one := func(i int) {
		a, b := get(i)
		rows[i], errs[i] = t.encodeRow(a, b, pair, &o)
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
	return t.pad(rows, &o), nil
}

type resolved struct {
	Options
	truncate bool
	pair     bool
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

// encodeRow encodes one text (and pair), truncates, trims the offsets and
// adds the special tokens.
func (t *Tokenizer) encodeRow(a, b input, pair bool, o *resolved) (row, error) {
	track := o.ReturnOffsets || t.alwaysTrack
	ta, err := t.encodeInput(a, track)
	if err != nil {
		return row{}, err
	}
	var tb []token
	if pair {
		if tb, err = t.encodeInput(b, track); err != nil {
			return row{}, fmt.Errorf("pair: %w", err)
		}
	}
	special := !o.NoSpecialTokens && t.post != nil
	if o.truncate {
		limit := o.MaxLength
		if special {
			n := t.post.added(pair)
			if limit < n {
				return row{}, fmt.Errorf("MaxLength %d leaves no room for the %d special tokens", limit, n)
			}
			limit -= n
		}
		if ta, tb, err = truncatePair(ta, tb, pair, limit, o.Truncation, o.TruncationSide == "left"); err != nil {
			return row{}, err
		}
	}
	if o.ReturnOffsets && t.post != nil {
		for _, p := range t.post.trims() {
			trimOffsets(ta, &a, p)
			if pair {
				trimOffsets(tb, &b, p)
			}
		}
	}
	n := len(ta) + len(tb) + 4
	r := row{ids: make([]int64, 0, n), types: make([]int64, 0, n)}
	if o.ReturnWordIDs {
		r.words, r.seqs = make([]int, 0, n), make([]int, 0, n)
	}
	if o.ReturnOffsets {
		r.offs = make([][2]int, 0, n)
	}
	if t.post != nil {
		t.post.process(ta, tb, pair, special, &r)
	} else {
		defaultProcess(ta, tb, pair, &r)
	}
	return r, nil
}

// trimOffsets is HF's byte-level process_offsets on byte offsets: the
// leading and trailing spaces of a token's value come off its offsets (one
// leading space stays on the first token, or on any token starting at 0,
// when the prefix space was added). HF counts characters; walking the
// original text character by character gives the same bytes.
func trimOffsets(toks []token, in *input, p trimPass) {
	for i := range toks {
		tk := &toks[i]
		if tk.lead == 0 && tk.trail == 0 {
			continue
		}
		src := in.text
		if in.isWords {
			if tk.word < 0 || int(tk.word) >= len(in.words) {
				continue
			}
			src = in.words[tk.word]
		}
		start, end := int(tk.start), int(tk.end)
		if start < 0 || start > end || end > len(src) {
			continue
		}
		if lead := tk.lead; lead > 0 {
			if (i == 0 || start == 0) && p.addPrefixSpace && lead == 1 {
				lead = 0
			}
			for ; lead > 0 && start < end; lead-- {
				_, w := utf8.DecodeRuneInString(src[start:])
				start += w
			}
			start = min(start, end)
		}
		if trail := tk.trail; trail > 0 {
			e, k := end, int32(0)
			for ; k < trail && e > 0; k++ {
				_, w := utf8.DecodeLastRuneInString(src[:e])
				e -= w
			}
			if k == trail {
				end = max(e, start)
			}
		}
		tk.start, tk.end = int32(start), int32(end)
	}
}

// spaceCounts counts the leading and trailing characters of a token's value
// that process_offsets trims: the byte-level space (Ġ) and whitespace.
func spaceCounts(v string) (lead, trail int32) {
	isSpace := func(r rune) bool { return r == 'Ġ' || unicode.IsSpace(r) }
	for _, r := range v {
		if !isSpace(r) {
			break
		}
		lead++
	}
	for s := v; s != ""; {
		r, w := utf8.DecodeLastRuneInString(s)
		if !isSpace(r) {
			break
		}
		trail++
		s = s[:len(s)-w]
	}
	return lead, trail
}

// truncatePair is tokenizers' truncate_encodings.
func truncatePair(a, b []token, pair bool, limit int, strategy string, left bool) ([]token, []token, error) {
	cut := func(s []token, n int) []token {
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

// pad is tokenizers' pad_encodings; it also fills the attention mask and
// makes the Encoding.
func (t *Tokenizer) pad(rows []row, o *resolved) *Encoding {
	n := len(rows)
	e := &Encoding{InputIDs: make([][]int64, n), AttentionMask: make([][]int64, n), TokenTypeIDs: make([][]int64, n)}
	if o.ReturnWordIDs {
		e.WordIDs, e.SequenceIDs = make([][]int, n), make([][]int, n)
	}
	if o.ReturnOffsets {
		e.Offsets = make([][][2]int, n)
	}
	target := 0
	switch o.Padding {
	case PadLongest:
		for _, r := range rows {
			target = max(target, len(r.ids))
		}
	case PadMaxLength:
		target = o.MaxLength
	}
	if m := o.PadToMultipleOf; m > 0 && target%m != 0 {
		target += m - target%m
	}
	// Without a post-processor HF records no sequence ranges for a single
	// text, and then counts every position, padding included, as sequence 0.
	padSeq := -1
	if t.post == nil && !o.pair {
		padSeq = 0
	}
	for i, r := range rows {
		n := len(r.ids)
		if o.Padding == DoNotPad || n >= target {
			mask := make([]int64, n)
			for k := range mask {
				mask[k] = 1
			}
			e.InputIDs[i], e.TokenTypeIDs[i], e.AttentionMask[i] = r.ids, r.types, mask
			if o.ReturnWordIDs {
				e.WordIDs[i], e.SequenceIDs[i] = r.words, r.seqs
			}
			if o.ReturnOffsets {
				e.Offsets[i] = r.offs
			}
			continue
		}
		p := target - n
		nid := make([]int64, 0, target)
		ntype := make([]int64, 0, target)
		mask := make([]int64, 0, target)
		var words, seqs []int
		if o.ReturnWordIDs {
			words, seqs = make([]int, 0, target), make([]int, 0, target)
		}
		var offs [][2]int
		if o.ReturnOffsets {
			offs = make([][2]int, 0, target)
		}
		padRest := func() {
			nid = appendN(nid, t.padID, p)
			ntype = appendN(ntype, 0, p)
			mask = appendN(mask, 0, p)
			for k := 0; words != nil && k < p; k++ {
				words = append(words, -1)
				seqs = append(seqs, padSeq)
			}
			if offs != nil {
				offs = append(offs, make([][2]int, p)...)
			}
		}
		if o.PaddingSide == "left" {
			padRest()
		}
		nid = append(nid, r.ids...)
		ntype = append(ntype, r.types...)
		mask = appendN(mask, 1, n)
		words = append(words, r.words...)
		seqs = append(seqs, r.seqs...)
		if offs != nil {
			offs = append(offs, r.offs...)
		}
		if o.PaddingSide != "left" {
			padRest()
		}
		e.InputIDs[i], e.TokenTypeIDs[i], e.AttentionMask[i] = nid, ntype, mask
		if o.ReturnWordIDs {
			e.WordIDs[i], e.SequenceIDs[i] = words, seqs
		}
		if o.ReturnOffsets {
			e.Offsets[i] = offs
		}
	}
	return e
}

// encodeInput encodes a text, or each word of a pre-split input with its
// own word id.
func (t *Tokenizer) encodeInput(in input, track bool) ([]token, error) {
	if !in.isWords {
		return t.encodeSequence(in.text, -1, track, nil)
	}
	var toks []token
	for i, w := range in.words {
		var err error
		if toks, err = t.encodeSequence(w, int32(i), track, toks); err != nil {
			return nil, fmt.Errorf("word %d: %w", i, err)
		}
	}
	return toks, nil
}

// encodeSequence runs one text through added tokens, normalizer,
// pre-tokenizer and model, without special tokens, appending its tokens to
// toks. word >= 0 gives every token that word id; otherwise each piece of
// the pre-tokenizer (and each added token) is a word, as in HF. With track,
// the tokens carry their byte offsets in s.
func (t *Tokenizer) encodeSequence(s string, word int32, track bool, toks []token) ([]token, error) {
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
	if len(s) > math.MaxInt32 {
		return nil, fmt.Errorf("text of %d bytes is longer than %d", len(s), math.MaxInt32)
	}
	if toks == nil {
		toks = make([]token, 0, len(s)/3+2)
	}
	trimming := track && t.post != nil && len(t.post.trims()) > 0
	next := int32(0)
	nextWord := func() int32 {
		if word >= 0 {
			return word
		}
		next++
		return next - 1
	}
	sc := scratchPool.Get().(*scratch)
	defer sc.release()
	segs := t.added.raw.split(s, 0, sc.segs[:0])
	sc.segs = segs
	var subs []segment
	pieces := sc.pieces[:0]
	for _, seg := range segs {
		if seg.id >= 0 {
			tk := token{id: uint32(seg.id), word: nextWord()}
			if track {
				tk.start, tk.end = int32(seg.start), int32(seg.start+len(seg.text))
			}
			if trimming {
				tk.lead, tk.trail = spaceCounts(seg.text)
			}
			toks = append(toks, tk)
			continue
		}
		n := newText(seg.text, seg.start, track)
		if t.norm != nil {
			n = t.norm.normalize(n)
		}
		subs = t.added.normalized.split(n.s, 0, sc.subs[:0])
		sc.subs = subs
		for _, sub := range subs {
			end := sub.start + len(sub.text)
			if sub.id >= 0 {
				tk := token{id: uint32(sub.id), word: nextWord()}
				tk.start, tk.end = n.orig(int32(sub.start), int32(end))
				if trimming {
					tk.lead, tk.trail = spaceCounts(sub.text)
				}
				toks = append(toks, tk)
				continue
			}
			piece := n.slice(sub.start, end)
			pieces = pieces[:0]
			if t.pre != nil {
				pieces = t.pre.split(piece, pieces)
			} else {
				pieces = append(pieces, piece)
			}
			sc.pieces = pieces
			for pi := range pieces {
				p := &pieces[pi]
				if p.s == "" {
					continue
				}
				w := nextWord()
				k := len(toks)
				var err error
				if toks, err = t.model.tokenize(p.s, toks); err != nil {
					return nil, err
				}
				for i := k; i < len(toks); i++ {
					tk := &toks[i]
					tk.word = w
					if trimming {
						text := ""
						if tk.start >= 0 && tk.start <= tk.end && int(tk.end) <= len(p.s) {
							text = p.s[tk.start:tk.end]
						}
						tk.lead, tk.trail = spaceCounts(t.model.value(int64(tk.id), text))
					}
					tk.start, tk.end = p.orig(tk.start, tk.end)
				}
			}
		}
	}
	return toks, nil
}

// scratch holds the buffers of one encodeSequence call, reused.
type scratch struct {
	segs, subs []segment
	pieces     []ntext
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

func (sc *scratch) release() {
	if cap(sc.segs)+cap(sc.subs)+cap(sc.pieces) > 4096 {
		return // a huge text's buffers are not kept
	}
	clear(sc.segs)
	clear(sc.subs)
	clear(sc.pieces)
	scratchPool.Put(sc)
}
