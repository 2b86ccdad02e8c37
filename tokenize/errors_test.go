package tokenize

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

const tinyWordPiece = `{
  "added_tokens": [
    {"id": 0, "content": "[PAD]", "special": true},
    {"id": 1, "content": "[UNK]", "special": true},
    {"id": 2, "content": "[CLS]", "special": true},
    {"id": 3, "content": "[SEP]", "special": true}
  ],
  "normalizer": {"type": "BertNormalizer", "lowercase": true},
  "pre_tokenizer": {"type": "BertPreTokenizer"},
  "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
  "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab":
    {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "hello": 4, "world": 5, "##s": 6, "!": 7}}
}`

func tiny(t *testing.T, model string) *Tokenizer {
	t.Helper()
	j := tinyWordPiece
	if model != "" {
		j = strings.Replace(j, j[strings.Index(j, `"model"`):strings.LastIndex(j, "}")], `"model": `+model+"\n", 1)
	}
	tok, err := FromJSON([]byte(j), []byte(`{"pad_token": "[PAD]", "model_max_length": 16}`))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestLoadErrors: bad files give errors, never a crash.
func TestLoadErrors(t *testing.T) {
	model := func(m string) string {
		return strings.Replace(tinyWordPiece, tinyWordPiece[strings.Index(tinyWordPiece, `"model"`):strings.LastIndex(tinyWordPiece, "}")], `"model": `+m+"\n", 1)
	}
	replace := func(old, new string) string { return strings.Replace(tinyWordPiece, old, new, 1) }
	tests := []struct {
		name, tokenizer, config, want string
	}{
		{"empty file", "", "", "not a JSON object"},
		{"not an object", "[1, 2]", "", "not a JSON object"},
		{"broken JSON", `{"model": `, "", "unexpected end"},
		{"no model", `{"normalizer": null}`, "", "model: missing"},
		{"unknown model type", model(`{"type": "WordLevelX", "vocab": {}}`), "", `unknown model type "WordLevelX"`},
		{"model without type", model(`{"vocab": {}}`), "", "model without a type"},
		{"empty WordPiece vocab", model(`{"type": "WordPiece", "vocab": {}}`), "", "empty vocab"},
		{"BPE merge outside vocab", model(`{"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}`), "", `"b" is not in the vocab`},
		{"BPE bad merge", model(`{"type": "BPE", "vocab": {"a": 0}, "merges": ["a"]}`), "", "is not two tokens"},
		{"BPE dropout", model(`{"type": "BPE", "dropout": 0.1, "vocab": {}, "merges": []}`), "", "dropout"},
		{"Unigram bad entry", model(`{"type": "Unigram", "unk_id": 0, "vocab": [["a"]]}`), "", "is not [piece, score]"},
		{"Unigram bad unk_id", model(`{"type": "Unigram", "unk_id": 5, "vocab": [["a", -1.0]]}`), "", "unk_id 5"},
		{"unsupported normalizer", replace(`{"type": "BertNormalizer", "lowercase": true}`, `{"type": "ByteLevel"}`), "", `unsupported normalizer type "ByteLevel"`},
		{"bad charsmap", replace(`{"type": "BertNormalizer", "lowercase": true}`, `{"type": "Precompiled", "precompiled_charsmap": "AAAAAA=="}`), "", "bad trie size"},
		{"charsmap not base64", replace(`{"type": "BertNormalizer", "lowercase": true}`, `{"type": "Precompiled", "precompiled_charsmap": "!!"}`), "", "precompiled_charsmap"},
		{"regex unsupported escape", replace(`{"type": "BertNormalizer", "lowercase": true}`, `{"type": "Replace", "pattern": {"Regex": "a\\Rb"}, "content": ""}`), "", `\R is not supported`},
		{"unsupported pre-tokenizer", replace(`{"type": "BertPreTokenizer"}`, `{"type": "Magic"}`), "", `unsupported pre_tokenizer type "Magic"`},
		{"Split unbalanced regex", replace(`{"type": "BertPreTokenizer"}`, `{"type": "Split", "pattern": {"Regex": "(?=a"}, "behavior": "Isolated", "invert": false}`), "", `regex "(?=a"`},
		{"Split bad behavior", replace(`{"type": "BertPreTokenizer"}`, `{"type": "Split", "pattern": {"String": "x"}, "behavior": "Sideways", "invert": false}`), "", `unknown split behavior "Sideways"`},
		{"negative WordLevel id", model(`{"type": "WordLevel", "vocab": {"a": -1}, "unk_token": "a"}`), "", `WordLevel: vocab["a"]: id -1 is outside`},
		{"unsupported post-processor", replace(`"type": "BertProcessing"`, `"type": "Magic"`), "", `unsupported post_processor type "Magic"`},
		{"template with unknown special", replace(`{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}`,
			`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[X]", "type_id": 0}}], "pair": [], "special_tokens": {}}`), "", `"[X]" is not in special_tokens`},
		// HF ids are u32: a negative id would pass through and Gather would
		// wrap it to another row.
		{"negative WordPiece id", model(`{"type": "WordPiece", "vocab": {"a": -2, "[UNK]": 1}}`), "", `WordPiece: vocab["a"]: id -2 is outside`},
		{"WordPiece id over u32", model(`{"type": "WordPiece", "vocab": {"a": 4294967296, "[UNK]": 1}}`), "", `id 4294967296 is outside`},
		{"negative BPE id", model(`{"type": "BPE", "vocab": {"a": -1}, "merges": []}`), "", `BPE: vocab["a"]: id -1 is outside`},
		{"negative template type id", replace(`{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}`,
			`{"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "[CLS]", "type_id": -1}}, {"Sequence": {"id": "A", "type_id": 0}}], "pair": [], "special_tokens": {"[CLS]": {"ids": [2]}}}`), "", `single[0]: type_id: id -1 is outside`},
		{"negative template sequence type id", replace(`{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}`,
			`{"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": -3}}], "pair": [], "special_tokens": {}}`), "", `single[0]: type_id: id -3 is outside`},
		{"negative template special id", replace(`{"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]}`,
			`{"type": "TemplateProcessing", "single": [], "pair": [], "special_tokens": {"[CLS]": {"ids": [-5]}}}`), "", `special_tokens["[CLS]"].ids[0]: id -5 is outside`},
		{"negative BertProcessing id", replace(`"sep": ["[SEP]", 3]`, `"sep": ["[SEP]", -3]`), "", `BertProcessing: sep: id -3 is outside`},
		{"negative added token id", replace(`{"id": 3, "content": "[SEP]"`, `{"id": -4, "content": "[SEP]"`), "", `added_tokens[3] ("[SEP]"): id -4 is outside`},
		{"bad config", tinyWordPiece, `{"model_max_length": "long"}`, "tokenizer_config.json"},
		{"pad token outside vocab", tinyWordPiece, `{"pad_token": "<nope>"}`, `pad_token "<nope>" is not in the vocabulary`},
		{"bad padding side", tinyWordPiece, `{"padding_side": "middle"}`, "padding_side"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := FromJSON([]byte(tt.tokenizer), []byte(tt.config))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got (%v, %v), want an error containing %q", tok != nil, err, tt.want)
			}
		})
	}
}

func TestLoadMissingFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "tokenizer.json") {
		t.Errorf("empty folder: got %v", err)
	}
	if _, err := Load(filepath.Join(dir, "nope")); err == nil {
		t.Error("missing folder: no error")
	}
	// tokenizer_config.json is optional; special_tokens_map.json names the pad token.
	os.WriteFile(filepath.Join(dir, "tokenizer.json"), []byte(tinyWordPiece), 0o644)
	os.WriteFile(filepath.Join(dir, "special_tokens_map.json"), []byte(`{"pad_token": {"content": "[PAD]", "lstrip": false}}`), 0o644)
	tok, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if tok.PadID() != 0 || tok.ModelMaxLength() != 0 {
		t.Errorf("pad id %d, max length %d", tok.PadID(), tok.ModelMaxLength())
	}
}

// TestEncodeErrors: bad input and bad options give errors.
func TestEncodeErrors(t *testing.T) {
	tok := tiny(t, "")
	noUnk := tiny(t, `{"type": "WordPiece", "unk_token": "[NOPE]", "vocab": {"hello": 0, "[PAD]": 1}}`)
	unigramNoUnk := tiny(t, `{"type": "Unigram", "vocab": [["[PAD]", 0.0], ["h", -1.0]]}`)
	tests := []struct {
		name   string
		tok    *Tokenizer
		texts  []string
		pairs  []string
		opts   Options
		want   string
		tensor string
	}{
		{name: "invalid UTF-8", tok: tok, texts: []string{"ok", "bad \xff"}, want: "text 1: invalid UTF-8 at byte 4"},
		{name: "invalid UTF-8 in pair", tok: tok, texts: []string{"ok"}, pairs: []string{"\xc3"}, want: "pair: invalid UTF-8"},
		{name: "pairs count", tok: tok, texts: []string{"a", "b"}, pairs: []string{"c"}, want: "2 texts but 1 pairs"},
		{name: "unknown truncation", tok: tok, texts: []string{"a"}, opts: Options{Truncation: "middle_out"}, want: `unknown truncation "middle_out"`},
		{name: "unknown padding", tok: tok, texts: []string{"a"}, opts: Options{Padding: "some"}, want: `unknown padding "some"`},
		{name: "bad side", tok: tok, texts: []string{"a"}, opts: Options{PaddingSide: "up"}, want: "padding side"},
		{name: "negative length", tok: tok, texts: []string{"a"}, opts: Options{MaxLength: -1}, want: "negative"},
		{name: "below special tokens", tok: tok, texts: []string{"a"}, opts: Options{MaxLength: 1}, want: "no room for the 2 special tokens"},
		{name: "only_second without pair", tok: tok, texts: []string{"hello hello hello"}, opts: Options{MaxLength: 4, Truncation: OnlySecond}, want: "needs a pair"},
		{name: "only_first too short", tok: tok, texts: []string{"hello"}, pairs: []string{"hello hello hello hello"}, opts: Options{MaxLength: 5, Truncation: OnlyFirst}, want: "too short"},
		{name: "WordPiece without unk", tok: noUnk, texts: []string{"xyz"}, want: "[NOPE]"},
		{name: "Unigram without unk", tok: unigramNoUnk, texts: []string{"hx"}, want: "no unk_id"},
		{name: "ragged tensor", tok: tok, texts: []string{"hello", "hello world"}, opts: Options{Padding: DoNotPad}, tensor: InputIDs, want: "pad the batch"},
		{name: "unknown input", tok: tok, texts: []string{"hello"}, tensor: "position_ids", want: `no model input "position_ids"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := tt.tok.EncodeBatch(tt.texts, tt.pairs, tt.opts)
			if tt.tensor != "" {
				if err != nil {
					t.Fatal(err)
				}
				_, err = enc.Tensor(tt.tensor)
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want an error containing %q", err, tt.want)
			}
		})
	}
	noPad, err := FromJSON([]byte(tinyWordPiece), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := noPad.EncodeBatch([]string{"a"}, nil, Options{}); err == nil || !strings.Contains(err.Error(), "no pad token") {
		t.Errorf("padding without pad token: %v", err)
	}
	if _, err := noPad.EncodeBatch([]string{"a"}, nil, Options{Padding: DoNotPad, Truncation: LongestFirst}); err == nil || !strings.Contains(err.Error(), "no model_max_length") {
		t.Errorf("truncation without a length: %v", err)
	}
}

// TestEncodeOptions checks defaults and options on the tiny tokenizer
// (expected rows follow tokenizers' rules; TestGoldens checks them on real
// data).
func TestEncodeOptions(t *testing.T) {
	tok := tiny(t, "")
	tests := []struct {
		name         string
		texts, pairs []string
		opts         Options
		ids, mask    [][]int64
		types        [][]int64
	}{
		{name: "defaults pad to longest", texts: []string{"Hello", "hello worlds!"},
			ids:   [][]int64{{2, 4, 3, 0, 0, 0}, {2, 4, 5, 6, 7, 3}},
			mask:  [][]int64{{1, 1, 1, 0, 0, 0}, {1, 1, 1, 1, 1, 1}},
			types: [][]int64{{0, 0, 0, 0, 0, 0}, {0, 0, 0, 0, 0, 0}}},
		{name: "pair, max_length, multiple of 4, left", texts: []string{"hello"}, pairs: []string{"world"},
			opts: Options{Padding: PadMaxLength, MaxLength: 6, PadToMultipleOf: 4, PaddingSide: "left"},
			ids:  [][]int64{{0, 0, 0, 2, 4, 3, 5, 3}}, mask: [][]int64{{0, 0, 0, 1, 1, 1, 1, 1}},
			types: [][]int64{{0, 0, 0, 0, 0, 0, 1, 1}}},
		{name: "truncate left, no special tokens", texts: []string{"hello world hello"},
			opts: Options{MaxLength: 2, TruncationSide: "left", NoSpecialTokens: true, Padding: DoNotPad},
			ids:  [][]int64{{5, 4}}, mask: [][]int64{{1, 1}}, types: [][]int64{{0, 0}}},
		{name: "added tokens in the text, model max length", texts: []string{"[CLS]hello [SEP] xyz " + strings.Repeat("hello ", 30)},
			ids:   [][]int64{{2, 2, 4, 3, 1, 4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 3}},
			mask:  [][]int64{{1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}},
			types: [][]int64{{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}},
		{name: "empty batch", texts: nil, ids: [][]int64{}, mask: [][]int64{}, types: [][]int64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := tok.EncodeBatch(tt.texts, tt.pairs, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !equalRows(enc.InputIDs, tt.ids) || !equalRows(enc.AttentionMask, tt.mask) || !equalRows(enc.TokenTypeIDs, tt.types) {
				t.Errorf("got\n ids   %v\n mask  %v\n types %v\nwant\n ids   %v\n mask  %v\n types %v",
					enc.InputIDs, enc.AttentionMask, enc.TokenTypeIDs, tt.ids, tt.mask, tt.types)
			}
		})
	}
}

func equalRows(a, b [][]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for k := range a[i] {
			if a[i][k] != b[i][k] {
				return false
			}
		}
	}
	return true
}

// TestTensors: the inputs a model declares, as [batch, seq] int64 tensors.
func TestTensors(t *testing.T) {
	tok := tiny(t, "")
	enc, err := tok.EncodeBatch([]string{"hello", "hello world"}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts, err := enc.Tensors(InputIDs, AttentionMask)
	if err != nil {
		t.Fatal(err)
	}
	ids := ts[InputIDs]
	if len(ts) != 2 || len(ids.Shape) != 2 || ids.Shape[0] != 2 || ids.Shape[1] != 4 {
		t.Fatalf("got %v", ids.Shape)
	}
	if d := ids.Data.([]int64); d[3] != 0 || d[4] != 2 || d[6] != 5 {
		t.Errorf("data %v", d)
	}
	if names := tok.ModelInputNames(); len(names) != 3 {
		t.Errorf("default model inputs %v", names)
	}
	if names := loadFixture(t, "roberta-bpe").ModelInputNames(); len(names) != 2 || names[1] != AttentionMask {
		t.Errorf("roberta model inputs %v", names)
	}
}

// TestConcurrentEncode: one Tokenizer, many goroutines, the same answers
// (run with -race).
func TestConcurrentEncode(t *testing.T) {
	texts := sst2Sentences(t)[:200]
	for _, name := range []string{"minilm-l6-v2", "roberta-bpe", "xlmr-unigram"} {
		tok := loadFixture(t, name)
		want, err := tok.EncodeBatch(texts, nil, Options{})
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				got, err := tok.EncodeBatch(texts, nil, Options{})
				if err != nil {
					t.Error(err)
					return
				}
				if !equalRows(got.InputIDs, want.InputIDs) || !equalRows(got.AttentionMask, want.AttentionMask) {
					t.Errorf("%s: concurrent EncodeBatch differs", name)
				}
			}()
		}
		wg.Wait()
	}
}

// TestConfig: what tokenizer_config.json changes.
func TestConfig(t *testing.T) {
	tests := []struct {
		name    string
		config  string
		text    string
		wantIDs []int64
		maxLen  int
		padID   int64
	}{
		{"no config", ``, "HELLO", []int64{2, 4, 3}, 0, -1},
		{"huge model_max_length is no limit", `{"model_max_length": 1e30}`, "HELLO", []int64{2, 4, 3}, 0, -1},
		{"pad token as an object", `{"pad_token": {"__type": "AddedToken", "content": "[UNK]"}}`, "HELLO", []int64{2, 4, 3}, 0, 1},
		{"do_lower_case=false keeps case (BERT family)", `{"tokenizer_class": "BertTokenizerFast", "do_lower_case": false}`, "HELLO", []int64{2, 1, 3}, 0, -1},
		{"other classes leave the normalizer alone", `{"tokenizer_class": "RobertaTokenizer", "do_lower_case": false}`, "HELLO", []int64{2, 4, 3}, 0, -1},
		{"BERT defaults apply when keys are missing", `{"tokenizer_class": "BertTokenizer", "model_max_length": 7}`, "HELLO", []int64{2, 4, 3}, 7, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := FromJSON([]byte(tinyWordPiece), []byte(tt.config))
			if err != nil {
				t.Fatal(err)
			}
			enc, err := tok.EncodeBatch([]string{tt.text}, nil, Options{Padding: DoNotPad, Truncation: DoNotTruncate})
			if err != nil {
				t.Fatal(err)
			}
			if !equalRows(enc.InputIDs, [][]int64{tt.wantIDs}) || tok.ModelMaxLength() != tt.maxLen || tok.PadID() != tt.padID {
				t.Errorf("ids %v, max %d, pad %d; want %v, %d, %d", enc.InputIDs[0], tok.ModelMaxLength(), tok.PadID(), tt.wantIDs, tt.maxLen, tt.padID)
			}
		})
	}
}
