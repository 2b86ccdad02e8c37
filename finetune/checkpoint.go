package finetune

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"ft/checkpoint"
	"ft/graph"
	"ft/internal/fileio"
	"ft/onnx"
	"ft/optim"
	"ft/tensor"
)

// CheckpointExt is the file extension of ft checkpoints.
const CheckpointExt = ".ftckpt"

// TrainState is where a run stands: what a checkpoint needs besides the
// weights and the optimizer state to continue bit for bit.
type TrainState struct {
	// Step is the number of optimizer steps done (HF global_step).
	Step int `json:"global_step"`
	// Epoch and Batch are the data position: the next batch to train is
	// batch Batch of epoch Epoch (the order of an epoch depends only on the
	// seed and the epoch number).
	Epoch int `json:"epoch"`
	Batch int `json:"batch"`
	// Total is the number of optimizer steps of the run, StepsPerEpoch the
	// optimizer steps per epoch and Rows the training rows (checked on
	// resume: other data or settings give other positions).
	Total         int `json:"max_steps"`
	StepsPerEpoch int `json:"steps_per_epoch"`
	Rows          int `json:"rows"`
	// Best metric so far (null before the first evaluation), the step it
	// was reached at and the checkpoint holding those weights.
	BestMetric     *float64 `json:"best_metric"`
	BestStep       int      `json:"best_step"`
	BestCheckpoint string   `json:"best_model_checkpoint,omitempty"`
	Patience       int      `json:"early_stopping_patience_counter"`
	// Losses of every optimizer step so far; the logging accumulators.
	Losses   []float64 `json:"losses"`
	LogLoss  float64   `json:"log_loss"`
	LogCount int       `json:"log_count"`
	Samples  int       `json:"samples"`
	// Skipped counts steps skipped for a non-finite loss or gradient.
	Skipped int `json:"skipped_steps"`
	// PendingEval is an evaluation that ctx cancelled: "steps" (the one
	// after step Step) or "epoch" (the one at the end of epoch Epoch-1);
	// the resumed run does it first.
	PendingEval string `json:"pending_evaluation,omitempty"`
	// Optimizer is the optimizer's name and step counts (its slots are
	// tensors of the checkpoint).
	Optimizer *optim.State `json:"optimizer"`
	// Seed is the data order seed (there is no other random state: ft
	// trains without dropout).
	Seed uint64 `json:"seed"`
	// BF16: the run's matrix products ran in bf16 (Args.BF16); a resumed
	// run keeps the precision it was started with.
	BF16 bool `json:"bf16,omitempty"`
}

// CheckpointInfo is what a checkpoint says about itself (its metadata).
type CheckpointInfo struct {
	Path  string
	State TrainState
	// Config is the caller's run configuration (ft run stores its flags).
	Config map[string]string
	// Labels are the class names the model was trained for.
	Labels []string
	// ModelPath and ModelOptions rebuild the model: LoadModel(ModelPath,
	// ModelOptions); BaseSHA256 identifies the base model file.
	ModelPath    string
	ModelOptions ModelOptions
	BaseSHA256   string
	// Trainable lists the parameters the checkpoint holds.
	Trainable []string
}

// BaseSHA256 returns the SHA-256 of the model's ONNX file followed by its
// external data files (in the order of their names): it identifies the
// base model of a checkpoint.
func (m *Model) BaseSHA256() (string, error) {
	if m.Path == "" {
		return "", fmt.Errorf("the model was not loaded from a file; its checkpoints need a base file")
	}
	om, err := onnx.Load(m.Path)
	if err != nil {
		return "", err
	}
	files := []string{m.Path}
	locs := map[string]bool{}
	for _, t := range om.AllTensors() {
		if info, ok, err := onnx.External(t); err == nil && ok {
			locs[info.Location] = true
		}
	}
	var names []string
	for l := range locs {
		names = append(names, l)
	}
	sort.Strings(names)
	for _, l := range names {
		files = append(files, filepath.Join(om.Dir, filepath.FromSlash(l)))
	}
	h := sha256.New()
	for _, f := range files {
		fh, err := fileio.Open(f)
		if err != nil {
			return "", err
		}
		_, err = io.Copy(h, fh)
		fh.Close()
		if err != nil {
			return "", fmt.Errorf("hash %s: %w", f, err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkFinite returns an error naming the first parameter holding a NaN or
// an infinity.
func checkFinite(ps []*graph.Param) error {
	for _, p := range ps {
		for i, v := range p.Value.F32() {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("parameter %s holds %v at index %d: refusing to save non-finite weights", p.Name, v, i)
			}
		}
	}
	return nil
}

// CheckFinite returns an error naming the first parameter of the model
// holding a NaN or an infinity (exports refuse such weights).
func (m *Model) CheckFinite() error { return checkFinite(m.Graph.Params) }

const optimPrefix = "optimizer/"

// writeCheckpoint saves the trainable parameters, the optimizer state and
// st into dir/checkpoint-<step>.ftckpt; base holds the parameters' values
// at the start of the run (the XOR base).
func (t *Trainer) writeCheckpoint(dir string, st *TrainState, base map[string]*tensor.Tensor) (string, error) {
	return t.writeCheckpointState(dir, st, base, t.opt.State())
}

// writeCheckpointState is writeCheckpoint with the optimizer state ost.
func (t *Trainer) writeCheckpointState(dir string, st *TrainState, base map[string]*tensor.Tensor, ost *optim.State) (string, error) {
	if err := checkFinite(t.Trainable); err != nil {
		return "", err
	}
	if t.baseSHA == "" {
		s, err := t.Model.BaseSHA256()
		if err != nil {
			return "", err
		}
		t.baseSHA = s
	}
	f := &checkpoint.File{Meta: map[string]string{}}
	for _, p := range t.Trainable {
		f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: p.Name, T: p.Value})
	}
	for _, k := range ost.SlotNames() {
		v := ost.Slots[k]
		cut := strings.LastIndexByte(k, '/')
		p := t.Model.Graph.Param(k[:cut])
		shape := []int{len(v)}
		if p != nil {
			shape = p.Value.Shape
		}
		f.Tensors = append(f.Tensors, checkpoint.Tensor{Name: optimPrefix + k, T: tensor.New(shape, v)})
	}
	stc := *st
	stc.Optimizer = &optim.State{Optimizer: ost.Optimizer, Step: ost.Step, ParamSteps: ost.ParamSteps}
	meta := map[string]any{"state": stc, "config": t.RunConfig, "labels": t.Model.Labels,
		"model_path": t.Model.Path, "model_options": t.Model.Options}
	for k, v := range meta {
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		f.Meta[k] = string(b)
	}
	f.Meta["base_sha256"] = t.baseSHA
	path := checkpointPath(dir, st.Step)
	err := checkpoint.Write(path, f, checkpoint.Options{Base: func(n string) *tensor.Tensor { return base[n] }})
	return path, err
}

// checkpointPath is the file of the checkpoint at a step.
func checkpointPath(dir string, step int) string {
	return filepath.Join(dir, fmt.Sprintf("checkpoint-%d%s", step, CheckpointExt))
}

// ReadCheckpointInfo reads a checkpoint's metadata (not its tensors).
func ReadCheckpointInfo(path string) (*CheckpointInfo, error) {
	meta, names, err := checkpoint.ReadMeta(path)
	if err != nil {
		return nil, err
	}
	return infoFromMeta(path, meta, names)
}

func infoFromMeta(path string, meta map[string]string, names []string) (*CheckpointInfo, error) {
	ci := &CheckpointInfo{Path: path, BaseSHA256: meta["base_sha256"]}
	for k, dst := range map[string]any{"state": &ci.State, "config": &ci.Config, "labels": &ci.Labels,
		"model_path": &ci.ModelPath, "model_options": &ci.ModelOptions} {
		v, ok := meta[k]
		if !ok {
			return nil, fmt.Errorf("checkpoint %s: no %q metadata (not written by ft run / Trainer)", path, k)
		}
		if err := json.Unmarshal([]byte(v), dst); err != nil {
			return nil, fmt.Errorf("checkpoint %s: metadata %q: %w", path, k, err)
		}
	}
	for _, n := range names {
		if !strings.HasPrefix(n, optimPrefix) {
			ci.Trainable = append(ci.Trainable, n)
		}
	}
	return ci, nil
}

var ckptName = regexp.MustCompile(`^checkpoint-(\d+)\` + CheckpointExt + `$`)

// ListCheckpoints returns the checkpoints of a run folder, oldest step
// first.
func ListCheckpoints(dir string) ([]string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	type c struct {
		step int
		path string
	}
	var cs []c
	for _, e := range ents {
		m := ckptName.FindStringSubmatch(e.Name())
		if m == nil || e.IsDir() {
			continue
		}
		s, _ := strconv.Atoi(m[1])
		cs = append(cs, c{s, filepath.Join(dir, e.Name())})
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].step < cs[j].step })
	out := make([]string, len(cs))
	for i, x := range cs {
		out[i] = x.path
	}
	return out, nil
}

// FindCheckpoint resolves a checkpoint argument: a checkpoint file, or a
// run folder (its newest checkpoint).
func FindCheckpoint(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("checkpoint: %w", err)
	}
	if !st.IsDir() {
		return path, nil
	}
	cs, err := ListCheckpoints(path)
	if err != nil {
		return "", err
	}
	if len(cs) == 0 {
		return "", fmt.Errorf("%s holds no checkpoint-<step>%s file (checkpoints are written every Args.SaveSteps steps and when a run is interrupted)", path, CheckpointExt)
	}
	return cs[len(cs)-1], nil
}

// pruneCheckpoints keeps the newest limit checkpoints of dir, and keep.
func pruneCheckpoints(dir string, limit int, keep string) error {
	if limit <= 0 {
		return nil
	}
	cs, err := ListCheckpoints(dir)
	if err != nil {
		return err
	}
	n := 0
	for i := len(cs) - 1; i >= 0; i-- {
		if filepath.Clean(cs[i]) == filepath.Clean(keep) {
			continue
		}
		n++
		if n > limit {
			if err := os.Remove(cs[i]); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadCheckpoint reads a checkpoint made from this model's base (the same
// base file, checked by SHA-256, and the same adaptation) and sets the
// parameters it holds. The model must be freshly loaded (its parameters
// still the base values: they decode the checkpoint). It returns the
// checkpoint's information and its tensors (optimizer slots included).
func (m *Model) LoadCheckpoint(path string) (*CheckpointInfo, *checkpoint.File, error) {
	meta, names, err := checkpoint.ReadMeta(path)
	if err != nil {
		return nil, nil, err
	}
	ci, err := infoFromMeta(path, meta, names)
	if err != nil {
		return nil, nil, err
	}
	sha, err := m.BaseSHA256()
	if err != nil {
		return nil, nil, err
	}
	if sha != ci.BaseSHA256 {
		return nil, nil, fmt.Errorf("checkpoint %s was made from base model %s (SHA-256 %s), but %s has SHA-256 %s: give the base model it was trained from", path, ci.ModelPath, short(ci.BaseSHA256), m.Path, short(sha))
	}
	if !slices.Equal(ci.Labels, m.Labels) {
		return nil, nil, fmt.Errorf("checkpoint %s has labels %v, the model %v", path, ci.Labels, m.Labels)
	}
	for _, n := range ci.Trainable {
		if m.Graph.Param(n) == nil {
			return nil, nil, fmt.Errorf("checkpoint %s holds parameter %q, which the model does not have (built with other settings?)", path, n)
		}
	}
	f, err := checkpoint.Read(path, checkpoint.ReadOptions{Base: func(n string) *tensor.Tensor {
		if p := m.Graph.Param(n); p != nil {
			return p.Value
		}
		return nil
	}})
	if err != nil {
		return nil, nil, err
	}
	for _, n := range ci.Trainable {
		p := m.Graph.Param(n)
		v := f.Lookup(n)
		if v.DType() != p.Value.DType() || !tensor.SameShape(v.Shape, p.Value.Shape) {
			return nil, nil, fmt.Errorf("checkpoint %s: parameter %s is %s%v, the model's %s%v", path, n, v.DType(), v.Shape, p.Value.DType(), p.Value.Shape)
		}
	}
	for _, n := range ci.Trainable {
		copy(m.Graph.Param(n).Value.F32(), f.Lookup(n).F32())
	}
	return ci, f, nil
}

func short(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// optimizerState rebuilds an optim.State from a checkpoint.
func optimizerState(ci *CheckpointInfo, f *checkpoint.File) (*optim.State, error) {
	if ci.State.Optimizer == nil {
		return nil, fmt.Errorf("checkpoint %s has no optimizer state", ci.Path)
	}
	st := *ci.State.Optimizer
	st.Slots = map[string][]float32{}
	for _, t := range f.Tensors {
		if k, ok := strings.CutPrefix(t.Name, optimPrefix); ok {
			d := t.T.F32()
			if d == nil {
				return nil, fmt.Errorf("checkpoint %s: optimizer slot %s is %s, want float32", ci.Path, k, t.T.DType())
			}
			st.Slots[k] = d
		}
	}
	return &st, nil
}
