package finetune_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ft/finetune"
	"ft/kernels"
)

var bf16Args = finetune.Args{LearningRate: 1e-3, MaxSteps: 12, PerDeviceTrainBatchSize: 16, MaxGradNorm: 1, WarmupSteps: 2, WeightDecay: 0.01, Seed: 7}

// TestBF16TrainingTracksFloat32: tiny BERT trained with Args.BF16 has, at
// every step, a loss within 2 % of the float32 run's (the bar for
// bf16 against PyTorch's autocast), and not the same losses (the products
// did run in bf16).
func TestBF16TrainingTracksFloat32(t *testing.T) {
	var losses [2][]float64
	for i, bf := range []bool{false, true} {
		a := bf16Args
		a.BF16 = bf
		tr := tinyTrainer(t, a)
		res, err := tr.Fit(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.Model.Graph.Options().BF16; got != bf {
			t.Fatalf("Args.BF16 %v: the graph runs with BF16 %v", bf, got)
		}
		losses[i] = res.Losses
	}
	differ := false
	for s, l32 := range losses[0] {
		l16 := losses[1][s]
		t.Logf("step %2d: float32 %.6f  bf16 %.6f  (%+.3f %%)", s+1, l32, l16, 100*(l16-l32)/l32)
		if math.Abs(l16-l32) > 0.02*math.Abs(l32) {
			t.Errorf("step %d: bf16 loss %v, float32 %v: more than 2 %% apart", s+1, l16, l32)
		}
		differ = differ || l16 != l32
	}
	if !differ {
		t.Errorf("bf16 and float32 runs have the same losses: the products did not run in bf16")
	}
}

// weightsDigest is the SHA-256 of the trainable weights' bits.
func weightsDigest(tr *finetune.Trainer) string {
	h := sha256.New()
	for _, w := range weights(tr.Trainable) {
		for _, v := range w {
			binary.Write(h, binary.LittleEndian, math.Float32bits(v))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestBF16ThreadsSameBits: the same bf16 run on 1 and on 2 threads ends
// with the same weights, bit for bit, with the exact kernels (AMX
// disabled) and with the kernel the CPU picks (AMX where there is one:
// its bits do not depend on the tiling or the threads either). Each run is
// a child process of the test binary started with GOMAXPROCS set (the
// worker pool takes its size from it once).
func TestBF16ThreadsSameBits(t *testing.T) {
	if os.Getenv("FT_TEST_BF16_CHILD") != "" {
		if os.Getenv("FT_TEST_BF16_CHILD") == "noamx" {
			kernels.DisableAMX()
		}
		tr := tinyTrainer(t, withBF16(bf16Args))
		if _, err := tr.Fit(context.Background()); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("kernel=%s workers=%d digest=%s\n", kernels.KernelNameBF16(), kernels.Workers(), weightsDigest(tr))
		return
	}
	if testing.Short() {
		t.Skip("four training runs in child processes")
	}
	for _, mode := range []string{"noamx", "default"} {
		var digests []string
		for _, threads := range []string{"1", "2"} {
			cmd := exec.Command(os.Args[0], "-test.run=^TestBF16ThreadsSameBits$", "-test.v")
			cmd.Env = append(os.Environ(), "FT_TEST_BF16_CHILD="+mode, "GOMAXPROCS="+threads)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s, %s threads: %v\n%s", mode, threads, err, out)
			}
			i := strings.Index(string(out), "kernel=")
			if i < 0 {
				t.Fatalf("%s, %s threads: no digest in\n%s", mode, threads, out)
			}
			line, _, _ := strings.Cut(string(out[i:]), "\n")
			t.Logf("%s, GOMAXPROCS=%s: %s", mode, threads, line)
			if !strings.Contains(line, "workers="+threads+" ") {
				t.Fatalf("%s: child ran with other workers than %s: %s", mode, threads, line)
			}
			_, d, _ := strings.Cut(line, "digest=")
			digests = append(digests, d)
		}
		if digests[0] != digests[1] {
			t.Errorf("%s: bf16 weights differ between 1 and 2 threads", mode)
		}
	}
}

func withBF16(a finetune.Args) finetune.Args {
	a.BF16 = true
	return a
}

// TestBF16ResumeBitIdentical: a bf16 run interrupted by a checkpoint and
// resumed without --bf16 keeps bf16 (the checkpoint records it) and ends
// with the weights of the run that was never interrupted, bit for bit.
func TestBF16ResumeBitIdentical(t *testing.T) {
	args := withBF16(bf16Args)
	args.MaxSteps = 8
	full := tinyTrainer(t, args)
	if _, err := full.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	first := args
	first.OutputDir, first.SaveSteps = dir, 3
	tr := tinyTrainer(t, first)
	ctx, cancel := context.WithCancel(context.Background())
	tr.Events = func(e finetune.Event) {
		if e.Kind == finetune.EventStep && e.Step == 4 {
			cancel()
		}
	}
	res, err := tr.Fit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted {
		t.Fatal("the run was not interrupted")
	}
	ck, err := finetune.FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := finetune.ReadCheckpointInfo(ck)
	if err != nil {
		t.Fatal(err)
	}
	if !ci.State.BF16 || ci.State.Step != 4 {
		t.Fatalf("checkpoint %s: step %d, bf16 %v; want step 4, bf16 true", filepath.Base(ck), ci.State.Step, ci.State.BF16)
	}

	resumed := args
	resumed.BF16 = false // the checkpoint's precision wins
	resumed.OutputDir = dir
	tr2 := tinyTrainer(t, resumed)
	tr2.ResumeFrom = dir
	warned := false
	tr2.Events = func(e finetune.Event) {
		warned = warned || e.Kind == finetune.EventWarning && strings.Contains(e.Message, "bf16")
	}
	if _, err := tr2.Fit(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !warned {
		t.Errorf("resuming a bf16 checkpoint without BF16: no warning")
	}
	if !tr2.Model.Graph.Options().BF16 {
		t.Errorf("the resumed run does not run in bf16")
	}
	if a, b := weightsDigest(full), weightsDigest(tr2); a != b {
		t.Errorf("resumed bf16 run ends with other weights than the uninterrupted one")
	}
}
