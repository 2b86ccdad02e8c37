package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"ft/finetune"
)

// lockFile is held in an output folder while a command writes there.
const lockFile = ".ft-lock"

// outputKind says which files an ft command writes into its output folder.
type outputKind struct {
	what string // "run", "sweep", "export"
	// files are the names ft writes there; dirs the folders (their files
	// are removed by name, see dirFiles).
	files []*regexp.Regexp
	dirs  []*regexp.Regexp
}

var exportFiles = []string{"model.onnx", "model.onnx_data", "config.json", finetune.SafetensorsFile,
	"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "merges.txt", "vocab.json",
	"sentencepiece.bpe.model", "spiece.model", "added_tokens.json", "adapter_model.safetensors", "adapter_config.json"}

func names(l ...string) []*regexp.Regexp {
	out := make([]*regexp.Regexp, len(l))
	for i, s := range l {
		out[i] = regexp.MustCompile("^" + s + "$")
	}
	return out
}

func quoted(l []string) []string {
	out := make([]string, len(l))
	for i, s := range l {
		out[i] = regexp.QuoteMeta(s)
	}
	return out
}

var (
	runOutput = outputKind{what: "run",
		files: names(`checkpoint-\d+\.ftckpt`, `metrics\.jsonl`, `curves\.png`),
		dirs:  names("model", "peft-adapter")}
	sweepOutput = outputKind{what: "sweep",
		files: names(`sweep\.jsonl`, `base\.json`, `results\.md`, `lr\.png`, `best\.yaml`),
		dirs:  names(`trial-\d+`, "best")}
	exportOutput = outputKind{what: "export", files: names(quoted(exportFiles)...)}
)

// dirFiles are the files ft writes into the folders of a run or sweep
// folder (model/, peft-adapter/, trial-N/, best/): a run's own files, an
// export's, and the folders of those.
var dirFiles = names(append(quoted(exportFiles), `checkpoint-\d+\.ftckpt`, `metrics\.jsonl`, `curves\.png`)...)

func matchAny(rs []*regexp.Regexp, name string) bool {
	for _, r := range rs {
		if r.MatchString(name) {
			return true
		}
	}
	return false
}

// outputOptions are what decides whether a command may write into a folder.
type outputOptions struct {
	flag      string // the flag naming the folder, for messages
	overwrite bool   // --overwrite-output-dir
	resume    bool   // continue what is there (ft run --resume, a sweep)
	// bases are folders that must not be written into (the base model's)
	bases []string
}

// claimOutputDir checks that the command may write into dir, takes its
// lock, and with opt.overwrite removes the files an earlier ft command
// wrote there (never others). It returns the function that releases the
// lock; it also runs if the process ends on a signal (see atExit).
func claimOutputDir(dir string, kind outputKind, opt outputOptions, stderr io.Writer) (func(), error) {
	if strings.TrimSpace(dir) == "" {
		return nil, fmt.Errorf("%s is empty: give a folder", opt.flag)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if filepath.Dir(abs) == abs {
		return nil, fmt.Errorf("%s %s is the root of the file system: give a folder of its own", opt.flag, dir)
	}
	if home, err := os.UserHomeDir(); err == nil {
		if r, _ := finetune.PathRelation(dir, home); r == "same" {
			return nil, fmt.Errorf("%s %s is your home folder: give a folder of its own", opt.flag, dir)
		}
	}
	for _, b := range opt.bases {
		r, err := finetune.PathRelation(dir, b)
		if err != nil {
			return nil, err
		}
		switch r {
		case "same":
			return nil, fmt.Errorf("%s %s is the base model's folder: ft would overwrite the model it starts from; give another folder", opt.flag, dir)
		case "inside":
			return nil, fmt.Errorf("%s %s is inside the base model's folder %s: give a folder apart from it", opt.flag, dir, b)
		case "contains":
			return nil, fmt.Errorf("%s %s holds the base model's folder %s: give a folder apart from it", opt.flag, dir, b)
		}
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return nil, fmt.Errorf("%s %s is a file, not a folder", opt.flag, dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	release, err := lockDir(dir, stderr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (func(), error) {
		release()
		return nil, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fail(err)
	}
	ours := finetune.IsOutputDir(dir)
	var mine, unknown []string
	for _, e := range ents {
		n := e.Name()
		switch {
		case n == lockFile || n == finetune.OutputMarker:
			continue
		case e.Type().IsRegular() && matchAny(kind.files, n):
			if ours || isCheckpoint(filepath.Join(dir, n)) {
				mine = append(mine, n)
				continue
			}
		case e.IsDir() && matchAny(kind.dirs, n):
			if ours {
				mine = append(mine, n)
				continue
			}
		}
		unknown = append(unknown, n)
	}
	if !ours && len(mine) > 0 {
		// an older ft's run folder (known by its checkpoints): its other
		// files of ft's names are ft's too
		ours = true
		for _, n := range unknown {
			if matchAny(kind.files, n) || matchAny(kind.dirs, n) {
				mine = append(mine, n)
			}
		}
		unknown = slicesDelete(unknown, mine)
	}
	sort.Strings(mine)
	sort.Strings(unknown)
	switch {
	case opt.overwrite:
		for _, n := range mine {
			if err := removeOurs(filepath.Join(dir, n), kind); err != nil {
				return fail(err)
			}
		}
		if len(unknown) > 0 {
			fmt.Fprintf(stderr, "warning: %s %s: keeping %s (not written by ft)\n", opt.flag, dir, listNames(unknown))
		}
	case len(unknown) > 0 && !(opt.resume && len(mine) > 0):
		return fail(fmt.Errorf("%s %s holds files ft did not write (%s): give an empty or new folder, or --overwrite-output-dir (which keeps them and replaces only ft's files)", opt.flag, dir, listNames(unknown)))
	case len(mine) > 0 && !opt.resume:
		hint := "continue it with --resume " + dir + ", or start over with --overwrite-output-dir"
		switch kind.what {
		case "export":
			hint = "replace it with --overwrite-output-dir, or give another folder"
		case "sweep":
			hint = "start over with --overwrite-output-dir"
		}
		return fail(fmt.Errorf("%s %s holds an earlier %s (%s): %s", opt.flag, dir, kind.what, listNames(mine), hint))
	}
	if err := finetune.MarkOutputDir(dir, kind.what); err != nil {
		return fail(err)
	}
	return release, nil
}

func slicesDelete(l, drop []string) []string {
	d := map[string]bool{}
	for _, s := range drop {
		d[s] = true
	}
	var out []string
	for _, s := range l {
		if !d[s] {
			out = append(out, s)
		}
	}
	return out
}

func listNames(l []string) string {
	if len(l) > 5 {
		return strings.Join(l[:5], ", ") + fmt.Sprintf(", ... (%d in all)", len(l))
	}
	return strings.Join(l, ", ")
}

func isCheckpoint(path string) bool {
	_, err := finetune.ReadCheckpointInfo(path)
	return err == nil
}

// removeOurs removes a file ft wrote, or the files of ft's names in a
// folder ft wrote (and the folders that end up empty); other files stay.
func removeOurs(path string, kind outputKind) error {
	st, err := os.Lstat(path)
	if err != nil {
		return nil
	}
	if !st.IsDir() {
		return os.Remove(path)
	}
	ents, err := os.ReadDir(path)
	if err != nil {
		return err
	}
	for _, e := range ents {
		p := filepath.Join(path, e.Name())
		switch {
		case e.IsDir() && matchAny(runOutput.dirs, e.Name()):
			if err := removeOurs(p, kind); err != nil {
				return err
			}
		case e.Type().IsRegular() && (matchAny(dirFiles, e.Name()) || e.Name() == finetune.OutputMarker):
			if err := os.Remove(p); err != nil {
				return err
			}
		}
	}
	os.Remove(path) // only when empty
	return nil
}

// exit hooks: run before the process ends on a second signal.
var (
	hooksMu sync.Mutex
	hooks   = map[int]func(){}
	hookID  int
)

func atExit(f func()) (remove func()) {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	hookID++
	id := hookID
	hooks[id] = f
	return func() {
		hooksMu.Lock()
		defer hooksMu.Unlock()
		delete(hooks, id)
	}
}

func runExitHooks() {
	hooksMu.Lock()
	defer hooksMu.Unlock()
	for id, f := range hooks {
		f()
		delete(hooks, id)
	}
}

// lockDir takes dir's lock file: created with O_EXCL, it holds the pid,
// the host and the start time. A lock of a live process refuses; a lock
// left by a process of this host that no longer runs is taken over with a
// warning.
func lockDir(dir string, stderr io.Writer) (func(), error) {
	path := filepath.Join(dir, lockFile)
	host, _ := os.Hostname()
	body := fmt.Sprintf("%d %s %s\n", os.Getpid(), host, time.Now().UTC().Format(time.RFC3339))
	for try := 0; ; try++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			_, werr := f.WriteString(body)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("%s: %v", path, errors.Join(werr, cerr))
			}
			var once sync.Once
			rel := func() {
				once.Do(func() {
					// remove it only while it is still ours
					if b, err := os.ReadFile(path); err == nil && string(b) == body {
						os.Remove(path)
					}
				})
			}
			unhook := atExit(rel)
			return func() { unhook(); rel() }, nil
		}
		if !errors.Is(err, os.ErrExist) || try > 0 {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		b, rerr := os.ReadFile(path)
		if rerr != nil {
			return nil, fmt.Errorf("lock %s: %w", path, rerr)
		}
		fields := strings.Fields(string(b))
		var pid int
		var lhost, since string
		if len(fields) >= 3 {
			pid, _ = strconv.Atoi(fields[0])
			lhost, since = fields[1], fields[2]
		}
		if pid <= 0 {
			return nil, fmt.Errorf("%s is locked by %s (not an ft lock file?): remove it if no ft command writes into %s", path, strings.TrimSpace(string(b)), dir)
		}
		if lhost != host || processAlive(pid) {
			return nil, fmt.Errorf("%s is in use by ft process %d on %s (since %s): wait for it to end, or give another folder (remove %s only if that process is gone)", dir, pid, lhost, since, path)
		}
		fmt.Fprintf(stderr, "warning: taking over %s: process %d of %s (since %s) no longer runs\n", path, pid, lhost, since)
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
	}
}

// modelFolder is the export folder of a --model argument (a folder or its
// .onnx file).
func modelFolder(path string) string {
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return filepath.Dir(path)
	}
	return path
}

// releaseOnSignal ends a command that does not stop by itself on SIGINT or
// SIGTERM (ft export) after running the exit hooks (its lock is removed).
func releaseOnSignal() (stop func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			runExitHooks()
			code := signalExitCode(s)
			os.Exit(code)
		case <-done:
		}
	}()
	return func() { signal.Stop(ch); close(done) }
}
