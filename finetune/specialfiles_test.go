//go:build unix

package finetune

import (
	"path/filepath"
	"testing"

	"ft/internal/fileio/fileiotest"
)

// TestReadersRefuseSpecialFiles: the metrics log (read, truncated for a
// resume, opened for appending), config.json and the tokenizer files an
// export copies refuse a named pipe and a link to /dev/zero with an error
// naming the file, instead of blocking or reading until memory runs out.
func TestReadersRefuseSpecialFiles(t *testing.T) {
	for _, tc := range []struct {
		name, file string
		read       func(s fileiotest.Special) error
	}{
		{"ReadMetricsLog", "metrics.jsonl", func(s fileiotest.Special) error { _, err := ReadMetricsLog(s.Path); return err }},
		{"TruncateMetricsLog", "metrics.jsonl", func(s fileiotest.Special) error { return TruncateMetricsLog(s.Path, 3) }},
		{"OpenMetricsLog", "metrics.jsonl", func(s fileiotest.Special) error {
			l, err := OpenMetricsLog(s.Path)
			if err == nil {
				l.Close()
			}
			return err
		}},
		{"readConfig", "config.json", func(s fileiotest.Special) error { _, err := readConfig(s.Dir); return err }},
		{"saveConfigAndTokenizer", "tokenizer.json", func(s fileiotest.Special) error {
			m := &Model{Dir: s.Dir}
			return m.saveConfigAndTokenizer(filepath.Join(t.TempDir(), "out"))
		}},
	} {
		for _, s := range fileiotest.Specials(t, tc.file) {
			fileiotest.Refuses(t, tc.name, s, func() error { return tc.read(s) })
		}
	}
}
