package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"ft/internal/fileio"
	"ft/tensor"
)

// Format is the layout of a data file.
type Format string

// The data file formats ft reads.
const (
	FormatCSV   Format = "csv"
	FormatTSV   Format = "tsv"
	FormatJSONL Format = "jsonl"
)

// FormatOf picks the format from a file name's extension: .csv; .tsv or
// .tab; .jsonl, .ndjson or .json (JSON lines, one object per line, as
// Hugging Face datasets' "json" loader reads them).
func FormatOf(path string) (Format, error) {
	ext := filepath.Ext(path)
	if f, err := ParseFormat(strings.TrimPrefix(ext, ".")); err == nil && ext != "" {
		return f, nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension %q: name the file .csv, .tsv or .jsonl, or set the format", path, ext)
}

// ParseFormat reads a format name, in any case: "csv"; "tsv" or "tab";
// "jsonl", "ndjson" or "json" (all JSON lines).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "csv":
		return FormatCSV, nil
	case "tsv", "tab":
		return FormatTSV, nil
	case "jsonl", "json", "ndjson":
		return FormatJSONL, nil
	}
	return "", fmt.Errorf("unknown data format %q (want csv, tsv or jsonl)", s)
}

// HeaderMode says whether the first row of a CSV or TSV file names the columns.
type HeaderMode int

// Header modes.
const (
	// HeaderAuto decides from the first row: it is a header when it holds
	// one of the column names asked for (or a default name); otherwise it is
	// data when its label cell looks like a label (a number, a JSON list, a
	// label of the given label map, or a value seen in the label column of
	// another row) or when one of its cells is longer than 64 bytes, and a
	// header if not.
	HeaderAuto HeaderMode = iota
	// HeaderPresent: the first row names the columns.
	HeaderPresent
	// HeaderAbsent: every row is data; columns are numbered 0, 1, ...
	HeaderAbsent
)

// ProblemType is the kind of task, named as in Hugging Face configs
// (config.problem_type).
type ProblemType int

// Problem types.
const (
	// ProblemAuto detects the type from the labels: a JSON list in a label
	// cell means multi-label, numbers that are not all integers mean
	// regression, anything else single-label classification.
	ProblemAuto ProblemType = iota
	SingleLabel
	MultiLabel
	Regression
)

func (p ProblemType) String() string {
	switch p {
	case SingleLabel:
		return "single_label_classification"
	case MultiLabel:
		return "multi_label_classification"
	case Regression:
		return "regression"
	}
	return "auto"
}

// ParseProblemType reads a Hugging Face problem_type name (or a short form:
// "single", "multi", "multi_label", "regression", "auto", "").
func ParseProblemType(s string) (ProblemType, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "auto":
		return ProblemAuto, nil
	case "single_label_classification", "single_label", "single", "classification":
		return SingleLabel, nil
	case "multi_label_classification", "multi_label", "multi", "multilabel":
		return MultiLabel, nil
	case "regression":
		return Regression, nil
	}
	return ProblemAuto, fmt.Errorf("unknown problem type %q (want single_label_classification, multi_label_classification or regression)", s)
}

// ReadOptions control Read. The zero value reads a training file
// with every choice made automatically.
type ReadOptions struct {
	// Format overrides the format the extension gives.
	Format Format
	// Header says whether a CSV/TSV file has a header row (default: detect).
	Header HeaderMode
	// TextColumn, TextPairColumn and LabelColumn choose columns by name, or
	// by 0-based index for a file without a header. Empty: TextColumn is
	// "text", else "sentence", else "sentence1"; TextPairColumn is
	// "text_pair" or "sentence2" when present (else none); LabelColumn is
	// "label", else "labels". Without a header the defaults are text = 0,
	// label = the last column.
	TextColumn, TextPairColumn, LabelColumn string
	// Problem forces the problem type (default: detect, see ProblemAuto).
	// Comma-separated multi-label cells ("a,b") need MultiLabel set here; a
	// JSON list (["a","b"]) is detected.
	Problem ProblemType
	// Labels is a fixed label map (an evaluation file reads with the
	// training file's map): a label outside it is an error.
	Labels *LabelMap
	// ID2Label is the model's id2label from config.json (index = id). The
	// training file uses it when every label of the file is one of its names,
	// or when every label is an integer id below len(ID2Label); otherwise the
	// map is built from the file.
	ID2Label []string
	// MultiLabelSeparator splits a multi-label cell that is not a JSON list
	// (default ",").
	MultiLabelSeparator string
	// Unlabeled reads texts only (for prediction): no label column is needed.
	Unlabeled bool
}

// Example is one row.
type Example struct {
	Text     string
	TextPair string // "" without a pair column
	// Label is the class id (single-label classification).
	Label int
	// Labels are the class ids present, ascending (multi-label).
	Labels []int
	// Target is the regression target.
	Target float64
	// Line is the 1-based line of the file where the row starts.
	Line int
}

// Dataset is a labelled text file read into memory.
type Dataset struct {
	Path   string
	Format Format
	// HasHeader reports whether the first row named the columns (CSV/TSV);
	// always true for JSON lines.
	HasHeader bool
	// Columns are the file's column names, or "0", "1", ... without a header.
	Columns []string
	// TextColumn, TextPairColumn and LabelColumn are the columns used ("" for
	// none), as a CLI should report them.
	TextColumn, TextPairColumn, LabelColumn string
	Problem                                 ProblemType
	// Labels maps label names to class ids (nil for regression and for
	// unlabeled data).
	Labels   *LabelMap
	Examples []Example
	// Warnings are findings that do not stop the reading, one line each
	// naming the file and line (e.g. a quoted field that swallowed rows).
	Warnings []string
}

// Len returns the number of examples.
func (d *Dataset) Len() int { return len(d.Examples) }

// Summary is a one-line description of what was read and how, e.g.
// `train.tsv: 60614 rows (tsv, header), text="sentence" label="label", single_label_classification, 2 labels from the file: 0, 1`.
func (d *Dataset) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d rows (%s", d.Path, len(d.Examples), d.Format)
	if d.Format != FormatJSONL {
		if d.HasHeader {
			b.WriteString(", header")
		} else {
			b.WriteString(", no header")
		}
	}
	fmt.Fprintf(&b, "), text=%q", d.TextColumn)
	if d.TextPairColumn != "" {
		fmt.Fprintf(&b, " text_pair=%q", d.TextPairColumn)
	}
	if d.LabelColumn != "" {
		fmt.Fprintf(&b, " label=%q, %s", d.LabelColumn, d.Problem)
	}
	if d.Labels != nil {
		fmt.Fprintf(&b, ", %d labels from %s: %s", d.Labels.Len(), d.Labels.Source, d.Labels.list(12))
	}
	var unused []string
	for _, c := range d.Columns {
		if c != d.TextColumn && c != d.TextPairColumn && c != d.LabelColumn {
			unused = append(unused, c)
		}
	}
	if len(unused) > 0 {
		fmt.Fprintf(&b, "; unused columns: %s", strings.Join(unused, ", "))
	}
	return b.String()
}

// Texts returns the texts (and pairs, nil without a pair column) of the
// given rows, in order.
func (d *Dataset) Texts(idx []int) (texts, pairs []string) {
	texts = make([]string, len(idx))
	if d.TextPairColumn != "" {
		pairs = make([]string, len(idx))
	}
	for i, j := range idx {
		texts[i] = d.Examples[j].Text
		if pairs != nil {
			pairs[i] = d.Examples[j].TextPair
		}
	}
	return texts, pairs
}

// LabelTensor returns the targets of the given rows in the form the
// problem's loss takes: int64 class ids [B] (single-label), float32 multi-hot
// [B, numLabels] (multi-label) or float32 targets [B] (regression).
func (d *Dataset) LabelTensor(idx []int) (*tensor.Tensor, error) {
	switch d.Problem {
	case SingleLabel:
		ids := make([]int64, len(idx))
		for i, j := range idx {
			ids[i] = int64(d.Examples[j].Label)
		}
		return tensor.New([]int{len(idx)}, ids), nil
	case MultiLabel:
		k := d.Labels.Len()
		hot := make([]float32, len(idx)*k)
		for i, j := range idx {
			for _, c := range d.Examples[j].Labels {
				hot[i*k+c] = 1
			}
		}
		return tensor.New([]int{len(idx), k}, hot), nil
	case Regression:
		v := make([]float32, len(idx))
		for i, j := range idx {
			v[i] = float32(d.Examples[j].Target)
		}
		return tensor.New([]int{len(idx)}, v), nil
	}
	return nil, fmt.Errorf("%s: the data has no labels", d.Path)
}

// LabelMap maps label names to class ids 0..N-1.
type LabelMap struct {
	// Names[id] is the name of class id.
	Names []string
	// Source tells where the map came from: "config.json id2label" or
	// "the training file".
	Source string
	ids    map[string]int
	// byIndex: integer labels in files are ids into Names (the model's
	// id2label names classes whose files number them).
	byIndex bool
}

// Label-map sources.
const (
	SourceConfig = "config.json id2label"
	SourceFile   = "the training file"
)

// NewLabelMap makes a map whose class id i is names[i].
func NewLabelMap(names []string, source string) (*LabelMap, error) {
	m := &LabelMap{Names: append([]string(nil), names...), Source: source, ids: make(map[string]int, len(names))}
	for i, n := range names {
		if _, dup := m.ids[n]; dup {
			return nil, fmt.Errorf("label %q appears twice in the label map", n)
		}
		m.ids[n] = i
	}
	return m, nil
}

// Len returns the number of classes.
func (m *LabelMap) Len() int { return len(m.Names) }

// Name returns the name of class id.
func (m *LabelMap) Name(id int) string { return m.Names[id] }

// ID returns the class id of a label as written in a data file.
func (m *LabelMap) ID(label string) (int, bool) {
	if id, ok := m.ids[label]; ok {
		return id, true
	}
	if m.byIndex {
		if id, err := strconv.Atoi(label); err == nil && id >= 0 && id < len(m.Names) {
			return id, true
		}
	}
	return 0, false
}

// ID2Label returns the map as config.json writes it ({"0": "neg", ...}).
func (m *LabelMap) ID2Label() map[string]string {
	r := make(map[string]string, len(m.Names))
	for i, n := range m.Names {
		r[strconv.Itoa(i)] = n
	}
	return r
}

// Label2ID returns the map as config.json writes label2id.
func (m *LabelMap) Label2ID() map[string]int {
	r := make(map[string]int, len(m.Names))
	for i, n := range m.Names {
		r[n] = i
	}
	return r
}

// list prints up to max names.
func (m *LabelMap) list(max int) string {
	if len(m.Names) <= max {
		return columnNameList(m.Names)
	}
	return columnNameList(m.Names[:max]) + fmt.Sprintf(", ... (%d in all)", len(m.Names))
}

// ID2LabelNames turns config.json's id2label object ({"0": "neg", "1":
// "pos"}) into a slice indexed by id; ids must be 0..N-1.
func ID2LabelNames(id2label map[string]string) ([]string, error) {
	names := make([]string, len(id2label))
	seen := make([]bool, len(id2label))
	for k, v := range id2label {
		id, err := strconv.Atoi(k)
		if err != nil || id < 0 || id >= len(names) || seen[id] {
			return nil, fmt.Errorf("id2label: key %q is not one of the ids 0..%d", k, len(names)-1)
		}
		names[id], seen[id] = v, true
	}
	return names, nil
}

// rawRow is one record as read, before columns are chosen.
type rawRow struct {
	line  int
	cells []string                   // CSV/TSV
	obj   map[string]json.RawMessage // JSON lines
	// quoteFrom and quoteTo are the lines a quoted field of the record
	// that holds a line break starts and ends on (0: none).
	quoteFrom, quoteTo int
}

// Read reads a labelled CSV, TSV or JSON-lines file.
func Read(path string, opt ReadOptions) (*Dataset, error) {
	data, err := fileio.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, opt)
}

// Parse reads a data file's contents; path names it in errors and
// gives the format when opt.Format is empty.
func Parse(path string, data []byte, opt ReadOptions) (*Dataset, error) {
	d, rows, err := parseRows(path, data, &opt)
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: the file has a header but no examples", path)
	}
	if err := d.fill(rows, &opt); err != nil {
		return nil, err
	}
	return d, nil
}

// parseRows does the steps every reader shares: the format (opt.Format or
// the extension), the byte order mark, UTF-8, emptiness, the columns; it
// returns the dataset with its columns chosen and the raw rows, labels not
// yet mapped.
func parseRows(path string, data []byte, opt *ReadOptions) (*Dataset, []rawRow, error) {
	format := opt.Format
	if format == "" {
		f, err := FormatOf(path)
		if err != nil {
			return nil, nil, err
		}
		format = f
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a UTF-8 byte order mark
	if err := checkUTF8(path, data); err != nil {
		return nil, nil, err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, fmt.Errorf("%s: the file is empty: it needs one example per line", path)
	}
	d := &Dataset{Path: path, Format: format}
	var rows []rawRow
	switch format {
	case FormatCSV, FormatTSV:
		delim := byte(',')
		if format == FormatTSV {
			delim = '\t'
		}
		recs, err := parseDelimited(path, data, delim)
		if err != nil {
			return nil, nil, err
		}
		if len(recs) == 0 {
			return nil, nil, fmt.Errorf("%s: the file is empty: it needs one example per line", path)
		}
		if rows, err = d.columnsDelimited(recs, opt); err != nil {
			return nil, nil, err
		}
	case FormatJSONL:
		var err error
		if rows, err = d.columnsJSONL(data, opt); err != nil {
			return nil, nil, err
		}
	default:
		return nil, nil, fmt.Errorf("%s: unknown data format %q", path, format)
	}
	return d, rows, nil
}

// checkUTF8 refuses a file that is not UTF-8 text, naming the line and
// column (1-based, in bytes) of the first bad byte.
func checkUTF8(path string, data []byte) error {
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return fmt.Errorf("%s:1: the file is UTF-16 text; save it as UTF-8 (iconv -f utf-16 -t utf-8)", path)
	}
	if utf8.Valid(data) {
		return nil
	}
	line, col := 1, 1
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return fmt.Errorf("%s:%d: byte 0x%02x at column %d is not UTF-8; save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)", path, line, data[i], col)
		}
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col += n
		}
		i += n
	}
	return nil
}

// parseDelimited splits CSV or TSV text into records as Python's csv module
// does (quote character '"', doubled quotes inside a quoted field, quoted
// fields may hold delimiters and line breaks; text after a closing quote is
// kept). Blank lines are skipped. Each record keeps the line it starts on.
func parseDelimited(path string, data []byte, delim byte) ([]rawRow, error) {
	p := delimParser{data: data, delim: delim, line: 1, start: 1}
	for p.i = 0; p.i < len(data); p.i++ {
		c := data[p.i]
		switch p.state {
		case startRecord:
			p.startRecord(c)
		case startField:
			p.startField(c)
		case inField:
			p.inField(c)
		case inQuoted:
			p.inQuoted(c)
		case quoteInQuoted:
			if err := p.quoteInQuoted(path, c); err != nil {
				return nil, err
			}
		}
	}
	switch p.state {
	case inQuoted:
		return nil, fmt.Errorf("%s:%d: a field opens a quote (\") that never closes; quote the whole field and double the quotes inside it (\"\"), or remove the quote", path, p.quoteLine)
	case startRecord:
	default:
		p.endRecord()
	}
	return p.recs, nil
}

// The states of parseDelimited's machine.
const (
	startRecord   = iota // between records: skip blank lines
	startField           // at the start of a field
	inField              // inside an unquoted field
	inQuoted             // inside a quoted field
	quoteInQuoted        // just after a quote inside a quoted field
)

// delimParser is the state of parseDelimited: one method per state reads
// the byte data[i].
type delimParser struct {
	data      []byte
	delim     byte
	i         int // the byte being read
	recs      []rawRow
	cells     []string
	field     []byte
	state     int
	line      int // the line of data[i], 1-based
	start     int // the line the record starts on
	quoteLine int // the line the open quoted field starts on
	// the lines of the record's last quoted field spanning lines
	spanFrom, spanTo int
}

func (p *delimParser) endField() {
	p.cells = append(p.cells, string(p.field))
	p.field = p.field[:0]
}

func (p *delimParser) endRecord() {
	p.endField()
	blank := len(p.cells) == 1 && strings.TrimSpace(p.cells[0]) == ""
	if !blank {
		p.recs = append(p.recs, rawRow{line: p.start, cells: p.cells, quoteFrom: p.spanFrom, quoteTo: p.spanTo})
	}
	p.spanFrom, p.spanTo = 0, 0
	p.cells = nil
	p.state = startRecord
}

// lineBreak ends the record at '\n' or '\r' and reports whether c was one.
func (p *delimParser) lineBreak(c byte) bool {
	switch c {
	case '\n':
		p.endRecord()
		p.line++
	case '\r':
		p.endRecord()
	default:
		return false
	}
	return true
}

func (p *delimParser) startRecord(c byte) {
	switch c {
	case '\n':
		p.line++
	case '\r':
	default:
		p.start = p.line
		p.state = startField
		p.i-- // read c again as the start of a field
	}
}

func (p *delimParser) startField(c byte) {
	switch {
	case c == '"':
		p.state, p.quoteLine = inQuoted, p.line
	case c == p.delim:
		p.endField()
	case p.lineBreak(c):
	default:
		p.field = append(p.field, c)
		p.state = inField
	}
}

func (p *delimParser) inField(c byte) {
	switch {
	case c == p.delim:
		p.endField()
		p.state = startField
	case p.lineBreak(c):
	default:
		p.field = append(p.field, c)
	}
}

func (p *delimParser) inQuoted(c byte) {
	if c == '"' {
		p.state = quoteInQuoted
		if p.line != p.quoteLine {
			p.spanFrom, p.spanTo = p.quoteLine, p.line
		}
		return
	}
	if c == '\n' {
		p.line++
	}
	p.field = append(p.field, c)
}

func (p *delimParser) quoteInQuoted(path string, c byte) error {
	switch {
	case c == '"': // a doubled quote stands for one
		p.field = append(p.field, '"')
		p.state = inQuoted
	case c == p.delim:
		p.endField()
		p.state = startField
	case p.lineBreak(c):
	default: // text after the closing quote, kept as Python does
		if p.spanTo == p.line && p.spanFrom != 0 {
			// ... but a quoted field over several lines followed by text
			// is a stray quote that merged rows
			return p.strayQuote(path)
		}
		p.field = append(p.field, c)
		p.state = inField
	}
	return nil
}

// strayQuote is the error for text after a closing quote that ends a
// quoted field spanning lines.
func (p *delimParser) strayQuote(path string) error {
	i, end := p.i, p.i
	for end < len(p.data) && p.data[end] != '\n' && p.data[end] != '\r' && end-i < 40 {
		end++
	}
	return fmt.Errorf("%s:%d: a quoted field begins on line %d and ends on line %d followed by text (%q), merging %d lines into one row: a stray quote (\")? Quote the whole field and double the quotes inside it (\"\"), or remove the quote", path, p.spanFrom, p.spanFrom, p.line, string(p.data[i:end]), p.line-p.spanFrom+1)
}

var (
	defaultText  = []string{"text", "sentence", "sentence1"}
	defaultPair  = []string{"text_pair", "sentence2"}
	defaultLabel = []string{"label", "labels"}
)

// columnsDelimited decides the header, picks the columns and returns the
// data rows with cells reordered to [text, pair, label] ("" where absent).
func (d *Dataset) columnsDelimited(recs []rawRow, opt *ReadOptions) ([]rawRow, error) {
	first := recs[0].cells
	header := false
	switch opt.Header {
	case HeaderPresent:
		header = true
	case HeaderAbsent:
	default:
		header = looksLikeHeader(recs, opt)
	}
	d.HasHeader = header
	ncol := len(first)
	if header {
		d.Columns = make([]string, ncol)
		for i, c := range first {
			d.Columns[i] = strings.TrimSpace(c)
		}
		recs = recs[1:]
	} else {
		d.Columns = make([]string, ncol)
		for i := range d.Columns {
			d.Columns[i] = strconv.Itoa(i)
		}
	}
	pick := func(role, flag, spec string, defaults []string, required bool, fallback int) (int, error) {
		if spec != "" {
			if i := findColumn(d.Columns, spec); i >= 0 {
				return i, nil
			}
			if n, err := strconv.Atoi(spec); err == nil && n >= 0 && n < ncol {
				return n, nil
			}
			if !header {
				return -1, fmt.Errorf("%s: %s column %q not found: the file has no header row, so its %d columns are numbered 0..%d (pass %s with a number, or add a header line)", d.Path, role, spec, ncol, ncol-1, flag)
			}
			return -1, fmt.Errorf("%s: %s column %q not found; the columns are: %s (choose one with %s)", d.Path, role, spec, columnNameList(d.Columns), flag)
		}
		if !header {
			return fallback, nil
		}
		for _, name := range defaults {
			if i := findColumn(d.Columns, name); i >= 0 {
				return i, nil
			}
		}
		if required {
			return -1, fmt.Errorf("%s: no %s column: looked for %s; the columns are: %s (choose one with %s)", d.Path, role, quotedNameList(defaults), columnNameList(d.Columns), flag)
		}
		return -1, nil
	}
	ti, err := pick("text", "ReadOptions.TextColumn", opt.TextColumn, defaultText, true, 0)
	if err != nil {
		return nil, err
	}
	pi, err := pick("text pair", "ReadOptions.TextPairColumn", opt.TextPairColumn, defaultPair, false, -1)
	if err != nil {
		return nil, err
	}
	li := -1
	if !opt.Unlabeled {
		if li, err = pick("label", "ReadOptions.LabelColumn", opt.LabelColumn, defaultLabel, true, ncol-1); err != nil {
			return nil, err
		}
		if li == ti {
			return nil, fmt.Errorf("%s: the text and the label would both be column %s: the file needs a text and a label column (choose them with ReadOptions.TextColumn and ReadOptions.LabelColumn)", d.Path, printableCell(d.Columns[ti]))
		}
	}
	d.TextColumn = d.Columns[ti]
	if pi >= 0 {
		d.TextPairColumn = d.Columns[pi]
	}
	if li >= 0 {
		d.LabelColumn = d.Columns[li]
	}
	out := make([]rawRow, len(recs))
	for k, r := range recs {
		if len(r.cells) != ncol {
			what := "the header has"
			if !header {
				what = "the first row has"
			}
			hint := ""
			if d.Format == FormatTSV && len(r.cells) > ncol {
				hint = "; a TAB inside a text must be in a quoted field"
			} else if d.Format == FormatCSV && len(r.cells) > ncol {
				hint = "; a comma inside a text needs the field in double quotes"
			}
			if r.quoteFrom != 0 {
				hint = fmt.Sprintf("; a quoted field begins on line %d and ends on line %d: a stray quote (\") merges those lines into one row (quote the whole field and double the quotes inside it, or remove the quote)", r.quoteFrom, r.quoteTo)
			}
			return nil, fmt.Errorf("%s:%d: %d fields, but %s %d (columns %s)%s; fix or remove the row", d.Path, r.line, len(r.cells), what, ncol, columnNameList(d.Columns), hint)
		}
		if r.quoteFrom != 0 && ncol > 1 {
			d.warnMergedRows(r, ncol)
		}
		cells := []string{r.cells[ti], "", ""}
		if pi >= 0 {
			cells[1] = r.cells[pi]
		}
		if li >= 0 {
			cells[2] = r.cells[li]
		}
		out[k] = rawRow{line: r.line, cells: cells}
	}
	return out, nil
}

// warnMergedRows warns of a quoted field over several lines whose lines
// look like rows of their own (as many fields as the header): a stray
// quote that merged rows, though a text may hold such lines.
func (d *Dataset) warnMergedRows(r rawRow, ncol int) {
	delim := ","
	if d.Format == FormatTSV {
		delim = "\t"
	}
	for _, c := range r.cells {
		lines := strings.Split(c, "\n")
		rows := 0
		for _, l := range lines[:len(lines)-1] {
			if strings.Count(l, delim) >= ncol-1 {
				rows++
			}
		}
		if rows > 0 {
			d.Warnings = append(d.Warnings, fmt.Sprintf("%s:%d: a quoted field begins on line %d and ends on line %d, and %d of its lines look like rows of their own: a stray quote (\") that merged them into one row?", d.Path, r.quoteFrom, r.quoteFrom, r.quoteTo, rows))
			return
		}
	}
}

// looksLikeHeader decides HeaderAuto (see its comment).
func looksLikeHeader(recs []rawRow, opt *ReadOptions) bool {
	first := recs[0].cells
	known := map[string]bool{}
	for _, l := range [][]string{defaultText, defaultPair, defaultLabel} {
		for _, n := range l {
			known[n] = true
		}
	}
	for _, s := range []string{opt.TextColumn, opt.TextPairColumn, opt.LabelColumn} {
		if _, err := strconv.Atoi(s); s != "" && err != nil {
			known[strings.ToLower(s)] = true
		}
	}
	for _, c := range first {
		if known[strings.ToLower(strings.TrimSpace(c))] {
			return true
		}
	}
	if opt.Unlabeled {
		return false
	}
	li := len(first) - 1
	if n, err := strconv.Atoi(opt.LabelColumn); err == nil && n >= 0 && n < len(first) {
		li = n
	}
	cell := strings.TrimSpace(first[li])
	if _, err := strconv.ParseFloat(cell, 64); err == nil {
		return false
	}
	if strings.HasPrefix(cell, "[") {
		return false
	}
	if opt.Labels != nil {
		if _, known := opt.Labels.ID(canonicalLabel(cell)); known {
			return false
		}
	}
	for _, r := range recs[1:] {
		if li < len(r.cells) && strings.TrimSpace(r.cells[li]) == cell {
			return false
		}
	}
	// A label never seen again: a header, unless the row holds a long cell
	// (column names are short; texts often are not).
	for _, c := range first {
		if len(c) > 64 {
			return false
		}
	}
	return true
}

// findColumn finds a column by exact name, then case-insensitively.
func findColumn(cols []string, name string) int {
	for i, c := range cols {
		if c == name {
			return i
		}
	}
	for i, c := range cols {
		if strings.EqualFold(c, name) {
			return i
		}
	}
	return -1
}

// printableCell returns s, or s quoted when it holds a line break or another
// character that is not printable, so that an error stays on one line.
func printableCell(s string) string {
	if strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// nameList joins column or label names for an error message.
func columnNameList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = printableCell(s)
	}
	return strings.Join(q, ", ")
}

func quotedNameList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// columnsJSONL parses JSON lines and picks the columns (keys).
func (d *Dataset) columnsJSONL(data []byte, opt *ReadOptions) ([]rawRow, error) {
	d.HasHeader = true
	var rows []rawRow
	seen := map[string]bool{}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var ln []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			ln, data = data[:i], data[i+1:]
		} else {
			ln, data = data, nil
		}
		ln = bytes.TrimSpace(ln)
		if len(ln) == 0 {
			continue
		}
		if ln[0] != '{' {
			return nil, fmt.Errorf("%s:%d: each line must be one JSON object like {\"text\": \"...\", \"label\": \"...\"}", d.Path, lineNo)
		}
		dec := json.NewDecoder(bytes.NewReader(ln))
		keys, err := objectKeys(dec)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: not a valid JSON object: %v", d.Path, lineNo, err)
		}
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(ln, &obj); err != nil {
			return nil, fmt.Errorf("%s:%d: not a valid JSON object: %v", d.Path, lineNo, err)
		}
		for _, k := range keys {
			if !seen[k] {
				seen[k] = true
				d.Columns = append(d.Columns, k)
			}
		}
		rows = append(rows, rawRow{line: lineNo, obj: obj})
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s: the file is empty: it needs one example per line", d.Path)
	}
	pick := func(role, flag, spec string, defaults []string, required bool) (string, error) {
		if spec != "" {
			if i := findColumn(d.Columns, spec); i >= 0 {
				return d.Columns[i], nil
			}
			return "", fmt.Errorf("%s: %s column %q not found; the keys are: %s (choose one with %s)", d.Path, role, spec, columnNameList(d.Columns), flag)
		}
		for _, name := range defaults {
			if i := findColumn(d.Columns, name); i >= 0 {
				return d.Columns[i], nil
			}
		}
		if required {
			return "", fmt.Errorf("%s: no %s key: looked for %s; the keys are: %s (choose one with %s)", d.Path, role, quotedNameList(defaults), columnNameList(d.Columns), flag)
		}
		return "", nil
	}
	var err error
	if d.TextColumn, err = pick("text", "ReadOptions.TextColumn", opt.TextColumn, defaultText, true); err != nil {
		return nil, err
	}
	if d.TextPairColumn, err = pick("text pair", "ReadOptions.TextPairColumn", opt.TextPairColumn, defaultPair, false); err != nil {
		return nil, err
	}
	if !opt.Unlabeled {
		if d.LabelColumn, err = pick("label", "ReadOptions.LabelColumn", opt.LabelColumn, defaultLabel, true); err != nil {
			return nil, err
		}
	}
	for k, r := range rows {
		cells := []string{"", "", ""}
		for j, col := range []string{d.TextColumn, d.TextPairColumn} {
			if col == "" {
				continue
			}
			raw, ok := r.obj[col]
			if !ok {
				return nil, fmt.Errorf("%s:%d: the object has no %q key; add it to every line", d.Path, r.line, col)
			}
			var s *string
			if err := json.Unmarshal(raw, &s); err != nil {
				return nil, fmt.Errorf("%s:%d: %q must be a string, got %s", d.Path, r.line, col, clipCell(string(raw)))
			}
			if s != nil {
				cells[j] = *s
			}
		}
		if d.LabelColumn != "" {
			raw, ok := r.obj[d.LabelColumn]
			if !ok {
				return nil, fmt.Errorf("%s:%d: the object has no %q key; every example needs a label", d.Path, r.line, d.LabelColumn)
			}
			cell, err := jsonLabelCell(raw)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: label %s: %v", d.Path, r.line, clipCell(string(raw)), err)
			}
			cells[2] = cell
		}
		rows[k] = rawRow{line: r.line, cells: cells}
	}
	return rows, nil
}

// objectKeys returns the keys of a JSON object in order.
func objectKeys(dec *json.Decoder) ([]string, error) {
	t, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if t != json.Delim('{') {
		return nil, errors.New("not an object")
	}
	var keys []string
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		k, _ := t.(string)
		keys = append(keys, k)
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, err
		}
	}
	return keys, nil
}

// jsonLabelCell turns a JSON label into the text a CSV cell would hold: a
// string as is, a number or boolean as written, a list as JSON.
func jsonLabelCell(raw json.RawMessage) (string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", errors.New("is missing (null)")
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", err
		}
		return s, nil
	case '[':
		return string(raw), nil
	case '{':
		return "", errors.New("must be a string, a number or a list of labels, not an object")
	}
	return string(raw), nil
}

func clipCell(s string) string {
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}

// fill turns the [text, pair, label] cells into examples and the label map.
func (d *Dataset) fill(rows []rawRow, opt *ReadOptions) error {
	d.Examples = make([]Example, len(rows))
	for k, r := range rows {
		ex := &d.Examples[k]
		ex.Line = r.line
		ex.Text = r.cells[0]
		if strings.TrimSpace(ex.Text) == "" {
			return fmt.Errorf("%s:%d: the text (column %s) is empty; remove the row or give it a text", d.Path, r.line, printableCell(d.TextColumn))
		}
		if d.TextPairColumn != "" {
			ex.TextPair = r.cells[1]
			if strings.TrimSpace(ex.TextPair) == "" {
				return fmt.Errorf("%s:%d: the text pair (column %s) is empty; remove the row or give it a second text", d.Path, r.line, printableCell(d.TextPairColumn))
			}
		}
	}
	if d.LabelColumn == "" {
		return nil
	}
	for k := range rows {
		rows[k].cells[2] = strings.TrimSpace(rows[k].cells[2])
	}
	d.Problem = opt.Problem
	if d.Problem == ProblemAuto {
		d.Problem = detectProblem(rows)
	}
	if d.Problem == Regression {
		for k, r := range rows {
			v, err := strconv.ParseFloat(r.cells[2], 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("%s:%d: label %q is not a number, and regression needs a number in every row; fix the row or choose another problem type", d.Path, r.line, clipCell(r.cells[2]))
			}
			d.Examples[k].Target = v
		}
		return nil
	}
	sep := opt.MultiLabelSeparator
	if sep == "" {
		sep = ","
	}
	// Each row's labels as strings.
	labels := make([][]string, len(rows))
	for k, r := range rows {
		cell := r.cells[2]
		if d.Problem == SingleLabel {
			if cell == "" {
				return fmt.Errorf("%s:%d: the label (column %s) is empty; every example needs a label", d.Path, r.line, printableCell(d.LabelColumn))
			}
			if strings.HasPrefix(cell, "[") {
				return fmt.Errorf("%s:%d: label %q is a list, but the problem is single-label classification; use multi-label, or one label per row", d.Path, r.line, clipCell(cell))
			}
			labels[k] = []string{canonicalLabel(cell)}
			continue
		}
		ls, err := splitMultiLabel(cell, sep)
		if err != nil {
			return fmt.Errorf("%s:%d: label %q: %v", d.Path, r.line, clipCell(cell), err)
		}
		labels[k] = ls
	}
	m := opt.Labels
	if m == nil {
		m = buildLabelMap(labels, opt.ID2Label)
		if err := checkLabelCount(d, m, len(rows)); err != nil {
			return err
		}
	}
	d.Labels = m
	for k, r := range rows {
		ids := make([]int, 0, len(labels[k]))
		for _, l := range labels[k] {
			id, ok := m.ID(l)
			if !ok {
				return fmt.Errorf("%s:%d: unknown label %q: the labels (from %s) are: %s; fix the row or train with this label", d.Path, r.line, clipCell(l), m.Source, m.list(30))
			}
			ids = append(ids, id)
		}
		if d.Problem == SingleLabel {
			d.Examples[k].Label = ids[0]
			continue
		}
		sort.Ints(ids)
		ids = dedupInts(ids)
		d.Examples[k].Labels = ids
	}
	return nil
}

// Labels that look like an id column: more than MaxLabelsAnyRows distinct
// labels, and more distinct labels than half the rows (fewer than two
// examples a class: nothing to learn, and a head and metrics as wide as the
// data).
const MaxLabelsAnyRows = 1000

// checkLabelCount refuses a label column that looks like an id column.
func checkLabelCount(d *Dataset, m *LabelMap, rows int) error {
	if m.Source != SourceFile || m.Len() <= MaxLabelsAnyRows || 2*m.Len() <= rows {
		return nil
	}
	return fmt.Errorf("%s: column %s looks like an id column, not labels: %d distinct labels in %d rows (over %d labels, and fewer than 2 rows a label); give the label column with --label-column, or --problem-type regression for a numeric target", d.Path, printableCell(d.LabelColumn), m.Len(), rows, MaxLabelsAnyRows)
}

func dedupInts(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// detectProblem implements ProblemAuto.
func detectProblem(rows []rawRow) ProblemType {
	allNum, anyFrac := true, false
	for _, r := range rows {
		c := r.cells[2]
		if strings.HasPrefix(c, "[") {
			var l []json.RawMessage
			if json.Unmarshal([]byte(c), &l) == nil {
				return MultiLabel
			}
		}
		v, err := strconv.ParseFloat(c, 64)
		if err != nil {
			allNum = false
			continue
		}
		if v != math.Trunc(v) {
			anyFrac = true
		}
	}
	if allNum && anyFrac {
		return Regression
	}
	return SingleLabel
}

// canonicalLabel writes an integral number label one way ("1.0" -> "1"), so
// files written with float labels and config ids agree.
func canonicalLabel(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	if v, err := strconv.ParseFloat(s, 64); err == nil && v == math.Trunc(v) && math.Abs(v) < 1<<53 {
		return strconv.FormatInt(int64(v), 10)
	}
	return s
}

// splitMultiLabel reads a multi-label cell: a JSON list of strings or
// numbers, or names joined by sep. "[]" is a row with no labels.
func splitMultiLabel(cell, sep string) ([]string, error) {
	if strings.HasPrefix(cell, "[") {
		var l []json.RawMessage
		if err := json.Unmarshal([]byte(cell), &l); err != nil {
			return nil, fmt.Errorf("not a valid JSON list: %v", err)
		}
		out := make([]string, 0, len(l))
		for _, raw := range l {
			s, err := jsonLabelCell(raw)
			if err != nil || strings.HasPrefix(s, "[") {
				return nil, fmt.Errorf("list item %s is not a label", clipCell(string(raw)))
			}
			s = strings.TrimSpace(s)
			if s == "" {
				return nil, errors.New("a label in the list is empty")
			}
			out = append(out, canonicalLabel(s))
		}
		return out, nil
	}
	if cell == "" {
		return nil, errors.New(`is empty; write [] for an example with no labels`)
	}
	parts := strings.Split(cell, sep)
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("has an empty label between %q separators", sep)
		}
		out = append(out, canonicalLabel(p))
	}
	return out, nil
}

// buildLabelMap uses the model's id2label when the labels fit it, else
// builds a sorted map from the labels seen (integers in numeric order).
func buildLabelMap(labels [][]string, id2label []string) *LabelMap {
	set := map[string]bool{}
	for _, ls := range labels {
		for _, l := range ls {
			set[l] = true
		}
	}
	if len(id2label) > 0 {
		if m, err := NewLabelMap(id2label, SourceConfig); err == nil {
			byName, byIndex := true, true
			for l := range set {
				if _, ok := m.ids[l]; !ok {
					byName = false
				}
				if id, err := strconv.Atoi(l); err != nil || id < 0 || id >= len(id2label) {
					byIndex = false
				}
			}
			if byName {
				return m
			}
			if byIndex {
				m.byIndex = true
				return m
			}
		}
	}
	names := make([]string, 0, len(set))
	allInt := true
	for l := range set {
		names = append(names, l)
		if _, err := strconv.ParseInt(l, 10, 64); err != nil {
			allInt = false
		}
	}
	if allInt {
		sort.Slice(names, func(i, j int) bool {
			a, _ := strconv.ParseInt(names[i], 10, 64)
			b, _ := strconv.ParseInt(names[j], 10, 64)
			return a < b
		})
	} else {
		sort.Strings(names)
	}
	m, _ := NewLabelMap(names, SourceFile) // names are distinct
	return m
}
