package embed

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadPoolingConfig(t *testing.T) {
	// all-MiniLM-L6-v2's own file omits the newer keys: ST's defaults apply.
	c, err := ReadPoolingConfig(filepath.Join("testdata", "all-MiniLM-L6-v2_1_Pooling_config.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := PoolingConfig{WordEmbeddingDimension: 384, MeanTokens: true, IncludePrompt: true}
	if c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c.OutputDim(384) != 384 {
		t.Errorf("OutputDim = %d", c.OutputDim(384))
	}
	tests := []struct {
		json    string
		want    PoolingConfig
		wantErr string
	}{
		{`{"word_embedding_dimension": 8, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false}`,
			PoolingConfig{WordEmbeddingDimension: 8, CLSToken: true, IncludePrompt: true}, ""},
		{`{"word_embedding_dimension": 8, "pooling_mode_lasttoken": true, "pooling_mode_mean_tokens": false, "include_prompt": false}`,
			PoolingConfig{WordEmbeddingDimension: 8, LastToken: true}, ""},
		{`{"word_embedding_dimension": 8, "pooling_mode": "max"}`,
			PoolingConfig{WordEmbeddingDimension: 8, MaxTokens: true, IncludePrompt: true}, ""},
		{`{"word_embedding_dimension": 8, "pooling_mode_max_tokens": true}`,
			PoolingConfig{WordEmbeddingDimension: 8, MaxTokens: true, MeanTokens: true, IncludePrompt: true}, ""},
		{`{"word_embedding_dimension": 8, "pooling_mode": "median"}`, PoolingConfig{}, `pooling mode "median"`},
		{`{"word_embedding_dimension": 8, "pooling_mode_mean_tokens": false}`, PoolingConfig{}, "every pooling_mode_* key is false"},
		{`{"pooling_mode_mean_tokens": true}`, PoolingConfig{}, "word_embedding_dimension is 0"},
		{`{"word_embedding_dimension": 8, "pooling_mode_avg": true}`, PoolingConfig{}, `unknown field "pooling_mode_avg"`},
		{`{"word_embedding_dimension": 8,`, PoolingConfig{}, "cfg.json"},
	}
	for _, tc := range tests {
		c, err := ParsePoolingConfig([]byte(tc.json), "cfg.json")
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "cfg.json") {
				t.Errorf("%s: error %v, want one naming cfg.json and %q", tc.json, err, tc.wantErr)
			}
			continue
		}
		if err != nil || c != tc.want {
			t.Errorf("%s: got %+v, %v; want %+v", tc.json, c, err, tc.want)
		}
	}
	if _, err := ReadPoolingConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing file: no error")
	}
}

func TestReadDenseConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(s string) string {
		p := filepath.Join(dir, "config.json")
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c, err := ReadDenseConfig(write(`{"in_features": 384, "out_features": 256, "bias": true, "activation_function": "torch.nn.modules.activation.Tanh"}`))
	if err != nil || c != (DenseConfig{384, 256, true, ActivationTanh}) {
		t.Errorf("got %+v, %v", c, err)
	}
	for _, bad := range []string{
		`{"in_features": 384, "out_features": 256, "activation_function": "torch.nn.modules.activation.GELU"}`,
		`{"in_features": 0, "out_features": 256}`,
		`{"in_features": 4, "out_features": 2, "scale": 3}`,
	} {
		if _, err := ReadDenseConfig(write(bad)); err == nil || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("%s: error %v, want one naming the file", bad, err)
		}
	}
}

func TestBadInputErrors(t *testing.T) {
	m23, m24, m33 := NewMatrix(2, 3), NewMatrix(2, 4), NewMatrix(3, 3)
	m23.Data[0], m24.Data[0], m33.Data[0] = 1, 1, 1
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"mnrl one column", second(NewMultipleNegativesRankingLoss().Compute([]Matrix{m23}, nil)), "at least 2 columns"},
		{"mnrl shapes", second(NewMultipleNegativesRankingLoss().Compute([]Matrix{m23, m24}, nil)), "column 1 is 2×4"},
		{"mnrl similarity", second((&MultipleNegativesRankingLoss{Scale: 1, Similarity: "l2"}).Compute([]Matrix{m23, m23}, nil)), `similarity "l2"`},
		{"cosent labels", second(NewCoSENTLoss().Compute([]Matrix{m23, m23}, []float64{1})), "1 labels for 2 rows"},
		{"angle odd", second(NewAnglELoss().Compute([]Matrix{m23, m23}, []float64{1, 0})), "dimension 3 is odd"},
		{"triplet columns", second(NewTripletLoss().Compute([]Matrix{m23, m23}, nil)), "takes 3 columns"},
		{"matryoshka dim", second((&MatryoshkaLoss{Inner: NewCoSENTLoss(), Dims: []int{4}}).Compute([]Matrix{m23, m23}, []float64{0, 1})), "dimension 4: want 1..3"},
		{"matryoshka weights", second((&MatryoshkaLoss{Inner: NewCoSENTLoss(), Dims: []int{2}, Weights: []float64{1, 1}}).Compute([]Matrix{m23, m23}, []float64{0, 1})), "1 dims"},
		{"cached mini-batch", second((&CachedMultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim}).Compute([]Matrix{m23, m23}, nil)), "mini-batch size 0"},
		{"pool mask", secondPool(Pool(DefaultPooling(3), Tokens{Batch: 1, Seq: 2, Dim: 3, Data: make([]float64, 6), Mask: []int64{1, 2}})), "mask [0][1] is 2"},
		{"pool size", secondPool(Pool(DefaultPooling(3), Tokens{Batch: 1, Seq: 2, Dim: 3, Data: make([]float64, 5), Mask: []int64{1, 1}})), "hold 5 values"},
		{"sts rows", secondMap(EvaluateSimilarity(m23, m33, []float64{1, 2})), "shapes"},
		{"ir ids", secondMap(EvaluateRetrieval(DefaultRetrievalConfig(), []string{"q"}, m23, []string{"a", "b"}, m23, nil)), "1 query ids for 2 query rows"},
		{"ir duplicate id", secondMap(EvaluateRetrieval(DefaultRetrievalConfig(), []string{"q", "r"}, m23, []string{"a", "a"}, m23, nil)), `corpus id "a" appears twice`},
		{"sampler order", secondBatches(NoDuplicatesBatches([]int{0, 0}, [][]string{{"a"}, {"b"}}, 2, false)), "not a permutation"},
		{"truncate", secondPool(Truncate(m23, 5)), "want 1..3"},
	}
	for _, tc := range tests {
		if tc.err == nil || !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, tc.err, tc.want)
		}
	}
}

func second(_ float64, _ []Matrix, err error) error   { return err }
func secondPool(_ Matrix, err error) error            { return err }
func secondMap(_ map[string]float64, err error) error { return err }
func secondBatches(_ [][]int, err error) error        { return err }

func TestNewLossDefaults(t *testing.T) {
	want := map[string]Loss{
		"MultipleNegativesRankingLoss":          &MultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim},
		"MultipleNegativesSymmetricRankingLoss": &MultipleNegativesSymmetricRankingLoss{Scale: 20, Similarity: CosSim},
		"CachedMultipleNegativesRankingLoss":    &CachedMultipleNegativesRankingLoss{Scale: 20, Similarity: CosSim, MiniBatchSize: 32},
		"CoSENTLoss":                            &CoSENTLoss{Scale: 20},
		"AnglELoss":                             &AnglELoss{Scale: 20},
		"CosineSimilarityLoss":                  CosineSimilarityLoss{},
		"ContrastiveLoss":                       &ContrastiveLoss{Margin: 0.5, SizeAverage: true},
		"TripletLoss":                           &TripletLoss{Metric: TripletEuclidean, Margin: 5},
	}
	for _, name := range LossNames {
		l, err := NewLoss(name)
		if err != nil {
			t.Fatal(err)
		}
		if l.Name() != name || fmt.Sprint(l) != fmt.Sprint(want[name]) {
			t.Errorf("NewLoss(%q) = %s %+v, want %+v", name, l.Name(), l, want[name])
		}
	}
	if len(want) != len(LossNames) {
		t.Errorf("%d names, %d expected", len(LossNames), len(want))
	}
	if _, err := NewLoss("SoftmaxLoss"); err == nil || !strings.Contains(err.Error(), `"SoftmaxLoss"`) {
		t.Errorf("unknown loss: %v", err)
	}
}
