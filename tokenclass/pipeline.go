package tokenclass

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"ft/internal/stats"
)

// Strategy is an aggregation strategy of transformers'
// TokenClassificationPipeline.
type Strategy int

const (
	// None returns one entity per token, labelled with its best label.
	None Strategy = iota
	// Simple groups adjacent tokens with the same entity type (a B- label
	// starts a new group).
	Simple
	// First labels each word with its first sub-token's best label, then
	// groups words as Simple.
	First
	// Average labels each word with the best label of its sub-tokens'
	// mean scores, then groups words.
	Average
	// Max labels each word with the best label of the sub-token that has
	// the highest score, then groups words.
	Max
)

var strategyNames = [...]string{"none", "simple", "first", "average", "max"}

func (s Strategy) String() string {
	if s < 0 || int(s) >= len(strategyNames) {
		return fmt.Sprintf("Strategy(%d)", int(s))
	}
	return strategyNames[s]
}

// ParseStrategy reads an aggregation strategy name: none, simple, first,
// average or max.
func ParseStrategy(name string) (Strategy, error) {
	for i, n := range strategyNames {
		if strings.EqualFold(name, n) {
			return Strategy(i), nil
		}
	}
	return 0, fmt.Errorf("unknown aggregation strategy %q: use none, simple, first, average or max", name)
}

// Token is one token of an encoded text, as the pipeline sees it.
type Token struct {
	// Text is the vocabulary string of the token (convert_ids_to_tokens),
	// e.g. "##ing" for a WordPiece continuation.
	Text string
	// Start and End are the token's character (code point) offsets into
	// the text, as Hugging Face's offset mapping gives them.
	Start, End int
	// Special marks [CLS], [SEP], padding and the like (special_tokens_mask).
	Special bool
	// Unknown marks the unknown token ([UNK]); its word is the text it covers.
	Unknown bool
}

// AggregateOptions configures Aggregate.
type AggregateOptions struct {
	Strategy Strategy
	// Labels names the label ids (the model's id2label).
	Labels []string
	// IgnoreLabels are dropped from the result; nil means {"O"}, the
	// pipeline's default, and an empty non-nil slice keeps everything.
	IgnoreLabels []string
	// WordAware is true when the tokenizer's model has a continuing-subword
	// prefix (WordPiece's "##"): a token is then inside a word when its
	// length differs from the length of the text it covers. Otherwise the
	// pipeline's fallback heuristic applies: a token is inside a word when
	// it does not start the text and neither it nor the character before
	// it is a space.
	WordAware bool
	// Decode joins token strings into text (convert_tokens_to_string); nil
	// is WordPieceDecode.
	Decode func(tokens []string) string
}

// Entity is one entity of the pipeline's output. Strategy None fills
// Entity and Index; the others fill EntityGroup and set Index to -1.
// Its JSON has the pipeline's keys in the pipeline's order.
type Entity struct {
	Entity      string
	EntityGroup string
	Score       float64
	Word        string
	Start, End  int
	Index       int
}

// MarshalJSON writes {"entity", "score", "index", "word", "start", "end"}
// for a token entity and {"entity_group", "score", "word", "start", "end"}
// for a grouped one, as the pipeline's dictionaries hold them.
func (e Entity) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	str := func(s string) {
		v, _ := json.Marshal(s)
		b.Write(v)
	}
	if e.EntityGroup == "" && e.Index >= 0 {
		b.WriteString(`{"entity":`)
		str(e.Entity)
		fmt.Fprintf(&b, `,"score":%s,"index":%d,"word":`, strconv.FormatFloat(e.Score, 'g', -1, 64), e.Index)
	} else {
		b.WriteString(`{"entity_group":`)
		str(e.EntityGroup)
		fmt.Fprintf(&b, `,"score":%s,"word":`, strconv.FormatFloat(e.Score, 'g', -1, 64))
	}
	if math.IsNaN(e.Score) || math.IsInf(e.Score, 0) {
		return nil, fmt.Errorf("entity %q: score %v has no JSON form", e.Word, e.Score)
	}
	str(e.Word)
	fmt.Fprintf(&b, `,"start":%d,"end":%d}`, e.Start, e.End)
	return b.Bytes(), nil
}

// WordPieceDecode is the WordPiece decoder of Hugging Face tokenizers
// (prefix "##", cleanup on): every token but the first loses its "##" or
// gains a leading space, then each is cleaned up ("word ." → "word.", " 's"
// → "'s", ...), and the pieces are joined.
func WordPieceDecode(tokens []string) string {
	var b strings.Builder
	for i, t := range tokens {
		if i != 0 {
			if strings.HasPrefix(t, "##") {
				t = t[2:]
			} else {
				t = " " + t
			}
		}
		b.WriteString(wordPieceCleanup.Replace(t))
	}
	return b.String()
}

// wordPieceCleanup applies tokenizers' cleanup replacements. They run one
// after another there; no replacement's output can feed a later one's
// pattern except " do not" → " don't", which nothing after it matches, so a
// chain of ReplaceAll in the same order is the same.
var wordPieceCleanup = replaceChain{
	{" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"}, {" n't", "n't"},
	{" 'm", "'m"}, {" do not", " don't"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"},
}

type replaceChain [][2]string

func (c replaceChain) Replace(s string) string {
	for _, r := range c {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	return s
}

// preEntity is gather_pre_entities' record of one non-special token.
type preEntity struct {
	word       string
	scores     []float64
	start, end int
	index      int
	subword    bool
}

// Aggregate turns a text's per-token logits into entities as transformers'
// TokenClassificationPipeline (4.57) does for one text that fits the model:
// softmax per token, special tokens dropped, words formed per the strategy,
// adjacent tokens or words of one type grouped, ignored labels dropped.
// tokens and logits are per position of the encoding (special tokens
// included); each logits row has one value per label.
func Aggregate(text string, tokens []Token, logits [][]float32, opt AggregateOptions) ([]Entity, error) {
	if len(tokens) != len(logits) {
		return nil, fmt.Errorf("%d tokens but %d rows of logits", len(tokens), len(logits))
	}
	if opt.Strategy < None || opt.Strategy > Max {
		return nil, fmt.Errorf("unknown aggregation strategy %d", int(opt.Strategy))
	}
	decode := opt.Decode
	if decode == nil {
		decode = WordPieceDecode
	}
	runes := []rune(text)
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("the text is not valid UTF-8")
	}
	var pre []preEntity
	for i, tok := range tokens {
		if len(logits[i]) != len(opt.Labels) {
			return nil, fmt.Errorf("token %d: %d logits but %d labels", i, len(logits[i]), len(opt.Labels))
		}
		if tok.Special {
			continue
		}
		if tok.Start < 0 || tok.End < tok.Start || tok.End > len(runes) {
			return nil, fmt.Errorf("token %d (%q): offsets %d..%d outside the text's %d characters", i, tok.Text, tok.Start, tok.End, len(runes))
		}
		ref := string(runes[tok.Start:tok.End])
		word := tok.Text
		var sub bool
		if opt.WordAware {
			sub = utf8.RuneCountInString(word) != tok.End-tok.Start
		} else {
			lo := max(tok.Start-1, 0)
			sub = tok.Start > 0 && !strings.ContainsRune(string(runes[lo:min(tok.Start+1, len(runes))]), ' ')
		}
		if tok.Unknown {
			word, sub = ref, false
		}
		pre = append(pre, preEntity{word, stats.Softmax(logits[i]), tok.Start, tok.End, i, sub})
	}

	var ents []Entity
	switch opt.Strategy {
	case None, Simple:
		for _, p := range pre {
			k := argmax(p.scores)
			ents = append(ents, Entity{Entity: opt.Labels[k], Score: p.scores[k], Word: p.word, Start: p.start, End: p.end, Index: p.index})
		}
	default:
		ents = aggregateWords(pre, opt.Strategy, opt.Labels, decode)
	}
	if opt.Strategy != None {
		ents = groupEntities(ents, decode)
	}

	ignore := opt.IgnoreLabels
	if ignore == nil {
		ignore = []string{"O"}
	}
	out := ents[:0]
	for _, e := range ents {
		if (e.Entity != "" && contains(ignore, e.Entity)) || (e.EntityGroup != "" && contains(ignore, e.EntityGroup)) {
			continue
		}
		out = append(out, e)
	}
	return out, nil
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// aggregateWords is the pipeline's aggregate_words: a token that is not
// inside a word starts a new word; each word gets one label by strategy.
func aggregateWords(pre []preEntity, s Strategy, labels []string, decode func([]string) string) []Entity {
	var out []Entity
	for i := 0; i < len(pre); {
		j := i + 1
		for j < len(pre) && pre[j].subword {
			j++
		}
		out = append(out, aggregateWord(pre[i:j], s, labels, decode))
		i = j
	}
	return out
}

func aggregateWord(group []preEntity, s Strategy, labels []string, decode func([]string) string) Entity {
	words := make([]string, len(group))
	for i, p := range group {
		words[i] = p.word
	}
	var scores []float64
	switch s {
	case First:
		scores = group[0].scores
	case Max:
		best := 0
		bestScore := maxOf(group[0].scores)
		for i := 1; i < len(group); i++ {
			if m := maxOf(group[i].scores); m > bestScore {
				best, bestScore = i, m
			}
		}
		scores = group[best].scores
	case Average:
		scores = make([]float64, len(group[0].scores))
		for k := range scores {
			col := make([]float64, len(group))
			for i, p := range group {
				col[i] = p.scores[k]
			}
			scores[k] = nanMean(col)
		}
	}
	k := argmax(scores)
	return Entity{Entity: labels[k], Score: scores[k], Word: decode(words), Start: group[0].start, End: group[len(group)-1].end, Index: -1}
}

// bioTag is the pipeline's get_tag: "B-X" → (B, X), "I-X" → (I, X),
// anything else → (I, itself).
func bioTag(label string) (bi, tag string) {
	switch {
	case strings.HasPrefix(label, "B-"):
		return "B", label[2:]
	case strings.HasPrefix(label, "I-"):
		return "I", label[2:]
	}
	return "I", label
}

// groupEntities is the pipeline's group_entities: an entity joins the
// previous group when its tag equals the previous entity's and it is not B-.
func groupEntities(ents []Entity, decode func([]string) string) []Entity {
	var out []Entity
	var group []Entity
	for _, e := range ents {
		if len(group) > 0 {
			bi, tag := bioTag(e.Entity)
			_, lastTag := bioTag(group[len(group)-1].Entity)
			if tag != lastTag || bi == "B" {
				out = append(out, groupSub(group, decode))
				group = group[:0]
			}
		}
		group = append(group, e)
	}
	if len(group) > 0 {
		out = append(out, groupSub(group, decode))
	}
	return out
}

// groupSub is the pipeline's group_sub_entities: the type is the first
// entity's label after its first "-", the score the mean.
func groupSub(group []Entity, decode func([]string) string) Entity {
	name := group[0].Entity
	if _, after, ok := strings.Cut(name, "-"); ok {
		name = after
	}
	scores := make([]float64, len(group))
	words := make([]string, len(group))
	for i, e := range group {
		scores[i], words[i] = e.Score, e.Word
	}
	return Entity{EntityGroup: name, Score: nanMean(scores), Word: decode(words), Start: group[0].Start, End: group[len(group)-1].End, Index: -1}
}

// argmax is numpy's: the first index of the largest value (NaN wins, as
// numpy's argmax returns the first NaN).
func argmax(v []float64) int {
	best := 0
	for i, x := range v {
		if math.IsNaN(x) {
			return i
		}
		if x > v[best] {
			best = i
		}
	}
	return best
}

func maxOf(v []float64) float64 {
	m := v[0]
	for _, x := range v[1:] {
		if math.IsNaN(x) {
			return x
		}
		m = math.Max(m, x)
	}
	return m
}

// nanMean is numpy's nanmean: the mean of the values that are not NaN
// (NaN when there are none).
func nanMean(v []float64) float64 {
	var s float64
	n := 0
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return s / float64(n)
}
