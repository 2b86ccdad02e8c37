package graph

import (
	"math"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"ft/onnx"
	"ft/tensor"
)

// TestQuantizeDynamicMatchesONNXRuntime: onnx.Model.QuantizeDynamic of the
// bert fixture writes the int8 weights, scales and zero points that
// onnxruntime.quantization.quantize_dynamic wrote into bert-int8mm (exactly),
// the same ops, and ft running it gives ONNX Runtime's outputs on
// bert-int8mm within 1e-4.
func TestQuantizeDynamicMatchesONNXRuntime(t *testing.T) {
	fix := filepath.Join("..", "testmodels", "fixtures")
	m, err := onnx.Load(filepath.Join(fix, "bert"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.QuantizeDynamic()
	if err != nil {
		t.Fatal(err)
	}
	ort, err := onnx.Load(filepath.Join(fix, "bert-int8mm"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.MatMuls != 14 || rep.Int8Bytes*3 > rep.FloatBytes {
		t.Errorf("report %+v: want 14 MatMuls and Gemms, int8 bytes about a quarter of float", rep)
	}
	ours, theirs := onnx.Initializers(m.Proto.Graph), onnx.Initializers(ort.Proto.Graph)
	checked := 0
	for name, tp := range theirs {
		if !strings.HasSuffix(name, "_quantized") && !strings.HasSuffix(name, "_scale") && !strings.HasSuffix(name, "_zero_point") {
			continue
		}
		op := ours[name]
		if op == nil {
			t.Errorf("initializer %q of ONNX Runtime's model missing", name)
			continue
		}
		a, err1 := onnx.ToTensor(op)
		b, err2 := onnx.ToTensor(tp)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if a.DType() != b.DType() || !tensor.SameShape(a.Shape, b.Shape) || !reflect.DeepEqual(a.Data, b.Data) {
			t.Errorf("initializer %q differs from ONNX Runtime's (%s %v vs %s %v)", name, a.DType(), a.Shape, b.DType(), b.Shape)
		}
		checked++
	}
	if checked != 42 {
		t.Errorf("compared %d quantized initializers, want 42", checked)
	}
	if len(ours) != len(theirs) {
		t.Errorf("%d initializers, ONNX Runtime's model has %d", len(ours), len(theirs))
	}
	opsOf := func(mm *onnx.Model) []string {
		var s []string
		for _, n := range mm.Proto.Graph.Node {
			s = append(s, n.GetOpType())
		}
		sort.Strings(s)
		return s
	}
	if a, b := opsOf(m), opsOf(ort); !reflect.DeepEqual(a, b) {
		t.Errorf("ops differ from ONNX Runtime's model:\n%v\n%v", a, b)
	}
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	feeds, want := loadDataSet(t, ort, filepath.Join(fix, "bert-int8mm"))
	got, err := g.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for o, w := range want {
		if d := maxAbsDiff(got[o], w); !(d <= 1e-4) || math.IsNaN(d) {
			t.Errorf("output %q: max |ft - onnxruntime| = %.3g > 1e-4", o, d)
		}
	}
	if dir := os.Getenv("FT_KEEP_QUANTIZED"); dir != "" { // for a check by ONNX Runtime
		if err := m.Save(dir); err != nil {
			t.Fatal(err)
		}
	}
}

func TestQuantizeDynamicRefusesOldOpset(t *testing.T) {
	m, err := onnx.Load(filepath.Join("..", "testmodels", "fixtures", "bert"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range m.Proto.OpsetImport {
		if o.GetDomain() == "" || o.GetDomain() == "ai.onnx" {
			o.Version = onnx.Int(10)
		}
	}
	if _, err := m.QuantizeDynamic(); err == nil || !strings.Contains(err.Error(), "opset is 10") {
		t.Errorf("opset 10: error %v", err)
	}
}

// TestDequantizeWeights: onnx.Model.DequantizeWeights turns ONNX Runtime's
// int8 bert (bert-int8) back into a float32 graph: no quantization op is
// left, every dequantized weight is within half a quantization step
// of the float bert's weight it was made from (the bound of rounding), and
// ft's logits are within int8 error of the float model's (ONNX Runtime's
// goldens of bert).
func TestDequantizeWeights(t *testing.T) {
	fix := filepath.Join("..", "testmodels", "fixtures")
	m, err := onnx.Load(filepath.Join(fix, "bert-int8"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.DequantizeWeights()
	if err != nil {
		t.Fatal(err)
	}
	if rep.MatMuls != 14 || rep.Gathers != 3 {
		t.Errorf("report %+v: want 14 MatMuls and 3 Gathers", rep)
	}
	for _, n := range m.Proto.Graph.Node {
		switch n.GetOpType() {
		case "MatMulInteger", "DynamicQuantizeLinear", "DequantizeLinear":
			t.Errorf("node %q (%s) left", n.GetName(), n.GetOpType())
		}
	}
	orig, err := onnx.Load(filepath.Join(fix, "bert"))
	if err != nil {
		t.Fatal(err)
	}
	q, _ := onnx.Load(filepath.Join(fix, "bert-int8"))
	qi, oi, fi := onnx.Initializers(q.Proto.Graph), onnx.Initializers(orig.Proto.Graph), onnx.Initializers(m.Proto.Graph)
	checked := 0
	for name, tp := range fi {
		base, ok := strings.CutSuffix(name, "_quantized_dequantized")
		if !ok || qi[base+"_scale"] == nil {
			continue
		}
		src, transposed := strings.CutSuffix(base, "_Transposed")
		w, _ := onnx.ToTensor(tp)
		s, _ := onnx.ToTensor(qi[base+"_scale"])
		o, _ := onnx.ToTensor(oi[src])
		if o == nil {
			t.Fatalf("%s: no float weight %s in bert", name, src)
		}
		k, n := w.Shape[0], w.Shape[1]
		for i := 0; i < k; i++ {
			for j := 0; j < n; j++ {
				ov := o.F32()[i*n+j]
				if transposed {
					ov = o.F32()[j*k+i]
				}
				step := float64(s.F32()[j%s.Len()]) // per column (MatMul) or per tensor (Gather)
				if d := math.Abs(float64(w.F32()[i*n+j] - ov)); d > step/2*1.0001 {
					t.Fatalf("%s[%d][%d] = %g, float weight %g: more than half a step %g apart", name, i, j, w.F32()[i*n+j], ov, step)
				}
			}
		}
		checked++
	}
	if checked != 17 { // 12 MatMul, 2 Gemm, 3 Gather weights
		t.Errorf("checked %d weights, want 17", checked)
	}
	g, err := Import(m, Options{})
	if err != nil {
		t.Fatal(err)
	}
	feeds, want := loadDataSet(t, orig, filepath.Join(fix, "bert"))
	got, err := g.Run(feeds)
	if err != nil {
		t.Fatal(err)
	}
	for o, w := range want {
		if d := maxAbsDiff(got[o], w); !(d <= 0.05) {
			t.Errorf("output %q: max |dequantized - float32| = %.3g > 0.05", o, d)
		} else {
			t.Logf("output %q: max |dequantized - float32| = %.3g", o, d)
		}
	}
}
