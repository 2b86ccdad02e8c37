//go:build unix

package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLoadRefusesSpecialFiles: a named pipe as model.onnx or as its
// external data used to block Load for ever, and a link to /dev/zero read
// until memory ran out; each is now refused at once with an error naming
// the file and what it is.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, dir string) string // returns the path to load
		want  string
	}{
		{"fifo model", func(t *testing.T, dir string) string {
			mkfifo(t, filepath.Join(dir, "model.onnx"))
			return dir
		}, "model.onnx is a named pipe (FIFO), not a regular file"},
		{"fifo model given as a file", func(t *testing.T, dir string) string {
			p := filepath.Join(dir, "m.onnx")
			mkfifo(t, p)
			return p
		}, "m.onnx is a named pipe (FIFO), not a regular file"},
		{"link to /dev/zero", func(t *testing.T, dir string) string {
			os.Symlink("/dev/zero", filepath.Join(dir, "model.onnx"))
			return dir
		}, "model.onnx is a link to a character device"},
		{"link to a folder", func(t *testing.T, dir string) string {
			os.Mkdir(filepath.Join(dir, "sub"), 0o755)
			os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "m.onnx"))
			return filepath.Join(dir, "m.onnx")
		}, "load model: folder"}, // a link to a folder is a folder: its model.onnx is looked for
		{"fifo external data", func(t *testing.T, dir string) string {
			tinyModel(t, dir, true)
			os.Remove(filepath.Join(dir, "model.onnx_data"))
			mkfifo(t, filepath.Join(dir, "model.onnx_data"))
			return dir
		}, `tensor "W": external data "model.onnx_data": `},
		{"external data linked to /dev/zero", func(t *testing.T, dir string) string {
			tinyModel(t, dir, true)
			os.Remove(filepath.Join(dir, "model.onnx_data"))
			os.Symlink("/dev/zero", filepath.Join(dir, "model.onnx_data"))
			return dir
		}, "is a link that leaves the model folder"}, // refused before, still refused
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := c.setup(t, t.TempDir())
			done := make(chan error, 1)
			go func() {
				_, err := Load(path)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("Load: %v, want an error containing %q", err, c.want)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("Load blocked")
			}
		})
	}
}

func mkfifo(t *testing.T, p string) {
	t.Helper()
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
}
