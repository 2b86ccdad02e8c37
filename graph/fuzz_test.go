package graph

import (
	"os"
	"path/filepath"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

// FuzzImportRun: any bytes given as a model either fail to load with an error
// or import and run (on random inputs) without a panic.
func FuzzImportRun(f *testing.F) {
	for _, name := range []string{"mlp", "bert"} {
		b, err := os.ReadFile(filepath.Join("..", "testmodels", "fixtures", name, "model.onnx"))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// A model may ask for any tensor size: keep what one run may allocate
	// small (the limit's error is an ordinary import or run error).
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(64 << 20))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := onnx.Parse(b)
		if err != nil {
			return
		}
		g, err := Import(m, Options{})
		if err != nil {
			return
		}
		feeds, err := g.RandomFeeds(2, 5, 1)
		if err != nil {
			return
		}
		g.Run(feeds)
	})
}
