package finetune

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"

	"ft/graph"
	"ft/internal/fileio"
	"ft/onnx"
	"ft/tensor"
)

// Model is an export folder made ready to fine-tune: the ONNX graph with a
// classification head whose output is "logits", and the folder's config.
type Model struct {
	Dir    string
	Graph  *graph.Graph
	Config map[string]any
	// Labels are the class names, index = class id.
	Labels []string
	// Task is "text-classification", "token-classification" or
	// "feature-extraction" (the export's task).
	Task string
	// Notes say what was changed (head replaced, pooling added), for the user.
	Notes []string
	// Output is the name of the logits output.
	Output string
	// Path is the .onnx file the model was loaded from, and Options how it
	// was adapted (with the labels it got): LoadModel(Path, Options) builds
	// the same model again (checkpoints rely on it).
	Path    string
	Options ModelOptions
}

// ModelOptions control how an export is adapted.
type ModelOptions struct {
	// Labels wanted (from the data); nil keeps the export's head as it is.
	Labels []string
	// Pooling for feature-extraction exports: "mean" or "cls" ("" = as
	// sentence-transformers would: the export's 1_Pooling/config.json, else mean).
	Pooling string
	// Seed for the new head's initial weights.
	Seed uint64
	// TokenClassification adapts the export for tagging tokens: logits
	// [batch, sequence, labels]; a feature-extraction export gets a
	// per-token linear head instead of pooling (see tokencls.go).
	TokenClassification bool `json:",omitempty"`
	// Graph: how the model is imported and run (graph.OptionsFromEnv for
	// ft's environment switches). A run setting, not part of the model: a
	// checkpoint does not record it.
	Graph graph.Options `json:"-"`
	// ProblemType "regression" gives the model one output (num_labels 1,
	// as transformers): a wider head is replaced by a new one-wide head, a
	// feature-extraction export gets one; config.json says problem_type
	// "regression". Other values (and "") leave the head to Labels.
	ProblemType string `json:",omitempty"`
}

// readConfig reads config.json (nil map if absent).
func readConfig(dir string) (map[string]any, error) {
	b, err := fileio.ReadFile(filepath.Join(dir, "config.json"), 0)
	if os.IsNotExist(err) {
		return map[string]any{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConfig(filepath.Join(dir, "config.json"), b)
}

// parseConfig reads config.json's contents (a JSON object); path names it
// in errors.
func parseConfig(path string, b []byte) (map[string]any, error) {
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if c == nil {
		return nil, fmt.Errorf("%s: not a JSON object", path)
	}
	return c, nil
}

// ConfigLabels returns config.json's id2label in id order (nil if absent
// or not valid: see ParseConfigLabels).
func ConfigLabels(c map[string]any) []string {
	l, err := ParseConfigLabels(c)
	if err != nil {
		return nil
	}
	return l
}

// ParseConfigLabels returns config.json's id2label in id order (nil if
// absent). The keys must be the ids 0..N-1 written as transformers writes
// them ("0", "1", ...: not "+1", "01" or "-0"), the names distinct
// strings; label2id, when present, must be its inverse and num_labels,
// when present, its length.
func ParseConfigLabels(c map[string]any) ([]string, error) {
	switch pt := c["problem_type"]; pt {
	case nil, "regression", "single_label_classification", "multi_label_classification":
	default:
		return nil, fmt.Errorf("problem_type %v is not regression, single_label_classification or multi_label_classification", pt)
	}
	raw, present := c["id2label"]
	if !present || raw == nil {
		return nil, checkNumLabels(c, nil)
	}
	m, ok := raw.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("id2label is %s, want an object {\"0\": \"name\", ...}", jsonKind(raw))
	}
	if len(m) == 0 {
		return nil, checkNumLabels(c, nil)
	}
	out := make([]string, len(m))
	seen := make([]bool, len(m))
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(m) || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("id2label key %q is not one of the ids 0..%d written as decimal numbers", k, len(m)-1)
		}
		if seen[i] {
			return nil, fmt.Errorf("id2label has id %d twice", i)
		}
		name, ok := m[k].(string)
		if !ok {
			return nil, fmt.Errorf("id2label[%q] is %s, want a label name (a string)", k, jsonKind(m[k]))
		}
		out[i], seen[i] = name, true
	}
	byName := make(map[string]int, len(out))
	for i, n := range out {
		if j, dup := byName[n]; dup {
			return nil, fmt.Errorf("id2label names ids %d and %d both %q: label names must differ", j, i, n)
		}
		byName[n] = i
	}
	if l2, present := c["label2id"]; present && l2 != nil {
		lm, ok := l2.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("label2id is %s, want an object {\"name\": 0, ...}", jsonKind(l2))
		}
		if len(lm) != len(out) {
			return nil, fmt.Errorf("label2id has %d labels, id2label %d", len(lm), len(out))
		}
		for name, v := range lm {
			f, ok := v.(float64)
			if i, known := byName[name]; !ok || !known || f != float64(i) {
				return nil, fmt.Errorf("label2id[%q] is %v, but id2label gives it id %s", name, v, idOf(byName, name))
			}
		}
	}
	return out, checkNumLabels(c, out)
}

func idOf(byName map[string]int, name string) string {
	if i, ok := byName[name]; ok {
		return strconv.Itoa(i)
	}
	return "none"
}

// checkNumLabels checks config.json's num_labels against id2label.
func checkNumLabels(c map[string]any, labels []string) error {
	v, present := c["num_labels"]
	if !present || v == nil {
		return nil
	}
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || f < 1 || f > 1<<31 {
		return fmt.Errorf("num_labels is %v, want a positive whole number", v)
	}
	if labels != nil && int(f) != len(labels) {
		return fmt.Errorf("num_labels is %d, but id2label has %d labels", int(f), len(labels))
	}
	return nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// configLabels is ParseConfigLabels with errors naming the file.
func configLabels(dir string, c map[string]any) ([]string, error) {
	l, err := ParseConfigLabels(c)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", filepath.Join(dir, "config.json"), err)
	}
	return l, nil
}

// LoadModel loads an export folder (or .onnx file) and adapts it for
// classification with the given labels: a text-classification export keeps
// its head when the labels fit, else its classifier is replaced by a freshly
// initialised one of the right size; a feature-extraction export gets pooling
// and a new linear head.
func LoadModel(path string, opt ModelOptions) (*Model, error) {
	m, err := onnx.Load(path)
	if err != nil {
		return nil, err
	}
	dir := m.Dir
	cfg, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	labels, err := configLabels(dir, cfg)
	if err != nil {
		return nil, err
	}
	mod := &Model{Dir: dir, Config: cfg, Labels: labels, Path: m.Path, Options: opt}
	if rep, err := m.DequantizeWeights(); err != nil {
		return nil, fmt.Errorf("%s: %v", m.Path, err)
	} else if rep.MatMuls+rep.Gathers > 0 {
		mod.Notes = append(mod.Notes, fmt.Sprintf("int8 model: %d MatMul and %d Gather weights dequantized to float32 to fine-tune (ft export --quantize int8 quantizes again)", rep.MatMuls, rep.Gathers))
	}
	regression := opt.ProblemType == "regression"
	if regression {
		if opt.Labels != nil {
			return nil, fmt.Errorf("regression has one output and no labels, but labels %v were given", opt.Labels)
		}
		opt.Labels = []string{"LABEL_0"} // transformers' name of a one-wide head
		if outputWidth(m, "logits") == 1 {
			// the head is one-wide already: kept, with its name if it has one
			if len(labels) == 1 {
				opt.Labels = labels
			} else {
				mod.Labels = opt.Labels
			}
		}
		c := make(map[string]any, len(cfg)+1)
		for k, v := range cfg {
			c[k] = v
		}
		c["problem_type"] = "regression"
		mod.Config = c
	}
	outs := map[string]bool{}
	for _, o := range m.Proto.Graph.Output {
		outs[o.GetName()] = true
	}
	r := rand.New(rand.NewPCG(opt.Seed, 0x68656164))
	std := 0.02
	if v, ok := cfg["initializer_range"].(float64); ok && v > 0 {
		std = v
	}
	switch {
	case outs["logits"]:
		mod.Task, mod.Output = "text-classification", "logits"
		if err := checkTokenLogits(m, mod, opt); err != nil {
			return nil, err
		}
		if opt.Labels != nil && !slices.Equal(mod.Labels, opt.Labels) {
			if err := replaceClassifier(m, len(opt.Labels), std, r); err != nil {
				return nil, err
			}
			was := fmt.Sprintf("the export's classifier has %d labels %v", len(mod.Labels), mod.Labels)
			if len(mod.Labels) == 0 {
				was = "the export's config.json has no id2label to match the training labels against"
			}
			if regression {
				mod.Notes = append(mod.Notes, fmt.Sprintf("%s; for regression its classifier is replaced by a new one with one output (initialised N(0, %g), bias 0)", was, std))
			} else {
				mod.Notes = append(mod.Notes, fmt.Sprintf("%s; its classifier is replaced by a new one for %d labels %v (initialised N(0, %g), bias 0)", was, len(opt.Labels), opt.Labels, std))
			}
			mod.Labels = opt.Labels
		}
	case outs["last_hidden_state"] && opt.TokenClassification:
		if err := addTokenHead(m, mod, opt, std, r); err != nil {
			return nil, err
		}
	case outs["last_hidden_state"]:
		mod.Task, mod.Output = "feature-extraction", "logits"
		if opt.Labels == nil {
			return nil, fmt.Errorf("%s is a feature-extraction export: say which labels to train (the training data gives them)", path)
		}
		pool := opt.Pooling
		if pool == "" {
			pool = poolingFromFolder(dir)
		}
		if err := addHead(m, pool, len(opt.Labels), std, r); err != nil {
			return nil, err
		}
		if regression {
			mod.Notes = append(mod.Notes, fmt.Sprintf("feature-extraction export: added %s pooling and a new linear head with one output for regression (initialised N(0, %g), bias 0)", pool, std))
		} else {
			mod.Notes = append(mod.Notes, fmt.Sprintf("feature-extraction export: added %s pooling and a new linear head for %d labels %v (initialised N(0, %g), bias 0)", pool, len(opt.Labels), opt.Labels, std))
		}
		mod.Labels = opt.Labels
	default:
		return nil, fmt.Errorf("%s has neither a logits nor a last_hidden_state output (it has %v): export it with --task text-classification or feature-extraction", path, keys(outs))
	}
	if w := outputWidth(m, "logits"); w > 0 && len(mod.Labels) > 0 && len(mod.Labels) != w {
		return nil, fmt.Errorf("%s: id2label has %d labels %v, but the model's logits output has %d: config.json needs one label per output", filepath.Join(dir, "config.json"), len(mod.Labels), mod.Labels, w)
	}
	g, err := graph.Import(m, opt.Graph)
	if err != nil {
		return nil, err
	}
	mod.Graph = g
	if mod.Labels == nil {
		// a classifier without id2label: LABEL_i as transformers names them
		n := 0
		if p := classifierParam(g); p != nil {
			n = p.Value.Shape[len(p.Value.Shape)-1]
		}
		for i := 0; i < n; i++ {
			mod.Labels = append(mod.Labels, fmt.Sprintf("LABEL_%d", i))
		}
	}
	return mod, nil
}

// outputWidth is the fixed size of the last dimension of a graph output
// (0 when it is not fixed or the output is absent).
func outputWidth(m *onnx.Model, name string) int {
	for _, o := range m.Proto.Graph.Output {
		if o.GetName() != name {
			continue
		}
		dims := o.GetType().GetTensorType().GetShape().GetDim()
		if len(dims) > 0 {
			return int(dims[len(dims)-1].GetDimValue())
		}
	}
	return 0
}

func keys(m map[string]bool) []string {
	var r []string
	for k := range m {
		r = append(r, k)
	}
	sort.Strings(r)
	return r
}

func classifierParam(g *graph.Graph) *graph.Param {
	var last *graph.Param
	for _, p := range g.Params {
		if p.Value.Rank() == 2 {
			last = p
		}
	}
	return last
}

// poolingFromFolder reads sentence-transformers' 1_Pooling/config.json if the
// export folder has one; mean pooling otherwise (its default).
func poolingFromFolder(dir string) string {
	b, err := fileio.ReadFile(filepath.Join(dir, "1_Pooling", "config.json"), 0)
	if err == nil {
		var c map[string]any
		if json.Unmarshal(b, &c) == nil {
			if v, _ := c["pooling_mode_cls_token"].(bool); v {
				return "cls"
			}
		}
	}
	return "mean"
}

func normalInit(r *rand.Rand, std float64, shape ...int) *tensor.Tensor {
	d := make([]float32, tensor.Size(shape))
	for i := range d {
		d[i] = float32(r.NormFloat64() * std)
	}
	return tensor.New(shape, d)
}

// replaceClassifier finds the node computing logits (MatMul + Add, or Gemm)
// and gives it new weights for n labels.
func replaceClassifier(m *onnx.Model, n int, std float64, r *rand.Rand) error {
	gp := m.Proto.Graph
	prod := map[string]*onnx.NodeProto{}
	for _, nd := range gp.Node {
		for _, o := range nd.Output {
			prod[o] = nd
		}
	}
	inits := map[string]*onnx.TensorProto{}
	for _, in := range gp.Initializer {
		inits[in.GetName()] = in
	}
	nd := prod["logits"]
	for nd != nil && (nd.GetOpType() == "Identity" || nd.GetOpType() == "Reshape") {
		nd = prod[nd.Input[0]]
	}
	var w, b string
	transB := int64(0)
	switch {
	case nd != nil && nd.GetOpType() == "Gemm":
		w = nd.Input[1]
		if len(nd.Input) > 2 {
			b = nd.Input[2]
		}
		for _, a := range nd.Attribute {
			if a.GetName() == "transB" {
				transB = a.GetI()
			}
		}
	case nd != nil && nd.GetOpType() == "Add":
		for i, in := range nd.Input {
			if inits[in] != nil {
				b = in
				if mm := prod[nd.Input[1-i]]; mm != nil && mm.GetOpType() == "MatMul" && inits[mm.Input[1]] != nil {
					w = mm.Input[1]
				}
			}
		}
	case nd != nil && nd.GetOpType() == "MatMul":
		w = nd.Input[1]
	}
	if w == "" || inits[w] == nil || len(inits[w].Dims) != 2 {
		return fmt.Errorf("cannot find the classifier weights that compute logits; export the model with --task feature-extraction to get a new head instead")
	}
	dims := inits[w].Dims
	var nw *tensor.Tensor
	if transB == 1 {
		nw = normalInit(r, std, n, int(dims[1]))
	} else {
		nw = normalInit(r, std, int(dims[0]), n)
	}
	if err := m.SetInitializer(w, nw); err != nil {
		return err
	}
	if b != "" {
		if err := m.SetInitializer(b, tensor.Zeros(tensor.Float32, n)); err != nil {
			return err
		}
	}
	for _, o := range gp.Output {
		if o.GetName() == "logits" {
			if len(o.GetType().GetTensorType().GetShape().GetDim()) == 3 { // token classification
				*o = *onnx.TensorValueInfo("logits", onnx.TensorProto_FLOAT, "batch_size", "sequence_length", n)
			} else {
				*o = *onnx.TensorValueInfo("logits", onnx.TensorProto_FLOAT, "batch_size", n)
			}
		}
	}
	return nil
}

// addHead appends pooling and a linear classifier to a feature-extraction
// graph, as ONNX nodes, so that training, export and ONNX Runtime all see one
// model:
//
//	mean: pooled = Σ_t h[b,t,:]·mask[b,t] / max(Σ_t mask[b,t], 1e-9)  (sentence-transformers)
//	cls:  pooled = h[b,0,:]
//	logits = pooled · classifier.weight + classifier.bias   (weight stored [hidden, labels])
func addHead(m *onnx.Model, pooling string, n int, std float64, r *rand.Rand) error {
	gp := m.Proto.Graph
	hidden := 0
	for _, o := range gp.Output {
		if o.GetName() == "last_hidden_state" {
			dims := o.GetType().GetTensorType().GetShape().GetDim()
			if len(dims) == 3 {
				hidden = int(dims[2].GetDimValue())
			}
		}
	}
	if hidden <= 0 {
		return fmt.Errorf("last_hidden_state has no fixed hidden size in the export's output shape")
	}
	hasMask := false
	for _, in := range gp.Input {
		if in.GetName() == "attention_mask" {
			hasMask = true
		}
	}
	add := func(nd *onnx.NodeProto) { gp.Node = append(gp.Node, nd) }
	const pre = "/ft_head/"
	switch pooling {
	case "mean":
		if !hasMask {
			return fmt.Errorf("mean pooling needs an attention_mask input, which the export lacks; use ModelOptions.Pooling cls")
		}
		if err := addMeanPoolNodes(m, pre, "last_hidden_state"); err != nil {
			return err
		}
	case "cls":
		if err := m.SetInitializer(pre+"zero", tensor.Scalar[int64](0)); err != nil {
			return err
		}
		add(onnx.NewNode("Gather", pre+"cls", []string{"last_hidden_state", pre + "zero"}, []string{pre + "pooled"}, onnx.IntAttr("axis", 1)))
	default:
		return fmt.Errorf("unknown pooling %q (use mean or cls)", pooling)
	}
	if err := m.SetInitializer("classifier.weight", normalInit(r, std, hidden, n)); err != nil {
		return err
	}
	if err := m.SetInitializer("classifier.bias", tensor.Zeros(tensor.Float32, n)); err != nil {
		return err
	}
	add(onnx.NewNode("MatMul", "/classifier/MatMul", []string{pre + "pooled", "classifier.weight"}, []string{pre + "proj"}))
	add(onnx.NewNode("Add", "/classifier/Add", []string{pre + "proj", "classifier.bias"}, []string{"logits"}))
	gp.Output = append(gp.Output, onnx.TensorValueInfo("logits", onnx.TensorProto_FLOAT, "batch_size", n))
	// keep only ReduceSum-with-axes-input semantics valid: the opset must be ≥ 13
	if m.Opset("") < 13 {
		return fmt.Errorf("the export's opset %d is older than 13; re-export with a newer opset", m.Opset(""))
	}
	return nil
}

// Save writes the model, with its current (fine-tuned) parameter values, as
// an export folder of the same layout: model.onnx, config.json (id2label and
// label2id set to the trained labels) and the tokenizer files of the source
// folder. Files are written atomically. A model over protobuf's 2 GiB
// limit keeps its tensors in model.onnx_data (see SaveWith).
func (m *Model) Save(dir string) error { return m.SaveWith(dir, SaveOptions{}) }

// SaveOptions control SaveWith.
type SaveOptions struct {
	// ExternalData stores every tensor of 1 KiB or more in model.onnx_data
	// beside model.onnx (always done when the model is over 2 GiB).
	ExternalData bool
}

// ExternalDataFile is the external data file SaveWith writes.
const ExternalDataFile = "model.onnx_data"

// SaveWith is Save with options.
func (m *Model) SaveWith(dir string, opt SaveOptions) error {
	if err := m.CheckFinite(); err != nil {
		return err
	}
	if err := m.checkNotBase(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	om := m.Graph.Model
	for _, p := range m.Graph.Params {
		if err := om.SetInitializer(p.Initializer, p.Value); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, onnx.DefaultFile)
	size, err := om.InlineSize()
	if err != nil {
		return err
	}
	if opt.ExternalData || size > onnx.MaxProtoBytes-(64<<20) {
		if err := om.SaveExternal(path, ExternalDataFile, 1024); err != nil {
			return err
		}
	} else {
		if err := om.SaveInline(path); err != nil {
			return err
		}
		if IsOutputDir(dir) {
			// from an earlier save (never a file ft did not write)
			os.Remove(filepath.Join(dir, ExternalDataFile))
		}
	}
	if err := m.saveConfigAndTokenizer(dir); err != nil {
		return err
	}
	return MarkOutputDir(dir, "export")
}

// configJSON is config.json's contents: the config with id2label,
// label2id and num_labels set to the labels.
func configJSON(config map[string]any, labels []string) ([]byte, error) {
	cfg := map[string]any{}
	for k, v := range config {
		cfg[k] = v
	}
	if len(labels) > 0 {
		id2 := map[string]string{}
		l2 := map[string]int{}
		for i, l := range labels {
			id2[strconv.Itoa(i)] = l
			l2[l] = i
		}
		cfg["id2label"], cfg["label2id"] = id2, l2
		cfg["num_labels"] = len(labels) // transformers checks it against id2label
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// saveConfigAndTokenizer writes config.json with the model's labels and
// copies the tokenizer files of the source folder.
func (m *Model) saveConfigAndTokenizer(dir string) error {
	b, err := configJSON(m.Config, m.Labels)
	if err != nil {
		return err
	}
	if err := fileio.WriteFile(filepath.Join(dir, "config.json"), append(b, '\n')); err != nil {
		return err
	}
	for _, f := range []string{"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "merges.txt", "vocab.json", "sentencepiece.bpe.model", "spiece.model", "added_tokens.json"} {
		if filepath.Clean(m.Dir) == filepath.Clean(dir) {
			break
		}
		b, err := fileio.ReadFile(filepath.Join(m.Dir, f), 0)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if err := fileio.WriteFile(filepath.Join(dir, f), b); err != nil {
			return err
		}
	}
	return nil
}

// ExportLabels returns the id2label of an export folder's config.json (nil
// when it has none), to read a training file with the model's own label
// names: ReadOptions{ID2Label: ExportLabels(dir)}.
func ExportLabels(dir string) ([]string, error) {
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		dir = filepath.Dir(dir)
	}
	c, err := readConfig(dir)
	if err != nil {
		return nil, err
	}
	return configLabels(dir, c)
}

// addMeanPoolNodes appends to m's graph the nodes of attention-masked mean
// pooling of hidden ([batch, seq, dim]) over the sequence, sum(h*mask) /
// max(sum(mask), 1e-9), as sentence-transformers computes it; the result
// is named pre+"pooled", and every new name starts with pre.
func addMeanPoolNodes(m *onnx.Model, pre, hidden string) error {
	gp := m.Proto.Graph
	add := func(nd *onnx.NodeProto) { gp.Node = append(gp.Node, nd) }
	if err := m.SetInitializer(pre+"axes_2", tensor.New([]int{1}, []int64{2})); err != nil {
		return err
	}
	if err := m.SetInitializer(pre+"axes_1", tensor.New([]int{1}, []int64{1})); err != nil {
		return err
	}
	if err := m.SetInitializer(pre+"eps", tensor.Scalar[float32](1e-9)); err != nil {
		return err
	}
	add(onnx.NewNode("Unsqueeze", pre+"mask_unsqueeze", []string{"attention_mask", pre + "axes_2"}, []string{pre + "mask3"}))
	add(onnx.NewNode("Cast", pre+"mask_cast", []string{pre + "mask3"}, []string{pre + "maskf"}, onnx.IntAttr("to", int64(onnx.TensorProto_FLOAT))))
	add(onnx.NewNode("Mul", pre+"masked", []string{hidden, pre + "maskf"}, []string{pre + "masked"}))
	add(onnx.NewNode("ReduceSum", pre+"sum", []string{pre + "masked", pre + "axes_1"}, []string{pre + "sum"}, onnx.IntAttr("keepdims", 0)))
	add(onnx.NewNode("ReduceSum", pre+"count", []string{pre + "maskf", pre + "axes_1"}, []string{pre + "count"}, onnx.IntAttr("keepdims", 0)))
	add(onnx.NewNode("Max", pre+"clamp", []string{pre + "count", pre + "eps"}, []string{pre + "countc"}))
	add(onnx.NewNode("Div", pre+"mean", []string{pre + "sum", pre + "countc"}, []string{pre + "pooled"}))
	return nil
}
