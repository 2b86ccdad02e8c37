package finetune_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
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

// bigParams is FT_BIG_PARAMS, or def where it is unset.
func bigParams(def int64) int64 {
	if v := os.Getenv("FT_BIG_PARAMS"); v != "" {
		fmt.Sscan(v, &def)
	}
	return def
}

// bigRun is the set-up of a big-checkpoint test.
type bigRun struct {
	base, run, out string // the grown model, the run folder, the export folder
	args           finetune.Args
	n              int               // trainable parameters
	logf           func(what string) // logs the time and the peak RSS so far
}

// newBigRun grows tiny-bert to bigParams(def) parameters and returns a
// trainer of it for maxSteps steps of batch 2, saving every step.
func newBigRun(t *testing.T, def int64, maxSteps int) (*bigRun, *finetune.Trainer) {
	t.Helper()
	params := bigParams(def)
	start := time.Now()
	b := &bigRun{base: t.TempDir(), run: t.TempDir(), out: t.TempDir()}
	b.logf = func(what string) {
		runtime.GC()
		var r syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &r)
		t.Logf("%6.1fs  peak RSS %5.1f GB  %s", time.Since(start).Seconds(), float64(r.Maxrss)/(1<<20), what)
	}
	bigModel(t, b.base, int(params/64))
	b.logf("model written")
	b.args = finetune.Args{LearningRate: 1e-3, MaxSteps: maxSteps, PerDeviceTrainBatchSize: 2, Seed: 5, OutputDir: b.run, SaveSteps: 1}
	a := bigTrainer(t, b.base, b.args)
	for _, p := range a.Trainable {
		b.n += p.Value.Len()
	}
	if int64(b.n) < params {
		t.Fatalf("%d parameters, want %d", b.n, params)
	}
	b.logf("model loaded")
	return b, a
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
	bg, a := newBigRun(t, 100_000_000, 2)
	base, run, out, args, logf := bg.base, bg.run, bg.out, bg.args, bg.logf
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

// TestBigSyntheticCheckpoint (FT_BIG_TESTS=1, FT_BIG_PARAMS=n, default
// 300M): without training (a 300M training step needs about 16 GB), a
// checkpoint of synthetic weights and AdamW slots for tiny-bert grown to n
// parameters (12n bytes of content) is written at the run's last step,
// read back (ReadCheckpointInfo), resumed (the trainer loads it, finds no
// step left and writes the last checkpoint again from the state it loaded)
// and exported; the export and the checkpoint hold the synthetic values
// bit for bit. Peak RSS is logged: 11.2 GiB and 5 minutes at 300M (3.0 GB
// on disk; 2 shared cores), 3.8 GiB and 70 s at 100M.
func TestBigSyntheticCheckpoint(t *testing.T) {
	if os.Getenv("FT_BIG_TESTS") == "" {
		t.Skip("set FT_BIG_TESTS=1: writes, reads, resumes and exports a 300M-parameter checkpoint (5 minutes, 11.2 GiB)")
	}
	// At its highest (resuming) the heap holds the weights, their XOR
	// base, AdamW's two slots and the checkpoint's 12 bytes a parameter
	// read whole: keep the collector from letting garbage double that.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(bigParams(300_000_000) * 36))
	bg, a := newBigRun(t, 300_000_000, 3)
	base, run, out, args, logf := bg.base, bg.run, bg.out, bg.args, bg.logf
	n := bg.n
	ckpt, err := a.WriteSyntheticCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	a = nil
	st, err := os.Stat(ckpt)
	if err != nil {
		t.Fatal(err)
	}
	logf(fmt.Sprintf("%d parameters: synthetic checkpoint written (%d bytes on disk)", n, st.Size()))

	info, err := finetune.ReadCheckpointInfo(ckpt)
	if err != nil {
		t.Fatalf("ReadCheckpointInfo: %v", err)
	}
	if info.State.Step != 3 || info.State.Total != 3 || len(info.Trainable) == 0 {
		t.Fatalf("checkpoint info: step %d of %d, %d parameters; want step 3 of 3", info.State.Step, info.State.Total, len(info.Trainable))
	}
	logf("metadata read")

	// resume: nothing left to train; the last checkpoint is written again
	// from the state just loaded
	b := bigTrainer(t, base, args)
	b.ResumeFrom = run
	var kinds []finetune.EventKind
	b.Events = func(e finetune.Event) {
		kinds = append(kinds, e.Kind)
		if e.Kind == finetune.EventResumed && e.Step != 3 {
			t.Errorf("resumed at step %d, want 3", e.Step)
		}
	}
	r, err := b.Fit(context.Background())
	if err != nil {
		t.Fatalf("resume: %v", err)
	}
	if r.Steps != 3 || !slices.Contains(kinds, finetune.EventResumed) || slices.Contains(kinds, finetune.EventStep) || !slices.Contains(kinds, finetune.EventSave) {
		t.Fatalf("resume: %d steps, events %v; want 3 steps, resumed, no step trained, saved", r.Steps, kinds)
	}
	for _, p := range b.Trainable {
		checkSynthetic(t, "resumed parameter", p.Name, p.Value.F32(), 0)
	}
	b = nil
	logf("resumed: no step left, checkpoint written again")

	// export the checkpoint as ft export does
	m, err := finetune.LoadModel(base, info.ModelOptions)
	if err != nil {
		t.Fatal(err)
	}
	_, f, err := m.LoadCheckpoint(ckpt)
	if err != nil {
		t.Fatalf("LoadCheckpoint: %v", err)
	}
	for _, p := range m.Graph.Params {
		if slices.Contains(info.Trainable, p.Name) {
			checkSynthetic(t, "checkpoint parameter", p.Name, p.Value.F32(), 0)
			checkSynthetic(t, "checkpoint exp_avg of", p.Name, f.Lookup("optimizer/"+p.Name+"/exp_avg").F32(), 1)
			checkSynthetic(t, "checkpoint exp_avg_sq of", p.Name, f.Lookup("optimizer/"+p.Name+"/exp_avg_sq").F32(), 2)
		}
	}
	f = nil
	logf("checkpoint read back")
	if err := m.Save(out); err != nil {
		t.Fatalf("export: %v", err)
	}
	m = nil
	logf("exported")
	e, err := finetune.LoadModel(out, info.ModelOptions)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range info.Trainable {
		q := e.Graph.Param(name)
		if q == nil {
			t.Fatalf("exported model: no parameter %s", name)
		}
		checkSynthetic(t, "exported parameter", name, q.Value.F32(), 0)
	}
	logf("export reloaded")
}

// checkSynthetic fails t unless v holds finetune.SyntheticValue(name, i, k)
// bit for bit.
func checkSynthetic(t *testing.T, what, name string, v []float32, k int) {
	t.Helper()
	if v == nil {
		t.Fatalf("%s %s: missing or not float32", what, name)
	}
	for i, x := range v {
		if want := finetune.SyntheticValue(name, i, k); math.Float32bits(x) != math.Float32bits(want) {
			t.Fatalf("%s %s[%d] = %v, want %v", what, name, i, x, want)
		}
	}
}
