package dataset_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"ft/dataset"
	"ft/tokenize"
)

const tinyBERT = "../internal/bundled/tiny-bert"

// TestCachedTextSourceMatchesTextSource: batches from the once-tokenized
// cache equal TextSource's, which runs the (Hugging Face-parity) tokenizer
// on every batch, for single texts and pairs, truncation, right and left
// padding, and batch sizes from 1 to 64 over shuffled rows.
func TestCachedTextSourceMatchesTextSource(t *testing.T) {
	tj, err := os.ReadFile(filepath.Join(tinyBERT, "tokenizer.json"))
	if err != nil {
		t.Fatal(err)
	}
	cj, err := os.ReadFile(filepath.Join(tinyBERT, "tokenizer_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := json.Unmarshal(cj, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["padding_side"] = "left"
	left, _ := json.Marshal(cfg)
	rightTok, err := tokenize.FromJSON(tj, cj)
	if err != nil {
		t.Fatal(err)
	}
	leftTok, err := tokenize.FromJSON(tj, left)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	pairFile := filepath.Join(dir, "pairs.tsv")
	os.WriteFile(pairFile, []byte("sentence1\tsentence2\tlabel\n"+
		"a gripping , beautifully acted film\tit is good\t1\n"+
		"two hours\ti will never get back , a dull and plodding and tiresome film\t0\n"+
		"fine\tfine\t1\n"+
		"the worst\tthe best film of the year , a delight from the first frame to the last\t0\n"), 0o644)
	single, err := dataset.Read("../internal/bundled/sst2-sample/test.tsv", dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := dataset.Read(pairFile, dataset.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	all := []string{tokenize.InputIDs, tokenize.AttentionMask, tokenize.TokenTypeIDs}
	cases := []struct {
		name   string
		data   *dataset.Dataset
		tok    *tokenize.Tokenizer
		maxLen int
		inputs []string
	}{
		{"single right", single, rightTok, 64, all},
		{"single left truncated", single, leftTok, 12, all},
		{"pairs right truncated", pairs, rightTok, 14, all},
		{"pairs left", pairs, leftTok, 64, all},
		{"two inputs", single, rightTok, 32, all[:2]},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			plain := &dataset.TextSource{Data: c.data, Tokenizer: c.tok, Inputs: c.inputs, MaxLength: c.maxLen}
			cached, err := plain.Cached()
			if err != nil {
				t.Fatal(err)
			}
			if cached.Len() != plain.Len() {
				t.Fatalf("Len %d, want %d", cached.Len(), plain.Len())
			}
			padded := 0
			for _, bs := range []int{1, 3, 16, 64} {
				batches, err := dataset.EpochBatches(c.data.Len(), bs, true, 5, bs, false)
				if err != nil {
					t.Fatal(err)
				}
				for i, rows := range batches {
					if i > 20 {
						break
					}
					want, err := plain.Batch(rows)
					if err != nil {
						t.Fatal(err)
					}
					got, err := cached.Batch(rows)
					if err != nil {
						t.Fatal(err)
					}
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("batch size %d, batch %d (rows %v): cached batch differs from TextSource's", bs, i, rows)
					}
					if m := want.Feeds[tokenize.AttentionMask].I64(); len(m) > 0 && (m[0] == 0 || m[len(m)-1] == 0) {
						padded++
					}
				}
			}
			if padded == 0 {
				t.Error("no batch had padding: the case tests nothing about it")
			}
		})
	}
}
