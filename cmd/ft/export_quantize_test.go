package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/graph"
	"ft/onnx"
	"ft/tensor"
)

// TestExportQuantizeInt8: ft export --quantize int8 writes a model whose
// MatMul and Gemm weights are int8 (MatMulInteger; onnx.Model.QuantizeDynamic
// is checked against ONNX Runtime's quantize_dynamic in package graph), that
// is smaller than the float32 export and gives about its logits (int8
// rounding: within 0.05 here, same argmax).
func TestExportQuantizeInt8(t *testing.T) {
	dir := t.TempDir()
	code, _, errs := runIn(t, "run", "--model", "internal/bundled/tiny-bert", "--train", "internal/bundled/sst2-sample/test.tsv",
		"--max-steps", "2", "--save-steps", "2", "--output-dir", dir)
	if code != 0 {
		t.Fatalf("run: exit %d: %s", code, errs)
	}
	f32, i8 := t.TempDir(), t.TempDir()
	if code, _, errs := runIn(t, "export", "--checkpoint", dir, "--output-dir", f32); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	code, out, errs := runIn(t, "export", "--checkpoint", dir, "--output-dir", i8, "--quantize", "int8")
	if code != 0 || !strings.Contains(out, "quantized") {
		t.Fatalf("export --quantize int8: exit %d: %s%s", code, out, errs)
	}
	fa, _ := os.Stat(filepath.Join(f32, "model.onnx"))
	fb, _ := os.Stat(filepath.Join(i8, "model.onnx"))
	if fa == nil || fb == nil || fb.Size() >= fa.Size() {
		t.Fatalf("int8 model.onnx not smaller than float32's (%v, %v)", fa, fb)
	}
	run := func(d string) (*onnx.Model, []float32) {
		m, err := onnx.Load(d)
		if err != nil {
			t.Fatal(err)
		}
		g, err := graph.Import(m, graph.Options{})
		if err != nil {
			t.Fatal(err)
		}
		feeds := map[string]*tensor.Tensor{}
		for _, in := range m.Proto.Graph.Input {
			ids := []int64{2, 17, 40, 33, 9, 3, 0, 0, 2, 5, 61, 12, 7, 44, 23, 3}
			switch in.GetName() {
			case "attention_mask":
				ids = []int64{1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1}
			case "token_type_ids":
				ids = make([]int64, 16)
			}
			feeds[in.GetName()] = tensor.New([]int{2, 8}, ids)
		}
		got, err := g.Run(feeds)
		if err != nil {
			t.Fatal(err)
		}
		return m, got["logits"].F32()
	}
	_, a := run(f32)
	m, b := run(i8)
	mmi := 0
	for _, n := range m.Proto.Graph.Node {
		switch n.GetOpType() {
		case "MatMulInteger":
			mmi++
		case "Gemm":
			t.Error("a Gemm left in the int8 model")
		}
	}
	if mmi == 0 {
		t.Fatal("no MatMulInteger in the int8 model")
	}
	t.Logf("logits float32 %v, int8 %v", a, b)
	if keep := os.Getenv("FT_KEEP_QUANTIZED"); keep != "" { // for a check by ONNX Runtime
		for name, d := range map[string]string{"float32": f32, "int8": i8} {
			m, err := onnx.Load(d)
			if err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Join(keep, name), 0o755)
			if err := m.Save(filepath.Join(keep, name)); err != nil {
				t.Fatal(err)
			}
		}
	}
	for r := 0; r < 2; r++ {
		x, y := a[2*r:2*r+2], b[2*r:2*r+2]
		if d := max(abs32(x[0]-y[0]), abs32(x[1]-y[1])); d > 0.05 || (x[0] > x[1]) != (y[0] > y[1]) {
			t.Errorf("row %d: int8 logits %v, float32 %v", r, y, x)
		}
	}
	for _, c := range [][]string{{"--quantize", "int4"}, {"--quantize", "int8", "--format", "safetensors"}} {
		args := append([]string{"export", "--checkpoint", dir, "--output-dir", t.TempDir()}, c...)
		if code, _, errs := runIn(t, args...); code == 0 || !strings.Contains(errs, "--quantize") {
			t.Errorf("%v: exit %d, %s", c, code, errs)
		}
	}
}

func abs32(x float32) float32 {
	if x < 0 {
		return -x
	}
	return x
}
