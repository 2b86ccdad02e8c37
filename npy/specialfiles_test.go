//go:build unix

package npy

import (
	"testing"

	"ft/internal/fileio/fileiotest"
)

// TestReadRefusesSpecialFiles: ReadFile and ReadNPZFile refuse a named pipe
// and a link to /dev/zero with an error naming the file, instead of
// blocking or reading until memory runs out.
func TestReadRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		read       func(path string) error
	}{
		{"ReadFile", "x.npy", func(p string) error { _, err := ReadFile(p); return err }},
		{"ReadNPZFile", "inputs.npz", func(p string) error { _, err := ReadNPZFile(p); return err }},
	} {
		for _, s := range fileiotest.Specials(t, tc.file) {
			fileiotest.Refuses(t, tc.name, s, func() error { return tc.read(s.Path) })
		}
	}
}
