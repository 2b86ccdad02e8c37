package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"ft/graph"
	"ft/internal/bundled"
)

// defaultCommand runs when ft is called without arguments.
var defaultCommand = "run"

func runInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the report as JSON")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: ft inspect [--json] [MODEL]\n\nMODEL is a .onnx file or a Hugging Face export folder (default: the bundled tiny BERT of ft run's demo,\nwhich is inside the ft binary, so it works from any folder).\n\n")
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return flagError{"inspect", fmt.Sprintf("one model at a time (got %d arguments)", fs.NArg())}
	}
	var path string
	if fs.NArg() > 0 {
		path = fs.Arg(0)
		if err := checkModelPath(path); err != nil {
			return fmt.Errorf("%s", strings.Replace(err.Error(), "--model ", "", 1))
		}
	} else {
		dir, cleanup, err := bundled.Open("ft-inspect-")
		if err != nil {
			return err
		}
		defer cleanup()
		path = filepath.Join(dir, bundled.Model)
		fmt.Fprintf(stderr, "ft inspect: no MODEL given: the bundled tiny BERT of the demo (give a .onnx file or an export folder)\n")
	}
	r, err := graph.Inspect(path)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	printReport(stdout, r)
	return nil
}

// reorder moves flags (with their values) before positional arguments, so
// `ft inspect MODEL --json` works like `ft inspect --json MODEL`.
func reorder(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		flags = append(flags, a)
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if fl := fs.Lookup(name); fl != nil {
			if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				continue
			}
			if i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
		}
	}
	return append(flags, pos...)
}

func printReport(w io.Writer, r *graph.Report) {
	fmt.Fprintf(w, "model     %s\n", r.Path)
	fmt.Fprintf(w, "producer  %s (IR version %d)\n", strings.TrimSpace(r.Producer), r.IRVersion)
	fmt.Fprintf(w, "opsets   ")
	for d, v := range r.Opsets {
		fmt.Fprintf(w, " %s %d", d, v)
	}
	fmt.Fprintf(w, "\n\ninputs\n")
	for _, io := range r.Inputs {
		fmt.Fprintf(w, "  %-24s %-8s [%s]\n", io.Name, strings.ToLower(io.Type), strings.Join(io.Shape, ", "))
	}
	fmt.Fprintf(w, "outputs\n")
	for _, io := range r.Outputs {
		fmt.Fprintf(w, "  %-24s %-8s [%s]\n", io.Name, strings.ToLower(io.Type), strings.Join(io.Shape, ", "))
	}
	fmt.Fprintf(w, "\nops (%d nodes, %d folded at load)\n", r.Nodes, r.Folded)
	for _, o := range r.SortedOps() {
		fmt.Fprintf(w, "  %-28s %d\n", o.Op, o.Count)
	}
	fmt.Fprintf(w, "\nparameters\n")
	width := 10
	for _, p := range r.Params {
		width = max(width, len(p.Name))
	}
	for _, p := range r.Params {
		note := ""
		if p.Transposed {
			note = "  (stored transposed)"
		}
		if p.Initializer != p.Name {
			note += "  ← " + p.Initializer
		}
		fmt.Fprintf(w, "  %-*s %-14s %10d%s\n", width, p.Name, fmt.Sprint(p.Shape), p.Count, note)
	}
	fmt.Fprintf(w, "  %-*s %-14s %10d\n", width, "total", "", r.TotalParams)
	if len(r.Unsupported) > 0 {
		fmt.Fprintf(w, "\nunsupported ops (the model cannot run until these are implemented)\n")
		for _, u := range r.Unsupported {
			d := u.Domain
			if d == "" {
				d = "ai.onnx"
			}
			fmt.Fprintf(w, "  %s::%s opset %d: %d node(s), e.g. %q\n", d, u.OpType, u.Opset, u.Count, u.Node)
		}
	} else {
		fmt.Fprintf(w, "\nall ops supported\n")
	}
}
