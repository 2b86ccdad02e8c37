package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// runCompletion prints a completion script for bash, zsh or fish, made
// from the commands and their flag sets (so it never lists a flag that ft
// lacks).
func runCompletion(args []string, stdout, stderr io.Writer) error {
	const help = "Usage: ft completion bash|zsh|fish\n\nPrints a shell completion script for ft's commands and flags. Install it with, e.g.:\n\n  bash:  ft completion bash > ~/.local/share/bash-completion/completions/ft\n  zsh:   ft completion zsh > \"${fpath[1]}/_ft\"\n  fish:  ft completion fish > ~/.config/fish/completions/ft.fish\n"
	if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
		fmt.Fprint(stderr, help)
		return nil
	}
	if len(args) != 1 {
		return flagError{"completion", "give the shell: ft completion bash, zsh or fish"}
	}
	cmds := completionCommands()
	switch args[0] {
	case "bash":
		writeBash(stdout, cmds)
	case "zsh":
		writeZsh(stdout, cmds)
	case "fish":
		writeFish(stdout, cmds)
	default:
		msg := fmt.Sprintf("unknown shell %q: use bash, zsh or fish", args[0])
		if d := didYouMean(args[0], []string{"bash", "zsh", "fish"}); d != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", d)
		}
		return flagError{"completion", msg}
	}
	return nil
}

type completionCommand struct {
	name, summary string
	flags         []*flag.Flag
	words         []string // fixed arguments (subcommands, shells)
}

// collectFlags, when set, receives the flag set parseFlags is given, and
// parseFlags stops there: completionCommands asks each command for its
// flags by running it with --help.
var collectFlags func(*flag.FlagSet)

func completionCommands() []completionCommand {
	var out []completionCommand
	for _, c := range commands {
		cc := completionCommand{name: c.name, summary: c.summary}
		args := []string{"--help"}
		switch c.name {
		case "data":
			args = []string{"check", "--help"}
			cc.words = []string{"check"}
		case "completion":
			cc.words = []string{"bash", "zsh", "fish"}
		}
		var sets []*flag.FlagSet
		collectFlags = func(fs *flag.FlagSet) { sets = append(sets, fs) }
		if c.name != "completion" && c.name != "version" {
			c.run(args, io.Discard, io.Discard)
		}
		collectFlags = nil
		seen := map[string]bool{}
		for _, fs := range sets {
			fs.VisitAll(func(fl *flag.Flag) {
				if !seen[fl.Name] {
					seen[fl.Name] = true
					cc.flags = append(cc.flags, fl)
				}
			})
		}
		sort.Slice(cc.flags, func(i, j int) bool { return cc.flags[i].Name < cc.flags[j].Name })
		out = append(out, cc)
	}
	return out
}

func flagWords(c completionCommand) string {
	var w []string
	for _, fl := range c.flags {
		w = append(w, "--"+fl.Name)
	}
	return strings.Join(append(w, "--help"), " ")
}

func writeBash(w io.Writer, cmds []completionCommand) {
	var names []string
	var b bytes.Buffer
	for _, c := range cmds {
		names = append(names, c.name)
		fmt.Fprintf(&b, "    %s)\n      flags=%q\n      words=%q\n      ;;\n", c.name, flagWords(c), strings.Join(c.words, " "))
	}
	fmt.Fprintf(w, `# bash completion for ft (ft completion bash)
_ft() {
  local cur cmd flags words
  cur="${COMP_WORDS[COMP_CWORD]}"
  if [[ $COMP_CWORD -eq 1 ]]; then
    COMPREPLY=($(compgen -W %q -- "$cur"))
    return
  fi
  cmd="${COMP_WORDS[1]}"
  case "$cmd" in
%s    *)
      return
      ;;
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
  elif [[ -n "$words" && $COMP_CWORD -eq 2 ]]; then
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
  else
    COMPREPLY=($(compgen -f -- "$cur"))
  fi
}
complete -o default -o filenames -F _ft ft
`, strings.Join(names, " "), b.String())
}

// zshQuote quotes s for a zsh single-quoted word.
func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func writeZsh(w io.Writer, cmds []completionCommand) {
	// ($words is zsh's array of the command line: the fixed arguments are
	// in $ftargs)
	fmt.Fprintf(w, "#compdef ft\n# zsh completion for ft (ft completion zsh)\ncompdef _ft ft\n\n_ft() {\n  local -a commands ftflags ftargs\n  commands=(\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "    %s\n", zshQuote(c.name+":"+strings.ReplaceAll(c.summary, ":", `\:`)))
	}
	fmt.Fprintf(w, "  )\n  if (( CURRENT == 2 )); then\n    _describe 'command' commands\n    return\n  fi\n  case $words[2] in\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "    %s)\n      ftflags=(%s)\n      ftargs=(%s)\n      ;;\n", c.name, flagWords(c), strings.Join(c.words, " "))
	}
	fmt.Fprintf(w, `  esac
  if [[ $PREFIX == -* ]]; then
    compadd -- $ftflags
  elif (( CURRENT == 3 && ${#ftargs} > 0 )); then
    compadd -- $ftargs
  else
    _files
  fi
}

# autoloaded from $fpath: complete now (sourced: compdef above suffices)
if [ "$funcstack[1]" = "_ft" ]; then
  _ft "$@"
fi
`)
}

// fishQuote quotes s for a fish single-quoted string.
func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(s) + "'"
}

// firstSentence shortens a flag's usage for a completion menu.
func firstSentence(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	for _, sep := range []string{"; ", " (", ": "} {
		if i := strings.Index(s, sep); i > 0 {
			s = s[:i]
		}
	}
	if len(s) > 70 {
		s = s[:67] + "..."
	}
	return s
}

func writeFish(w io.Writer, cmds []completionCommand) {
	fmt.Fprintf(w, "# fish completion for ft (ft completion fish)\ncomplete -c ft -f\n")
	for _, c := range cmds {
		fmt.Fprintf(w, "complete -c ft -n __fish_use_subcommand -a %s -d %s\n", c.name, fishQuote(firstSentence(c.summary)))
	}
	for _, c := range cmds {
		cond := fishQuote("__fish_seen_subcommand_from " + c.name)
		for _, word := range c.words {
			fmt.Fprintf(w, "complete -c ft -n %s -a %s\n", cond, word)
		}
		for _, fl := range c.flags {
			kind := " -r -F" // takes a value; files complete
			if bf, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && bf.IsBoolFlag() {
				kind = ""
			}
			fmt.Fprintf(w, "complete -c ft -n %s -l %s%s -d %s\n", cond, fl.Name, kind, fishQuote(firstSentence(fl.Usage)))
		}
		if len(c.words) == 0 && c.name != "version" {
			fmt.Fprintf(w, "complete -c ft -n %s -F\n", cond)
		}
	}
}
