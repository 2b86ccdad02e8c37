package finetune

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ft/embed"
	"ft/graph"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

func TestReadEmbedData(t *testing.T) {
	for _, c := range []struct {
		file     string
		opt      EmbedReadOptions
		cols     []string
		label    string
		texts    [][]string
		labels   []float64
		errorHas string
	}{
		{file: "scored.tsv", opt: EmbedReadOptions{ScoreScale: 5}, cols: []string{"sentence1", "sentence2"}, label: "score",
			texts: [][]string{{"A dog runs.", "A dog is running."}, {"A cat sleeps.", "A man sings."}}, labels: []float64{0.9, 0.1}},
		{file: "triplets.jsonl", cols: []string{"anchor", "positive", "negative"},
			texts: [][]string{{"a dog runs", "a dog is running", "a cat sleeps"}, {"two men", "two people", "one woman"}}},
		{file: "pairs.csv", cols: []string{"query", "positive"}, texts: [][]string{{"a dog, running", "a dog runs"}, {"who sings", "a man sings"}}},
		{file: "pairs.csv", opt: EmbedReadOptions{Columns: []string{"positive", "query"}}, cols: []string{"positive", "query"},
			texts: [][]string{{"a dog runs", "a dog, running"}, {"a man sings", "who sings"}}},
		{file: "scored.tsv", opt: EmbedReadOptions{LabelColumn: "-", Columns: []string{"sentence1", "sentence2"}}, cols: []string{"sentence1", "sentence2"},
			texts: [][]string{{"A dog runs.", "A dog is running."}, {"A cat sleeps.", "A man sings."}}},
		{file: "badscore.tsv", errorHas: "badscore.tsv:2: score \"five\" is not a finite number"},
		{file: "short.tsv", errorHas: "short.tsv:2: 2 fields, the header has 3"},
		{file: "pairs.csv", opt: EmbedReadOptions{Columns: []string{"query", "answer"}}, errorHas: `no text column "answer"`},
	} {
		t.Run(c.file, func(t *testing.T) {
			d, err := ReadEmbedData(filepath.Join("testdata", "embed", c.file), c.opt)
			if c.errorHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errorHas) {
					t.Fatalf("error %v, want one with %q", err, c.errorHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Columns, c.cols) || d.LabelColumn != c.label || !reflect.DeepEqual(d.Texts, c.texts) {
				t.Fatalf("columns %v label %q texts %q; want %v %q %q", d.Columns, d.LabelColumn, d.Texts, c.cols, c.label, c.texts)
			}
			if len(d.Labels) != len(c.labels) {
				t.Fatalf("labels %v, want %v", d.Labels, c.labels)
			}
			for i := range c.labels {
				if math.Abs(d.Labels[i]-c.labels[i]) > 1e-15 {
					t.Fatalf("labels %v, want %v", d.Labels, c.labels)
				}
			}
		})
	}
}

// TestEmbedSourceNoDuplicates: with NoDuplicates no batch holds a text twice.
func TestEmbedSourceNoDuplicates(t *testing.T) {
	texts := [][]string{{"a", "b"}, {"a", "c"}, {"d", "e"}, {"f", "b"}, {"g", "h"}, {"i", "j"}}
	s := &EmbedSource{Texts: texts, NoDuplicates: true}
	bs, err := s.EpochBatches(2, false, 42, 0)
	if err != nil {
		t.Fatal(err)
	}
	// ST's sampler over file order: [0 2] [1 3] [4 5]
	if want := [][]int{{0, 2}, {1, 3}, {4, 5}}; !reflect.DeepEqual(bs, want) {
		t.Fatalf("batches %v, want %v", bs, want)
	}
	s.NoDuplicates = false
	if bs, _ = s.EpochBatches(2, false, 42, 0); !reflect.DeepEqual(bs, [][]int{{0, 1}, {2, 3}, {4, 5}}) {
		t.Fatalf("without NoDuplicates: %v", bs)
	}
}

var stsTexts = [][]string{
	{"a dog is running on the grass", "a dog runs on grass"},
	{"two people are sitting at a table", "people sit near a table"},
	{"a man is riding a bike down the street", "the man rides a bike"},
	{"a cat is sitting in the snow", "a white cat in snow"},
	{"a woman is eating", "a boy is playing with a ball"},
	{"three horses in a field", "the horse is red"},
	{"a girl on the beach", "a young girl at the beach"},
	{"a car on the street", "water and snow"},
}
var stsScores = []float64{0.9, 0.7, 0.8, 0.6, 0.05, 0.3, 0.85, 0.0}

// loadTiny loads bert-fe with the oracle's tokenizer.
func loadTiny(t *testing.T, opt EncoderOptions) (*SentenceEncoder, func([]string) (map[string]*tensor.Tensor, error)) {
	t.Helper()
	dir := embedFixture(t)
	enc, err := LoadSentenceEncoder(dir, opt)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return enc, TokenizerEncode(tok, enc.Graph.InputNames(), 64)
}

// TestEmbeddingMetrics: the Trainer's evaluation with EmbeddingMetrics
// gives the evaluators' values on SentenceEncoder.Embed's embeddings (the
// evaluators themselves equal ST's: package embed's tests).
func TestEmbeddingMetrics(t *testing.T) {
	enc, encode := loadTiny(t, EncoderOptions{})
	src := &EmbedSource{Texts: stsTexts, Labels: stsScores, Encode: encode}
	tr := &Trainer{Model: enc.Model, Args: Args{PerDeviceEvalBatchSize: 3}, Loss: &EmbeddingLoss{Encoder: enc, Objective: embed.NewCoSENTLoss()},
		Metrics: enc.EmbeddingMetrics(src)}
	got, err := tr.Evaluate(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var a, b []string
	for _, r := range stsTexts {
		a, b = append(a, r[0]), append(b, r[1])
	}
	ea, err := enc.Embed(context.Background(), encode, a, 8)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := enc.Embed(context.Background(), encode, b, 8)
	if err != nil {
		t.Fatal(err)
	}
	want, err := embed.EvaluateSimilarity(ea, eb, stsScores)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if math.Abs(got[k]-v) > 1e-6 {
			t.Errorf("%s = %.9f, on Embed's embeddings %.9f", k, got[k], v)
		}
	}
	// pairs without scores: retrieval
	src2 := &EmbedSource{Texts: stsTexts, Encode: encode}
	tr.Metrics = enc.EmbeddingMetrics(src2)
	tr.Loss = &EmbeddingLoss{Encoder: enc, Objective: embed.NewMultipleNegativesRankingLoss()}
	got, err = tr.Evaluate(context.Background(), src2)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	rel := map[string][]string{}
	for i := range stsTexts {
		ids = append(ids, fmt.Sprintf("%d", i))
		rel[ids[i]] = []string{ids[i]}
	}
	want, err = embed.EvaluateRetrieval(embed.DefaultRetrievalConfig(), ids, ea, ids, eb, rel)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"cosine_mrr@10", "cosine_ndcg@10", "cosine_map@100", "cosine_recall@1"} {
		if math.Abs(got[k]-want[k]) > 1e-9 {
			t.Errorf("%s = %.9f, want %.9f", k, got[k], want[k])
		}
	}
}

// TestEmbeddingResume: a run interrupted after a checkpoint and resumed
// ends with the weights of the run that was not interrupted, bit for bit,
// and keeps the best evaluated model by spearman_cosine.
func TestEmbeddingResume(t *testing.T) {
	run := func(out, resume string, steps int) (*SentenceEncoder, *Result) {
		enc, encode := loadTiny(t, EncoderOptions{})
		tr := &Trainer{Model: enc.Model,
			Args: Args{LearningRate: 1e-3, MaxSteps: steps, PerDeviceTrainBatchSize: 2, OutputDir: out, SaveSteps: 2,
				EvalStrategy: "steps", EvalSteps: 2, MetricForBestModel: "spearman_cosine", WarmupSteps: 1},
			Loss:  &EmbeddingLoss{Encoder: enc, Objective: embed.NewCoSENTLoss()},
			Train: &EmbedSource{Texts: stsTexts, Labels: stsScores, Encode: encode},
			Eval:  &EmbedSource{Texts: stsTexts, Labels: stsScores, Encode: encode}, Trainable: enc.Graph.Params, ResumeFrom: resume}
		tr.Metrics = enc.EmbeddingMetrics(tr.Eval.(*EmbedSource))
		res, err := tr.Fit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return enc, res
	}
	full := t.TempDir()
	a, ra := run(full, "", 6)
	if ra.BestStep == 0 || math.IsNaN(ra.BestMetric) {
		t.Fatalf("no best model: %+v", ra)
	}
	// resume a copy of the run folder from its step-2 checkpoint
	part := t.TempDir()
	b, err := os.ReadFile(filepath.Join(full, "checkpoint-2"+CheckpointExt))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(part, "checkpoint-2"+CheckpointExt), b, 0o644); err != nil {
		t.Fatal(err)
	}
	r, rr := run(part, filepath.Join(part, "checkpoint-2"+CheckpointExt), 6)
	for i, p := range a.Graph.Params {
		x, y := p.Value.F32(), r.Graph.Params[i].Value.F32()
		for j := range x {
			if math.Float32bits(x[j]) != math.Float32bits(y[j]) {
				t.Fatalf("%s[%d]: %g uninterrupted, %g resumed", p.Name, j, x[j], y[j])
			}
		}
	}
	if !reflect.DeepEqual(ra.Losses, rr.Losses) {
		t.Fatalf("losses %v uninterrupted, %v resumed", ra.Losses, rr.Losses)
	}
}

// TestEmbeddingLoRA: LoRA adapters on the encoder train (only they change),
// and the saved folder (adapters merged) gives the embeddings of the model
// with adapters.
func TestEmbeddingLoRA(t *testing.T) {
	enc, encode := loadTiny(t, EncoderOptions{})
	adapters, err := ApplyLoRA(enc.Model, LoRAConfig{R: 4, Alpha: 8, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	trainable, err := LoRATrainable(enc.Model, adapters, Selection{})
	if err != nil {
		t.Fatal(err)
	}
	before := snapshot(enc.Graph.Params)
	tr := &Trainer{Model: enc.Model, Args: Args{LearningRate: 1e-2, MaxSteps: 4, PerDeviceTrainBatchSize: 4, SaveStrategy: "no"},
		Loss:  &EmbeddingLoss{Encoder: enc, Objective: embed.NewMultipleNegativesRankingLoss()},
		Train: &EmbedSource{Texts: stsTexts, Encode: encode}, Trainable: trainable}
	res, err := tr.Fit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	on := map[*graph.Param]bool{}
	for _, p := range trainable {
		on[p] = true
	}
	changed := 0
	for p, v := range before {
		if !reflect.DeepEqual(v, p.Value.F32()) {
			if !on[p] {
				t.Fatalf("%s changed but is frozen", p.Name)
			}
			changed++
		}
	}
	if changed == 0 {
		t.Fatalf("no adapter changed (losses %v)", res.Losses)
	}
	probe := []string{"a dog on the beach", "two men sing", "snow"}
	want, err := enc.Embed(context.Background(), encode, probe, 3)
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "st")
	if err := enc.SaveSentenceTransformer(out, 64); err != nil {
		t.Fatal(err)
	}
	back, err := LoadSentenceEncoder(out, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Embed(context.Background(), encode, probe, 3)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want.Data {
		if math.Abs(got.Data[i]-want.Data[i]) > 1e-5 {
			t.Fatalf("merged export's embedding [%d] = %g, with adapters %g", i, got.Data[i], want.Data[i])
		}
	}
}

// TestEmbeddingOutputNodes: the sentence_embedding output that
// SaveSentenceTransformerWith adds as ONNX nodes (mean or CLS pooling,
// Normalize) computes SentenceEncoder.Embed's embeddings when ft's own
// runtime runs it (ONNX Runtime: TestSentenceTransformerExport).
func TestEmbeddingOutputNodes(t *testing.T) {
	for _, c := range []struct {
		pooling string
		norm    bool
	}{{"mean", false}, {"mean", true}, {"cls", true}} {
		t.Run(fmt.Sprintf("%s-normalize=%v", c.pooling, c.norm), func(t *testing.T) {
			norm := c.norm
			enc, encode := loadTiny(t, EncoderOptions{Pooling: c.pooling, Normalize: &norm})
			probe := []string{"a dog on the beach", "two men sing", "snow"}
			want, err := enc.Embed(context.Background(), encode, probe, 3)
			if err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(t.TempDir(), "st")
			if err := enc.SaveSentenceTransformerWith(out, STSaveOptions{MaxSeqLength: 64, EmbeddingOutput: true}); err != nil {
				t.Fatal(err)
			}
			m, err := onnx.Load(filepath.Join(out, "onnx", onnx.DefaultFile))
			if err != nil {
				t.Fatal(err)
			}
			g, err := graph.Import(m, graph.Options{})
			if err != nil {
				t.Fatal(err)
			}
			feeds, err := encode(probe)
			if err != nil {
				t.Fatal(err)
			}
			res, err := g.Run(feeds, EmbeddingOutputName)
			if err != nil {
				t.Fatal(err)
			}
			got := res[EmbeddingOutputName].F32()
			if len(got) != len(want.Data) {
				t.Fatalf("%d values, want %d", len(got), len(want.Data))
			}
			for i := range got {
				if math.Abs(float64(got[i])-want.Data[i]) > 1e-6 {
					t.Fatalf("sentence_embedding[%d] = %g, Embed %g", i, got[i], want.Data[i])
				}
			}
		})
	}
}

// TestSentenceEncoderFromClassifier: a text-classification export (the bert
// fixture: bert-fe's encoder under a classifier) trains as a sentence
// encoder on its last hidden state: the same embeddings as bert-fe, the
// encoder's parameters only, and ST's MNRL loss of the oracle.
func TestSentenceEncoderFromClassifier(t *testing.T) {
	cls, err := LoadSentenceEncoder("../testmodels/fixtures/bert", EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	fe, err := LoadSentenceEncoder(bertFE, EncoderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o := readEmbedTrainOracle(t)
	c := o.Cases[0]
	if c.Name != "mnrl" {
		t.Fatalf("oracle case 0 is %s, want mnrl", c.Name)
	}
	src := &EmbedSource{Texts: idRows(c.Columns), Encode: idEncode}
	b, err := src.Batch([]int{0, 1, 2, 3, 4, 5, 6, 7})
	if err != nil {
		t.Fatal(err)
	}
	x, err := cls.Encode(b.Feeds)
	if err != nil {
		t.Fatal(err)
	}
	y, err := fe.Encode(b.Feeds)
	if err != nil {
		t.Fatal(err)
	}
	for i := range x.Data {
		if math.Abs(x.Data[i]-y.Data[i]) > 1e-6 {
			t.Fatalf("embedding [%d]: %g from the classifier export, %g from bert-fe", i, x.Data[i], y.Data[i])
		}
	}
	ps, err := cls.EncoderParams()
	if err != nil {
		t.Fatal(err)
	}
	var names, want []string
	for _, p := range ps {
		names = append(names, strings.TrimPrefix(p.Name, "bert."))
	}
	for _, p := range fe.Graph.Params {
		want = append(want, p.Name)
	}
	if !reflect.DeepEqual(names, want) {
		t.Fatalf("encoder parameters %v, want bert-fe's %v", names, want)
	}
	l := &EmbeddingLoss{Encoder: cls, Objective: embed.NewMultipleNegativesRankingLoss()}
	loss, grads, err := l.Step(cls.Model, b, ps, 1)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(loss-c.Loss) > 1e-5*c.Loss || len(grads) != len(ps) {
		t.Fatalf("loss %.8g with %d gradients, ST %.8g with %d", loss, len(grads), c.Loss, len(ps))
	}
}
