package tokenize

import (
	"path/filepath"
	"strings"
	"testing"
)

// sst2Sentences are the SST-2 test sentences, as stored with the goldens.
func sst2Sentences(b testing.TB) []string {
	var out []string
	for _, c := range loadCases(b) {
		if strings.HasPrefix(c.Name, "sst2/") {
			out = append(out, c.A)
		}
	}
	return out
}

func agnewsTexts(b testing.TB) []string {
	var out []string
	for _, c := range loadCases(b) {
		if strings.HasPrefix(c.Name, "agnews/") {
			out = append(out, c.A)
		}
	}
	return out
}

// BenchmarkEncodeSST2 encodes the 872 SST-2 test sentences as one batch
// (truncation to 512, padding to the longest) and reports sentences per
// second. testmodels/tokenizers/bench_hf.py times Hugging Face tokenizers
// on the same sentences; run both on 2 cores:
//
//	go test ./tokenize/ -run '^$' -bench EncodeSST2 -cpu 2
func BenchmarkEncodeSST2(b *testing.B) {
	benchEncode(b, sst2Sentences(b))
}

// BenchmarkEncodeAGNews does the same on 2,000 AG News texts (longer).
func BenchmarkEncodeAGNews(b *testing.B) {
	benchEncode(b, agnewsTexts(b))
}

// BenchmarkEncodeLLM encodes the AG News texts with today's models'
// pipelines: Qwen2.5 and Llama 3 split with a look-ahead regex (regexp2),
// ModernBERT with the byte-level one (Go's regexp), Gemma has no
// pre-tokenizer.
func BenchmarkEncodeLLM(b *testing.B) {
	benchEncode(b, agnewsTexts(b), "qwen25-bpe", "llama3-bpe", "modernbert-bpe", "gemma-bpe")
}

func benchEncode(b *testing.B, texts []string, names ...string) {
	if names == nil {
		names = []string{"minilm-l6-v2", "bert-cased-wordpiece", "roberta-bpe", "xlmr-unigram", "xlmr-spm"}
	}
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			tok, err := Load(filepath.Join(fixtures, name))
			if err != nil {
				b.Fatal(err)
			}
			opts := Options{MaxLength: 512}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := tok.EncodeBatch(texts, nil, opts); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(texts))*float64(b.N)/b.Elapsed().Seconds(), "sentences/s")
		})
	}
}
