package dataset

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ft/internal/fileio"
	"ft/tokenize"
)

// DataCheckSchema names the layout of DataCheck as JSON; it changes when a
// field changes meaning or goes away (new fields may be added).
const DataCheckSchema = "ft-data-check/1"

// ComparisonRule says how CheckData compares texts; the CLI prints it.
const ComparisonRule = `texts are compared after lower-casing and collapsing each run of white space to one space (leading and trailing space dropped); "byte-exact" counts compare the cells as written. ` +
	`A text is "contained" in another when its normalised form appears inside the other's, is shorter, and neither begins nor ends in the middle of a word (a word is a run of letters, digits and _ as \w in regular expressions): "bad movie" is inside "a bad movie .", "bad" is not inside "badly". ` +
	`For a sentence-pair file a row's text is its two texts together; containment is checked for single-text files only.`

// CheckOptions control CheckData.
type CheckOptions struct {
	// Read chooses the columns and the problem type, as for Read.
	// The evaluation file is read with the same options but its own label
	// map, so that labels the training file lacks are reported, not errors.
	Read ReadOptions
	// Tokenizer counts tokens (special tokens included, no truncation);
	// nil leaves out the length statistics. TokenizerName describes it in
	// the report.
	Tokenizer     *tokenize.Tokenizer
	TokenizerName string
	// MaxLength is the limit a training run truncates at (ft run
	// --max-length); rows longer than it are counted. 0 means 128.
	MaxLength int
	// Examples is how many examples each finding keeps (0 means 3;
	// negative means none).
	Examples int
}

// DataCheck is the report of CheckData; its JSON form is what
// `ft data check --json` prints (schema DataCheckSchema).
type DataCheck struct {
	Schema     string `json:"schema"`
	Comparison string `json:"comparison"`
	// Tokenizer names the tokenizer that counted tokens ("" when none).
	Tokenizer string     `json:"tokenizer,omitempty"`
	MaxLength int        `json:"max_length"`
	Train     *FileCheck `json:"train"`
	// Eval and Overlap are present when an evaluation file was given.
	Eval    *FileCheck    `json:"eval,omitempty"`
	Overlap *OverlapCheck `json:"overlap,omitempty"`
}

// FileCheck describes one file. Every count but Rows, EmptyText and
// EmptyLabel is over the checked rows: the rows that have a text (and a
// pair, for sentence pairs) and a label.
type FileCheck struct {
	Path           string `json:"path"`
	Format         string `json:"format"`
	Header         bool   `json:"header"` // the first row named the columns (always true for JSON lines)
	TextColumn     string `json:"text_column"`
	TextPairColumn string `json:"text_pair_column,omitempty"`
	LabelColumn    string `json:"label_column"`
	Problem        string `json:"problem_type"`
	// Rows is the number of data rows in the file (header excluded).
	Rows int `json:"rows"`
	// CheckedRows = Rows - EmptyText.Rows - EmptyLabel.Rows.
	CheckedRows int `json:"checked_rows"`
	// Labels: rows per class, in class-id order (classification; for
	// multi-label, rows that carry the class). NoLabelRows: multi-label rows
	// with an empty list.
	Labels      []LabelCount `json:"labels,omitempty"`
	NoLabelRows int          `json:"no_label_rows,omitempty"`
	// LabelsNotInTrain: classes of the evaluation file that the training
	// file never uses (eval only).
	LabelsNotInTrain []LabelCount `json:"labels_not_in_train,omitempty"`
	// Targets summarises regression targets.
	Targets *TargetStats `json:"targets,omitempty"`
	// Lengths are in tokens of CheckOptions.Tokenizer (absent without one).
	Lengths *LengthStats `json:"lengths,omitempty"`
	// EmptyText: rows whose text (or pair) is empty or only white space.
	// EmptyLabel: rows with a text but an empty label cell.
	EmptyText  Finding    `json:"empty_text"`
	EmptyLabel Finding    `json:"empty_label"`
	Duplicates Duplicates `json:"duplicates"`
	Conflicts  Conflicts  `json:"conflicts"`
}

// LabelCount is one class and its rows.
type LabelCount struct {
	Label    string  `json:"label"`
	Rows     int     `json:"rows"`
	Fraction float64 `json:"fraction"` // of the checked rows
}

// TargetStats summarise regression targets.
type TargetStats struct {
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
	Median float64 `json:"median"`
}

// LengthStats are row lengths in tokens, special tokens included, before
// truncation. Percentiles are nearest-rank: Pn is the smallest length that
// at least n% of the rows do not exceed.
type LengthStats struct {
	Min  int     `json:"min"`
	Mean float64 `json:"mean"`
	P50  int     `json:"p50"`
	P90  int     `json:"p90"`
	P95  int     `json:"p95"`
	P99  int     `json:"p99"`
	Max  int     `json:"max"`
	// Truncated counts the rows longer than MaxLength tokens: a training
	// run with that --max-length cuts them.
	MaxLength int `json:"max_length"`
	Truncated int `json:"truncated"`
	// Longest are the longest rows (with Tokens set), longest first.
	Longest []RowRef `json:"longest"`
}

// Finding is a count of rows with examples.
type Finding struct {
	Rows     int      `json:"rows"`
	Examples []RowRef `json:"examples"`
}

// RowRef points at one row of a file.
type RowRef struct {
	File   string `json:"file"`
	Line   int    `json:"line"` // 1-based line where the row starts
	Text   string `json:"text"` // as written (a pair as "text ||| pair")
	Label  string `json:"label"`
	Tokens int    `json:"tokens,omitempty"`
}

func (r RowRef) String() string { return fmt.Sprintf("%s:%d", r.File, r.Line) }

// Group is rows that share one normalised text.
type Group struct {
	Text string   `json:"text"`
	Rows []RowRef `json:"rows"`
}

// Duplicates are rows that repeat an earlier row of the same file: same
// normalised text and same label.
type Duplicates struct {
	// Rows counts the repeats (a text and label seen k times adds k-1);
	// Groups the distinct (text, label) that occur more than once.
	Rows   int `json:"rows"`
	Groups int `json:"groups"`
	// RowsByteExact counts the repeats when the text must match byte for byte.
	RowsByteExact int     `json:"rows_byte_exact"`
	Examples      []Group `json:"examples"`
}

// Conflicts are texts that occur with more than one label in one file.
type Conflicts struct {
	Texts int `json:"texts"` // distinct normalised texts with two or more labels
	Rows  int `json:"rows"`  // all rows of those texts
	// TextsByteExact counts texts with two or more labels among the rows
	// whose text is byte for byte the same.
	TextsByteExact int     `json:"texts_byte_exact"`
	Examples       []Group `json:"examples"`
}

// OverlapCheck compares the training and evaluation files.
type OverlapCheck struct {
	Exact ExactOverlap `json:"exact"`
	// TrainInEval: training texts inside longer evaluation texts;
	// EvalInTrain: the other way round. Nil for sentence-pair files (see
	// ContainmentSkipped).
	TrainInEval        *Containment `json:"train_in_eval,omitempty"`
	EvalInTrain        *Containment `json:"eval_in_train,omitempty"`
	ContainmentSkipped string       `json:"containment_skipped,omitempty"`
}

// ExactOverlap counts texts present in both files.
type ExactOverlap struct {
	Texts          int `json:"texts"`            // distinct normalised texts in both files
	TextsByteExact int `json:"texts_byte_exact"` // distinct texts in both, byte for byte
	TrainRows      int `json:"train_rows"`       // training rows whose text is in the evaluation file
	EvalRows       int `json:"eval_rows"`        // evaluation rows whose text is in the training file
	// LabelDisagree counts the shared texts whose set of labels differs
	// between the files.
	LabelDisagree int     `json:"label_disagree"`
	Examples      []Group `json:"examples"`
}

// Containment counts texts of one file (inner) that appear inside longer
// texts of the other (outer).
type Containment struct {
	InnerTexts int         `json:"inner_texts"` // distinct inner texts found inside an outer text
	InnerRows  int         `json:"inner_rows"`  // rows of the inner file with such a text
	OuterRows  int         `json:"outer_rows"`  // rows of the outer file whose text contains at least one inner text
	Examples   []Contained `json:"examples"`    // the longest inner texts found, each with one outer row
}

// Contained is one inner row and an outer row that contains its text.
type Contained struct {
	Inner RowRef `json:"inner"`
	Outer RowRef `json:"outer"`
}

// NormalizeText is the comparison form of a text (see ComparisonRule):
// lower-cased, white-space runs collapsed to one space, trimmed.
func NormalizeText(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(s)), " ")
}

// checkRow is a checked row.
type checkRow struct {
	ref   RowRef
	norm  string // normalised text (and pair)
	raw   string // text (and pair) as written
	label string // canonical label: class name, sorted names, or target
}

// checkFile holds a file read for checking.
type checkFile struct {
	d    *Dataset
	fc   *FileCheck
	rows []checkRow
}

// CheckData reads a training file and, when evalPath is not "", an
// evaluation file, and reports on their rows, labels, lengths, duplicates,
// conflicting labels and the overlap between them.
func CheckData(trainPath, evalPath string, opt CheckOptions) (*DataCheck, error) {
	if opt.MaxLength == 0 {
		opt.MaxLength = 128
	}
	if opt.MaxLength < 0 {
		return nil, fmt.Errorf("max length %d must be positive", opt.MaxLength)
	}
	if opt.Examples == 0 {
		opt.Examples = 3
	}
	if opt.Examples < 0 {
		opt.Examples = 0
	}
	rep := &DataCheck{Schema: DataCheckSchema, Comparison: ComparisonRule, Tokenizer: opt.TokenizerName, MaxLength: opt.MaxLength}
	if opt.Tokenizer == nil {
		rep.Tokenizer = ""
	}
	train, err := readCheckFile(trainPath, opt.Read, &opt)
	if err != nil {
		return nil, err
	}
	rep.Train = train.fc
	if evalPath == "" {
		rep.emptyLists()
		return rep, nil
	}
	eo := opt.Read
	eo.Labels = nil
	eo.Problem = train.d.Problem
	eval, err := readCheckFile(evalPath, eo, &opt)
	if err != nil {
		return nil, err
	}
	rep.Eval = eval.fc
	if train.d.Labels != nil && eval.d.Labels != nil {
		used := map[string]bool{}
		for _, lc := range train.fc.Labels {
			used[lc.Label] = lc.Rows > 0
		}
		for _, lc := range eval.fc.Labels {
			if !used[lc.Label] && lc.Rows > 0 {
				rep.Eval.LabelsNotInTrain = append(rep.Eval.LabelsNotInTrain, lc)
			}
		}
	}
	rep.Overlap = dcOverlap(train, eval, &opt)
	rep.emptyLists()
	return rep, nil
}

// emptyLists makes every examples list non-nil, so JSON has [] not null.
func (r *DataCheck) emptyLists() {
	fix := func(f *FileCheck) {
		if f == nil {
			return
		}
		for _, l := range []*[]RowRef{&f.EmptyText.Examples, &f.EmptyLabel.Examples} {
			if *l == nil {
				*l = []RowRef{}
			}
		}
		if f.Lengths != nil && f.Lengths.Longest == nil {
			f.Lengths.Longest = []RowRef{}
		}
		for _, l := range []*[]Group{&f.Duplicates.Examples, &f.Conflicts.Examples} {
			if *l == nil {
				*l = []Group{}
			}
		}
	}
	fix(r.Train)
	fix(r.Eval)
	if o := r.Overlap; o != nil {
		if o.Exact.Examples == nil {
			o.Exact.Examples = []Group{}
		}
		for _, c := range []*Containment{o.TrainInEval, o.EvalInTrain} {
			if c != nil && c.Examples == nil {
				c.Examples = []Contained{}
			}
		}
	}
}

// readCheckFile reads a file as Read does, but sets rows with an
// empty text or label aside (as findings) instead of failing on them.
func readCheckFile(path string, ro ReadOptions, opt *CheckOptions) (*checkFile, error) {
	data, err := fileio.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	ro.Unlabeled = false
	d, rows, err := parseRows(path, data, &ro)
	if err != nil {
		return nil, err
	}
	fc := &FileCheck{Path: path, Format: string(d.Format), Header: d.HasHeader, TextColumn: d.TextColumn, TextPairColumn: d.TextPairColumn, LabelColumn: d.LabelColumn, Rows: len(rows)}
	ref := func(r rawRow) RowRef {
		return RowRef{File: path, Line: r.line, Text: joinPair(r.cells[0], r.cells[1], d.TextPairColumn != ""), Label: r.cells[2]}
	}
	keep := make([]rawRow, 0, len(rows))
	for _, r := range rows {
		switch {
		case strings.TrimSpace(r.cells[0]) == "" || (d.TextPairColumn != "" && strings.TrimSpace(r.cells[1]) == ""):
			fc.EmptyText.Rows++
			if len(fc.EmptyText.Examples) < opt.Examples {
				fc.EmptyText.Examples = append(fc.EmptyText.Examples, ref(r))
			}
		case strings.TrimSpace(r.cells[2]) == "":
			fc.EmptyLabel.Rows++
			if len(fc.EmptyLabel.Examples) < opt.Examples {
				fc.EmptyLabel.Examples = append(fc.EmptyLabel.Examples, ref(r))
			}
		default:
			keep = append(keep, r)
		}
	}
	if len(keep) == 0 {
		return nil, fmt.Errorf("%s: no row has both a text and a label (%d rows, %d with an empty text, %d with an empty label)", path, len(rows), fc.EmptyText.Rows, fc.EmptyLabel.Rows)
	}
	if err := d.fill(keep, &ro); err != nil {
		return nil, err
	}
	fc.Problem = d.Problem.String()
	fc.CheckedRows = len(d.Examples)
	cf := &checkFile{d: d, fc: fc, rows: make([]checkRow, len(d.Examples))}
	pair := d.TextPairColumn != ""
	for i, ex := range d.Examples {
		r := &cf.rows[i]
		r.raw = joinPair(ex.Text, ex.TextPair, pair)
		r.norm = NormalizeText(ex.Text)
		if pair {
			r.norm += "\t" + NormalizeText(ex.TextPair) // a tab never survives NormalizeText
		}
		switch d.Problem {
		case SingleLabel:
			r.label = d.Labels.Name(ex.Label)
		case MultiLabel:
			names := make([]string, len(ex.Labels))
			for j, id := range ex.Labels {
				names[j] = d.Labels.Name(id)
			}
			r.label = "[" + strings.Join(names, ",") + "]"
		case Regression:
			r.label = strconv.FormatFloat(ex.Target, 'g', -1, 64)
		}
		r.ref = RowRef{File: path, Line: ex.Line, Text: r.raw, Label: r.label}
	}
	cf.balance()
	if opt.Tokenizer != nil {
		if err := cf.lengths(opt); err != nil {
			return nil, err
		}
	}
	cf.duplicates(opt.Examples)
	return cf, nil
}

func joinPair(a, b string, pair bool) string {
	if pair {
		return a + " ||| " + b
	}
	return a
}

// balance fills Labels / Targets.
func (cf *checkFile) balance() {
	d, fc := cf.d, cf.fc
	n := float64(len(d.Examples))
	switch d.Problem {
	case SingleLabel, MultiLabel:
		counts := make([]int, d.Labels.Len())
		for _, ex := range d.Examples {
			if d.Problem == SingleLabel {
				counts[ex.Label]++
				continue
			}
			if len(ex.Labels) == 0 {
				fc.NoLabelRows++
			}
			for _, id := range ex.Labels {
				counts[id]++
			}
		}
		for id, c := range counts {
			fc.Labels = append(fc.Labels, LabelCount{Label: d.Labels.Name(id), Rows: c, Fraction: float64(c) / n})
		}
	case Regression:
		v := make([]float64, len(d.Examples))
		sum := 0.0
		for i, ex := range d.Examples {
			v[i] = ex.Target
			sum += ex.Target
		}
		sort.Float64s(v)
		med := v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		fc.Targets = &TargetStats{Min: v[0], Max: v[len(v)-1], Mean: sum / n, Median: med}
	}
}

// lengths tokenizes every checked row without truncation.
func (cf *checkFile) lengths(opt *CheckOptions) error {
	d := cf.d
	n := len(d.Examples)
	lens := make([]int, n)
	const chunk = 4096
	idx := make([]int, 0, chunk)
	for start := 0; start < n; start += chunk {
		idx = idx[:0]
		for i := start; i < min(n, start+chunk); i++ {
			idx = append(idx, i)
		}
		texts, pairs := d.Texts(idx)
		enc, err := opt.Tokenizer.EncodeBatch(texts, pairs, tokenize.Options{Truncation: tokenize.DoNotTruncate, Padding: tokenize.DoNotPad})
		if err != nil {
			return fmt.Errorf("%s: %v", d.Path, err)
		}
		for k, ids := range enc.InputIDs {
			lens[start+k] = len(ids)
		}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return lens[order[a]] < lens[order[b]] })
	rank := func(p float64) int { // nearest rank
		k := int(math.Ceil(p/100*float64(n))) - 1
		return lens[order[max(0, min(n-1, k))]]
	}
	ls := &LengthStats{Min: lens[order[0]], Max: lens[order[n-1]], P50: rank(50), P90: rank(90), P95: rank(95), P99: rank(99), MaxLength: opt.MaxLength}
	sum := 0
	for _, l := range lens {
		sum += l
		if l > opt.MaxLength {
			ls.Truncated++
		}
	}
	ls.Mean = float64(sum) / float64(n)
	// longest first; among equals the earliest row first
	for k := n - 1; k >= 0 && len(ls.Longest) < opt.Examples; {
		j := k
		for j > 0 && lens[order[j-1]] == lens[order[k]] {
			j--
		}
		for i := j; i <= k && len(ls.Longest) < opt.Examples; i++ {
			r := cf.rows[order[i]].ref
			r.Tokens = lens[order[i]]
			ls.Longest = append(ls.Longest, r)
		}
		k = j - 1
	}
	cf.fc.Lengths = ls
	return nil
}

// duplicates fills Duplicates and Conflicts.
func (cf *checkFile) duplicates(nex int) {
	fc := cf.fc
	type textGroup struct {
		rows   []int // row indexes, file order
		labels map[string]int
	}
	byNorm := map[string]*textGroup{}
	var order []string
	for i, r := range cf.rows {
		g := byNorm[r.norm]
		if g == nil {
			g = &textGroup{labels: map[string]int{}}
			byNorm[r.norm] = g
			order = append(order, r.norm)
		}
		g.rows = append(g.rows, i)
		g.labels[r.label]++
	}
	for _, key := range order {
		g := byNorm[key]
		for _, c := range g.labels {
			if c > 1 {
				fc.Duplicates.Rows += c - 1
				fc.Duplicates.Groups++
			}
		}
		if len(g.labels) > 1 {
			fc.Conflicts.Texts++
			fc.Conflicts.Rows += len(g.rows)
			if len(fc.Conflicts.Examples) < nex {
				fc.Conflicts.Examples = append(fc.Conflicts.Examples, cf.group(g.rows, nex+2))
			}
		}
		if len(g.rows) > 1 && len(fc.Duplicates.Examples) < nex {
			// the first label of the group that repeats
			for _, i := range g.rows {
				if g.labels[cf.rows[i].label] > 1 {
					var same []int
					for _, j := range g.rows {
						if cf.rows[j].label == cf.rows[i].label {
							same = append(same, j)
						}
					}
					fc.Duplicates.Examples = append(fc.Duplicates.Examples, cf.group(same, nex+2))
					break
				}
			}
		}
	}
	// byte-exact
	type rawKey struct{ raw, label string }
	seen := map[rawKey]bool{}
	rawLabels := map[string]string{}
	rawConflict := map[string]bool{}
	for _, r := range cf.rows {
		k := rawKey{r.raw, r.label}
		if seen[k] {
			fc.Duplicates.RowsByteExact++
		}
		seen[k] = true
		if l, ok := rawLabels[r.raw]; !ok {
			rawLabels[r.raw] = r.label
		} else if l != r.label {
			rawConflict[r.raw] = true
		}
	}
	fc.Conflicts.TextsByteExact = len(rawConflict)
}

// group makes an example group of up to max rows.
func (cf *checkFile) group(rows []int, max int) Group {
	g := Group{Text: cf.rows[rows[0]].raw}
	for _, i := range rows {
		if len(g.Rows) == max {
			break
		}
		g.Rows = append(g.Rows, cf.rows[i].ref)
	}
	return g
}

// texts returns the distinct normalised texts in order of first row, and
// the rows of each.
func (cf *checkFile) texts() ([]string, map[string][]int) {
	rows := map[string][]int{}
	var order []string
	for i, r := range cf.rows {
		if _, ok := rows[r.norm]; !ok {
			order = append(order, r.norm)
		}
		rows[r.norm] = append(rows[r.norm], i)
	}
	return order, rows
}

func dcOverlap(train, eval *checkFile, opt *CheckOptions) *OverlapCheck {
	oc := &OverlapCheck{}
	tOrder, tRows := train.texts()
	eOrder, eRows := eval.texts()
	ex := &oc.Exact
	for _, s := range eOrder {
		tr, ok := tRows[s]
		if !ok {
			continue
		}
		er := eRows[s]
		ex.Texts++
		ex.TrainRows += len(tr)
		ex.EvalRows += len(er)
		tl, el := map[string]bool{}, map[string]bool{}
		for _, i := range tr {
			tl[train.rows[i].label] = true
		}
		for _, i := range er {
			el[eval.rows[i].label] = true
		}
		same := len(tl) == len(el)
		for l := range tl {
			same = same && el[l]
		}
		if !same {
			ex.LabelDisagree++
		}
		if len(ex.Examples) < opt.Examples {
			g := Group{Text: eval.rows[er[0]].raw}
			for _, i := range tr[:min(len(tr), 2)] {
				g.Rows = append(g.Rows, train.rows[i].ref)
			}
			for _, i := range er[:min(len(er), 2)] {
				g.Rows = append(g.Rows, eval.rows[i].ref)
			}
			ex.Examples = append(ex.Examples, g)
		}
	}
	rawTrain := map[string]bool{}
	for _, r := range train.rows {
		rawTrain[r.raw] = true
	}
	rawBoth := map[string]bool{}
	for _, r := range eval.rows {
		if rawTrain[r.raw] {
			rawBoth[r.raw] = true
		}
	}
	ex.TextsByteExact = len(rawBoth)
	if train.d.TextPairColumn != "" || eval.d.TextPairColumn != "" {
		oc.ContainmentSkipped = "sentence-pair data: only exact overlap is checked"
		return oc
	}
	syms := map[string]int32{" ": 0}
	tTok := make([][]int32, len(tOrder))
	for i, s := range tOrder {
		tTok[i] = dcWordTokens(s, syms)
	}
	eTok := make([][]int32, len(eOrder))
	for i, s := range eOrder {
		eTok[i] = dcWordTokens(s, syms)
	}
	oc.TrainInEval = dcContainment(train, tOrder, tRows, tTok, eval, eOrder, eRows, eTok, opt.Examples)
	oc.EvalInTrain = dcContainment(eval, eOrder, eRows, eTok, train, tOrder, tRows, tTok, opt.Examples)
	return oc
}

// containment finds the inner file's texts inside the outer file's.
func dcContainment(inner *checkFile, iOrder []string, iRows map[string][]int, iTok [][]int32,
	outer *checkFile, oOrder []string, oRows map[string][]int, oTok [][]int32, nex int) *Containment {
	found, contains := findContained(iTok, oTok)
	c := &Containment{}
	var hits []int
	for p, h := range found {
		if h < 0 {
			continue
		}
		c.InnerTexts++
		c.InnerRows += len(iRows[iOrder[p]])
		hits = append(hits, p)
	}
	for h, ok := range contains {
		if ok {
			c.OuterRows += len(oRows[oOrder[h]])
		}
	}
	// examples: the longest inner texts (most tokens), earliest first among equals
	sort.SliceStable(hits, func(a, b int) bool { return len(iTok[hits[a]]) > len(iTok[hits[b]]) })
	for _, p := range hits[:min(len(hits), nex)] {
		c.Examples = append(c.Examples, Contained{
			Inner: inner.rows[iRows[iOrder[p]][0]].ref,
			Outer: outer.rows[oRows[oOrder[found[p]]][0]].ref,
		})
	}
	return c
}

// dcWordRune: letters, numbers and '_' (regular expressions' \w).
func dcWordRune(r rune) bool {
	return r == '_' || unicode.IsLetter(r) || unicode.IsNumber(r)
}

// dcWordTokens splits a normalised text into symbols: each run of word runes,
// each single space and each other rune is one symbol (so a match of whole
// symbols never cuts a word). New symbols are added to syms.
func dcWordTokens(s string, syms map[string]int32) []int32 {
	var out []int32
	emit := func(t string) {
		id, ok := syms[t]
		if !ok {
			id = int32(len(syms))
			syms[t] = id
		}
		out = append(out, id)
	}
	start := -1
	for i, r := range s {
		if dcWordRune(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			emit(s[start:i])
			start = -1
		}
		emit(string(r))
	}
	if start >= 0 {
		emit(s[start:])
	}
	return out
}

// findContained reports, for each pattern, the first haystack (index) that
// contains it as a proper part (a shorter run of whole symbols), or -1; and
// for each haystack whether it contains any pattern so. Patterns and
// haystacks are each distinct and non-empty. It runs an Aho-Corasick
// automaton over the symbols: time linear in the total length of patterns
// and haystacks (each pattern is reported once, so matches are not
// enumerated one by one).
func findContained(patterns, haystacks [][]int32) (found []int, contains []bool) {
	t := newAC(patterns)
	found = make([]int, len(patterns))
	for i := range found {
		found[i] = -1
	}
	contains = make([]bool, len(haystacks))
	for h, hay := range haystacks {
		s := int32(0)
		for pos, a := range hay {
			s = t.step(s, a)
			for o := t.out[s]; o >= 0; o = t.out[t.fail[o]] {
				p := t.pat[o]
				if int(t.depth[o]) == len(hay) && pos == len(hay)-1 {
					continue // the pattern is the whole haystack: equal, not contained
				}
				contains[h] = true
				if found[p] >= 0 {
					// every pattern further down this chain was reported
					// when this one was
					break
				}
				found[p] = h
			}
		}
	}
	return found, contains
}

// ac is an Aho-Corasick automaton over int32 symbols.
type ac struct {
	child       map[uint64]int32
	first, next []int32 // first child, next sibling
	sym         []int32
	fail, out   []int32 // out: nearest node ending a pattern on the fail chain (self included), -1 if none
	pat, depth  []int32
}

func acKey(node, sym int32) uint64 { return uint64(uint32(node))<<32 | uint64(uint32(sym)) }

func newAC(patterns [][]int32) *ac {
	t := &ac{child: map[uint64]int32{}}
	newNode := func(sym, depth int32) int32 {
		t.first = append(t.first, -1)
		t.next = append(t.next, -1)
		t.sym = append(t.sym, sym)
		t.pat = append(t.pat, -1)
		t.depth = append(t.depth, depth)
		return int32(len(t.sym) - 1)
	}
	newNode(-1, 0)
	for p, pt := range patterns {
		s := int32(0)
		for _, a := range pt {
			c, ok := t.child[acKey(s, a)]
			if !ok {
				c = newNode(a, t.depth[s]+1)
				t.child[acKey(s, a)] = c
				t.next[c] = t.first[s]
				t.first[s] = c
			}
			s = c
		}
		t.pat[s] = int32(p)
	}
	n := len(t.sym)
	t.fail = make([]int32, n)
	t.out = make([]int32, n)
	t.out[0] = -1
	// breadth-first order: a node's fail link needs its parent's
	queue := make([]int32, 0, n)
	parent := make([]int32, n)
	queue = append(queue, 0)
	for qi := 0; qi < len(queue); qi++ {
		u := queue[qi]
		for c := t.first[u]; c >= 0; c = t.next[c] {
			parent[c] = u
			queue = append(queue, c)
		}
	}
	queue = queue[1:]
	for _, v := range queue {
		u := parent[v]
		if u == 0 {
			t.fail[v] = 0
		} else {
			a := t.sym[v]
			f := t.fail[u]
			for {
				if c, ok := t.child[acKey(f, a)]; ok {
					t.fail[v] = c
					break
				}
				if f == 0 {
					t.fail[v] = 0
					break
				}
				f = t.fail[f]
			}
		}
		if t.pat[v] >= 0 {
			t.out[v] = v
		} else {
			t.out[v] = t.out[t.fail[v]]
		}
	}
	return t
}

// step follows symbol a from state s.
func (t *ac) step(s, a int32) int32 {
	if a < 0 {
		return 0
	}
	for {
		if c, ok := t.child[acKey(s, a)]; ok {
			return c
		}
		if s == 0 {
			return 0
		}
		s = t.fail[s]
	}
}

// ContainedAt returns the byte offset in NormalizeText(outer) where
// NormalizeText(inner) appears without beginning or ending inside a word
// (the rule of ComparisonRule), or -1.
func ContainedAt(outer, inner string) int {
	o, in := NormalizeText(outer), NormalizeText(inner)
	if in == "" {
		return -1
	}
	for off := 0; off <= len(o)-len(in); {
		i := strings.Index(o[off:], in)
		if i < 0 {
			return -1
		}
		i += off
		j := i + len(in)
		first, _ := utf8.DecodeRuneInString(in)
		last, _ := utf8.DecodeLastRuneInString(in)
		before, _ := utf8.DecodeLastRuneInString(o[:i])
		after, _ := utf8.DecodeRuneInString(o[j:])
		if !(i > 0 && dcWordRune(before) && dcWordRune(first)) && !(j < len(o) && dcWordRune(after) && dcWordRune(last)) {
			return i
		}
		_, size := utf8.DecodeRuneInString(o[i:])
		off = i + size
	}
	return -1
}
