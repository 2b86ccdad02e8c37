package tokenize

import (
	"bytes"
	"encoding/json"
	"fmt"
	"ft/internal/fileio"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// TokenNames maps ids back to vocabulary entries and says how the
// tokenizer marks word pieces, read from tokenizer.json: what an
// explanation needs to show tokens as text.
type TokenNames struct {
	names   map[int64]string
	special map[int64]bool
	// scheme: "wordpiece" (prefix marks a continuation), "bytelevel" (Ġ
	// marks a word start, bytes mapped to printable runes), "metaspace" (▁
	// marks a word start), "" (every token is a word).
	scheme string
	prefix string
	unk    int64 // the unknown token's id, -1 when there is none
}

// LoadTokenNames reads dir/tokenizer.json.
func LoadTokenNames(dir string) (*TokenNames, error) {
	p := filepath.Join(dir, "tokenizer.json")
	b, err := fileio.ReadFile(p, 0)
	if err != nil {
		return nil, err
	}
	var f struct {
		AddedTokens []struct {
			ID      int64  `json:"id"`
			Content string `json:"content"`
			Special bool   `json:"special"`
		} `json:"added_tokens"`
		Model struct {
			Type   string          `json:"type"`
			Vocab  json.RawMessage `json:"vocab"`
			Prefix *string         `json:"continuing_subword_prefix"`
			Unk    string          `json:"unk_token"`
			UnkID  *int64          `json:"unk_id"` // Unigram
		} `json:"model"`
		Decoder      json.RawMessage `json:"decoder"`
		PreTokenizer json.RawMessage `json:"pre_tokenizer"`
		Normalizer   json.RawMessage `json:"normalizer"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	tn := &TokenNames{names: map[int64]string{}, special: map[int64]bool{}, unk: -1}
	var asMap map[string]int64
	var asList [][]any
	switch {
	case len(f.Model.Vocab) == 0:
	case json.Unmarshal(f.Model.Vocab, &asMap) == nil:
		for s, id := range asMap {
			tn.names[id] = s
		}
	case json.Unmarshal(f.Model.Vocab, &asList) == nil:
		for id, e := range asList {
			if len(e) > 0 {
				if s, ok := e[0].(string); ok {
					tn.names[int64(id)] = s
				}
			}
		}
	default:
		return nil, fmt.Errorf("%s: model.vocab is neither a map nor a list of [piece, score]", p)
	}
	for _, a := range f.AddedTokens {
		tn.names[a.ID] = a.Content
		// the unknown token stands for text: it is scored like any other
		if a.Special && a.Content != f.Model.Unk {
			tn.special[a.ID] = true
		}
	}
	if f.Model.Unk != "" {
		for id, n := range tn.names {
			if n == f.Model.Unk && (tn.unk < 0 || id < tn.unk) {
				tn.unk = id
			}
		}
	}
	if f.Model.UnkID != nil {
		tn.unk = *f.Model.UnkID
	}
	dec := append(append([]byte{}, f.Decoder...), f.PreTokenizer...)
	switch {
	case f.Model.Type == "WordPiece":
		tn.scheme, tn.prefix = "wordpiece", "##"
		if f.Model.Prefix != nil {
			tn.prefix = *f.Model.Prefix
		}
	case bytes.Contains(dec, []byte(`"ByteLevel"`)):
		tn.scheme = "bytelevel"
	case bytes.Contains(dec, []byte(`"Metaspace"`)) || f.Model.Type == "Unigram" ||
		// SentencePiece BPE (Llama-2, Gemma, Phi-3): a Replace normalizer
		// writes spaces as ▁, a Replace decoder turns them back
		bytes.Contains(f.Decoder, []byte("▁")) || bytes.Contains(f.Decoder, []byte(`\u2581`)) ||
		bytes.Contains(f.Normalizer, []byte("▁")) || bytes.Contains(f.Normalizer, []byte(`\u2581`)):
		tn.scheme = "metaspace"
	}
	return tn, nil
}

// Scheme says how tokens mark words: "wordpiece" (ContinuingPrefix marks
// a continuation), "bytelevel" (Ġ marks a word start), "metaspace" (▁ marks
// a word start) or "" (every token is a word).
func (tn *TokenNames) Scheme() string { return tn.scheme }

// ContinuingPrefix is the WordPiece continuation prefix ("##"); "" for other
// schemes.
func (tn *TokenNames) ContinuingPrefix() string {
	if tn.scheme != "wordpiece" {
		return ""
	}
	return tn.prefix
}

// IsUnknown reports whether id is the model's unknown token.
func (tn *TokenNames) IsUnknown(id int64) bool { return id >= 0 && id == tn.unk }

// IsSpecial reports whether id is a special added token.
func (tn *TokenNames) IsSpecial(id int64) bool { return tn.special[id] }

// Name returns the vocabulary entry of id, or "<id>" when it has none.
func (tn *TokenNames) Name(id int64) string {
	if s, ok := tn.names[id]; ok {
		return s
	}
	return fmt.Sprintf("<%d>", id)
}

// Piece returns the text a (non-special) vocabulary entry stands for and
// whether it continues the previous word; afterWord says the token before
// it is a piece of text (not a special token).
func (tn *TokenNames) Piece(token string, afterWord bool) (text string, continues bool) {
	switch tn.scheme {
	case "wordpiece":
		if tn.prefix != "" && strings.HasPrefix(token, tn.prefix) && afterWord {
			return strings.TrimPrefix(token, tn.prefix), true
		}
	case "bytelevel":
		return ByteLevelDecode(token), afterWord && !strings.HasPrefix(token, "Ġ")
	case "metaspace":
		if b, ok := byteToken(token); ok && b < utf8.RuneSelf {
			// a byte-fallback piece of ASCII (<0x0A>) is that character
			return string(rune(b)), afterWord
		}
		return strings.ReplaceAll(token, "▁", " "), afterWord && !strings.HasPrefix(token, "▁")
	}
	return token, false
}

// ByteLevelDecode undoes GPT-2's bytes-to-printable-runes map (the
// byte-level alphabet of the ByteLevel pre-tokenizer); runes outside it are
// kept, and invalid UTF-8 becomes U+FFFD.
func ByteLevelDecode(s string) string {
	byteOf := byteLevelInverse()
	var out []byte
	for _, r := range s {
		if c, ok := byteOf[r]; ok {
			out = append(out, c)
		} else {
			out = utf8.AppendRune(out, r)
		}
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// byteLevelInverse maps each rune of the byte-level alphabet back to its byte.
var byteLevelInverse = sync.OnceValue(func() map[rune]byte {
	m := map[rune]byte{}
	for b, c := range byteChars {
		r, _ := utf8.DecodeRuneInString(c)
		m[r] = byte(b)
	}
	return m
})
