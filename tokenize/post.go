package tokenize

import (
	"encoding/json"
	"fmt"
)

// A postProcessor adds the special tokens around one sequence or a pair and
// sets the token type ids, like HF's PostProcessor.
type postProcessor interface {
	// added is how many ids the processor adds to a single or a pair.
	added(pair bool) int
	// process appends a and b (b only for a pair) to r, with the special
	// tokens when special (HF's add_special_tokens).
	process(a, b []token, pair, special bool, r *row)
	// trims are the offset trimming passes (trim_offsets of ByteLevel and
	// RobertaProcessing), in order.
	trims() []trimPass
}

// trimPass is HF's byte-level process_offsets.
type trimPass struct{ addPrefixSpace bool }

// row is one encoded row under construction.
type row struct {
	ids, types  []int64
	words, seqs []int    // nil unless word ids are returned
	offs        [][2]int // nil unless offsets are returned
}

// seq appends the tokens of sequence seqID with type typeID.
func (r *row) seq(toks []token, typeID int64, seqID int) {
	for _, t := range toks {
		r.ids = append(r.ids, int64(t.id))
		r.types = append(r.types, typeID)
	}
	if r.words != nil {
		for _, t := range toks {
			r.words = append(r.words, int(t.word))
			r.seqs = append(r.seqs, seqID)
		}
	}
	if r.offs != nil {
		for _, t := range toks {
			r.offs = append(r.offs, [2]int{int(t.start), int(t.end)})
		}
	}
}

// special appends special tokens: no word, no sequence, offsets (0, 0).
func (r *row) special(ids []int64, typeID int64) {
	for _, id := range ids {
		r.ids = append(r.ids, id)
		r.types = append(r.types, typeID)
		if r.words != nil {
			r.words = append(r.words, -1)
			r.seqs = append(r.seqs, -1)
		}
		if r.offs != nil {
			r.offs = append(r.offs, [2]int{})
		}
	}
}

func buildPostProcessor(c *component) (postProcessor, error) {
	if c == nil {
		return nil, nil
	}
	switch c.typ {
	case "TemplateProcessing":
		return buildTemplate(c)
	case "BertProcessing", "RobertaProcessing":
		var j struct {
			Sep            [2]json.RawMessage `json:"sep"`
			Cls            [2]json.RawMessage `json:"cls"`
			TrimOffsets    *bool              `json:"trim_offsets"`
			AddPrefixSpace *bool              `json:"add_prefix_space"`
		}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		var sep, cls int64
		if err := json.Unmarshal(j.Sep[1], &sep); err != nil {
			return nil, fmt.Errorf("%s: sep: %w", c.typ, err)
		}
		if err := checkID(c.typ+": sep", sep); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(j.Cls[1], &cls); err != nil {
			return nil, fmt.Errorf("%s: cls: %w", c.typ, err)
		}
		if err := checkID(c.typ+": cls", cls); err != nil {
			return nil, err
		}
		p := &clsSepProcessor{cls: cls, sep: sep, roberta: c.typ == "RobertaProcessing"}
		if p.roberta {
			p.trim = j.TrimOffsets == nil || *j.TrimOffsets
			p.addPrefixSpace = j.AddPrefixSpace == nil || *j.AddPrefixSpace
		}
		return p, nil
	case "ByteLevel":
		// Adds nothing; may trim offsets.
		var j struct {
			TrimOffsets    *bool `json:"trim_offsets"`
			AddPrefixSpace *bool `json:"add_prefix_space"`
		}
		if err := c.decode(&j); err != nil {
			return nil, err
		}
		s := &seqProcessor{}
		if j.TrimOffsets == nil || *j.TrimOffsets {
			s.passes = []trimPass{{addPrefixSpace: j.AddPrefixSpace == nil || *j.AddPrefixSpace}}
		}
		return s, nil
	case "Sequence":
		parts, err := sequenceOf(c, "processors", buildPostProcessor, nil)
		if err != nil {
			return nil, err
		}
		s := &seqProcessor{}
		for _, p := range parts {
			s.passes = append(s.passes, p.trims()...)
			if sp, ok := p.(*seqProcessor); ok {
				if sp.adder == nil {
					continue
				}
				p = sp.adder
			}
			if s.adder != nil {
				return nil, fmt.Errorf("Sequence: more than one processor that adds tokens is not supported")
			}
			s.adder = p
		}
		return s, nil
	case "":
		return nil, fmt.Errorf("post_processor without a type")
	}
	return nil, fmt.Errorf("unsupported post_processor type %q", c.typ)
}

// defaultProcess is HF's behaviour without special tokens from a
// processor: a then b, with type ids 0 and 1.
func defaultProcess(a, b []token, pair bool, r *row) {
	r.seq(a, 0, 0)
	if pair {
		r.seq(b, 1, 1)
	}
}

func appendN(s []int64, v int64, n int) []int64 {
	for i := 0; i < n; i++ {
		s = append(s, v)
	}
	return s
}

// seqProcessor is a Sequence of processors of which at most one adds tokens
// (or a lone ByteLevel processor).
type seqProcessor struct {
	adder  postProcessor // nil: none
	passes []trimPass
}

func (s *seqProcessor) added(pair bool) int {
	if s.adder == nil {
		return 0
	}
	return s.adder.added(pair)
}

func (s *seqProcessor) process(a, b []token, pair, special bool, r *row) {
	if s.adder == nil {
		defaultProcess(a, b, pair, r)
		return
	}
	s.adder.process(a, b, pair, special, r)
}

func (s *seqProcessor) trims() []trimPass { return s.passes }

// clsSepProcessor is BertProcessing ([CLS] A [SEP] B [SEP], B typed 1) or
// RobertaProcessing (<s> A </s> </s> B </s>, all typed 0, offsets trimmed).
type clsSepProcessor struct {
	cls, sep       int64
	roberta        bool
	trim           bool
	addPrefixSpace bool
}

func (p *clsSepProcessor) added(pair bool) int {
	switch {
	case !pair:
		return 2
	case p.roberta:
		return 4
	}
	return 3
}

func (p *clsSepProcessor) trims() []trimPass {
	if !p.trim {
		return nil
	}
	return []trimPass{{addPrefixSpace: p.addPrefixSpace}}
}

func (p *clsSepProcessor) process(a, b []token, pair, special bool, r *row) {
	var tb int64 = 1
	if p.roberta {
		tb = 0
	}
	if !special {
		r.seq(a, 0, 0)
		if pair {
			r.seq(b, tb, 1)
		}
		return
	}
	r.special([]int64{p.cls}, 0)
	r.seq(a, 0, 0)
	r.special([]int64{p.sep}, 0)
	if !pair {
		return
	}
	if p.roberta {
		r.special([]int64{p.sep}, 0)
	}
	r.seq(b, tb, 1)
	r.special([]int64{p.sep}, tb)
}

// template is TemplateProcessing: pieces naming a special token or a
// sequence ($A, $B), each with its type id.
type template struct {
	single, pair []templatePiece
}

type templatePiece struct {
	special []int64 // the special token's ids, or nil for a sequence
	seqB    bool    // for a sequence: $B rather than $A
	typeID  int64
}

func buildTemplate(c *component) (postProcessor, error) {
	type pieceJSON struct {
		SpecialToken *struct {
			ID     string `json:"id"`
			TypeID int64  `json:"type_id"`
		} `json:"SpecialToken"`
		Sequence *struct {
			ID     string `json:"id"`
			TypeID int64  `json:"type_id"`
		} `json:"Sequence"`
	}
	var j struct {
		Single        []pieceJSON `json:"single"`
		Pair          []pieceJSON `json:"pair"`
		SpecialTokens map[string]struct {
			IDs []int64 `json:"ids"`
		} `json:"special_tokens"`
	}
	if err := c.decode(&j); err != nil {
		return nil, err
	}
	for name, st := range j.SpecialTokens {
		for k, id := range st.IDs {
			if err := checkID(fmt.Sprintf("TemplateProcessing: special_tokens[%q].ids[%d]", name, k), id); err != nil {
				return nil, err
			}
		}
	}
	conv := func(name string, ps []pieceJSON) ([]templatePiece, error) {
		var out []templatePiece
		for i, p := range ps {
			switch {
			case p.SpecialToken != nil:
				st, ok := j.SpecialTokens[p.SpecialToken.ID]
				if !ok {
					return nil, fmt.Errorf("TemplateProcessing: %s[%d]: special token %q is not in special_tokens", name, i, p.SpecialToken.ID)
				}
				if err := checkID(fmt.Sprintf("TemplateProcessing: %s[%d]: type_id", name, i), p.SpecialToken.TypeID); err != nil {
					return nil, err
				}
				out = append(out, templatePiece{special: append([]int64{}, st.IDs...), typeID: p.SpecialToken.TypeID})
			case p.Sequence != nil:
				if p.Sequence.ID != "A" && p.Sequence.ID != "B" {
					return nil, fmt.Errorf("TemplateProcessing: %s[%d]: unknown sequence %q", name, i, p.Sequence.ID)
				}
				if err := checkID(fmt.Sprintf("TemplateProcessing: %s[%d]: type_id", name, i), p.Sequence.TypeID); err != nil {
					return nil, err
				}
				out = append(out, templatePiece{seqB: p.Sequence.ID == "B", typeID: p.Sequence.TypeID})
			default:
				return nil, fmt.Errorf("TemplateProcessing: %s[%d] is neither SpecialToken nor Sequence", name, i)
			}
		}
		return out, nil
	}
	t := &template{}
	var err error
	if t.single, err = conv("single", j.Single); err != nil {
		return nil, err
	}
	if t.pair, err = conv("pair", j.Pair); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *template) added(pair bool) int {
	ps := t.single
	if pair {
		ps = t.pair
	}
	n := 0
	for _, p := range ps {
		n += len(p.special)
	}
	return n
}

func (t *template) trims() []trimPass { return nil }

func (t *template) process(a, b []token, pair, special bool, r *row) {
	ps := t.single
	if pair {
		ps = t.pair
	}
	for _, p := range ps {
		switch {
		case p.special != nil:
			if special {
				r.special(p.special, p.typeID)
			}
		case p.seqB:
			r.seq(b, p.typeID, 1)
		default:
			r.seq(a, p.typeID, 0)
		}
	}
}
