package graph

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"ft/onnx"
	"ft/tensor"
)

// fixtureDirs lists the committed model fixtures (testmodels/fixtures/*/model.onnx).
func fixtureDirs(t *testing.T) []string {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join("..", "testmodels", "fixtures", "*", "model.onnx"))
	if len(ms) == 0 {
		t.Fatal("no fixtures under testmodels/fixtures")
	}
	var dirs []string
	for _, m := range ms {
		dirs = append(dirs, filepath.Dir(m))
	}
	return dirs
}

// loadDataSet reads test_data_set_0 of a fixture: inputs by graph input name
// and the ONNX Runtime goldens by output name.
func loadDataSet(t *testing.T, m *onnx.Model, dir string) (map[string]*tensor.Tensor, map[string]*tensor.Tensor) {
	t.Helper()
	feeds := map[string]*tensor.Tensor{}
	inits := map[string]bool{}
	for _, in := range m.Proto.Graph.Initializer {
		inits[in.GetName()] = true
	}
	k := 0
	for _, in := range m.Proto.Graph.Input {
		if inits[in.GetName()] {
			continue
		}
		feeds[in.GetName()] = readPB(t, filepath.Join(dir, "test_data_set_0", fmt.Sprintf("input_%d.pb", k)))
		k++
	}
	want := map[string]*tensor.Tensor{}
	for i, o := range m.Proto.Graph.Output {
		want[o.GetName()] = readPB(t, filepath.Join(dir, "test_data_set_0", fmt.Sprintf("output_%d.pb", i)))
	}
	return feeds, want
}

func maxAbsDiff(a, b *tensor.Tensor) float64 {
	x, y := a.Float64s(), b.Float64s()
	d := 0.0
	for i := range x {
		d = math.Max(d, math.Abs(x[i]-y[i]))
		if math.IsNaN(x[i]) != math.IsNaN(y[i]) {
			return math.Inf(1)
		}
	}
	return d
}

// TestFixturesMatchONNXRuntime: every fixture's outputs match ONNX Runtime's
// goldens within 1e-4 absolute.
func TestFixturesMatchONNXRuntime(t *testing.T) {
	var report []string
	for _, dir := range fixtureDirs(t) {
		name := filepath.Base(dir)
		t.Run(name, func(t *testing.T) {
			m, g := importFixture(t, dir)
			feeds, want := loadDataSet(t, m, dir)
			got, err := g.Run(feeds)
			if err != nil {
				t.Fatal(err)
			}
			worst := 0.0
			for o, w := range want {
				gt := got[o]
				if gt == nil || !tensor.SameShape(gt.Shape, w.Shape) {
					t.Fatalf("output %q: got %v, want shape %v", o, gt, w.Shape)
				}
				worst = math.Max(worst, maxAbsDiff(gt, w))
			}
			report = append(report, fmt.Sprintf("%-14s max |ft - onnxruntime| = %.3g", name, worst))
			if worst > 1e-4 {
				t.Fatalf("max abs error %.3g > 1e-4", worst)
			}
		})
	}
	t.Logf("fixture parity with ONNX Runtime:\n%s", strings.Join(report, "\n"))
}

// TestFixturesLoadSaveLoad: load → save → load gives equal messages.
func TestFixturesLoadSaveLoad(t *testing.T) {
	for _, dir := range fixtureDirs(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			m, err := onnx.Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			out := t.TempDir()
			if err := m.Save(out); err != nil {
				t.Fatal(err)
			}
			m2, err := onnx.Load(out)
			if err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(m.Proto, m2.Proto) {
				t.Fatal("load → save → load changed the model")
			}
			if os.Getenv("FT_KEEP_SAVED") != "" {
				dst := filepath.Join(os.Getenv("FT_KEEP_SAVED"), filepath.Base(dir))
				os.MkdirAll(dst, 0o755)
				m2.Save(dst)
			}
		})
	}
}

// TestRealModelParity checks a real exported model (FT_REAL_MODEL, made by
// testmodels/real_model_parity.py) against the ONNX Runtime outputs the script
// saved beside it.
func TestRealModelParity(t *testing.T) {
	dir := os.Getenv("FT_REAL_MODEL")
	if dir == "" {
		t.Skip("set FT_REAL_MODEL, or run python testmodels/real_model_parity.py (exports all-MiniLM-L6-v2)")
	}
	m, g := importFixture(t, dir)
	feeds, want := loadDataSet(t, m, dir)
	got, err := g.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for o, w := range want {
		d := maxAbsDiff(got[o], w)
		t.Logf("%s: output %s %v max |ft - onnxruntime| = %.3g", filepath.Base(dir), o, w.Shape, d)
		if d > 1e-4 {
			t.Errorf("output %s: max abs error %.3g > 1e-4", o, d)
		}
	}
}

// importFixture loads the model in dir and imports it with the default
// options.
func importFixture(t *testing.T, dir string) (*onnx.Model, *Graph) {
	t.Helper()
	m, err := onnx.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return m, g
}
