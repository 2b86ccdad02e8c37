package finetune_test

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"testing"

	"ft/finetune"
	"ft/graph"
	"ft/optim"
	"ft/tensor"
)

// Benchmarks of a real model (FT_BENCH_MODEL, e.g. testmodels/real/minilm,
// the feature-extraction export of all-MiniLM-L6-v2; LoadModel adds mean
// pooling and a 2-label head) on fixed random token rows, for the comparison
// with PyTorch and ONNX Runtime in testmodels/bench_train.py:
//
//	FT_BENCH_MODEL=$PWD/testmodels/real/minilm go test ./finetune -run '^$' -bench MiniLM -benchtime 5x
//
// FT_BENCH_BATCH (32) and FT_BENCH_SEQ (128) set the shapes; FT_BENCH_BF16=1
// runs the matrix products in bf16 (graph.Options.BF16), FT_BENCH_GC=1 trains
// with gradient checkpointing. One warm-up step
// runs before the clock starts. The train step is what Trainer.Fit does per
// step: forward, cross-entropy, backward, clipping at 1.0, AdamW.

// benchModel loads the benchmark model, in bf16 with FT_BENCH_BF16 set.
func benchModel(b *testing.B, dir string) *finetune.Model {
	m, err := finetune.LoadModel(dir, finetune.ModelOptions{Labels: []string{"0", "1"}, Seed: 42,
		Graph: graph.Options{BF16: os.Getenv("FT_BENCH_BF16") != "", GradientCheckpointing: os.Getenv("FT_BENCH_GC") != ""}})
	if err != nil {
		b.Fatal(err)
	}
	return m
}

func benchEnv(b *testing.B) (dir string, batch, seq int) {
	dir = os.Getenv("FT_BENCH_MODEL")
	if dir == "" {
		b.Skip("set FT_BENCH_MODEL to an export folder (e.g. $PWD/testmodels/real/minilm) to run")
	}
	if !filepath.IsAbs(dir) {
		// go test runs in the package folder; a relative path is meant from the repository root
		dir = filepath.Join("..", dir)
	}
	batch, seq = 32, 128
	if v, err := strconv.Atoi(os.Getenv("FT_BENCH_BATCH")); err == nil && v > 0 {
		batch = v
	}
	if v, err := strconv.Atoi(os.Getenv("FT_BENCH_SEQ")); err == nil && v > 0 {
		seq = v
	}
	return dir, batch, seq
}

// benchFeeds returns a batch of random token ids (fixed seed) with a full
// attention mask, for every input the graph takes.
func benchFeeds(b *testing.B, g *graph.Graph, batch, seq int) map[string]*tensor.Tensor {
	r := rand.New(rand.NewPCG(1, 2))
	feeds := map[string]*tensor.Tensor{}
	for _, name := range g.InputNames() {
		d := make([]int64, batch*seq)
		switch name {
		case "input_ids":
			for i := range d {
				d[i] = 1000 + r.Int64N(20000)
			}
			for i := 0; i < batch; i++ { // [CLS] ... [SEP]
				d[i*seq], d[i*seq+seq-1] = 101, 102
			}
		case "attention_mask":
			for i := range d {
				d[i] = 1
			}
		case "token_type_ids":
		default:
			b.Fatalf("benchmark: unexpected model input %q", name)
		}
		feeds[name] = tensor.New([]int{batch, seq}, d)
	}
	return feeds
}

func BenchmarkTrainStepMiniLM(b *testing.B) {
	dir, batch, seq := benchEnv(b)
	// as ft run does: collect garbage at 50% heap growth (less peak memory)
	defer debug.SetGCPercent(debug.SetGCPercent(50))
	m := benchModel(b, dir)
	feeds := benchFeeds(b, m.Graph, batch, seq)
	tgt := make([]int64, batch)
	for i := range tgt {
		tgt[i] = int64(i % 2)
	}
	target := tensor.New([]int{batch}, tgt)
	params := m.Graph.Params
	cfg := optim.DefaultAdamWConfig()
	cfg.LR, cfg.WeightDecay = 5e-5, 0.01
	opt, err := optim.NewAdamW(optim.DefaultParamGroups(params), cfg)
	if err != nil {
		b.Fatal(err)
	}
	loss := finetune.NewCrossEntropyLoss()
	step := func() {
		tr, err := m.Graph.Forward(feeds, []string{m.Output}, params)
		if err != nil {
			b.Fatal(err)
		}
		_, dout, err := loss.Loss(tr.Outputs[m.Output], target)
		if err != nil {
			b.Fatal(err)
		}
		grads, err := tr.Backward(map[string]*tensor.Tensor{m.Output: dout})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := optim.ClipGradNorm(grads, 1); err != nil {
			b.Fatal(err)
		}
		if err := opt.Step(grads); err != nil {
			b.Fatal(err)
		}
	}
	step() // warm-up
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		step()
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(0, "ns/op")
	runtime.KeepAlive(m)
}

func BenchmarkInferMiniLM(b *testing.B) {
	dir, batch, seq := benchEnv(b)
	m := benchModel(b, dir)
	feeds := benchFeeds(b, m.Graph, batch, seq)
	// The encoder's own output, as ONNX Runtime runs the export.
	out := "last_hidden_state"
	if _, err := m.Graph.Run(feeds, out); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := m.Graph.Run(feeds, out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(0, "ns/op")
}
