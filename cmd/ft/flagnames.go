package main

import (
	"flag"
	"reflect"
	"strings"
	"unicode"

	"ft/dataset"
	"ft/finetune"
)

// flagNames rewrites the Go names in a library error — the fields of
// finetune.Args (Args.SaveStrategy), finetune.LoRAConfig (LoRAConfig.R),
// finetune.ModelOptions (ModelOptions.Pooling) and dataset.ReadOptions
// (ReadOptions.TextColumn), and Trainer.Trainable — as
// the flags of fs that set them (--save-strategy, --lora-r, --text-column),
// so that the message speaks the CLI's language. The error stays the same
// for errors.Is and errors.As.
func flagNames(fs *flag.FlagSet, err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var pairs []string
	for _, st := range []struct {
		t      reflect.Type
		prefix string // of the flag names
	}{
		{reflect.TypeFor[finetune.Args](), ""},
		{reflect.TypeFor[finetune.LoRAConfig](), "lora-"},
		{reflect.TypeFor[dataset.ReadOptions](), ""},
		{reflect.TypeFor[finetune.ModelOptions](), ""},
	} {
		for i := range st.t.NumField() {
			name := st.t.Field(i).Name
			if f := fs.Lookup(st.prefix + kebab(name)); f != nil {
				pairs = append(pairs, st.t.Name()+"."+name, "--"+f.Name)
			}
		}
	}
	pairs = append(pairs, "Trainer.Trainable is empty", "check --train-params, --freeze, --train-top-layers and --lora-r")
	if out := strings.NewReplacer(pairs...).Replace(msg); out != msg {
		return renamedError{out, err}
	}
	return err
}

// kebab turns a Go field name into a flag name: LRSchedulerType →
// lr-scheduler-type, AdamBeta1 → adam-beta1.
func kebab(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if i > 0 && unicode.IsUpper(r) && (unicode.IsLower(rs[i-1]) || unicode.IsDigit(rs[i-1]) ||
			(i+1 < len(rs) && unicode.IsLower(rs[i+1]))) {
			b.WriteByte('-')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// renamedError is an error with a rewritten message.
type renamedError struct {
	msg string
	err error
}

func (e renamedError) Error() string { return e.msg }
func (e renamedError) Unwrap() error { return e.err }
