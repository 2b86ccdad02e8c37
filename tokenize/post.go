package tokenize

import (
	"encoding/json"
	"fmt"
)

// A postProcessor adds the special tokens around one sequence or a pair and
// sets the token type ids, like HF's PostProcessor with
// add_special_tokens=true.
type postProcessor interface {
	// added is how many ids the processor adds to a single or a pair.
	added(pair bool) int
	// process appends the final ids and type ids of a, b (b nil when there is
	// no pair).
	process(a, b []int64, pair bool, ids, types []int64) ([]int64, []int64)
}

func buildPostProcessor(raw json.RawMessage) (postProcessor, error) {
	if isNull(raw) {
		return nil, nil
	}
	typ, err := typeOf(raw)
	if err != nil {
		return nil, err
	}
	switch typ {
	case "TemplateProcessing":
		return buildTemplate(raw)
	case "BertProcessing", "RobertaProcessing":
		var j struct {
			Sep [2]json.RawMessage `json:"sep"`
			Cls [2]json.RawMessage `json:"cls"`
		}
		if err := json.Unmarshal(raw, &j); err != nil {
			return nil, err
		}
		var sep, cls int64
		if err := json.Unmarshal(j.Sep[1], &sep); err != nil {
			return nil, fmt.Errorf("%s: sep: %w", typ, err)
		}
		if err := json.Unmarshal(j.Cls[1], &cls); err != nil {
			return nil, fmt.Errorf("%s: cls: %w", typ, err)
		}
		return &clsSepProcessor{cls: cls, sep: sep, roberta: typ == "RobertaProcessing"}, nil
	case "ByteLevel":
		// Only trims offsets; adds nothing.
		return seqProcessor(nil), nil
	case "Sequence":
		// parts that add nothing (ByteLevel) are dropped
		seq, err := sequenceOf(raw, "processors", buildPostProcessor, func(p postProcessor) bool {
			s, ok := p.(seqProcessor)
			return !ok || len(s) > 0
		})
		if err != nil {
			return nil, err
		}
		if len(seq) > 1 {
			return nil, fmt.Errorf("Sequence: more than one processor that adds tokens is not supported")
		}
		return seqProcessor(seq), nil
	case "":
		return nil, fmt.Errorf("post_processor without a type")
	}
	return nil, fmt.Errorf("unsupported post_processor type %q", typ)
}

// defaultProcess is HF's behaviour without a post-processor: a then b, with
// type ids 0 and 1.
func defaultProcess(a, b []int64, pair bool, ids, types []int64) ([]int64, []int64) {
	ids = append(ids, a...)
	types = appendN(types, 0, len(a))
	if pair {
		ids = append(ids, b...)
		types = appendN(types, 1, len(b))
	}
	return ids, types
}

func appendN(s []int64, v int64, n int) []int64 {
	for i := 0; i < n; i++ {
		s = append(s, v)
	}
	return s
}

// seqProcessor is a Sequence of processors of which at most one adds tokens.
type seqProcessor []postProcessor

func (s seqProcessor) added(pair bool) int {
	if len(s) == 0 {
		return 0
	}
	return s[0].added(pair)
}

func (s seqProcessor) process(a, b []int64, pair bool, ids, types []int64) ([]int64, []int64) {
	if len(s) == 0 {
		return defaultProcess(a, b, pair, ids, types)
	}
	return s[0].process(a, b, pair, ids, types)
}

// clsSepProcessor is BertProcessing ([CLS] A [SEP] B [SEP], B typed 1) or
// RobertaProcessing (<s> A </s> </s> B </s>, all typed 0).
type clsSepProcessor struct {
	cls, sep int64
	roberta  bool
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

func (p *clsSepProcessor) process(a, b []int64, pair bool, ids, types []int64) ([]int64, []int64) {
	ids = append(ids, p.cls)
	ids = append(ids, a...)
	ids = append(ids, p.sep)
	types = appendN(types, 0, len(a)+2)
	if !pair {
		return ids, types
	}
	var tb int64 = 1
	if p.roberta {
		ids = append(ids, p.sep)
		types = append(types, 0)
		tb = 0
	}
	ids = append(ids, b...)
	ids = append(ids, p.sep)
	types = appendN(types, tb, len(b)+1)
	return ids, types
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

func buildTemplate(raw json.RawMessage) (postProcessor, error) {
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
	if err := json.Unmarshal(raw, &j); err != nil {
		return nil, err
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
				out = append(out, templatePiece{special: append([]int64{}, st.IDs...), typeID: p.SpecialToken.TypeID})
			case p.Sequence != nil:
				if p.Sequence.ID != "A" && p.Sequence.ID != "B" {
					return nil, fmt.Errorf("TemplateProcessing: %s[%d]: unknown sequence %q", name, i, p.Sequence.ID)
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

func (t *template) process(a, b []int64, pair bool, ids, types []int64) ([]int64, []int64) {
	ps := t.single
	if pair {
		ps = t.pair
	}
	for _, p := range ps {
		switch {
		case p.special != nil:
			ids = append(ids, p.special...)
			types = appendN(types, p.typeID, len(p.special))
		case p.seqB:
			ids = append(ids, b...)
			types = appendN(types, p.typeID, len(b))
		default:
			ids = append(ids, a...)
			types = appendN(types, p.typeID, len(a))
		}
	}
	return ids, types
}
