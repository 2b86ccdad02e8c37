package finetune

import (
	"fmt"
	"path/filepath"
	"strings"

	"ft/internal/fileio"
	"ft/tensor"
)

// SafetensorsFile is the weights file of a transformers model folder.
const SafetensorsFile = "model.safetensors"

// SaveSafetensors writes the model as a transformers model folder:
// model.safetensors with every parameter under its state_dict name(s) and
// in PyTorch's orientation (Linear weights [out, in]), config.json with the
// labels, and the tokenizer files, so that
// AutoModelForSequenceClassification.from_pretrained(dir) (for a
// token-classification model AutoModelForTokenClassification) loads the
// fine-tuned model. LoRA adapters are merged first. It needs a
// text-classification export (the head ft adds to a feature-extraction
// export has no transformers class).
func (m *Model) SaveSafetensors(dir string) error {
	if HasLoRA(m) {
		mm, err := MergeLoRA(m)
		if err != nil {
			return err
		}
		m = mm
	}
	suffix := "ForSequenceClassification"
	if m.Task == TaskTokenClassification {
		suffix = "ForTokenClassification" // the per-token head is transformers' own
	} else if m.Task != "text-classification" {
		return fmt.Errorf("the head ft added to this %s export (pooling and a linear layer) has no transformers class: export ONNX instead, or fine-tune a text-classification export (optimum-cli export onnx --task text-classification)", m.Task)
	}
	// optimum keeps the source config's architectures (often "BertModel"):
	// name the classification class, as save_pretrained would
	cfg := map[string]any{}
	for k, v := range m.Config {
		cfg[k] = v
	}
	if as, ok := cfg["architectures"].([]any); ok && len(as) == 1 {
		a := fmt.Sprint(as[0])
		if !strings.HasSuffix(a, suffix) {
			if i := strings.Index(a, "For"); i > 0 {
				a = a[:i]
			}
			a = strings.TrimSuffix(a, "Model")
			cfg["architectures"] = []any{a + suffix}
		}
	}
	mc := *m
	mc.Config = cfg
	if err := m.CheckFinite(); err != nil {
		return err
	}
	if err := m.checkNotBase(dir); err != nil {
		return err
	}
	rename, err := baseModelPrefix(m)
	if err != nil {
		return err
	}
	ts, err := float32StateDict(m, rename)
	if err != nil {
		return err
	}
	b, err := EncodeSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		return err
	}
	if err := fileio.WriteFile(filepath.Join(dir, SafetensorsFile), b); err != nil {
		return err
	}
	return mc.saveConfigAndTokenizer(dir)
}

// float32StateDict maps the model's parameters to their PyTorch
// state-dict names (passed through rename), untransposing the ones
// stored transposed; every parameter must be float32.
func float32StateDict(m *Model, rename func(string) string) (map[string]*tensor.Tensor, error) {
	ts := map[string]*tensor.Tensor{}
	for _, p := range m.Graph.Params {
		v := p.Value
		if v.DType() != tensor.Float32 {
			return nil, fmt.Errorf("parameter %s is %s; the safetensors export writes float32", p.Name, v.DType())
		}
		if p.Transposed {
			v = tensor.Transpose2D(v)
		}
		for _, n := range m.Graph.StateDictNames(p) {
			ts[rename(n)] = v
		}
	}
	return ts, nil
}
