package finetune

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestParseConfigLabels: id2label keys must be the ids written as
// transformers writes them; "+1", "-0", "01" and others are refused (they
// used to become "<nil>" labels), as are duplicate names (predict's
// probabilities collapsed), a label2id that is not the inverse and a
// num_labels of another length.
func TestParseConfigLabels(t *testing.T) {
	for _, c := range []struct {
		name, json string
		want       []string
		err        string
	}{
		{"none", `{}`, nil, ""},
		{"plain", `{"id2label": {"1": "pos", "0": "neg"}, "label2id": {"neg": 0, "pos": 1}, "num_labels": 2}`, []string{"neg", "pos"}, ""},
		{"plus", `{"id2label": {"0": "neg", "+1": "pos"}}`, nil, `id2label key "+1"`},
		{"minus zero", `{"id2label": {"-0": "neg", "1": "pos"}}`, nil, `id2label key "-0"`},
		{"leading zero", `{"id2label": {"0": "neg", "01": "pos"}}`, nil, `id2label key "01"`},
		{"gap", `{"id2label": {"0": "neg", "2": "pos"}}`, nil, `id2label key "2"`},
		{"duplicate names", `{"id2label": {"0": "pos", "1": "pos"}}`, nil, `ids 0 and 1 both "pos"`},
		{"number name", `{"id2label": {"0": 7}}`, nil, `id2label["0"] is a number`},
		{"not an object", `{"id2label": ["a", "b"]}`, nil, "id2label is a list"},
		{"label2id other ids", `{"id2label": {"0": "neg", "1": "pos"}, "label2id": {"neg": 1, "pos": 0}}`, nil, `label2id["`},
		{"label2id other names", `{"id2label": {"0": "neg", "1": "pos"}, "label2id": {"neg": 0, "good": 1}}`, nil, `label2id["good"]`},
		{"num_labels longer", `{"id2label": {"0": "neg", "1": "pos"}, "num_labels": 3}`, nil, "num_labels is 3, but id2label has 2"},
		{"num_labels fraction", `{"num_labels": 1.5}`, nil, "num_labels is 1.5"},
		{"problem_type", `{"problem_type": "ranking"}`, nil, "problem_type ranking"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := parseConfig("config.json", []byte(c.json))
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseConfigLabels(cfg)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("got %v, %v; want an error with %q", got, err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %v, %v; want %v", got, err, c.want)
			}
		})
	}
}

// TestLoadModelChecksLabels: LoadModel refuses a config.json whose
// id2label is longer or shorter than the head, or has a bad key, naming
// config.json and the key.
func TestLoadModelChecksLabels(t *testing.T) {
	src := filepath.Join("..", "internal", "bundled", "tiny-bert")
	b, err := os.ReadFile(filepath.Join(src, "model.onnx"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, config, want string }{
		{"longer", `{"id2label": {"0": "a", "1": "b", "2": "c"}}`, "id2label has 3 labels [a b c], but the model's logits output has 2"},
		{"shorter", `{"id2label": {"0": "a"}}`, "id2label has 1 labels [a], but the model's logits output has 2"},
		{"plus key", `{"id2label": {"0": "a", "+1": "b"}}`, `id2label key "+1"`},
		{"duplicate", `{"id2label": {"0": "a", "1": "a"}}`, `both "a"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644)
			os.WriteFile(filepath.Join(dir, "config.json"), []byte(c.config), 0o644)
			_, err := LoadModel(dir, ModelOptions{})
			if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "config.json")) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want an error naming config.json with %q", err, c.want)
			}
			if _, err := ExportLabels(dir); c.name != "longer" && c.name != "shorter" && err == nil {
				t.Fatal("ExportLabels accepts it")
			}
		})
	}
}

// FuzzConfigLabels: config.json's labels are read without a panic; what is
// accepted has distinct names, agrees with num_labels, and survives the
// round trip through the config.json ft writes.
func FuzzConfigLabels(f *testing.F) {
	for _, s := range []string{
		`{"id2label": {"0": "neg", "1": "pos"}, "label2id": {"neg": 0, "pos": 1}, "num_labels": 2}`,
		`{"id2label": {"0": "neg", "+1": "pos"}}`,
		`{"id2label": {"0": "a", "1": "a"}}`,
		`{"problem_type": "regression", "num_labels": 1, "id2label": {"0": "LABEL_0"}}`,
		`{"id2label": null, "label2id": {"x": 0}}`,
		`[]`, `null`, `{"num_labels": 1e300}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseConfig("config.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config.json: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		labels, err := ParseConfigLabels(cfg)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error of more than one line: %q", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, l := range labels {
			if seen[l] {
				t.Fatalf("duplicate label %q accepted: %v", l, labels)
			}
			seen[l] = true
		}
		if n, ok := cfg["num_labels"].(float64); ok && labels != nil && int(n) != len(labels) {
			t.Fatalf("num_labels %v with %d labels accepted", n, len(labels))
		}
		b, err := configJSON(cfg, labels)
		if err != nil {
			t.Fatalf("config.json not written: %v", err)
		}
		back, err := parseConfig("config.json", b)
		if err != nil {
			t.Fatalf("written config.json does not read back: %v", err)
		}
		again, err := ParseConfigLabels(back)
		if err != nil || !reflect.DeepEqual(again, labels) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, labels)
		}
	})
}
