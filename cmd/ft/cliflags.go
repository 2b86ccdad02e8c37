package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"
)

// ft's flags are the standard library's flag package with a small layer on
// top (this file): help that prints --flag as the README writes it, in
// groups; Hugging Face's underscore spellings (--learning_rate) accepted for
// every flag; and one-line errors with a "did you mean" instead of the whole
// usage.

// flagGroups records which group (Model, Data, ...) each flag of a FlagSet
// belongs to, by the order of definition: section("Data") starts a group,
// and every flag defined after it, up to the next section, is in it. A new
// flag lands in a group by being defined inside its block: one line.
type flagGroups struct {
	fs    *flag.FlagSet
	names []string
	// before[i] holds the flags defined before section i started.
	before []map[string]bool
}

func newFlagGroups(fs *flag.FlagSet) *flagGroups { return &flagGroups{fs: fs} }

// section starts the group name.
func (g *flagGroups) section(name string) {
	seen := map[string]bool{}
	g.fs.VisitAll(func(fl *flag.Flag) { seen[fl.Name] = true })
	g.names = append(g.names, name)
	g.before = append(g.before, seen)
}

// groupOf returns the index of the group that defines name (-1: defined
// before the first section).
func (g *flagGroups) groupOf(name string) int {
	// the group is the last section started before the flag was defined:
	// the largest i with !before[i][name]
	for i := len(g.before) - 1; i >= 0; i-- {
		if !g.before[i][name] {
			return i
		}
	}
	return -1
}

// print writes the flags of fs (only those keep accepts, when keep is not
// nil) under their group names.
func (g *flagGroups) print(w io.Writer, keep func(string) bool) {
	byGroup := make([][]*flag.Flag, len(g.names)+1)
	g.fs.VisitAll(func(fl *flag.Flag) {
		if keep != nil && !keep(fl.Name) {
			return
		}
		i := g.groupOf(fl.Name) + 1
		byGroup[i] = append(byGroup[i], fl)
	})
	first := true
	for i, fls := range byGroup {
		if len(fls) == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		if i > 0 {
			fmt.Fprintf(w, "%s:\n", g.names[i-1])
		}
		// alphabetical within a group, as flag.PrintDefaults
		for _, fl := range fls {
			printFlag(w, fl)
		}
	}
}

// printFlags writes every flag of fs as `--name TYPE` and its usage, the
// way flag.PrintDefaults does but with two dashes.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.VisitAll(func(fl *flag.Flag) { printFlag(w, fl) })
}

func printFlag(w io.Writer, fl *flag.Flag) {
	name, usage := flag.UnquoteUsage(fl)
	line := "  --" + fl.Name
	if name == "value" {
		name = "LIST" // the repeatable, comma-separated flags
	}
	if name != "" {
		line += " " + name
	}
	usage = strings.ReplaceAll(usage, "\n", "\n      ")
	if !isZeroDefault(fl) {
		if t := reflect.TypeOf(fl.Value); t.Kind() == reflect.Pointer && t.Elem().Kind() == reflect.String {
			usage += fmt.Sprintf(" (default %q)", fl.DefValue)
		} else {
			usage += fmt.Sprintf(" (default %v)", fl.DefValue)
		}
	}
	fmt.Fprintf(w, "%s\n      %s\n", line, usage)
}

func isZeroDefault(fl *flag.Flag) bool {
	switch fl.DefValue {
	case "", "0", "false", "[]", "<nil>":
		return true
	}
	return false
}

// flagAliases maps other spellings to flag names (besides underscores for
// dashes, which every flag accepts): transformers' --model_name_or_path.
var flagAliases = map[string]string{"model-name-or-path": "model"}

// normalizeFlags rewrites HF's spellings in args (--learning_rate,
// --learning_rate=1e-3, --model_name_or_path) to the names fs defines.
func normalizeFlags(fs *flag.FlagSet, args []string) []string {
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		dashes := "-"
		if strings.HasPrefix(a, "--") {
			dashes = "--"
		}
		name, value, hasValue := strings.Cut(a[len(dashes):], "=")
		if fs.Lookup(name) != nil {
			continue
		}
		alt := strings.ReplaceAll(name, "_", "-")
		if to, ok := flagAliases[alt]; ok && fs.Lookup(to) != nil {
			alt = to
		}
		if alt == name || fs.Lookup(alt) == nil {
			continue
		}
		out[i] = dashes + alt
		if hasValue {
			out[i] += "=" + value
		}
	}
	return out
}

// parseFlags parses args with fs: HF's spellings accepted, flags allowed
// after positional arguments (reorder), --help printing fs.Usage (and
// returning flag.ErrHelp), and any other error one line naming the flag,
// with a "did you mean" when a flag name is close.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if collectFlags != nil {
		collectFlags(fs)
		return flag.ErrHelp
	}
	args = reorder(fs, normalizeFlags(fs, args))
	full := fs.Usage
	out := fs.Output()
	fs.Usage = func() {}
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	fs.Usage = full
	fs.SetOutput(out)
	if err == nil {
		return nil
	}
	if errors.Is(err, flag.ErrHelp) {
		if full != nil {
			full()
		} else {
			printFlags(out, fs)
		}
		return err
	}
	return flagError{cmd: fs.Name(), msg: rewriteFlagError(fs, err.Error())}
}

// flagError is a command-line error: ft prints it and how to get help, and
// exits with status 2.
type flagError struct{ cmd, msg string }

func (e flagError) Error() string { return e.msg }

// rewriteFlagError turns the flag package's messages into ft's: two
// dashes, a "did you mean" for unknown names.
func rewriteFlagError(fs *flag.FlagSet, msg string) string {
	const undefined = "flag provided but not defined: -"
	if name, ok := strings.CutPrefix(msg, undefined); ok {
		var names []string
		fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
		s := fmt.Sprintf("unknown flag --%s", name)
		if d := didYouMean(strings.ReplaceAll(name, "_", "-"), names); d != "" {
			s += fmt.Sprintf(" (did you mean --%s?)", d)
		}
		return s
	}
	for _, p := range []string{"flag needs an argument: -", "bad flag syntax: -"} {
		if rest, ok := strings.CutPrefix(msg, p); ok {
			return p + "-" + rest
		}
	}
	// invalid value "x" for flag -name: ...
	if i := strings.Index(msg, " for flag -"); i >= 0 {
		return msg[:i] + " for flag --" + msg[i+len(" for flag -"):]
	}
	return msg
}

// didYouMean returns the candidate closest to s when it is close enough
// to be a typo (edit distance at most 2, or a third of the length; or a
// prefix), else "".
func didYouMean(s string, candidates []string) string {
	best, bestD := "", 1<<30
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), strings.ToLower(c))
		if d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	if bestD <= max(2, len(s)/3) {
		return best
	}
	var prefixed []string
	for _, c := range candidates {
		if len(s) >= 3 && strings.HasPrefix(c, s) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return prefixed[0]
	}
	return ""
}

// editDistance is the Levenshtein distance between a and b (in runes).
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// checkChoice returns a one-line error when v is not one of choices (""
// allowed when empty is true), with a "did you mean".
func checkChoice(flagName, v string, empty bool, choices ...string) error {
	if v == "" && empty {
		return nil
	}
	for _, c := range choices {
		if v == c {
			return nil
		}
	}
	s := fmt.Sprintf("%s %q: use %s", flagName, v, orList(choices))
	if d := didYouMean(v, choices); d != "" {
		s += fmt.Sprintf(" (did you mean %s?)", d)
	}
	return errors.New(s)
}

// orList writes a, b or c.
func orList(s []string) string {
	if len(s) < 2 {
		return strings.Join(s, "")
	}
	return strings.Join(s[:len(s)-1], ", ") + " or " + s[len(s)-1]
}

// flagNamesOf returns the names fs defines, sorted.
func flagNamesOf(fs *flag.FlagSet) []string {
	var names []string
	fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	sort.Strings(names)
	return names
}
