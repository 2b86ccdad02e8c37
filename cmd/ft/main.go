// Command ft fine-tunes pretrained ONNX models (Hugging Face exports) without
// Python: inspect a model, check its gradients, fine-tune it, evaluate and
// predict with it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"

	"ft/kernels"
	"ft/tensor"
)

type command struct {
	name, summary string
	run           func(args []string, stdout, stderr io.Writer) error
}

var commands []command

func init() {
	commands = []command{
		{"inspect", "describe a model: inputs, outputs, opsets, ops, parameters, unsupported ops", runInspect},
		{"run", "fine-tune a model on a labelled CSV/TSV/JSONL file (no arguments: the bundled demo)", runRun},
		{"sweep", "search learning rate, batch size, epochs, warmup, weight decay: results table, plot, best config", runSweep},
		{"export", "write a checkpoint as an ONNX export folder, a transformers safetensors folder or a PEFT adapter", runExport},
		{"eval", "evaluate a fine-tuned export on a labelled file", runEval},
		{"embed", "sentence embeddings of texts (arguments, a file or stdin) as JSON lines or .npy", runEmbed},
		{"predict", "classify texts (arguments, a file or stdin) as JSON lines", runPredict},
		{"explain", "explain predictions token by token (gradient × input, integrated gradients; terminal, JSON, HTML)", runExplain},
		{"gradcheck", "compare analytic gradients with finite differences, per op type and per parameter", runGradcheck},
		{"exec", "run a model on .npy/.npz or random inputs; compare with a reference (e.g. ONNX Runtime) and time it", runExec},
		{"data", "check labelled data: counts, balance, lengths, duplicates, conflicts, train/eval overlap", runData},
		{"version", "print ft's version, VCS revision, Go version and the CPU features the kernels use", runVersion},
		{"completion", "print a shell completion script: ft completion bash|zsh|fish", runCompletion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "ft fine-tunes pretrained ONNX models (Hugging Face exports) in pure Go.\n\nUsage:\n  ft <command> [flags] [arguments]\n\nCommands:\n")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun `ft <command> --help` for a command's flags.\n")
}

// setMemoryLimitFromEnv sets the memory limit FT_MEMORY_LIMIT asks for
// (tensor.MemoryLimitFromEnv; unset: the memory the process may use).
func setMemoryLimitFromEnv() error {
	lim, err := tensor.MemoryLimitFromEnv()
	if err != nil {
		return err
	}
	tensor.SetMemoryLimit(lim)
	return nil
}

func main() {
	// FT_BF16_NOAMX=1 keeps bf16 products off AMX (bits that follow
	// VDPBF16PS on every CPU).
	if os.Getenv("FT_BF16_NOAMX") != "" {
		kernels.DisableAMX()
	}
	if err := setMemoryLimitFromEnv(); err != nil {
		fmt.Fprintf(os.Stderr, "ft: %v\n", err)
		os.Exit(2)
	}
	// FT_CPUPROFILE=file writes a CPU profile (for performance work).
	if p := os.Getenv("FT_CPUPROFILE"); p != "" {
		if f, err := os.Create(p); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:], os.Stdout, os.Stderr)
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		args = []string{defaultCommand}
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name == args[0] {
			err := c.run(args[1:], stdout, stderr)
			if errors.Is(err, flag.ErrHelp) {
				return 0
			}
			var ee exitError
			if errors.As(err, &ee) {
				return ee.code
			}
			var fe flagError
			if errors.As(err, &fe) {
				// one line, and where the flags are: not the whole usage
				fmt.Fprintf(stderr, "ft %s: %s\nRun `ft %s --help` for the flags.\n", c.name, fe.msg, fe.cmd)
				return 2
			}
			if err != nil {
				// library errors name Go fields; ft's flags have the run's names
				err = flagNames(newRunFlags(c.name, io.Discard).fs, err)
				fmt.Fprintf(stderr, "ft %s: %v\n", c.name, err)
				return 1
			}
			return 0
		}
	}
	var names []string
	for _, c := range commands {
		names = append(names, c.name)
	}
	msg := fmt.Sprintf("ft: unknown command %q", args[0])
	if d := didYouMean(args[0], names); d != "" {
		msg += fmt.Sprintf(" (did you mean %s?)", d)
	}
	fmt.Fprintf(stderr, "%s\nRun `ft --help` for the commands.\n", msg)
	return 2
}
