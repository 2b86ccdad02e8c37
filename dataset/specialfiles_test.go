//go:build unix

package dataset

import (
	"os"
	"path/filepath"
	"testing"

	"ft/internal/fileio/fileiotest"
)

// TestReadersRefuseSpecialFiles: every entry point that reads a data file
// refuses a named pipe and a link to /dev/zero with an error naming the
// file, instead of blocking or reading until memory runs out.
func TestReadersRefuseSpecialFiles(t *testing.T) {
	good := filepath.Join(t.TempDir(), "train.tsv")
	if err := os.WriteFile(good, []byte("sentence\tlabel\nfine\t1\nbad\t0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		read func(path string) error
	}{
		{"Read", func(p string) error { _, err := Read(p, ReadOptions{}); return err }},
		{"ReadTagged", func(p string) error { _, err := ReadTagged(p, TaggedOptions{}); return err }},
		{"CheckData train", func(p string) error { _, err := CheckData(p, "", CheckOptions{}); return err }},
		{"CheckData eval", func(p string) error { _, err := CheckData(good, p, CheckOptions{}); return err }},
	} {
		for _, s := range fileiotest.Specials(t, "data.tsv") {
			fileiotest.Refuses(t, tc.name, s, func() error { return tc.read(s.Path) })
		}
	}
}
