package finetune

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"ft/embed"

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
	return e.SaveSentenceTransformerWith(dir, STSaveOptions{MaxSeqLength: maxSeqLength})
}

// STSaveOptions control SaveSentenceTransformerWith.
type STSaveOptions struct {
	// MaxSeqLength is sentence_bert_config.json's max_seq_length.
	MaxSeqLength int
	// EmbeddingOutput adds the pooling (mean or CLS) and the normalisation
	// to onnx/model.onnx as ONNX nodes, with a second output
	// "sentence_embedding" [batch, dim] beside last_hidden_state: ONNX
	// Runtime, hugot (pipelines.WithOutputName("sentence_embedding")) and
	// other runtimes get the sentence embedding without pooling code.
	EmbeddingOutput bool
}

// SaveSentenceTransformerWith is SaveSentenceTransformer with options.
func (e *SentenceEncoder) SaveSentenceTransformerWith(dir string, opt STSaveOptions) error {
	if opt.EmbeddingOutput && len(e.Dense) > 0 {
		return fmt.Errorf("a sentence_embedding output in ONNX is not made for models with Dense modules")
	}
	m := e.Model
	if HasLoRA(m) {
		mm, err := MergeLoRA(m)
		if err != nil {
			return err
		}
		m = mm
	}
	if err := m.CheckFinite(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(dir, "onnx"), 0o755); err != nil {
		return err
	}
	if err := writeSTWeights(m, dir); err != nil {
		return err
	}
	if err := e.writeSTONNX(m, dir, opt.EmbeddingOutput); err != nil {
		return err
	}
	return e.writeSTModules(m, dir, opt.MaxSeqLength)
}

// writeSTWeights writes the merged model's float32 weights as safetensors,
// and its config.json (without labels: the encoder has none) and
// tokenizer files.
func writeSTWeights(m *Model, dir string) error {
	ts, err := float32StateDict(m, func(n string) string { return n })
	if err != nil {
		return err
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
	return mc.saveConfigAndTokenizer(dir)
}

// writeSTONNX writes onnx/model.onnx with the trained weights of m, with a
// sentence_embedding output when embeddingOutput is set.
func (e *SentenceEncoder) writeSTONNX(m *Model, dir string, embeddingOutput bool) error {
	om := m.Graph.Model
	for _, p := range m.Graph.Params {
		if err := om.SetInitializer(p.Initializer, p.Value); err != nil {
			return err
		}
	}
	onnxPath := filepath.Join(dir, "onnx", onnx.DefaultFile)
	if err := om.SaveInline(onnxPath); err != nil {
		return err
	}
	if embeddingOutput {
		// on a copy read back: the training graph's model stays as it is
		cp, err := onnx.Load(onnxPath)
		if err != nil {
			return err
		}
		if err := addEmbeddingOutput(cp, e.Pooling, e.Normalize); err != nil {
			return err
		}
		if err := cp.SaveInline(onnxPath); err != nil {
			return err
		}
	}
	return nil
}

// writeSTModules writes the sentence-transformers files: modules.json,
// 1_Pooling, the Dense modules, Normalize, sentence_bert_config.json and
// config_sentence_transformers.json.
func (e *SentenceEncoder) writeSTModules(m *Model, dir string, maxSeqLength int) error {
	mods := []stModule{
		{Idx: 0, Name: "0", Path: "", Type: "sentence_transformers.models.Transformer"},
		{Idx: 1, Name: "1", Path: "1_Pooling", Type: "sentence_transformers.models.Pooling"},
	}
	for _, d := range e.Dense {
		n := len(mods)
		path := fmt.Sprintf("%d_Dense", n)
		if err := writeDense(filepath.Join(dir, path), d); err != nil {
			return err
		}
		mods = append(mods, stModule{Idx: n, Name: fmt.Sprint(n), Path: path, Type: "sentence_transformers.models.Dense"})
	}
	normPath := ""
	if e.Normalize {
		n := len(mods)
		normPath = fmt.Sprintf("%d_Normalize", n)
		mods = append(mods, stModule{Idx: n, Name: fmt.Sprint(n), Path: normPath, Type: "sentence_transformers.models.Normalize"})
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
	if normPath != "" {
		if err := os.MkdirAll(filepath.Join(dir, normPath), 0o755); err != nil {
			return err
		}
	}
	return nil
}

// EmbeddingOutputName is the output addEmbeddingOutput adds.
const EmbeddingOutputName = "sentence_embedding"

// addEmbeddingOutput appends ST's pooling (mean or CLS) and Normalize to a
// feature-extraction export as ONNX nodes with output sentence_embedding.
func addEmbeddingOutput(m *onnx.Model, pc embed.PoolingConfig, normalize bool) error {
	gp := m.Proto.Graph
	if m.Opset("") < 13 {
		return fmt.Errorf("the export's opset %d is older than 13 (ReduceSum with axes as an input): re-export with a newer opset", m.Opset(""))
	}
	add := func(nd *onnx.NodeProto) { gp.Node = append(gp.Node, nd) }
	const pre = "/ft_sentence_embedding/"
	pooled := pre + "pooled"
	switch {
	case pc.MeanTokens && pc.OutputDim(1) == 1:
		if err := addMeanPoolNodes(m, pre, HiddenOutput); err != nil {
			return err
		}
	case pc.CLSToken && pc.OutputDim(1) == 1:
		if err := m.SetInitializer(pre+"zero", tensor.Scalar[int64](0)); err != nil {
			return err
		}
		add(onnx.NewNode("Gather", pre+"cls", []string{HiddenOutput, pre + "zero"}, []string{pooled}, onnx.IntAttr("axis", 1)))
	default:
		return fmt.Errorf("a sentence_embedding output in ONNX is made for mean or CLS pooling alone; this model pools otherwise (see 1_Pooling/config.json)")
	}
	out := pooled
	if normalize {
		if err := m.SetInitializer(pre+"norm_eps", tensor.Scalar[float32](1e-12)); err != nil {
			return err
		}
		if err := m.SetInitializer(pre+"axes_last", tensor.New([]int{1}, []int64{-1})); err != nil {
			return err
		}
		// |x| as Sqrt(ReduceSum(x·x)): ReduceSum takes its axes as an input
		// from opset 13, ReduceL2 only from 18
		add(onnx.NewNode("Mul", pre+"square", []string{pooled, pooled}, []string{pre + "sq"}))
		add(onnx.NewNode("ReduceSum", pre+"sumsq", []string{pre + "sq", pre + "axes_last"}, []string{pre + "sumsq"}, onnx.IntAttr("keepdims", 1)))
		add(onnx.NewNode("Sqrt", pre+"l2", []string{pre + "sumsq"}, []string{pre + "norm"}))
		add(onnx.NewNode("Max", pre+"norm_clamp", []string{pre + "norm", pre + "norm_eps"}, []string{pre + "normc"}))
		add(onnx.NewNode("Div", pre+"normalize", []string{pooled, pre + "normc"}, []string{pre + "normalized"}))
		out = pre + "normalized"
	}
	add(onnx.NewNode("Identity", pre+"output", []string{out}, []string{EmbeddingOutputName}))
	hidden := pc.WordEmbeddingDimension
	var dim any = "hidden"
	if hidden > 0 {
		dim = hidden
	}
	gp.Output = append(gp.Output, onnx.TensorValueInfo(EmbeddingOutputName, onnx.TensorProto_FLOAT, "batch_size", dim))
	return nil
}
