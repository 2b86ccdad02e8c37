package tokenclass

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"unicode/utf8"
)

// Mode selects how entities are read from tag sequences, as seqeval's mode
// argument does.
type Mode int

const (
	// Default is seqeval's default mode (conlleval-compatible): lenient
	// chunking that accepts any prefix, starts an entity on I- without B-
	// and splits a span where the type changes.
	Default Mode = iota
	// Strict is seqeval's mode="strict": entities are read with the rules of
	// one tagging scheme, and a span that the scheme does not allow to start
	// or end where it does is not an entity.
	Strict
)

// Scheme is a tagging scheme of strict mode (seqeval.scheme).
type Scheme int

const (
	// SchemeAuto detects the scheme from the true tags as seqeval's
	// auto_detect does (IOB2, IOE2, IOBES or BILOU; anything else is an error).
	SchemeAuto Scheme = iota
	IOB1
	IOB2
	IOE1
	IOE2
	IOBES
	BILOU
)

var schemeNames = [...]string{"auto", "IOB1", "IOB2", "IOE1", "IOE2", "IOBES", "BILOU"}

func (s Scheme) String() string {
	if s < 0 || int(s) >= len(schemeNames) {
		return fmt.Sprintf("Scheme(%d)", int(s))
	}
	return schemeNames[s]
}

// ParseScheme reads a scheme name (case-insensitive): auto, IOB1, IOB2,
// IOE1, IOE2, IOBES or BILOU.
func ParseScheme(name string) (Scheme, error) {
	for i, n := range schemeNames {
		if strings.EqualFold(name, n) {
			return Scheme(i), nil
		}
	}
	return 0, fmt.Errorf("unknown tagging scheme %q: use one of %s", name, strings.Join(schemeNames[:], ", "))
}

// MetricOptions configures Evaluate.
type MetricOptions struct {
	Mode Mode
	// Scheme is used in Strict mode only; the zero value detects it from the
	// true tags. (seqeval's classification_report does the same; its
	// f1_score and friends fall back to default mode when mode="strict" has
	// no scheme.)
	Scheme Scheme
	// ZeroDivision is the value of a ratio whose denominator is zero:
	// 0 (seqeval's default zero_division="warn", which warns and uses 0) or 1.
	ZeroDivision float64
	// Suffix reads the chunk letter at the end of a tag ("PER-B") instead of
	// at its start (seqeval's suffix=True).
	Suffix bool
}

// Scores are precision, recall and F1 of one entity type or one average,
// and the support (the number of true entities).
type Scores struct {
	Precision, Recall, F1 float64
	Support               int
}

// TypeScores are the scores of one entity type.
type TypeScores struct {
	Type string
	Scores
}

// Report is seqeval's classification_report: per-type scores in sorted
// type order, then the micro, macro and weighted averages. Macro is NaN when
// neither sequence holds an entity (numpy's mean of nothing), as in seqeval.
type Report struct {
	Types                  []TypeScores
	Micro, Macro, Weighted Scores
}

// Evaluate computes entity-level precision, recall and F1 of pred against
// gold exactly as seqeval 1.2.2's classification_report does. Both hold one
// tag sequence per sentence, of equal lengths; entities never cross a
// sentence. Errors (seqeval raises on all of them too): no sequences,
// sequences of unequal lengths, an empty tag, and in strict mode a tag
// without a prefix letter, one whose prefix the scheme does not allow, or
// true tags whose scheme cannot be detected.
func Evaluate(gold, pred [][]string, opt MetricOptions) (*Report, error) {
	if err := checkConsistent(gold, pred); err != nil {
		return nil, err
	}
	var g, p entitySet
	var err error
	switch opt.Mode {
	case Default:
		if g, err = defaultEntities(gold, opt.Suffix, "true"); err != nil {
			return nil, err
		}
		if p, err = defaultEntities(pred, opt.Suffix, "predicted"); err != nil {
			return nil, err
		}
	case Strict:
		scheme := opt.Scheme
		if scheme == SchemeAuto {
			if scheme, err = detectScheme(gold, opt.Suffix); err != nil {
				return nil, err
			}
		}
		if scheme <= SchemeAuto || scheme > BILOU {
			return nil, fmt.Errorf("unknown tagging scheme %d", int(scheme))
		}
		if g, err = strictEntities(gold, scheme, opt.Suffix, "true"); err != nil {
			return nil, err
		}
		if p, err = strictEntities(pred, scheme, opt.Suffix, "predicted"); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("unknown metric mode %d", int(opt.Mode))
	}
	if opt.ZeroDivision != 0 && opt.ZeroDivision != 1 {
		return nil, fmt.Errorf("zero-division value %v: use 0 or 1", opt.ZeroDivision)
	}
	return score(g, p, opt.ZeroDivision), nil
}

// Accuracy is the share of tokens whose predicted tag equals the true one
// (seqeval's accuracy_score over all sentences). It is an error when the
// sequences differ in shape or hold no token at all.
func Accuracy(gold, pred [][]string) (float64, error) {
	if err := checkConsistent(gold, pred); err != nil {
		return 0, err
	}
	correct, total := 0, 0
	for i, s := range gold {
		for j, tag := range s {
			if tag == pred[i][j] {
				correct++
			}
			total++
		}
	}
	if total == 0 {
		return 0, errors.New("accuracy of no tokens: the sequences are empty")
	}
	return float64(correct) / float64(total), nil
}

func checkConsistent(gold, pred [][]string) error {
	if len(gold) == 0 && len(pred) == 0 {
		return errors.New("no sequences to evaluate") // seqeval raises too
	}
	if len(gold) != len(pred) {
		return fmt.Errorf("%d true sequences but %d predicted ones", len(gold), len(pred))
	}
	for i := range gold {
		if len(gold[i]) != len(pred[i]) {
			return fmt.Errorf("sequence %d: %d true tags but %d predicted ones", i, len(gold[i]), len(pred[i]))
		}
	}
	return nil
}

// span is one entity: its sentence and token range. Default mode numbers
// tokens across the whole corpus, strict mode within a sentence; both are
// unique keys.
type span struct{ sent, start, end int }

// entitySet maps an entity type to its set of spans.
type entitySet map[string]map[span]struct{}

func (e entitySet) add(typ string, s span) {
	m := e[typ]
	if m == nil {
		m = map[span]struct{}{}
		e[typ] = m
	}
	m[s] = struct{}{}
}

// defaultEntities is seqeval's get_entities on the corpus flattened with an
// "O" after every sentence and one more at the end, as seqeval flattens it.
func defaultEntities(seqs [][]string, suffix bool, which string) (entitySet, error) {
	ents := entitySet{}
	prevTag, prevType := "O", ""
	begin := 0
	i := 0
	step := func(chunk string) {
		tag, typ := splitDefault(chunk, suffix)
		if endOfChunk(prevTag, tag, prevType, typ) {
			ents.add(prevType, span{0, begin, i - 1})
		}
		if startOfChunk(prevTag, tag, prevType, typ) {
			begin = i
		}
		prevTag, prevType = tag, typ
		i++
	}
	for si, s := range seqs {
		for ti, chunk := range s {
			if chunk == "" {
				return nil, fmt.Errorf("%s sequence %d, token %d: empty tag", which, si, ti)
			}
			step(chunk)
		}
		step("O")
	}
	step("O")
	return ents, nil
}

// splitDefault splits a tag as seqeval's get_entities does: the first
// character is the chunk tag, the type is what follows the first "-" after
// it (or all of it when there is none), "_" when empty. With suffix the last
// character is the chunk tag and the type what precedes the last "-" before
// it.
func splitDefault(chunk string, suffix bool) (tag, typ string) {
	var rest string
	if suffix {
		_, n := utf8.DecodeLastRuneInString(chunk)
		tag, rest = chunk[len(chunk)-n:], chunk[:len(chunk)-n]
		if k := strings.LastIndexByte(rest, '-'); k >= 0 {
			rest = rest[:k]
		}
	} else {
		_, n := utf8.DecodeRuneInString(chunk)
		tag, rest = chunk[:n], chunk[n:]
		if k := strings.IndexByte(rest, '-'); k >= 0 {
			rest = rest[k+1:]
		}
	}
	if rest == "" {
		rest = "_"
	}
	return tag, rest
}

func endOfChunk(prevTag, tag, prevType, typ string) bool {
	switch {
	case prevTag == "E", prevTag == "S":
		return true
	case (prevTag == "B" || prevTag == "I") && (tag == "B" || tag == "S" || tag == "O"):
		return true
	}
	return prevTag != "O" && prevTag != "." && prevType != typ
}

func startOfChunk(prevTag, tag, prevType, typ string) bool {
	switch {
	case tag == "B", tag == "S":
		return true
	case (prevTag == "E" || prevTag == "S" || prevTag == "O") && (tag == "E" || tag == "I"):
		return true
	}
	return tag != "O" && tag != "." && prevType != typ
}

// Strict mode: seqeval.scheme's prefix patterns.

type prefix uint8

const (
	pI prefix = 1 << iota
	pO
	pB
	pE
	pS
	pU
	pL
	pAny = pI | pO | pB | pE | pS | pU | pL
)

const prefixLetters = "IOBESUL"

type tagCond uint8

const (
	same tagCond = 1 << iota
	diff
	anyTag = same | diff
)

type pattern struct {
	prev, cur prefix
	cond      tagCond
}

type schemeRules struct {
	allowed               prefix
	start, inside, ending []pattern
}

var rules = map[Scheme]schemeRules{
	IOB1: {
		allowed: pI | pO | pB,
		start:   []pattern{{pO, pI, anyTag}, {pI, pI, diff}, {pB, pI, anyTag}, {pI, pB, same}, {pB, pB, same}},
		inside:  []pattern{{pB, pI, same}, {pI, pI, same}},
		ending:  []pattern{{pI, pI, diff}, {pI, pO, anyTag}, {pI, pB, anyTag}, {pB, pO, anyTag}, {pB, pI, diff}, {pB, pB, same}},
	},
	IOE1: {
		allowed: pI | pO | pE,
		start:   []pattern{{pO, pI, anyTag}, {pI, pI, diff}, {pE, pI, anyTag}, {pE, pE, same}},
		inside:  []pattern{{pI, pI, same}, {pI, pE, same}},
		ending:  []pattern{{pI, pI, diff}, {pI, pO, anyTag}, {pI, pE, diff}, {pE, pI, same}, {pE, pE, same}},
	},
	IOB2: {
		allowed: pI | pO | pB,
		start:   []pattern{{pAny, pB, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pI, pI, same}},
		ending:  []pattern{{pI, pO, anyTag}, {pI, pI, diff}, {pI, pB, anyTag}, {pB, pO, anyTag}, {pB, pI, diff}, {pB, pB, anyTag}},
	},
	IOE2: {
		allowed: pI | pO | pE,
		start:   []pattern{{pO, pI, anyTag}, {pO, pE, anyTag}, {pE, pI, anyTag}, {pE, pE, anyTag}, {pI, pI, diff}, {pI, pE, diff}},
		inside:  []pattern{{pI, pE, same}, {pI, pI, same}},
		ending:  []pattern{{pE, pAny, anyTag}},
	},
	IOBES: {
		allowed: pI | pO | pB | pE | pS,
		start:   []pattern{{pAny, pB, anyTag}, {pAny, pS, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pB, pE, same}, {pI, pI, same}, {pI, pE, same}},
		ending:  []pattern{{pS, pAny, anyTag}, {pE, pAny, anyTag}},
	},
	BILOU: {
		allowed: pB | pI | pL | pO | pU,
		start:   []pattern{{pAny, pB, anyTag}, {pAny, pU, anyTag}},
		inside:  []pattern{{pB, pI, same}, {pB, pL, same}, {pI, pI, same}, {pI, pL, same}},
		ending:  []pattern{{pU, pAny, anyTag}, {pL, pAny, anyTag}},
	},
}

type stoken struct {
	prefix prefix
	tag    string
}

var outside = stoken{pO, "_"}

// parseStrict reads a tag as seqeval.scheme.Token does: the first character
// (the last with suffix) is the prefix, one of I O B E S U L; the rest with
// "-" trimmed from both ends is the type, "_" when empty.
func parseStrict(t string, suffix bool) (stoken, bool) {
	if t == "" {
		return stoken{}, false
	}
	var r rune
	var rest string
	if suffix {
		var n int
		r, n = utf8.DecodeLastRuneInString(t)
		rest = t[:len(t)-n]
	} else {
		var n int
		r, n = utf8.DecodeRuneInString(t)
		rest = t[n:]
	}
	k := strings.IndexRune(prefixLetters, r)
	if k < 0 || r >= utf8.RuneSelf {
		return stoken{}, false
	}
	typ := strings.Trim(rest, "-")
	if typ == "" {
		typ = "_"
	}
	return stoken{prefix(1) << k, typ}, true
}

func (tok stoken) matches(prev stoken, ps []pattern) bool {
	for _, p := range ps {
		if prev.prefix&p.prev == 0 || tok.prefix&p.cur == 0 {
			continue
		}
		if p.cond == anyTag || (p.cond == same && prev.tag == tok.tag) || (p.cond == diff && prev.tag != tok.tag) {
			return true
		}
	}
	return false
}

func strictEntities(seqs [][]string, scheme Scheme, suffix bool, which string) (entitySet, error) {
	r := rules[scheme]
	ents := entitySet{}
	for si, s := range seqs {
		ext := make([]stoken, len(s)+1)
		for ti, t := range s {
			tok, ok := parseStrict(t, suffix)
			if !ok {
				return nil, fmt.Errorf("%s sequence %d, token %d: tag %q does not start with a prefix letter of %s (I, O, B, E, S, U, L)", which, si, ti, t, scheme)
			}
			if tok.prefix&r.allowed == 0 {
				return nil, fmt.Errorf("%s sequence %d, token %d: tag %q has a prefix that %s does not allow", which, si, ti, t, scheme)
			}
			ext[ti] = tok
		}
		ext[len(s)] = outside
		// seqeval.scheme.Tokens.entities
		prev := outside
		for i := 0; i < len(ext); {
			tok := ext[i]
			if tok.matches(prev, r.start) {
				end := i + 1
				p := tok
				for ; end < len(ext) && ext[end].matches(p, r.inside); end++ {
					p = ext[end]
				}
				// The trailing "O" is never inside a span, so end < len(ext).
				if ext[end].matches(ext[end-1], r.ending) {
					ents.add(tok.tag, span{si, i, end})
				}
				i = end
			} else {
				i++
			}
			prev = ext[i-1]
		}
	}
	return ents, nil
}

// detectScheme is seqeval.scheme.auto_detect on the true tags.
func detectScheme(seqs [][]string, suffix bool) (Scheme, error) {
	var seen prefix
	for si, s := range seqs {
		for ti, t := range s {
			tok, ok := parseStrict(t, suffix)
			if !ok {
				return 0, fmt.Errorf("true sequence %d, token %d: tag %q does not start with a prefix letter (I, O, B, E, S, U, L); name the scheme", si, ti, t)
			}
			seen |= tok.prefix
		}
	}
	sets := []struct {
		s    Scheme
		sets []prefix
	}{
		{IOB2, []prefix{pI | pO | pB, pI | pB, pB | pO, pB}},
		{IOE2, []prefix{pI | pO | pE, pI | pE, pE | pO, pE}},
		{IOBES, []prefix{pI | pO | pB | pE | pS, pI | pB | pE | pS, pI | pO | pB | pE, pO | pB | pE | pS, pI | pB | pE, pB | pE | pS, pO | pB | pE, pB | pE, pS}},
		{BILOU, []prefix{pI | pO | pB | pL | pU, pI | pB | pL | pU, pI | pO | pB | pL, pO | pB | pL | pU, pI | pB | pL, pB | pL | pU, pO | pB | pL, pB | pL, pU}},
	}
	for _, c := range sets {
		for _, set := range c.sets {
			if seen == set {
				return c.s, nil
			}
		}
	}
	return 0, fmt.Errorf("cannot detect the tagging scheme from the true tags (prefixes %s): name it (IOB1, IOB2, IOE1, IOE2, IOBES, BILOU)", prefixString(seen))
}

func prefixString(p prefix) string {
	var b strings.Builder
	for k, r := range prefixLetters {
		if p&(1<<k) != 0 {
			b.WriteRune(r)
		}
	}
	if b.Len() == 0 {
		return "none"
	}
	return b.String()
}

// score is seqeval's _precision_recall_fscore_support for average None,
// micro, macro and weighted (beta 1).
func score(gold, pred entitySet, zd float64) *Report {
	names := make([]string, 0, len(gold)+len(pred))
	for n := range gold {
		names = append(names, n)
	}
	for n := range pred {
		if _, ok := gold[n]; !ok {
			names = append(names, n)
		}
	}
	sort.Strings(names) // byte order of UTF-8 is code-point order, as Python sorts
	rep := &Report{Types: make([]TypeScores, len(names))}
	var tpSum, predSum, trueSum int
	for k, n := range names {
		g, p := gold[n], pred[n]
		tp := 0
		for s := range p {
			if _, ok := g[s]; ok {
				tp++
			}
		}
		rep.Types[k] = TypeScores{n, prf(tp, len(p), len(g), zd)}
		tpSum += tp
		predSum += len(p)
		trueSum += len(g)
	}
	rep.Micro = prf(tpSum, predSum, trueSum, zd)

	rep.Macro.Support, rep.Weighted.Support = trueSum, trueSum
	var sp, sr, sf, wp, wr, wf float64
	for _, t := range rep.Types {
		sp += t.Precision
		sr += t.Recall
		sf += t.F1
		w := float64(t.Support)
		wp += t.Precision * w
		wr += t.Recall * w
		wf += t.F1 * w
	}
	n := float64(len(rep.Types))
	rep.Macro.Precision, rep.Macro.Recall, rep.Macro.F1 = sp/n, sr/n, sf/n // NaN when n == 0
	if trueSum == 0 {
		v := 0.0
		if predSum == 0 {
			v = zd
		}
		rep.Weighted.Precision, rep.Weighted.Recall, rep.Weighted.F1 = v, zd, v
	} else {
		w := float64(trueSum)
		rep.Weighted.Precision, rep.Weighted.Recall, rep.Weighted.F1 = wp/w, wr/w, wf/w
	}
	return rep
}

func prf(tp, predicted, actual int, zd float64) Scores {
	div := func(a, b int) float64 {
		if b == 0 {
			return zd
		}
		return float64(a) / float64(b)
	}
	p, r := div(tp, predicted), div(tp, actual)
	f := 0.0
	if d := p + r; d != 0 {
		f = 2 * p * r / d
	}
	return Scores{p, r, f, actual}
}

// Format renders the report as seqeval's text classification_report with
// the given number of digits (seqeval's default is 2).
func (r *Report) Format(digits int) string {
	width := len("weighted avg")
	for _, t := range r.Types {
		width = max(width, utf8.RuneCountInString(t.Type))
	}
	width = max(width, digits)
	var b strings.Builder
	fmt.Fprintf(&b, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support")
	num := func(v float64) string {
		if math.IsNaN(v) {
			return fmt.Sprintf(" %9s", "nan")
		}
		return fmt.Sprintf(" %9.*f", digits, v)
	}
	row := func(name string, s Scores) {
		fmt.Fprintf(&b, "%*s %s%s%s %9d\n", width, name, num(s.Precision), num(s.Recall), num(s.F1), s.Support)
	}
	for _, t := range r.Types {
		row(t.Type, t.Scores)
	}
	b.WriteString("\n")
	row("micro avg", r.Micro)
	row("macro avg", r.Macro)
	row("weighted avg", r.Weighted)
	return b.String()
}

// RunNERMetrics names the figures as run_ner.py's compute_metrics does from
// Hugging Face evaluate's "seqeval" metric (the Trainer then prefixes
// "eval_"): precision, recall and f1 are the micro averages, accuracy the
// token accuracy. With entityLevel (run_ner's --return_entity_level_metrics)
// the keys are evaluate's flattened ones instead: overall_precision,
// overall_recall, overall_f1, overall_accuracy and, per type T,
// T_precision, T_recall, T_f1 and T_number (the support).
func RunNERMetrics(r *Report, accuracy float64, entityLevel bool) map[string]float64 {
	if !entityLevel {
		return map[string]float64{
			"precision": r.Micro.Precision, "recall": r.Micro.Recall, "f1": r.Micro.F1, "accuracy": accuracy,
		}
	}
	m := map[string]float64{
		"overall_precision": r.Micro.Precision, "overall_recall": r.Micro.Recall,
		"overall_f1": r.Micro.F1, "overall_accuracy": accuracy,
	}
	for _, t := range r.Types {
		m[t.Type+"_precision"] = t.Precision
		m[t.Type+"_recall"] = t.Recall
		m[t.Type+"_f1"] = t.F1
		m[t.Type+"_number"] = float64(t.Support)
	}
	return m
}
