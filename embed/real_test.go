package embed

import (
	"encoding/json"
	"math"
	"testing"
)

// TestRealModelPooling checks Pool + Normalize, configured from the real
// all-MiniLM-L6-v2's 1_Pooling/config.json, against SentenceTransformer.encode
// on the encoder's own token embeddings (testdata/real.json, made by
// testmodels/embed_oracle.py). encode ran in float32; the embeddings are unit
// vectors, so they are compared entry by entry within 1e-6.
func TestRealModelPooling(t *testing.T) {
	var f struct {
		Modules         []string
		PoolingConfig   json.RawMessage `json:"pooling_config"`
		Batch, Seq, Dim int
		Tokens          []float64
		Mask            []float64
		Encode          []float64
	}
	readJSON(t, "real.json", &f)
	want := []string{"sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling", "sentence_transformers.models.Normalize"}
	if len(f.Modules) != 3 || f.Modules[0] != want[0] || f.Modules[1] != want[1] || f.Modules[2] != want[2] {
		t.Fatalf("modules %v, want %v", f.Modules, want)
	}
	cfg, err := ParsePoolingConfig(f.PoolingConfig, "1_Pooling/config.json")
	if err != nil {
		t.Fatal(err)
	}
	mask := make([]int64, len(f.Mask))
	padded := false
	for i, m := range f.Mask {
		mask[i] = int64(m)
		padded = padded || m == 0
	}
	if !padded {
		t.Fatal("fixture batch has no padding")
	}
	pooled, err := Pool(cfg, Tokens{Batch: f.Batch, Seq: f.Seq, Dim: f.Dim, Data: f.Tokens, Mask: mask})
	if err != nil {
		t.Fatal(err)
	}
	got := Normalize(pooled)
	enc := mustMatrix(t, f.Batch, f.Dim, f.Encode)
	worst := 0.0
	for i := range got.Data {
		worst = math.Max(worst, math.Abs(got.Data[i]-enc.Data[i]))
	}
	t.Logf("largest difference from encode: %.3g", worst)
	if worst > 1e-6 {
		t.Errorf("largest difference from SentenceTransformer.encode: %.3g", worst)
	}
	for i := 0; i < f.Batch; i++ {
		if c := dot(got.Row(i), Normalize(rowMatrix(enc, i)).Data); c < 0.99999 {
			t.Errorf("sentence %d: cosine %.7f with encode", i, c)
		}
	}
}

// rowMatrix returns row i of m as a 1-row matrix.
func rowMatrix(m Matrix, i int) Matrix { return SliceRows(m, i, i+1) }
