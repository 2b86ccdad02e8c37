package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"ft/onnx"
	"ft/tensor"
)

// SaveSentenceTransformer writes the encoder as a sentence-transformers
// model folder: model.safetensors (the encoder's weights under their
// transformers state_dict names, LoRA merged), config.json and the
// tokenizer files of the source folder, modules.json (Transformer, Pooling,
// Normalize when on), 1_Pooling/config.json, sentence_bert_config.json,
// config_sentence_transformers.json, and onnx/model.onnx (the export with
// the trained weights, output last_hidden_state) for ST's ONNX backend,
// hugot and ONNX Runtime. SentenceTransformer(dir) and
// SentenceTransformer(dir, backend="onnx") load it. maxSeqLength is
// sentence_bert_config.json's max_seq_length.
func (e *SentenceEncoder) SaveSentenceTransformer(dir string, maxSeqLength int) error {
	m := e.Model
	if HasLoRA(m) {
		mm, err := MergeLoRA(m)
		if err != nil {
			return err
		}
		m = mm
	}
	if len(e.Dense) > 0 {
		return fmt.Errorf("saving Dense modules is not supported")
	}
	if err := m.CheckFinite(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		return err
	}
	ts := map[string]*tensor.Tensor{}
	for _, p := range m.Graph.Params {
		v := p.Value
		if v.DType() != tensor.Float32 {
			return fmt.Errorf("parameter %s is %s; the safetensors export writes float32", p.Name, v.DType())
		}
		if p.Transposed {
			v = transpose2(v)
		}
		for _, n := range m.Graph.StateDictNames(p) {
			ts[n] = v
		}
	}
	b, err := EncodeSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(filepath.Join(dir, SafetensorsFile), b); err != nil {
		return err
	}
	// config.json without labels: the encoder has none
	mc := *m
	mc.Labels = nil
	mc.Config = map[string]any{}
	for k, v := range m.Config {
		switch k {
		case "id2label", "label2id", "num_labels":
			continue
		}
		mc.Config[k] = v
	}
	if err := mc.saveConfigAndTokenizer(dir); err != nil {
		return err
	}
	// onnx/model.onnx with the trained weights
	om := m.Graph.Model
	for _, p := range m.Graph.Params {
		if err := om.SetInitializer(p.Initializer, p.Value); err != nil {
			return err
		}
	}
	if err := om.SaveInline(filepath.Join(dir, "onnx", onnx.DefaultFile)); err != nil {
		return err
	}
	mods := []stModule{
		{Idx: 0, Name: "0", Path: "", Type: "sentence_transformers.models.Transformer"},
		{Idx: 1, Name: "1", Path: "1_Pooling", Type: "sentence_transformers.models.Pooling"},
	}
	if e.Normalize {
		mods = append(mods, stModule{Idx: 2, Name: "2", Path: "2_Normalize", Type: "sentence_transformers.models.Normalize"})
	}
	pc := e.Pooling
	if pc.WordEmbeddingDimension == 0 {
		if h, ok := m.Config["hidden_size"].(float64); ok {
			pc.WordEmbeddingDimension = int(h)
		}
	}
	files := []struct {
		path string
		v    any
	}{
		{"modules.json", mods},
		{filepath.Join("1_Pooling", "config.json"), pc},
		{"sentence_bert_config.json", map[string]any{"max_seq_length": maxSeqLength, "do_lower_case": false}},
		{"config_sentence_transformers.json", map[string]any{
			"__version__":         map[string]string{"sentence_transformers": "5.1.2"},
			"prompts":             map[string]any{"query": "", "document": ""},
			"default_prompt_name": nil,
			"similarity_fn_name":  "cosine",
			"model_type":          "SentenceTransformer",
		}},
	}
	for _, f := range files {
		b, err := json.MarshalIndent(f.v, "", "  ")
		if err != nil {
			return err
		}
		p := filepath.Join(dir, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := onnx.WriteFileAtomic(p, append(b, '\n')); err != nil {
			return err
		}
	}
	if e.Normalize {
		if err := os.MkdirAll(filepath.Join(dir, "2_Normalize"), 0o755); err != nil {
			return err
		}
	}
	return nil
}
