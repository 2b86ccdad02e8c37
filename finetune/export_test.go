package finetune_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"ft/finetune"
	"ft/onnx"
	"ft/tensor"
)

const fixtures = "../testmodels/fixtures"

// exportFixtures are the fixtures LoadModel adapts (text-classification
// exports keep their head; bert-fe gets pooling and a new head).
var exportFixtures = []string{"albert", "bert", "bert-dynamo", "bert-fe", "bert-op14", "bert-op17", "deberta-v2",
	"distilbert", "electra", "modernbert", "mpnet", "roberta", "xlm-roberta"}

func fixtureFeeds(t *testing.T, dir string) map[string]*tensor.Tensor {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(dir, "test_data_set_0", "input_*.pb"))
	feeds := map[string]*tensor.Tensor{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		tp, err := onnx.ParseTensor(b)
		if err != nil {
			t.Fatal(err)
		}
		v, err := onnx.ToTensor(tp)
		if err != nil {
			t.Fatal(err)
		}
		feeds[tp.GetName()] = v
	}
	return feeds
}

// fineTuned loads a fixture and moves every parameter a little, as training
// would (so an export that kept the old weights would be caught).
func fineTuned(t *testing.T, name string) *finetune.Model {
	t.Helper()
	opt := finetune.ModelOptions{Seed: 5}
	if name == "bert-fe" {
		opt.Labels = []string{"neg", "pos", "neutral"}
	}
	m, err := finetune.LoadModel(filepath.Join(fixtures, name), opt)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range m.Graph.Params {
		for i, v := range p.Value.F32() {
			p.Value.F32()[i] = v + float32(r.NormFloat64()*0.01)
		}
	}
	return m
}

func logitsOf(t *testing.T, m *finetune.Model, feeds map[string]*tensor.Tensor) []float32 {
	t.Helper()
	in := map[string]*tensor.Tensor{}
	for _, n := range m.Graph.InputNames() {
		in[n] = feeds[n]
	}
	out, err := m.Graph.Run(in, m.Output)
	if err != nil {
		t.Fatal(err)
	}
	return out[m.Output].F32()
}

// TestExportRoundTrip: every fixture, moved as by training and saved (inline
// and with external data), loads back in ft with the same logits bit for
// bit, and the saved config.json carries the labels.
func TestExportRoundTrip(t *testing.T) {
	for _, name := range exportFixtures {
		t.Run(name, func(t *testing.T) {
			m := fineTuned(t, name)
			feeds := fixtureFeeds(t, filepath.Join(fixtures, name))
			want := logitsOf(t, m, feeds)
			for _, ext := range []bool{false, true} {
				dir := t.TempDir()
				if err := m.SaveWith(dir, finetune.SaveOptions{ExternalData: ext}); err != nil {
					t.Fatal(err)
				}
				_, err := os.Stat(filepath.Join(dir, finetune.ExternalDataFile))
				if ext != (err == nil) {
					t.Fatalf("external data %v: model.onnx_data present: %v", ext, err == nil)
				}
				back, err := finetune.LoadModel(dir, finetune.ModelOptions{})
				if err != nil {
					t.Fatal(err)
				}
				got := logitsOf(t, back, feeds)
				for i := range want {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("external %v: logit %d = %v, want %v", ext, i, got[i], want[i])
					}
				}
				if strings.Join(back.Labels, ",") != strings.Join(m.Labels, ",") {
					t.Fatalf("labels %v, want %v", back.Labels, m.Labels)
				}
				cfg, _ := os.ReadFile(filepath.Join(dir, "config.json"))
				if !bytes.Contains(cfg, []byte(`"num_labels": `)) || !bytes.Contains(cfg, []byte(`"label2id"`)) {
					t.Fatalf("config.json lacks num_labels/label2id:\n%s", cfg)
				}
			}
		})
	}
}

// TestExportsRunInONNXRuntime: ONNX Runtime loads every exported fixture
// (inline and external data) and gives ft's logits within 1e-4. Needs a
// Python with onnxruntime and onnx: FT_ORT_PYTHON=/path/to/python (.ci/run
// sets it).
func TestExportsRunInONNXRuntime(t *testing.T) {
	py := os.Getenv("FT_ORT_PYTHON")
	if py == "" {
		t.Skip("set FT_ORT_PYTHON to a python with onnxruntime and onnx (pip install -r testmodels/requirements-ci.txt) to check exports with ONNX Runtime")
	}
	type job struct {
		name string
		ext  bool
		dir  string
		want []float32
	}
	var jobs []*job
	var args []string
	for _, name := range exportFixtures {
		m := fineTuned(t, name)
		want := logitsOf(t, m, fixtureFeeds(t, filepath.Join(fixtures, name)))
		for _, ext := range []bool{false, true} {
			dir := t.TempDir()
			if err := m.SaveWith(dir, finetune.SaveOptions{ExternalData: ext}); err != nil {
				t.Fatal(err)
			}
			jobs = append(jobs, &job{name, ext, dir, want})
			args = append(args, dir+":"+filepath.Join(fixtures, name, "test_data_set_0"))
		}
	}
	cmd := exec.Command(py, append([]string{filepath.Join("..", "testmodels", "ort_run.py")}, args...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s testmodels/ort_run.py: %v\n%s", py, err, stderr.String())
	}
	recs := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<26)
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatal(err)
		}
		recs[r["model"].(string)] = r
	}
	var report []string
	for _, j := range jobs {
		r := recs[j.dir]
		if r == nil {
			t.Fatalf("%s: no ONNX Runtime result", j.name)
		}
		if e, ok := r["error"]; ok {
			t.Errorf("%s (external data %v): ONNX Runtime: %v", j.name, j.ext, e)
			continue
		}
		lo := r["outputs"].(map[string]any)["logits"].(map[string]any)
		data := lo["data"].([]any)
		if len(data) != len(j.want) {
			t.Errorf("%s: ORT gives %d logits, ft %d", j.name, len(data), len(j.want))
			continue
		}
		worst := 0.0
		for i, v := range data {
			worst = math.Max(worst, math.Abs(v.(float64)-float64(j.want[i])))
		}
		if worst > 1e-4 {
			t.Errorf("%s (external data %v): max |ORT - ft| = %.3g > 1e-4", j.name, j.ext, worst)
		}
		report = append(report, sprintf("%s ext=%v %.2g", j.name, j.ext, worst))
	}
	sort.Strings(report)
	t.Logf("max |ORT - ft| per export: %s", strings.Join(report, "; "))
}

func sprintf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

func TestExportRefusesNonFiniteWeights(t *testing.T) {
	m := fineTuned(t, "bert")
	p := m.Graph.Params[3]
	p.Value.F32()[2] = float32(math.NaN())
	dir := t.TempDir()
	for _, save := range []func() error{
		func() error { return m.Save(dir) },
		func() error { return m.SaveSafetensors(dir) },
	} {
		err := save()
		if err == nil || !strings.Contains(err.Error(), "parameter "+p.Name+" holds NaN at index 2: refusing to save non-finite weights") {
			t.Fatalf("got %v", err)
		}
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files written: %v", ents)
	}
	// the PEFT adapter of a LoRA model too
	lm := fineTuned(t, "bert")
	adapters, err := finetune.ApplyLoRA(lm, finetune.LoRAConfig{R: 2, Alpha: 2})
	if err != nil {
		t.Fatal(err)
	}
	adapters[0].Value.F32()[1] = float32(math.Inf(-1))
	err = finetune.SavePEFT(lm, dir)
	if err == nil || !strings.Contains(err.Error(), "parameter "+adapters[0].Name+" holds -Inf at index 1: refusing to save non-finite weights") {
		t.Fatalf("SavePEFT: got %v", err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Fatalf("files written: %v", ents)
	}
}

// TestSafetensorsExport: the transformers folder holds every parameter under
// its state_dict name in torch's orientation — checked against the names
// and shapes PyTorch reported for the fixture (grads/names.json) — and the
// values of the model.
func TestSafetensorsExport(t *testing.T) {
	for _, name := range []string{"bert", "roberta", "distilbert", "albert", "deberta-v2"} {
		t.Run(name, func(t *testing.T) {
			m := fineTuned(t, name)
			dir := t.TempDir()
			if err := m.SaveSafetensors(dir); err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(filepath.Join(dir, finetune.SafetensorsFile))
			if err != nil {
				t.Fatal(err)
			}
			hl := int(b[0]) | int(b[1])<<8 | int(b[2])<<16 | int(b[3])<<24
			var hdr map[string]json.RawMessage
			if err := json.Unmarshal(b[8:8+hl], &hdr); err != nil {
				t.Fatal(err)
			}
			nb, err := os.ReadFile(filepath.Join(fixtures, name, "grads", "names.json"))
			if err != nil {
				t.Fatal(err)
			}
			var names struct {
				Params []struct {
					Torch      string `json:"torch"`
					Shape      []int  `json:"shape"`
					Transposed bool   `json:"transposed"`
				} `json:"params"`
				Unmatched []struct {
					Torch string `json:"torch"`
				} `json:"unmatched"`
			}
			if err := json.Unmarshal(nb, &names); err != nil {
				t.Fatal(err)
			}
			for _, p := range names.Params {
				raw, ok := hdr[p.Torch]
				if !ok {
					t.Errorf("model.safetensors lacks %s", p.Torch)
					continue
				}
				var e struct {
					Shape []int `json:"shape"`
				}
				json.Unmarshal(raw, &e)
				want := p.Shape // the ONNX initializer's shape
				if p.Transposed {
					want = []int{p.Shape[1], p.Shape[0]}
				}
				if fmt.Sprint(e.Shape) != fmt.Sprint(want) {
					t.Errorf("%s: shape %v, torch's %v", p.Torch, e.Shape, want)
				}
			}
			if n := len(hdr) - 1; n != len(names.Params) {
				t.Errorf("model.safetensors holds %d tensors, the torch model %d parameters", n, len(names.Params))
			}
			for _, u := range names.Unmatched {
				if _, ok := hdr[u.Torch]; !ok {
					t.Errorf("model.safetensors lacks %s (a parameter the exporter did not keep as its own initializer)", u.Torch)
				}
			}
		})
	}
}
