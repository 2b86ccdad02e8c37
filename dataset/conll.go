package dataset

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"ft/internal/fileio"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// TagFormat is the file format of token-tagged data (named entities,
// part-of-speech tags).
type TagFormat string

const (
	// TagCoNLL is one token a line, its fields separated by tabs (or by
	// spaces when the line has no tab), the tag in the last field unless
	// told otherwise; a blank or whitespace-only line ends a sentence and
	// -DOCSTART- lines are skipped (CoNLL-2003, WNUT-17).
	TagCoNLL TagFormat = "conll"
	// TagCoNLLU is Universal Dependencies' CoNLL-U: ten tab-separated
	// fields a word, # comment lines, multi-word token lines (1-2) and
	// empty nodes (8.1) skipped; the tag is UPOS unless told XPOS.
	TagCoNLLU TagFormat = "conllu"
	// TagJSONL is one JSON object a line as Hugging Face datasets store
	// token classification: {"tokens": [...], "tags": [...]} (or
	// "ner_tags", "pos_tags"); tags are strings, or ints with a label list.
	TagJSONL TagFormat = "jsonl"
)

// TagFormatOf tells the format from a file name: .conll, .bio, .iob, .iob2
// and .txt are CoNLL, .conllu CoNLL-U, .jsonl and .json JSON lines.
func TagFormatOf(path string) (TagFormat, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".conll", ".bio", ".iob", ".iob2", ".txt":
		return TagCoNLL, nil
	case ".conllu":
		return TagCoNLLU, nil
	case ".jsonl", ".json":
		return TagJSONL, nil
	}
	return "", fmt.Errorf("%s: cannot tell the tagged-data format from the extension %q: name the file .conll, .conllu or .jsonl, or set the format", path, filepath.Ext(path))
}

// ParseTagFormat reads a format name: conll, conllu or jsonl.
func ParseTagFormat(s string) (TagFormat, error) {
	switch f := TagFormat(strings.ToLower(s)); f {
	case TagCoNLL, TagCoNLLU, TagJSONL:
		return f, nil
	}
	return "", fmt.Errorf("unknown tagged-data format %q (want conll, conllu or jsonl)", s)
}

// TaggedOptions configures ReadTagged.
type TaggedOptions struct {
	// Format; empty tells it from the file name.
	Format TagFormat
	// TagColumn picks the tag. CoNLL: a field number counted from 0 (empty:
	// the last field). CoNLL-U: "upos" (the default) or "xpos". JSON lines:
	// the key (empty: the first of "tags", "ner_tags", "pos_tags" present).
	TagColumn string
	// TokenColumn picks the token. CoNLL: a field number (empty: 0). JSON
	// lines: the key (empty: "tokens"). CoNLL-U always uses FORM.
	TokenColumn string
	// Labels names integer tags of JSON lines (Hugging Face's ClassLabel
	// names): tag i is Labels[i].
	Labels []string
}

// TaggedSentence is one sentence: its tokens (words), one tag each.
type TaggedSentence struct {
	Tokens []string
	Tags   []string
	// Line is the file line (from 1) of the sentence's first token.
	Line int
}

// TaggedData is a token-tagged file as read by ReadTagged.
type TaggedData struct {
	Path      string
	Format    TagFormat
	TagColumn string // the tag column or key actually used
	Sentences []TaggedSentence
}

// Tokens is the number of tokens over all sentences.
func (d *TaggedData) Tokens() int {
	n := 0
	for _, s := range d.Sentences {
		n += len(s.Tokens)
	}
	return n
}

// TagList is the sorted set of tags in the data, as run_ner.py's
// get_label_list builds the label list from string tags.
func (d *TaggedData) TagList() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.Sentences {
		for _, t := range s.Tags {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ReadTagged reads a token-tagged file (CoNLL, CoNLL-U or JSON lines). Bad
// input is an error naming the file and line.
func ReadTagged(path string, opt TaggedOptions) (*TaggedData, error) {
	data, err := fileio.ReadFile(path, 0)
	if err != nil {
		return nil, err
	}
	return ParseTagged(path, data, opt)
}

// ParseTagged is ReadTagged on the file's contents; path names it in errors
// and tells the format when opt.Format is empty.
func ParseTagged(path string, data []byte, opt TaggedOptions) (*TaggedData, error) {
	format := opt.Format
	if format == "" {
		var err error
		if format, err = TagFormatOf(path); err != nil {
			return nil, err
		}
	}
	if err := taggedCheckUTF8(path, data); err != nil {
		return nil, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	d := &TaggedData{Path: path, Format: format}
	var err error
	switch format {
	case TagCoNLL:
		err = d.conllParse(data, opt)
	case TagCoNLLU:
		err = d.conlluParse(data, opt)
	case TagJSONL:
		err = d.taggedParseJSONL(data, opt)
	default:
		return nil, fmt.Errorf("%s: unknown tagged-data format %q (want conll, conllu or jsonl)", path, format)
	}
	if err != nil {
		return nil, err
	}
	if len(d.Sentences) == 0 {
		return nil, fmt.Errorf("%s: no sentences: the file needs %s", path, taggedWant[format])
	}
	return d, nil
}

var taggedWant = map[TagFormat]string{
	TagCoNLL:  "one token and its tag a line (token<TAB>tag), a blank line between sentences",
	TagCoNLLU: "CoNLL-U word lines (ten tab-separated fields), a blank line after each sentence",
	TagJSONL:  `one JSON object a line like {"tokens": ["..."], "tags": ["..."]}`,
}

func taggedCheckUTF8(path string, data []byte) error {
	if bytes.HasPrefix(data, []byte{0xff, 0xfe}) || bytes.HasPrefix(data, []byte{0xfe, 0xff}) {
		return fmt.Errorf("%s:1: the file is UTF-16 text; save it as UTF-8 (iconv -f utf-16 -t utf-8)", path)
	}
	if utf8.Valid(data) {
		return nil
	}
	line, start := 1, 0
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n == 1 {
			return fmt.Errorf("%s:%d: byte 0x%02x at column %d is not UTF-8; save the file as UTF-8 (from Latin-1: iconv -f latin1 -t utf-8)", path, line, data[i], i-start+1)
		}
		if data[i] == '\n' {
			line, start = line+1, i+1
		}
		i += n
	}
	return nil
}

// taggedLines calls fn with every line (without its line break, a trailing
// \r removed) and its number from 1.
func taggedLines(data []byte, fn func(line string, no int) error) error {
	no := 0
	for len(data) > 0 {
		no++
		var line []byte
		if k := bytes.IndexByte(data, '\n'); k >= 0 {
			line, data = data[:k], data[k+1:]
		} else {
			line, data = data, nil
		}
		if err := fn(strings.TrimSuffix(string(line), "\r"), no); err != nil {
			return err
		}
	}
	return nil
}

func conllColumn(path, spec, what, flag string) (int, error) {
	if spec == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(spec)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("%s: %s column %q: CoNLL columns are field numbers counted from 0 (set %s to a number, or leave it out for the default)", path, what, spec, flag)
	}
	return n, nil
}

func (d *TaggedData) conllParse(data []byte, opt TaggedOptions) error {
	tagCol, err := conllColumn(d.Path, opt.TagColumn, "tag", "--tag-column")
	if err != nil {
		return err
	}
	tokCol, err := conllColumn(d.Path, opt.TokenColumn, "token", "--token-column")
	if err != nil {
		return err
	}
	if tokCol < 0 {
		tokCol = 0
	}
	if tagCol < 0 {
		d.TagColumn = "last"
	} else {
		d.TagColumn = strconv.Itoa(tagCol)
	}
	return d.readSentences(data, func(line string, no int) (string, string, error) {
		var fields []string
		if strings.IndexByte(line, '\t') >= 0 {
			fields = strings.Split(line, "\t")
		} else {
			fields = strings.Fields(line)
		}
		if strings.TrimSpace(fields[0]) == "-DOCSTART-" {
			return "", "", errNoWord
		}
		if len(fields) < 2 {
			return "", "", fmt.Errorf("%s:%d: one field %s: a CoNLL line holds a token and its tag separated by a tab (token<TAB>tag); a sentence ends at a blank line", d.Path, no, conllClip(line))
		}
		tc := tagCol
		if tc < 0 {
			tc = len(fields) - 1
		}
		if tc >= len(fields) {
			return "", "", fmt.Errorf("%s:%d: %d fields, but the tag column is %d (counted from 0); fix the line or choose another --tag-column", d.Path, no, len(fields), tc)
		}
		if tokCol >= len(fields) {
			return "", "", fmt.Errorf("%s:%d: %d fields, but the token column is %d (counted from 0); fix the line or choose another --token-column", d.Path, no, len(fields), tokCol)
		}
		if tc == tokCol {
			return "", "", fmt.Errorf("%s: the token and the tag would both be column %d: choose them with --token-column and --tag-column", d.Path, tc)
		}
		tok, tag := fields[tokCol], strings.TrimSpace(fields[tc])
		if tok == "" {
			return "", "", fmt.Errorf("%s:%d: the token (column %d) is empty; fix or remove the line", d.Path, no, tokCol)
		}
		if tag == "" {
			return "", "", fmt.Errorf("%s:%d: the tag (column %d) of %s is empty; every token needs a tag", d.Path, no, tc, conllClip(tok))
		}
		return tok, tag, nil
	})
}

func (d *TaggedData) conlluParse(data []byte, opt TaggedOptions) error {
	tagField := 3
	switch strings.ToLower(opt.TagColumn) {
	case "", "upos":
		d.TagColumn = "upos"
	case "xpos":
		tagField, d.TagColumn = 4, "xpos"
	default:
		return fmt.Errorf("%s: tag column %q: a CoNLL-U file tags with upos (the default) or xpos", d.Path, opt.TagColumn)
	}
	return d.readSentences(data, func(line string, no int) (string, string, error) {
		if strings.HasPrefix(line, "#") {
			return "", "", errNoWord
		}
		fields := strings.Split(line, "\t")
		if len(fields) != 10 {
			return "", "", fmt.Errorf("%s:%d: %d tab-separated fields, but a CoNLL-U word line has 10 (ID FORM LEMMA UPOS XPOS FEATS HEAD DEPREL DEPS MISC)", d.Path, no, len(fields))
		}
		id := fields[0]
		if a, b, ok := strings.Cut(id, "-"); ok && conlluIsNum(a) && conlluIsNum(b) {
			return "", "", errNoWord // multi-word token: its words follow
		}
		if a, b, ok := strings.Cut(id, "."); ok && conlluIsNum(a) && conlluIsNum(b) {
			return "", "", errNoWord // empty node
		}
		if !conlluIsNum(id) {
			return "", "", fmt.Errorf("%s:%d: ID %s is not a word number, a range (1-2) or an empty node (8.1)", d.Path, no, conllClip(id))
		}
		tag := fields[tagField]
		if tag == "" {
			return "", "", fmt.Errorf("%s:%d: the %s field is empty", d.Path, no, strings.ToUpper(d.TagColumn))
		}
		return fields[1], tag, nil
	})
}

// errNoWord is what readSentences' word function returns for a line that
// holds no word (a comment, -DOCSTART-, a multi-word token's range).
var errNoWord = errors.New("no word on the line")

// readSentences reads the words of data, one a line, into d.Sentences, a
// blank line ending a sentence. word gives a line's token and tag, or
// errNoWord.
func (d *TaggedData) readSentences(data []byte, word func(line string, no int) (tok, tag string, err error)) error {
	var cur TaggedSentence
	flush := func() {
		if len(cur.Tokens) > 0 {
			d.Sentences = append(d.Sentences, cur)
		}
		cur = TaggedSentence{}
	}
	err := taggedLines(data, func(line string, no int) error {
		if strings.TrimSpace(line) == "" {
			flush()
			return nil
		}
		tok, tag, err := word(line, no)
		if err == errNoWord {
			return nil
		}
		if err != nil {
			return err
		}
		if len(cur.Tokens) == 0 {
			cur.Line = no
		}
		cur.Tokens = append(cur.Tokens, tok)
		cur.Tags = append(cur.Tags, tag)
		return nil
	})
	if err != nil {
		return err
	}
	flush()
	return nil
}

func conlluIsNum(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// taggedDefaultKeys are the tag keys looked for in JSON lines, in order.
var taggedDefaultKeys = []string{"tags", "ner_tags", "pos_tags"}

func (d *TaggedData) taggedParseJSONL(data []byte, opt TaggedOptions) error {
	tokKey := opt.TokenColumn
	if tokKey == "" {
		tokKey = "tokens"
	}
	tagKey := opt.TagColumn
	return taggedLines(data, func(line string, no int) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		var obj map[string]json.RawMessage
		dec := json.NewDecoder(strings.NewReader(line))
		dec.UseNumber()
		if err := dec.Decode(&obj); err != nil || obj == nil {
			if err == nil {
				err = errors.New("null")
			}
			return fmt.Errorf("%s:%d: each line must be one JSON object like {\"tokens\": [\"...\"], \"tags\": [\"...\"]}: %v", d.Path, no, err)
		}
		if dec.More() {
			return fmt.Errorf("%s:%d: more than one JSON value on the line; put one object a line", d.Path, no)
		}
		if tagKey == "" {
			for _, k := range taggedDefaultKeys {
				if _, ok := obj[k]; ok {
					tagKey = k
					break
				}
			}
			if tagKey == "" {
				return fmt.Errorf("%s:%d: no tag key: looked for %s; the keys are %s (choose one with --tag-column)", d.Path, no, strings.Join(taggedDefaultKeys, ", "), taggedKeys(obj))
			}
		}
		d.TagColumn = tagKey
		rawTok, ok := obj[tokKey]
		if !ok {
			return fmt.Errorf("%s:%d: the object has no %q key; the keys are %s (choose the token key with --token-column)", d.Path, no, tokKey, taggedKeys(obj))
		}
		rawTag, ok := obj[tagKey]
		if !ok {
			return fmt.Errorf("%s:%d: the object has no %q key; the keys are %s (every line needs its tags)", d.Path, no, tagKey, taggedKeys(obj))
		}
		var toks []string
		if err := json.Unmarshal(rawTok, &toks); err != nil || toks == nil {
			return fmt.Errorf("%s:%d: %q must be a list of strings, got %s", d.Path, no, tokKey, conllClip(string(rawTok)))
		}
		var items []json.RawMessage
		if err := json.Unmarshal(rawTag, &items); err != nil || items == nil {
			return fmt.Errorf("%s:%d: %q must be a list of strings or label ids, got %s", d.Path, no, tagKey, conllClip(string(rawTag)))
		}
		if len(items) != len(toks) {
			return fmt.Errorf("%s:%d: %d tokens but %d tags; every token needs one tag", d.Path, no, len(toks), len(items))
		}
		tags := make([]string, len(items))
		for i, it := range items {
			t, err := taggedJSONTag(it, opt.Labels)
			if err != nil {
				return fmt.Errorf("%s:%d: %q[%d]: %v", d.Path, no, tagKey, i, err)
			}
			tags[i] = t
		}
		for i, t := range toks {
			if t == "" {
				return fmt.Errorf("%s:%d: %q[%d] is an empty token", d.Path, no, tokKey, i)
			}
		}
		d.Sentences = append(d.Sentences, TaggedSentence{Tokens: toks, Tags: tags, Line: no})
		return nil
	})
}

func taggedJSONTag(raw json.RawMessage, labels []string) (string, error) {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		if s == "" {
			return "", errors.New("empty tag")
		}
		return s, nil
	}
	id, err := strconv.Atoi(string(raw))
	if err != nil {
		return "", fmt.Errorf("a tag must be a string or a label id (an integer), got %s", conllClip(string(raw)))
	}
	if len(labels) == 0 {
		return "", fmt.Errorf("tag %d is a label id but no label list was given: pass the label names in id order (Hugging Face's ClassLabel names)", id)
	}
	if id < 0 || id >= len(labels) {
		return "", fmt.Errorf("label id %d outside the %d labels (0..%d)", id, len(labels), len(labels)-1)
	}
	return labels[id], nil
}

func taggedKeys(obj map[string]json.RawMessage) string {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, strconv.Quote(k))
	}
	sort.Strings(keys)
	if len(keys) == 0 {
		return "none"
	}
	return strings.Join(keys, ", ")
}

func conllClip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		s = string([]rune(s)[:40]) + "…"
	}
	return strconv.Quote(s)
}
