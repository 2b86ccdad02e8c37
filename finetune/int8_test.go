package finetune_test

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/finetune"
	"ft/onnx"
)

// TestLoadInt8Model: an int8 model (ONNX Runtime's quantize_dynamic of
// bert) loads for fine-tuning with its weights dequantized to float32
// parameters, says so in its notes, and gives logits within int8 error of
// the float model's (ONNX Runtime's goldens of bert).
func TestLoadInt8Model(t *testing.T) {
	m, err := finetune.LoadModel(filepath.Join(fixtures, "bert-int8"), finetune.ModelOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Notes) == 0 || !strings.Contains(m.Notes[0], "int8 model: 14 MatMul and 3 Gather weights dequantized") {
		t.Errorf("notes %q", m.Notes)
	}
	// every weight of the float model is a parameter again (the graph names
	// the MatMul weights after the layers, as it names bert's)
	f, err := finetune.LoadModel(filepath.Join(fixtures, "bert"), finetune.ModelOptions{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	size := func(m *finetune.Model) (n int) {
		for _, p := range m.Graph.Params {
			n += p.Value.Len()
		}
		return n
	}
	if len(m.Graph.Params) != len(f.Graph.Params) || size(m) != size(f) {
		t.Errorf("%d parameters of %d values, the float model has %d of %d", len(m.Graph.Params), size(m), len(f.Graph.Params), size(f))
	}
	feeds := fixtureFeeds(t, filepath.Join(fixtures, "bert"))
	got := logitsOf(t, m, feeds)
	want := readGolden(t, filepath.Join(fixtures, "bert", "test_data_set_0", "output_0.pb"))
	for i := range want {
		if d := math.Abs(float64(got[i] - want[i])); d > 0.05 {
			t.Fatalf("logit %d = %v, float model %v", i, got[i], want[i])
		}
	}
}

func readGolden(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tp, err := onnx.ParseTensor(b)
	if err != nil {
		t.Fatal(err)
	}
	v, err := onnx.ToTensor(tp)
	if err != nil {
		t.Fatal(err)
	}
	return v.F32()
}
