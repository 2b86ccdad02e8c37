package tokenize

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
)

// alignRecord is a record of align.jsonl.zst, words.jsonl.zst or
// prefix.jsonl.zst (make_goldens.py): besides the ids, the offsets (flat
// start, end pairs, in bytes), word ids and sequence ids HF gives. A batch
// record holds one list per row.
type alignRecord struct {
	Kind    string          `json:"kind"`
	Opts    *goldenOpts     `json:"opts"`
	Case    int             `json:"case"`
	Cases   []int           `json:"cases"`
	IDs     json.RawMessage `json:"ids"`
	TypeIDs json.RawMessage `json:"type_ids"`
	Mask    json.RawMessage `json:"mask"`
	Offsets json.RawMessage `json:"offsets"`
	WordIDs json.RawMessage `json:"word_ids"`
	SeqIDs  json.RawMessage `json:"seq_ids"`
	Error   string          `json:"error"`
}

type wordCase struct {
	Name string    `json:"name"`
	A    []string  `json:"a"`
	B    *[]string `json:"b"`
}

var (
	wordCasesOnce sync.Once
	wordCasesAll  []wordCase
)

func loadWordCases(t testing.TB) []wordCase {
	wordCasesOnce.Do(func() {
		for _, l := range readZstdLines(t, filepath.Join(fixtures, "words_cases.jsonl.zst")) {
			var c wordCase
			if err := json.Unmarshal(l, &c); err != nil {
				t.Fatal(err)
			}
			wordCasesAll = append(wordCasesAll, c)
		}
	})
	if len(wordCasesAll) == 0 {
		t.Fatal("no word cases")
	}
	return wordCasesAll
}

// TestAlignGoldens compares offsets, word ids and sequence ids (and the ids
// with them) with HF's on every fixture: texts (single, pairs, without
// special tokens, truncated, padded both sides) and pre-split words.
func TestAlignGoldens(t *testing.T) {
	cases := loadCases(t)
	words := loadWordCases(t)
	for _, name := range []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram",
		"albert-unigram", "unigram-edge", "xlmr-spm", "llama-bpe", "metaspace-first", "gpt2-bpe",
		"wordlevel-whitespace", "split-bpe", "split-wordlevel",
		// make_llm_goldens.py: today's models' pipelines
		"qwen25-bpe", "llama3-bpe", "gemma-bpe", "phi3-bpe", "modernbert-bpe", "debertav3-unigram"} {
		t.Run(name, func(t *testing.T) {
			tok := loadFixture(t, name)
			checkAlign(t, tok, cases, words, filepath.Join(fixtures, name, "align.jsonl.zst"))
			checkAlign(t, tok, cases, words, filepath.Join(fixtures, name, "words.jsonl.zst"))
		})
	}
	t.Run("roberta-bpe-add-prefix-space", func(t *testing.T) {
		tok := loadFixture(t, "roberta-bpe").WithAddPrefixSpace(true)
		checkAlign(t, tok, cases, words, filepath.Join(fixtures, "roberta-bpe", "prefix.jsonl.zst"))
	})
}

func checkAlign(t *testing.T, tok *Tokenizer, cases []goldenCase, words []wordCase, path string) {
	t.Helper()
	m := newMismatches(t)
	counts, fail := m.counts, m.fail
	for _, line := range readZstdLines(t, path) {
		var r alignRecord
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatal(err)
		}
		idx := r.Cases
		batch := r.Kind == "batch" || r.Kind == "words_batch"
		if !batch {
			idx = []int{r.Case}
		}
		opts := r.Opts.options()
		opts.ReturnOffsets = true
		if r.Kind == "nospecial" {
			opts.NoSpecialTokens = true
		}
		var got *Encoding
		var err error
		var label string
		switch r.Kind {
		case "words", "words_trunc", "words_batch":
			var ws, ps [][]string
			pair := false
			for _, i := range idx {
				ws = append(ws, words[i].A)
				if words[i].B != nil {
					pair = true
					ps = append(ps, *words[i].B)
				}
			}
			if !pair {
				ps = nil
			}
			got, err = tok.EncodeWords(ws, ps, opts)
			label = fmt.Sprintf("%s %+v case %s %q", r.Kind, r.Opts, words[idx[0]].Name, words[idx[0]].A)
		default:
			texts, pairs := batchOf(cases, idx)
			got, err = tok.EncodeBatch(texts, pairs, opts)
			label = fmt.Sprintf("%s %+v case %s %s", r.Kind, r.Opts, cases[idx[0]].Name, show(cases[idx[0]].A))
		}
		if r.Error != "" {
			counts[r.Kind+" (error)"]++
			if err == nil {
				fail("%s: HF fails (%s), we do not", label, r.Error)
			}
			continue
		}
		counts[r.Kind]++
		if err != nil {
			fail("%s: %v", label, err)
			continue
		}
		var ids, types, mask [][]int64
		var offs, wids, sids [][]int
		var derr error
		if batch {
			derr = decodeGolden(r.IDs, &ids, r.TypeIDs, &types, r.Mask, &mask, r.Offsets, &offs, r.WordIDs, &wids, r.SeqIDs, &sids)
		} else {
			var a, b, c []int64
			var o, w, s []int
			derr = decodeGolden(r.IDs, &a, r.TypeIDs, &b, r.Mask, &c, r.Offsets, &o, r.WordIDs, &w, r.SeqIDs, &s)
			ids, types, mask, offs, wids, sids = [][]int64{a}, [][]int64{b}, [][]int64{c}, [][]int{o}, [][]int{w}, [][]int{s}
		}
		if derr != nil || len(got.InputIDs) != len(ids) {
			fail("%s: golden unreadable (%v) or %d rows for %d golden rows", label, derr, len(got.InputIDs), len(ids))
			continue
		}
		for i := range ids {
			var flat []int
			for _, o := range got.Offsets[i] {
				flat = append(flat, o[0], o[1])
			}
			switch {
			case !slices.Equal(got.InputIDs[i], ids[i]):
				fail("%s row %d:\n input_ids %v\n want      %v", label, i, got.InputIDs[i], ids[i])
			case !slices.Equal(got.TokenTypeIDs[i], types[i]):
				fail("%s row %d:\n token_type_ids %v\n want           %v", label, i, got.TokenTypeIDs[i], types[i])
			case !slices.Equal(got.AttentionMask[i], mask[i]):
				fail("%s row %d:\n attention_mask %v\n want           %v", label, i, got.AttentionMask[i], mask[i])
			case !slices.Equal(flat, offs[i]):
				fail("%s row %d:\n offsets %v\n want    %v\n ids %v", label, i, flat, offs[i], ids[i])
			case !slices.Equal(got.WordIDs[i], wids[i]):
				fail("%s row %d:\n word_ids %v\n want     %v", label, i, got.WordIDs[i], wids[i])
			case !slices.Equal(got.SequenceIDs[i], sids[i]):
				fail("%s row %d:\n sequence_ids %v\n want         %v", label, i, got.SequenceIDs[i], sids[i])
			}
		}
	}
	m.report(filepath.Base(path) + ": ")
}
