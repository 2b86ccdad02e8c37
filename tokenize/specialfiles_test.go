//go:build unix

package tokenize

import (
	"os"
	"path/filepath"
	"testing"

	"ft/internal/fileio/fileiotest"
)

// TestLoadRefusesSpecialFiles: Load (tokenizer.json, tokenizer_config.json,
// special_tokens_map.json) and LoadTokenNames refuse a named pipe and a
// link to /dev/zero with an error naming the file, instead of blocking or
// reading until memory runs out.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		read       func(dir string) error
	}{
		{"Load", "tokenizer.json", func(d string) error { _, err := Load(d); return err }},
		{"Load", "tokenizer_config.json", func(d string) error { _, err := Load(d); return err }},
		{"Load", "special_tokens_map.json", func(d string) error { _, err := Load(d); return err }},
		{"LoadTokenNames", "tokenizer.json", func(d string) error { _, err := LoadTokenNames(d); return err }},
	} {
		for _, s := range fileiotest.Specials(t, tc.file) {
			if tc.file != "tokenizer.json" {
				if err := os.WriteFile(filepath.Join(s.Dir, "tokenizer.json"), []byte(tinyWordPiece), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			fileiotest.Refuses(t, tc.name+" "+tc.file, s, func() error { return tc.read(s.Dir) })
		}
	}
}
