package graph

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"ft/onnx"
)

// TestParamNamesMatchTorch: every fixture parameter gets the torch state_dict
// name and orientation that the oracle (grads/names.json, matched by value in
// Python) gives it, and no constant is taken for a parameter.
func TestParamNamesMatchTorch(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		if _, err := os.Stat(filepath.Join(dir, "grads", "names.json")); err != nil {
			continue
		}
		m, _ := onnx.Load(dir)
		g, err := Import(m, Options{AllowUnsupported: true})
		if err != nil {
			t.Fatal(err)
		}
		var nf namesFile
		b, _ := os.ReadFile(filepath.Join(dir, "grads", "names.json"))
		json.Unmarshal(b, &nf)
		bad := 0
		for _, e := range nf.Params {
			var p *Param
			for _, q := range g.Params {
				if q.Initializer == e.ONNX {
					p = q
				}
			}
			if p == nil {
				t.Errorf("%s: %s (%s) not a param", filepath.Base(dir), e.Torch, e.ONNX)
				bad++
				continue
			}
			if p.Name != e.Torch || p.Transposed != e.Transposed {
				t.Errorf("%s: %s named %s tr=%v want %s tr=%v", filepath.Base(dir), e.ONNX, p.Name, p.Transposed, e.Torch, e.Transposed)
				bad++
			}
		}
		if len(g.Params) != len(nf.Params) {
			for _, q := range g.Params {
				found := false
				for _, e := range nf.Params {
					if e.ONNX == q.Initializer {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: extra param %s (%s) %v", filepath.Base(dir), q.Name, q.Initializer, q.Value.Shape)
				}
			}
		}
	}
}
