// Package bundled carries the small demo that `ft run` uses with no
// arguments — a tiny random-weight BERT export and a sample of SST-2 (see
// testmodels/make_bundled.py) — inside the ft binary, so the demo runs from
// any folder. Dir, Model, Train and Eval name the files; Open finds them in
// the repository or writes a temporary copy; Extract writes them anywhere.
package bundled

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
)

//go:embed tiny-bert sst2-sample
var files embed.FS

// Dir is where the bundled files lie in the repository, relative to its
// root; Model, Train and Eval are relative to Dir (or to Open's folder).
const (
	Dir   = "internal/bundled"
	Model = "tiny-bert"
	Train = "sst2-sample/train.tsv"
	Eval  = "sst2-sample/test.tsv"
)

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

// Open returns a folder that holds the bundled files: Dir when the current
// folder is the repository root, else a new temporary copy (its name starts
// with prefix) that cleanup removes. cleanup is never nil.
func Open(prefix string) (dir string, cleanup func(), err error) {
	if _, err := os.Stat(filepath.Join(Dir, Model, "tokenizer.json")); err == nil {
		return Dir, func() {}, nil
	}
	tmp, err := os.MkdirTemp("", prefix)
	if err != nil {
		return "", func() {}, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	if err := Extract(tmp); err != nil {
		cleanup()
		return "", func() {}, err
	}
	return tmp, cleanup, nil
}
