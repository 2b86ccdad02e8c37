//go:build unix

package sweep

import (
	"testing"

	"ft/internal/fileio/fileiotest"
)

// TestLogRefusesSpecialFiles: reading sweep.jsonl and appending a trial to
// it refuse a named pipe and a link to /dev/zero with an error naming the
// file, instead of blocking or reading until memory runs out.
func TestLogRefusesSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name string
		read func(path string) error
	}{
		{"ReadLog", func(p string) error { _, err := ReadLog(p); return err }},
		{"appendLog", func(p string) error { return appendLog(p, TrialResult{}) }},
	} {
		for _, s := range fileiotest.Specials(t, "sweep.jsonl") {
			fileiotest.Refuses(t, tc.name, s, func() error { return tc.read(s.Path) })
		}
	}
}
