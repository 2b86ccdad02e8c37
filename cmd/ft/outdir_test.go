package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"ft/finetune"
)

func shortRun(dir string, extra ...string) []string {
	return append([]string{"run", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
		"--per-device-train-batch-size", "16", "--output-dir", dir}, extra...)
}

// TestRunRefusesEarlierRun: a fresh run into a folder holding another run
// is refused (it would mix checkpoints, and --resume would pick the wrong
// one); --overwrite-output-dir removes ft's files of the old run and keeps
// the others; --resume continues it.
func TestRunRefusesEarlierRun(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := runIn(t, shortRun(dir, "--max-steps", "4", "--save-steps", "2")...); code != 0 {
		t.Fatalf("first run: %s", errs)
	}
	notes := filepath.Join(dir, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)
	os.WriteFile(filepath.Join(dir, "model", "README.md"), []byte("mine too"), 0o644)
	code, _, errs := runIn(t, shortRun(dir, "--max-steps", "1")...)
	if code == 0 || !strings.Contains(errs, "notes.txt") || !strings.Contains(errs, "--overwrite-output-dir") {
		t.Fatalf("unknown file: exit %d: %s", code, errs)
	}
	os.Remove(notes)
	code, _, errs = runIn(t, shortRun(dir, "--max-steps", "1")...)
	if code == 0 || !strings.Contains(errs, "holds an earlier run") || !strings.Contains(errs, "--resume "+dir) {
		t.Fatalf("earlier run: exit %d: %s", code, errs)
	}
	if cs, _ := finetune.ListCheckpoints(dir); len(cs) != 2 {
		t.Fatalf("the refused run touched the checkpoints: %v", cs)
	}
	os.WriteFile(notes, []byte("mine"), 0o644)
	code, _, errs = runIn(t, shortRun(dir, "--max-steps", "1", "--overwrite-output-dir")...)
	if code != 0 || !strings.Contains(errs, "keeping notes.txt") {
		t.Fatalf("overwrite: exit %d: %s", code, errs)
	}
	cs, _ := finetune.ListCheckpoints(dir)
	if len(cs) != 1 || filepath.Base(cs[0]) != "checkpoint-1.ftckpt" {
		t.Fatalf("after --overwrite-output-dir: checkpoints %v, want only the new run's", cs)
	}
	for _, f := range []string{notes, filepath.Join(dir, "model", "README.md")} {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("--overwrite-output-dir removed %s, which ft did not write", f)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, lockFile)); err == nil {
		t.Error("the lock file stays after the run")
	}
	if code, _, errs := runIn(t, "run", "--resume", dir, "--overwrite-output-dir"); code == 0 || !strings.Contains(errs, "give one of them") {
		t.Fatalf("--resume with --overwrite-output-dir: exit %d: %s", code, errs)
	}
	// a checkpoint continued into another run's folder
	other := t.TempDir()
	if code, _, errs := runIn(t, shortRun(other, "--max-steps", "1")...); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "run", "--resume", cs[0], "--output-dir", other); code == 0 || !strings.Contains(errs, "holds an earlier run") {
		t.Fatalf("resume into another run's folder: exit %d: %s", code, errs)
	}
	// --resume continues in the folder
	if code, _, errs := runIn(t, "run", "--resume", dir); code != 0 {
		t.Fatalf("resume: %s", errs)
	}
}

// TestOutputDirNotBase: ft run and ft export refuse to write into the base
// model's folder, a folder inside it or around it (also through a symbolic
// link), and the root; the base stays as it was.
func TestOutputDirNotBase(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	tmp := t.TempDir()
	base := filepath.Join(tmp, "base")
	os.MkdirAll(base, 0o755)
	for _, f := range []string{"model.onnx", "config.json", "tokenizer.json", "tokenizer_config.json"} {
		b, err := os.ReadFile(filepath.Join(root, "internal/bundled/tiny-bert", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(base, f), b, 0o644)
	}
	// a file of the base that ft did not write
	os.WriteFile(filepath.Join(base, "model.onnx_data"), []byte("not ft's"), 0o644)
	link := filepath.Join(tmp, "link")
	if err := os.Symlink(base, link); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join(base, "model.onnx"))
	run := func(dir string) []string {
		return []string{"run", "--model", base, "--train", "internal/bundled/sst2-sample/test.tsv", "--max-steps", "1", "--output-dir", dir}
	}
	for _, c := range []struct{ dir, want string }{
		{base, "is the base model's folder"},
		{link, "is the base model's folder"},
		{filepath.Join(link, "out"), "is inside the base model's folder"},
		{tmp, "holds the base model's folder"},
		{"/", "root of the file system"},
	} {
		code, _, errs := runIn(t, run(c.dir)...)
		if code == 0 || !strings.Contains(errs, c.want) {
			t.Errorf("--output-dir %s: exit %d: %s", c.dir, code, errs)
		}
	}
	ok := filepath.Join(tmp, "run")
	if code, _, errs := runIn(t, run(ok)...); code != 0 {
		t.Fatalf("run: %s", errs)
	}
	for _, dir := range []string{base, link} {
		code, _, errs := runIn(t, "export", "--checkpoint", ok, "--output-dir", dir)
		if code == 0 || !strings.Contains(errs, "is the base model's folder") {
			t.Errorf("export to %s: exit %d: %s", dir, code, errs)
		}
	}
	got, _ := os.ReadFile(filepath.Join(base, "model.onnx"))
	if !bytes.Equal(got, want) {
		t.Fatal("the base model.onnx changed")
	}
	if b, _ := os.ReadFile(filepath.Join(base, "model.onnx_data")); string(b) != "not ft's" {
		t.Fatal("the base's model.onnx_data changed")
	}
	// export: a new folder is fine; the same folder again needs
	// --overwrite-output-dir; a folder with other files is refused
	out := filepath.Join(tmp, "export")
	if code, _, errs := runIn(t, "export", "--checkpoint", ok, "--output-dir", out); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "export", "--checkpoint", ok, "--output-dir", out); code == 0 || !strings.Contains(errs, "holds an earlier export") {
		t.Fatalf("export again: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn(t, "export", "--checkpoint", ok, "--output-dir", out, "--overwrite-output-dir"); code != 0 {
		t.Fatal(errs)
	}
	if code, _, errs := runIn(t, "export", "--checkpoint", ok, "--output-dir", tmp); code == 0 || !strings.Contains(errs, "holds") {
		t.Fatalf("export to a folder of other files: exit %d: %s", code, errs)
	}
}

// TestOutputDirLock: a run into a folder whose lock a live process holds is
// refused, naming that process; a lock left by a dead process of this host
// is taken over with a warning and removed at the end.
func TestOutputDirLock(t *testing.T) {
	dir := t.TempDir()
	host, _ := os.Hostname()
	lock := filepath.Join(dir, lockFile)
	os.WriteFile(lock, []byte(fmt.Sprintf("%d %s 2026-01-01T00:00:00Z\n", os.Getpid(), host)), 0o644)
	code, _, errs := runIn(t, shortRun(dir, "--max-steps", "1")...)
	if code == 0 || !strings.Contains(errs, fmt.Sprintf("in use by ft process %d on %s", os.Getpid(), host)) {
		t.Fatalf("held lock: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(lock); err != nil {
		t.Fatal("the refused run removed the other process's lock")
	}
	// a dead process's pid
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := cmd.Process.Pid
	os.WriteFile(lock, []byte(fmt.Sprintf("%d %s 2026-01-01T00:00:00Z\n", dead, host)), 0o644)
	code, _, errs = runIn(t, shortRun(dir, "--max-steps", "1")...)
	if code != 0 || !strings.Contains(errs, fmt.Sprintf("process %d of %s", dead, host)) {
		t.Fatalf("stale lock: exit %d: %s", code, errs)
	}
	if _, err := os.Stat(lock); err == nil {
		t.Fatal("the lock stays after the run")
	}
}

// TestSweepOutputDir: ft sweep refuses a folder of other files and the
// base model's folder, before training.
func TestSweepOutputDir(t *testing.T) {
	root, _ := filepath.Abs(filepath.Join("..", ".."))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644)
	sweep := func(out string) []string {
		return []string{"sweep", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
			"--eval", "internal/bundled/sst2-sample/test.tsv", "--max-steps", "1", "--sweep-learning-rate", "1e-4,1e-3", "--output-dir", out}
	}
	if code, _, errs := runIn(t, sweep(dir)...); code == 0 || !strings.Contains(errs, "notes.txt") {
		t.Fatalf("folder of other files: exit %d: %s", code, errs)
	}
	if code, _, errs := runIn(t, sweep(filepath.Join(root, "internal/bundled/tiny-bert"))...); code == 0 || !strings.Contains(errs, "is the base model's folder") {
		t.Fatalf("base folder: exit %d: %s", code, errs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("the refused sweep wrote into the folder: %v", ents)
	}
}
