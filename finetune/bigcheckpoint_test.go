package finetune_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"ft/dataset"
	"ft/finetune"
	"ft/onnx"
	"ft/tensor"
	"ft/tokenize"
)

// bigModel writes tiny-bert with its word embeddings grown to rows×64
// (the extra rows zero: no token reaches them) into dir, with external
// data.
func bigModel(t *testing.T, dir string, rows int) {
	t.Helper()
	m, err := onnx.Load(tinyBERT)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for i, tp := range m.Proto.Graph.Initializer {
		if !strings.Contains(tp.GetName(), "word_embeddings") {
			continue
		}
		old, err := m.Tensor(tp)
		if err != nil {
			t.Fatal(err)
		}
		h := old.Shape[1]
		w := make([]float32, rows*h)
		copy(w, old.F32())
		big, err := onnx.FromTensor(tp.GetName(), tensor.New([]int{rows, h}, w))
		if err != nil {
			t.Fatal(err)
		}
		m.Proto.Graph.Initializer[i] = big
		found = true
	}
	if !found {
		t.Fatal("no word_embeddings initializer in tiny-bert")
	}
	if err := m.SaveExternal(filepath.Join(dir, "model.onnx"), "model.onnx_data", 1<<20); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"config.json", "tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(tinyBERT, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func bigTrainer(t *testing.T, model string, args finetune.Args) *finetune.Trainer {
	t.Helper()
	id2label, err := finetune.ExportLabels(model)
	if err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Read("../internal/bundled/sst2-sample/test.tsv", dataset.ReadOptions{ID2Label: id2label})
	if err != nil {
		t.Fatal(err)
	}
	m, err := finetune.LoadModel(model, finetune.ModelOptions{Labels: d.Labels.Names, Seed: args.Seed})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenize.Load(model)
	if err != nil {
		t.Fatal(err)
	}
	src, err := dataset.NewTextSource(d, tok, m.Graph.InputNames(), 16)
	if err != nil {
		t.Fatal(err)
	}
	return &finetune.Trainer{Model: m, Train: firstRows{src, 4}, Trainable: m.Graph.Params, Args: args}
}

// TestBigCheckpointResumeExport (FT_BIG_TESTS=1, FT_BIG_PARAMS=n, default
// 100M: 40 s and 5 GB peak; 300M needs about 16 GB): a full fine-tune of an n-parameter model (tiny-bert with n/64×64
// word embeddings) writes a checkpoint of 12n bytes of content (weights
// and AdamW's two slots), over the 1 GiB that reading used to allow from
// n = 90M; the run resumes from it and the checkpoint exports to a model
// that holds its weights.
func TestBigCheckpointResumeExport(t *testing.T) {
	if os.Getenv("FT_BIG_TESTS") == "" {
		t.Skip("set FT_BIG_TESTS=1: trains, checkpoints, resumes and exports a 300M-parameter model (minutes, ~10 GB)")
	}
	params := 100_000_000
	if v := os.Getenv("FT_BIG_PARAMS"); v != "" {
		fmt.Sscan(v, &params)
	}
	rows := params / 64
	start := time.Now()
	logf := func(what string) {
		var r syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r)
		t.Logf("%6.1fs  peak RSS %5.1f GB  %s", time.Since(start).Seconds(), float64(r.Maxrss)/(1<<20), what)
	}
	base, run, out := t.TempDir(), t.TempDir(), t.TempDir()
	bigModel(t, base, rows)
	runtime.GC()
	logf("model written")
	args := finetune.Args{LearningRate: 1e-3, MaxSteps: 2, PerDeviceTrainBatchSize: 2, Seed: 5, OutputDir: run, SaveSteps: 1}
	a := bigTrainer(t, base, args)
	n := 0
	for _, p := range a.Trainable {
		n += p.Value.Len()
	}
	if n < params {
		t.Fatalf("%d parameters, want %d", n, params)
	}
	logf("model loaded")
	// interrupted after step 1 (its checkpoint written)
	ctx, cancel := context.WithCancel(context.Background())
	a.Events = func(e finetune.Event) {
		if e.Kind == "step" && e.Step == 1 {
			cancel()
		}
	}
	r, err := a.Fit(ctx)
	cancel()
	if err != nil {
		t.Fatal(err)
	}
	if !r.Interrupted || r.Steps != 1 {
		t.Fatalf("interrupted %v after %d steps, want after 1", r.Interrupted, r.Steps)
	}
	a = nil
	runtime.GC()
	logf("trained one step, checkpoint written")
	ckpt, err := finetune.FindCheckpoint(run)
	if err != nil {
		t.Fatal(err)
	}
	info, err := finetune.ReadCheckpointInfo(ckpt)
	if err != nil {
		t.Fatalf("ReadCheckpointInfo: %v", err)
	}
	if info.State.Step != 1 {
		t.Fatalf("checkpoint at step %d, want 1", info.State.Step)
	}
	if st, err := os.Stat(ckpt); err == nil {
		t.Logf("checkpoint %s: %d bytes on disk", filepath.Base(ckpt), st.Size())
	}
	// resume: the second step
	b := bigTrainer(t, base, args)
	b.ResumeFrom = run
	resumed := false
	b.Events = func(e finetune.Event) {
		if e.Kind == "resumed" {
			resumed = e.Step == 1
		}
	}
	if _, err := b.Fit(context.Background()); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if !resumed {
		t.Fatal("no resumed event at step 1")
	}
	b = nil
	runtime.GC()
	logf("resumed and trained step 2")
	// export the step-1 checkpoint as ft export does
	m, err := finetune.LoadModel(base, info.ModelOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.LoadCheckpoint(ckpt); err != nil {
		t.Fatalf("LoadCheckpoint: %v", err)
	}
	if err := m.Save(out); err != nil {
		t.Fatalf("export: %v", err)
	}
	logf("exported")
	e, err := finetune.LoadModel(out, info.ModelOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.Graph.Params {
		q := e.Graph.Param(p.Name)
		if q == nil || q.Value.Len() != p.Value.Len() {
			t.Fatalf("exported model: parameter %s missing or reshaped", p.Name)
		}
		pv, qv := p.Value.F32(), q.Value.F32()
		for i := range pv {
			if pv[i] != qv[i] {
				t.Fatalf("exported %s[%d] = %v, checkpoint %v", p.Name, i, qv[i], pv[i])
			}
		}
	}
}
