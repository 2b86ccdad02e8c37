// Package bundled carries the small demo that `ft run` uses with no
// arguments — a tiny random-weight BERT export and a sample of SST-2 (see
// make_bundled.py) — inside the ft binary, so the demo runs from any folder.
package bundled

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed tiny-bert sst2-sample
var files embed.FS

// Extract writes the bundled files under dir (dir/tiny-bert, dir/sst2-sample).
func Extract(dir string) error {
	return fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, 0o644)
	})
}
