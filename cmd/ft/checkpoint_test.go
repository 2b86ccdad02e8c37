package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"ft/finetune"
)

// TestMain lets the tests run this test binary as the ft command
// (FT_TEST_AS_FT=1), to send it signals.
func TestMain(m *testing.M) {
	if os.Getenv("FT_TEST_AS_FT") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSignalSavesAndResumes interrupts ft run with SIGINT and SIGTERM after
// its second checkpoint: it exits 130 / 143 after saving, and ft run
// --resume ends with a model byte-identical to an uninterrupted run's.
func TestSignalSavesAndResumes(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	runArgs := func(dir string) []string {
		return []string{"run", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
			"--max-steps", "60", "--save-steps", "5", "--save-total-limit", "2", "--per-device-train-batch-size", "8",
			"--learning-rate", "1e-3", "--warmup-ratio", "0.1", "--output-dir", dir}
	}
	ref := t.TempDir()
	if code, _, errs := runIn(t, runArgs(ref)...); code != 0 {
		t.Fatalf("reference run: exit %d: %s", code, errs)
	}
	want, err := os.ReadFile(filepath.Join(ref, "model", "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, sig := range []struct {
		s    syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(sig.s.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd := exec.Command(os.Args[0], runArgs(dir)...)
			cmd.Dir = root
			cmd.Env = append(os.Environ(), "FT_TEST_AS_FT=1")
			stdout, _ := cmd.StdoutPipe()
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			var out strings.Builder
			sc := bufio.NewScanner(stdout)
			saves := 0
			for sc.Scan() {
				line := sc.Text()
				out.WriteString(line + "\n")
				if strings.HasPrefix(line, "checkpoint ") {
					if saves++; saves == 2 {
						cmd.Process.Signal(sig.s)
					}
				}
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if code != sig.code {
				t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, sig.code, out.String(), stderr.String())
			}
			if _, err := os.Stat(filepath.Join(dir, lockFile)); err == nil {
				t.Fatal("the lock file stays after the signal")
			}
			if !strings.Contains(out.String(), "continue with: ft run --resume "+dir) {
				t.Fatalf("no resume hint:\n%s", out.String())
			}
			cs, _ := finetune.ListCheckpoints(dir)
			ci, err := finetune.ReadCheckpointInfo(cs[len(cs)-1])
			if err != nil {
				t.Fatal(err)
			}
			if ci.State.Step >= 60 || ci.State.Step < 10 {
				t.Fatalf("interrupted at step %d", ci.State.Step)
			}
			if _, err := os.Stat(filepath.Join(dir, "model")); err == nil {
				t.Fatal("an interrupted run wrote model/")
			}
			code, sout, serr := runIn(t, "run", "--resume", dir)
			if code != 0 {
				t.Fatalf("resume: exit %d: %s", code, serr)
			}
			if !strings.Contains(sout, "resumed from") {
				t.Fatalf("resume output:\n%s", sout)
			}
			got, err := os.ReadFile(filepath.Join(dir, "model", "model.onnx"))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("resumed after step %d: model.onnx differs from the uninterrupted run's", ci.State.Step)
			}
			t.Logf("%v at step %d: exit %d, resumed to identical bytes", sig.s, ci.State.Step, code)
		})
	}
}

// TestLoRACheckpointAndExport: a LoRA run's checkpoint holds only the
// adapters and the head (and their optimizer state); ft export rebuilds the
// adapters from the stored flags and writes the same merged model.onnx as
// ft run did, and the PEFT adapter.
func TestLoRACheckpointAndExport(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runIn(t, "run", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
		"--max-steps", "6", "--save-steps", "3", "--lora-r", "4", "--learning-rate", "1e-3", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	last, err := finetune.FindCheckpoint(dir)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := finetune.ReadCheckpointInfo(last)
	if err != nil {
		t.Fatal(err)
	}
	adapters := 0
	for _, n := range ci.Trainable {
		switch {
		case strings.Contains(n, ".lora_A.") || strings.Contains(n, ".lora_B."):
			adapters++
		case strings.HasPrefix(n, "classifier."):
		default:
			t.Errorf("the LoRA checkpoint holds %s", n)
		}
	}
	if adapters != 8 { // query and value of 2 layers, A and B
		t.Errorf("%d adapter tensors, want 8: %v", adapters, ci.Trainable)
	}
	out := t.TempDir()
	if code, _, errs := runIn(t, "export", "--checkpoint", dir, "--output-dir", out); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	a, _ := os.ReadFile(filepath.Join(dir, "model", "model.onnx"))
	b, _ := os.ReadFile(filepath.Join(out, "model.onnx"))
	if len(a) == 0 || !bytes.Equal(a, b) {
		t.Fatal("ft export's merged model.onnx differs from ft run's")
	}
	peft := t.TempDir()
	if code, _, errs := runIn(t, "export", "--checkpoint", dir, "--output-dir", peft, "--format", "peft"); code != 0 {
		t.Fatalf("export peft: exit %d: %s", code, errs)
	}
	for _, f := range []string{"adapter_model.safetensors", "adapter_config.json"} {
		x, _ := os.ReadFile(filepath.Join(dir, "peft-adapter", f))
		y, err := os.ReadFile(filepath.Join(peft, f))
		if err != nil || !bytes.Equal(x, y) {
			t.Fatalf("%s differs from ft run's (%v)", f, err)
		}
	}
	// a non-LoRA checkpoint has no PEFT form
	plain := t.TempDir()
	if code, _, errs := runIn(t, "run", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
		"--max-steps", "1", "--output-dir", plain); code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if code, _, errs := runIn(t, "export", "--checkpoint", plain, "--output-dir", t.TempDir(), "--format", "peft"); code != 1 || !strings.Contains(errs, "is not from a LoRA run") {
		t.Fatalf("peft export of a full run: exit %d: %s", code, errs)
	}
}
