package finetune

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"ft/internal/fileio"
)

// EmbedData is a sentence-embedding data file read into memory: per row
// its texts, in column order, and its score or label when the file has one.
type EmbedData struct {
	Path string
	// Columns are the text columns used, in order (anchor, positive,
	// negative...); LabelColumn the score or label column ("" for none).
	Columns     []string
	LabelColumn string
	Texts       [][]string
	Labels      []float64
	Lines       []int // the 1-based line of each row
}

// EmbedReadOptions control ReadEmbedData.
type EmbedReadOptions struct {
	// Columns are the text columns, by name; empty: sentence-transformers'
	// names, the first set the file has of anchor/positive/negative...,
	// query/positive/negative..., sentence1/sentence2(/sentence3),
	// sentence_A/sentence_B, text1/text2, premise/hypothesis; else every
	// column but the label.
	Columns []string
	// LabelColumn is the score or label column; empty: "score", else
	// "label", else none. "-" reads no label.
	LabelColumn string
	// ScoreScale divides every label (5 for STS Benchmark's 0–5 scores);
	// 0 means 1.
	ScoreScale float64
}

// EmbedColumnSets are the column-name sets ReadEmbedData looks for, in
// order, when EmbedReadOptions.Columns is empty. A trailing "negative"
// also takes the columns negative_1, negative_2, ... that follow.
var EmbedColumnSets = [][]string{
	{"anchor", "positive", "negative"},
	{"anchor", "positive"},
	{"query", "positive", "negative"},
	{"query", "positive"},
	{"query", "answer"},
	{"question", "answer"},
	{"sentence1", "sentence2", "sentence3"},
	{"sentence1", "sentence2"},
	{"sentence_A", "sentence_B"},
	{"text1", "text2"},
	{"premise", "hypothesis"},
}

// ReadEmbedData reads a CSV, TSV or JSON-lines file with a header (CSV,
// TSV) or keys (JSON lines) naming the columns. TSV fields are split at
// tabs with no quoting (as the STS Benchmark files are written); CSV
// follows RFC 4180.
func ReadEmbedData(path string, opt EmbedReadOptions) (*EmbedData, error) {
	data, err := fileio.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("%s is not UTF-8 text: convert it to UTF-8", path)
	}
	var header []string
	var rows [][]string
	var lines []int
	switch strings.ToLower(filepath.Ext(path)) {
	case ".tsv", ".tab":
		header, rows, lines, err = embedReadTSV(path, data)
	case ".csv":
		header, rows, lines, err = embedReadCSV(path, data)
	case ".jsonl", ".json", ".ndjson":
		header, rows, lines, err = embedReadJSONL(path, data)
	default:
		return nil, fmt.Errorf("%s: unknown data format %q: use .csv, .tsv or .jsonl", path, filepath.Ext(path))
	}
	if err != nil {
		return nil, err
	}
	if len(rows) == 0 {
		return nil, fmt.Errorf("%s has no data rows", path)
	}
	d := &EmbedData{Path: path}
	idx := func(name string) int { return slices.Index(header, name) }
	switch opt.LabelColumn {
	case "-":
	case "":
		for _, n := range []string{"score", "label"} {
			if idx(n) >= 0 {
				d.LabelColumn = n
				break
			}
		}
	default:
		if idx(opt.LabelColumn) < 0 {
			return nil, fmt.Errorf("%s: no label column %q (columns: %s)", path, opt.LabelColumn, strings.Join(header, ", "))
		}
		d.LabelColumn = opt.LabelColumn
	}
	if len(opt.Columns) > 0 {
		for _, c := range opt.Columns {
			if idx(c) < 0 {
				return nil, fmt.Errorf("%s: no text column %q (columns: %s)", path, c, strings.Join(header, ", "))
			}
		}
		d.Columns = opt.Columns
	} else {
		for _, set := range EmbedColumnSets {
			ok := true
			for _, c := range set {
				ok = ok && idx(c) >= 0
			}
			if !ok {
				continue
			}
			d.Columns = append([]string(nil), set...)
			if set[len(set)-1] == "negative" {
				for i := 1; idx(fmt.Sprintf("negative_%d", i)) >= 0; i++ {
					d.Columns = append(d.Columns, fmt.Sprintf("negative_%d", i))
				}
			}
			break
		}
		if d.Columns == nil {
			for _, c := range header {
				if c != d.LabelColumn {
					d.Columns = append(d.Columns, c)
				}
			}
		}
	}
	if len(d.Columns) < 2 {
		return nil, fmt.Errorf("%s: sentence-embedding data needs at least two text columns (anchor, positive / sentence1, sentence2); it has %v: name them with --columns", path, d.Columns)
	}
	scale := opt.ScoreScale
	if scale == 0 {
		scale = 1
	}
	li := idx(d.LabelColumn)
	for r, row := range rows {
		texts := make([]string, len(d.Columns))
		for k, c := range d.Columns {
			texts[k] = row[idx(c)]
		}
		d.Texts = append(d.Texts, texts)
		d.Lines = append(d.Lines, lines[r])
		if d.LabelColumn != "" {
			v, err := strconv.ParseFloat(strings.TrimSpace(row[li]), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s:%d: %s %q is not a finite number", path, lines[r], d.LabelColumn, row[li])
			}
			d.Labels = append(d.Labels, v/scale)
		}
	}
	return d, nil
}

func embedCheckRow(path string, line int, header, row []string) error {
	if len(row) != len(header) {
		return fmt.Errorf("%s:%d: %d fields, the header has %d (%s)", path, line, len(row), len(header), strings.Join(header, ", "))
	}
	return nil
}

func embedReadTSV(path string, data []byte) ([]string, [][]string, []int, error) {
	var header []string
	var rows [][]string
	var lines []int
	for i, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSuffix(l, "\r")
		if strings.TrimSpace(l) == "" {
			continue
		}
		f := strings.Split(l, "\t")
		if header == nil {
			header = f
			continue
		}
		if err := embedCheckRow(path, i+1, header, f); err != nil {
			return nil, nil, nil, err
		}
		rows, lines = append(rows, f), append(lines, i+1)
	}
	return header, rows, lines, nil
}

func embedReadCSV(path string, data []byte) ([]string, [][]string, []int, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	var header []string
	var rows [][]string
	var lines []int
	for {
		rec, err := r.Read()
		if err != nil {
			if err == io.EOF {
				break
			}
			return nil, nil, nil, fmt.Errorf("%s: %v", path, err)
		}
		line, _ := r.FieldPos(0)
		if header == nil {
			header = rec
			continue
		}
		if err := embedCheckRow(path, line, header, rec); err != nil {
			return nil, nil, nil, err
		}
		rows, lines = append(rows, rec), append(lines, line)
	}
	return header, rows, lines, nil
}

func embedReadJSONL(path string, data []byte) ([]string, [][]string, []int, error) {
	var header []string
	var rows [][]string
	var lines []int
	for i, l := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(l) == "" {
			continue
		}
		dec := json.NewDecoder(strings.NewReader(l))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			return nil, nil, nil, fmt.Errorf("%s:%d: %v (want one JSON object per line)", path, i+1, err)
		}
		if header == nil {
			for k := range obj {
				header = append(header, k)
			}
			slices.Sort(header)
			// keep sentence-transformers' column order where the names say it
			slices.SortStableFunc(header, func(a, b string) int { return embedColumnRank(a) - embedColumnRank(b) })
		}
		row := make([]string, len(header))
		for k, name := range header {
			v, ok := obj[name]
			if !ok {
				return nil, nil, nil, fmt.Errorf("%s:%d: no key %q (line 1 has it)", path, i+1, name)
			}
			switch x := v.(type) {
			case string:
				row[k] = x
			case json.Number:
				row[k] = x.String()
			case bool:
				row[k] = "0"
				if x {
					row[k] = "1"
				}
			default:
				return nil, nil, nil, fmt.Errorf("%s:%d: %q is %T; want a string or a number", path, i+1, name, v)
			}
		}
		rows, lines = append(rows, row), append(lines, i+1)
	}
	return header, rows, lines, nil
}

// embedColumnRank orders JSON keys as the column sets name them.
func embedColumnRank(name string) int {
	for _, set := range EmbedColumnSets {
		if i := slices.Index(set, name); i >= 0 {
			return i
		}
	}
	if strings.HasPrefix(name, "negative_") {
		n, _ := strconv.Atoi(strings.TrimPrefix(name, "negative_"))
		return 3 + n
	}
	return 100
}
