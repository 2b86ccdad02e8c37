package tokenize

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"ft/internal/fileio"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// Tokenizer turns text into a model's inputs exactly as Hugging Face
// `tokenizers` does with the same tokenizer.json. It is immutable once
// loaded and safe for concurrent use.
type Tokenizer struct {
	added     *addedVocab
	norm      normalizer // nil: none
	pre       preTokenizer
	model     model
	post      postProcessor
	added2id  map[string]int64 // added tokens (the model has its own vocabulary)
	vocabSize int

	maxLength      int    // model_max_length from tokenizer_config.json (0: unknown)
	padID          int64  // -1: no pad token
	padToken       string // "" when none
	paddingSide    string // "right" or "left"
	truncationSide string // "right" or "left"
	inputNames     []string
	// alwaysTrack: the pipeline needs the alignments even for ids (a
	// Metaspace with prepend_scheme "first" asks where in the input a
	// piece begins).
	alwaysTrack bool

	// Decode: the decoder (nil: none) or why it cannot be built, the added
	// tokens by id, the contents of the special ones, the model's id ->
	// token table (built on first use).
	dec      decoder
	decErr   error
	id2added map[int64]string
	special  map[string]bool
	decRev   *revVocab
}

// Load reads tokenizer.json and, when present, tokenizer_config.json from an
// export folder (the layout `optimum-cli export onnx` writes).
func Load(dir string) (*Tokenizer, error) {
	tj, err := fileio.ReadFile(filepath.Join(dir, "tokenizer.json"), 0)
	if err != nil {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	cj, err := fileio.ReadFile(filepath.Join(dir, "tokenizer_config.json"), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	sm, err := fileio.ReadFile(filepath.Join(dir, "special_tokens_map.json"), 0)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("tokenize: %w", err)
	}
	tok, err := fromJSON(tj, cj, sm)
	if err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, dir)
	}
	return tok, nil
}

// FromJSON builds a Tokenizer from the contents of tokenizer.json and of
// tokenizer_config.json (nil or empty when there is none).
func FromJSON(tokenizerJSON, configJSON []byte) (*Tokenizer, error) {
	return fromJSON(tokenizerJSON, configJSON, nil)
}

// fromJSON also takes special_tokens_map.json, where transformers finds the
// pad token when tokenizer_config.json does not name one.
func fromJSON(tokenizerJSON, configJSON, specialMapJSON []byte) (*Tokenizer, error) {
	var tj tokenizerFile
	if err := strictJSON(tokenizerJSON, &tj); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json: %w", err)
	}
	var cfg tokenizerConfig
	if len(bytes.TrimSpace(configJSON)) > 0 {
		if err := json.Unmarshal(configJSON, &cfg); err != nil {
			return nil, fmt.Errorf("tokenize: tokenizer_config.json: %w", err)
		}
	}
	if !cfg.PadToken.set && len(bytes.TrimSpace(specialMapJSON)) > 0 {
		var sm tokenizerConfig
		if err := json.Unmarshal(specialMapJSON, &sm); err != nil {
			return nil, fmt.Errorf("tokenize: special_tokens_map.json: %w", err)
		}
		cfg.PadToken = sm.PadToken
	}
	t := &Tokenizer{padID: -1, paddingSide: "right", truncationSide: "right"}
	var err error
	if t.model, err = buildModel(tj.Model); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json model: %w", err)
	}
	nc, err := parseComponent(tj.Normalizer)
	if err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json normalizer: %w", err)
	}
	if t.norm, err = buildNormalizer(nc); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json normalizer: %w", err)
	}
	applyConfigNormalizer(t.norm, &cfg)
	pc, err := parseComponent(tj.PreTokenizer)
	if err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json pre_tokenizer: %w", err)
	}
	if t.pre, err = buildPreTokenizer(pc); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json pre_tokenizer: %w", err)
	}
	t.alwaysTrack = needsAlignments(t.pre)
	ppc, err := parseComponent(tj.PostProcessor)
	if err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json post_processor: %w", err)
	}
	if t.post, err = buildPostProcessor(ppc); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json post_processor: %w", err)
	}
	t.added2id = make(map[string]int64, len(tj.AddedTokens))
	t.id2added = make(map[int64]string, len(tj.AddedTokens))
	t.special = map[string]bool{}
	t.decRev = &revVocab{}
	t.vocabSize = t.model.size()
	for i, a := range tj.AddedTokens {
		if err := checkID(fmt.Sprintf("added_tokens[%d] (%q)", i, a.Content), a.ID); err != nil {
			return nil, fmt.Errorf("tokenize: tokenizer.json %w", err)
		}
		if _, ok := t.TokenToID(a.Content); !ok && int(a.ID) >= t.vocabSize {
			t.vocabSize = int(a.ID) + 1
		}
		t.added2id[a.Content] = a.ID
		t.id2added[a.ID] = a.Content
		if a.Special {
			t.special[a.Content] = true
		}
	}
	t.loadDecoder(tj.Decoder)
	if t.added, err = newAddedVocab(tj.AddedTokens, t.norm); err != nil {
		return nil, fmt.Errorf("tokenize: tokenizer.json added_tokens: %w", err)
	}

	// tokenizer_config.json first, then what tokenizer.json preset.
	if cfg.ModelMaxLength != nil && *cfg.ModelMaxLength > 0 && *cfg.ModelMaxLength < 1<<31 {
		t.maxLength = int(*cfg.ModelMaxLength)
	} else if tj.Truncation != nil && tj.Truncation.MaxLength > 0 {
		t.maxLength = tj.Truncation.MaxLength
	}
	switch {
	case cfg.PadToken.set:
		if cfg.PadToken.content != "" {
			id, ok := t.TokenToID(cfg.PadToken.content)
			if !ok {
				return nil, fmt.Errorf("tokenize: tokenizer_config.json: pad_token %q is not in the vocabulary", cfg.PadToken.content)
			}
			t.padID, t.padToken = id, cfg.PadToken.content
		}
	case tj.Padding != nil:
		if err := checkID("padding.pad_id", tj.Padding.PadID); err != nil {
			return nil, fmt.Errorf("tokenize: tokenizer.json %w", err)
		}
		t.padID, t.padToken = tj.Padding.PadID, tj.Padding.PadToken
	}
	if s := cfg.PaddingSide; s != "" {
		if s != "left" && s != "right" {
			return nil, fmt.Errorf("tokenize: tokenizer_config.json: padding_side %q is neither left nor right", s)
		}
		t.paddingSide = s
	} else if tj.Padding != nil && strings.EqualFold(tj.Padding.Direction, "left") {
		t.paddingSide = "left"
	}
	if s := cfg.TruncationSide; s != "" {
		if s != "left" && s != "right" {
			return nil, fmt.Errorf("tokenize: tokenizer_config.json: truncation_side %q is neither left nor right", s)
		}
		t.truncationSide = s
	}
	t.inputNames = cfg.ModelInputNames
	if len(t.inputNames) == 0 {
		t.inputNames = []string{"input_ids", "token_type_ids", "attention_mask"}
	}
	return t, nil
}

// strictJSON decodes JSON that must be one object.
func strictJSON(b []byte, v any) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return errors.New("not a JSON object")
	}
	return json.Unmarshal(b, v)
}

// ModelMaxLength is model_max_length from tokenizer_config.json (or the
// truncation preset of tokenizer.json); 0 when neither gives one.
func (t *Tokenizer) ModelMaxLength() int { return t.maxLength }

// PadID is the id of the pad token, -1 when the tokenizer has none.
func (t *Tokenizer) PadID() int64 { return t.padID }

// VocabSize counts the model's vocabulary and the added tokens.
func (t *Tokenizer) VocabSize() int { return t.vocabSize }

// TokenToID looks a token up in the model vocabulary and the added tokens.
func (t *Tokenizer) TokenToID(token string) (int64, bool) {
	if id, ok := t.added2id[token]; ok {
		return id, true
	}
	return t.model.tokenToID(token)
}

// ModelInputNames are the inputs tokenizer_config.json says the model takes
// (transformers' default: input_ids, token_type_ids, attention_mask).
func (t *Tokenizer) ModelInputNames() []string { return append([]string(nil), t.inputNames...) }

// ---------------------------------------------------------------- files

type tokenizerFile struct {
	Version       string          `json:"version"`
	Truncation    *truncationJSON `json:"truncation"`
	Padding       *paddingJSON    `json:"padding"`
	AddedTokens   []addedToken    `json:"added_tokens"`
	Normalizer    json.RawMessage `json:"normalizer"`
	PreTokenizer  json.RawMessage `json:"pre_tokenizer"`
	PostProcessor json.RawMessage `json:"post_processor"`
	Decoder       json.RawMessage `json:"decoder"`
	Model         json.RawMessage `json:"model"`
}

type truncationJSON struct {
	MaxLength int `json:"max_length"`
}

type paddingJSON struct {
	Direction string `json:"direction"`
	PadID     int64  `json:"pad_id"`
	PadToken  string `json:"pad_token"`
}

type addedToken struct {
	ID         int64  `json:"id"`
	Content    string `json:"content"`
	SingleWord bool   `json:"single_word"`
	LStrip     bool   `json:"lstrip"`
	RStrip     bool   `json:"rstrip"`
	Normalized bool   `json:"normalized"`
	Special    bool   `json:"special"`
}

type tokenizerConfig struct {
	TokenizerClass       string   `json:"tokenizer_class"`
	ModelMaxLength       *float64 `json:"model_max_length"`
	DoLowerCase          *bool    `json:"do_lower_case"`
	StripAccents         *bool    `json:"strip_accents"`
	TokenizeChineseChars *bool    `json:"tokenize_chinese_chars"`
	PadToken             tokenSpec
	PaddingSide          string   `json:"padding_side"`
	TruncationSide       string   `json:"truncation_side"`
	ModelInputNames      []string `json:"model_input_names"`
}

// tokenSpec is a special token in tokenizer_config.json: a string, an
// AddedToken object ({"content": ...}) or null.
type tokenSpec struct {
	set     bool
	content string
}

func (c *tokenizerConfig) UnmarshalJSON(b []byte) error {
	type plain tokenizerConfig
	var p struct {
		plain
		Pad json.RawMessage `json:"pad_token"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*c = tokenizerConfig(p.plain)
	if len(p.Pad) > 0 {
		c.PadToken.set = true
		var s string
		var obj struct {
			Content string `json:"content"`
		}
		switch {
		case string(p.Pad) == "null":
		case json.Unmarshal(p.Pad, &s) == nil:
			c.PadToken.content = s
		case json.Unmarshal(p.Pad, &obj) == nil:
			c.PadToken.content = obj.Content
		default:
			return fmt.Errorf("pad_token: %s is neither a string nor a token object", p.Pad)
		}
	}
	if c.ModelMaxLength != nil && (math.IsNaN(*c.ModelMaxLength) || math.IsInf(*c.ModelMaxLength, 0)) {
		c.ModelMaxLength = nil
	}
	return nil
}

// bertFamily lists the transformers tokenizer classes whose fast version
// rebuilds a BertNormalizer from do_lower_case / strip_accents /
// tokenize_chinese_chars of tokenizer_config.json.
var bertFamily = map[string]bool{
	"BertTokenizer": true, "ConvBertTokenizer": true, "DistilBertTokenizer": true,
	"ElectraTokenizer": true, "FunnelTokenizer": true, "LayoutLMTokenizer": true,
	"LxmertTokenizer": true, "MobileBertTokenizer": true, "SqueezeBertTokenizer": true,
}

// applyConfigNormalizer does what transformers' BertTokenizerFast.__init__
// does: the arguments of tokenizer_config.json, with that constructor's
// defaults (do_lower_case=True, strip_accents=None,
// tokenize_chinese_chars=True), replace those of a top-level BertNormalizer.
func applyConfigNormalizer(n normalizer, cfg *tokenizerConfig) {
	bn, ok := n.(*bertNormalizer)
	if !ok || !bertFamily[strings.TrimSuffix(cfg.TokenizerClass, "Fast")] {
		return
	}
	bn.lowercase = cfg.DoLowerCase == nil || *cfg.DoLowerCase
	bn.stripAccents = cfg.StripAccents
	bn.chinese = cfg.TokenizeChineseChars == nil || *cfg.TokenizeChineseChars
}

func isNull(raw json.RawMessage) bool {
	s := bytes.TrimSpace(raw)
	return len(s) == 0 || string(s) == "null"
}

// component is one normalizer, pre-tokenizer or post-processor of
// tokenizer.json. The JSON is parsed once into a tree, and a Sequence hands
// its parts down without parsing them again: nested Sequences cost time
// linear in the size of the file (re-parsing each level's raw JSON was
// quadratic in the nesting depth).
type component struct {
	typ string
	obj map[string]any
}

// parseComponent parses raw JSON into a component; nil for null.
func parseComponent(raw json.RawMessage) (*component, error) {
	if isNull(raw) {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return componentOf(v)
}

func componentOf(v any) (*component, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("not a JSON object")
	}
	c := &component{obj: obj}
	if t, ok := obj["type"]; ok && t != nil {
		s, ok := t.(string)
		if !ok {
			return nil, errors.New(`"type" is not a string`)
		}
		c.typ = s
	}
	return c, nil
}

// decode fills v (a struct with json tags) from the component's fields.
// Only leaf components are decoded, so each part of the file is encoded
// again at most once.
func (c *component) decode(v any) error {
	b, err := json.Marshal(c.obj)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// sequenceOf builds the parts of a "Sequence" normalizer, pre-tokenizer or
// post-processor: the JSON list under key, each part built by build and kept
// when keep says so (nil parts are dropped). Errors name the part's index.
func sequenceOf[T any](c *component, key string, build func(*component) (T, error), keep func(T) bool) ([]T, error) {
	raw, ok := c.obj[key]
	if !ok || raw == nil {
		return nil, nil
	}
	parts, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("Sequence %s: not a list", key)
	}
	var seq []T
	for i, r := range parts {
		pc, err := componentOf(r)
		if err != nil {
			return nil, fmt.Errorf("Sequence[%d]: %w", i, err)
		}
		p, err := build(pc)
		if err != nil {
			return nil, fmt.Errorf("Sequence[%d]: %w", i, err)
		}
		if any(p) == nil || (keep != nil && !keep(p)) {
			continue
		}
		seq = append(seq, p)
	}
	return seq, nil
}

// WithAddPrefixSpace returns a copy of the tokenizer whose byte-level
// pre-tokenizer and RobertaProcessing post-processor add — or do not add —
// a space before each text, as transformers' RobertaTokenizerFast does when
// given add_prefix_space (run_ner.py asks for it with split words; like
// transformers, only a top-level ByteLevel pre-tokenizer is changed).
// Other tokenizers come back unchanged.
func (t *Tokenizer) WithAddPrefixSpace(add bool) *Tokenizer {
	c := *t
	if p, ok := t.pre.(*byteLevel); ok {
		q := *p
		q.addPrefixSpace = add
		c.pre = &q
	}
	if p, ok := t.post.(*clsSepProcessor); ok && p.roberta {
		q := *p
		q.addPrefixSpace = add
		c.post = &q
	}
	return &c
}
