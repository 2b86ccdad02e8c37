package main

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"ft/npy"
	"ft/tensor"
)

// execFixtures lists the fixtures that have numpy-written inputs.npz and
// outputs.npz (testmodels/make_npy_fixtures.py), relative to the repository root.
func execFixtures(t *testing.T) []string {
	t.Helper()
	ms, _ := filepath.Glob(filepath.Join("..", "..", "testmodels", "fixtures", "*", "test_data_set_0", "outputs.npz"))
	var dirs []string
	for _, m := range ms {
		rel, _ := filepath.Rel(filepath.Join("..", ".."), filepath.Dir(filepath.Dir(m)))
		dirs = append(dirs, rel)
	}
	if len(dirs) < 14 {
		t.Fatalf("found %d fixtures with outputs.npz, want all 14 (run testmodels/make_npy_fixtures.py)", len(dirs))
	}
	return dirs
}

func readNPZ(t *testing.T, path string) []npy.Array {
	t.Helper()
	arrs, err := npy.ReadNPZFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return arrs
}

// TestExecFixturesMatchONNXRuntime: for every fixture, ft exec on the
// numpy-written golden inputs matches ONNX Runtime's outputs within 1e-4.
func TestExecFixturesMatchONNXRuntime(t *testing.T) {
	for _, dir := range execFixtures(t) {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ds := filepath.Join(dir, "test_data_set_0")
			code, out, stderr := runIn(t, "exec", dir, "--inputs", filepath.Join(ds, "inputs.npz"),
				"--compare", filepath.Join(ds, "outputs.npz"), "--atol", "1e-4", "--rtol", "0")
			if code != 0 {
				t.Fatalf("exit %d: %s\n%s", code, stderr, out)
			}
			if !strings.Contains(out, "compare with") || strings.Contains(out, "FAIL") || strings.Count(out, "  ok\n") < 1 {
				t.Errorf("unexpected report:\n%s", out)
			}
		})
	}
}

// TestExecCompareWrongReference: a reference that differs in one element
// makes ft exec exit 1, naming the output and the worst index.
func TestExecCompareWrongReference(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join("..", "..", "testmodels", "fixtures", "bert-fe", "test_data_set_0")
	ref := readNPZ(t, filepath.Join(ds, "outputs.npz"))
	if len(ref) != 1 || ref[0].Name != "last_hidden_state" || !slices.Equal(ref[0].Tensor.Shape, []int{3, 10, 32}) {
		t.Fatalf("unexpected reference %v", ref)
	}
	wrong := ref[0].Tensor.Clone()
	wrong.F32()[1*320+4*32+7] += 0.01 // [1, 4, 7]
	wrong.F32()[2*320+9*32+1] += 1e-3 // [2, 9, 1]: out of tolerance too, but not the worst
	write := func(name string, arrs []npy.Array) string {
		b, err := npy.EncodeNPZ(arrs, false)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	bad := write("wrong.npz", []npy.Array{{Name: "last_hidden_state", Tensor: wrong}})
	code, out, stderr := runIn(t, "exec", "testmodels/fixtures/bert-fe", "--inputs", "testmodels/fixtures/bert-fe/test_data_set_0/inputs.npz",
		"--compare", bad, "--atol", "1e-4")
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, stderr)
	}
	msg := strings.TrimSpace(stderr)
	for _, w := range []string{`"last_hidden_state"`, "[1, 4, 7]", "2 elements", "out of tolerance", "wrong.npz"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not mention %s", msg, w)
		}
	}
	if strings.Count(msg, "\n") > 0 {
		t.Errorf("error is not one line:\n%s", msg)
	}
	if !strings.Contains(out, "FAIL (2 elements out of tolerance)") || !strings.Contains(out, "[1, 4, 7]") {
		t.Errorf("report does not show the failure:\n%s", out)
	}
	// JSON: the same verdict, machine-readable
	code, out, _ = runIn(t, "exec", "testmodels/fixtures/bert-fe", "--inputs", "testmodels/fixtures/bert-fe/test_data_set_0/inputs.npz",
		"--compare", bad, "--atol", "1e-4", "--json")
	var rep execReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, %v:\n%s", code, err, out)
	}
	row := rep.Compare.Outputs[0]
	if rep.Compare.Pass || row.OK || row.Bad != 2 || !slices.Equal(row.Worst, []int{1, 4, 7}) || float64(row.MaxAbs) < 0.0099 || float64(row.MaxAbs) > 0.0101 {
		t.Errorf("compare %+v", row)
	}
	// A reference of the wrong shape fails, naming both shapes.
	short := tensor.New([]int{3, 10}, make([]float32, 30))
	code, _, stderr = runIn(t, "exec", "testmodels/fixtures/bert-fe", "--inputs", "testmodels/fixtures/bert-fe/test_data_set_0/inputs.npz",
		"--compare", write("shape.npz", []npy.Array{{Name: "last_hidden_state", Tensor: short}}))
	if code != 1 || !strings.Contains(stderr, "[3 10 32], reference [3 10]") {
		t.Errorf("exit %d: %s", code, stderr)
	}
}

// TestExecWritesOutputsAndInputs: --output holds what --compare checked,
// --save-inputs holds the inputs as read, --outputs selects values.
func TestExecWritesOutputsAndInputs(t *testing.T) {
	dir := t.TempDir()
	ds := "testmodels/fixtures/bert/test_data_set_0"
	out, saved := filepath.Join(dir, "out.npz"), filepath.Join(dir, "in.npz")
	code, _, stderr := runIn(t, "exec", "testmodels/fixtures/bert", "--inputs", ds+"/inputs.npz", "--output", out, "--save-inputs", saved)
	if code != 0 {
		t.Fatal(stderr)
	}
	root := filepath.Join("..", "..")
	got, want := readNPZ(t, out), readNPZ(t, filepath.Join(root, ds, "outputs.npz"))
	if len(got) != 1 || got[0].Name != "logits" || maxDiff(got[0].Tensor, want[0].Tensor) > 1e-4 {
		t.Errorf("--output: %v vs %v", got, want)
	}
	gotIn, wantIn := readNPZ(t, saved), readNPZ(t, filepath.Join(root, ds, "inputs.npz"))
	if len(gotIn) != 3 {
		t.Fatalf("%d inputs saved", len(gotIn))
	}
	for i := range wantIn {
		if gotIn[i].Name != wantIn[i].Name || !slices.Equal(gotIn[i].Tensor.I64(), wantIn[i].Tensor.I64()) {
			t.Errorf("saved input %d: %s differs from %s", i, gotIn[i].Name, wantIn[i].Name)
		}
	}
	// --outputs may name an intermediate value; --input overrides one array of --inputs.
	code, stdout, stderr := runIn(t, "exec", "testmodels/fixtures/bert", "--inputs", ds+"/inputs.npz",
		"--input", "attention_mask="+filepath.Join(dir, "mask.npy"), "--outputs", "logits")
	if code == 0 || !strings.Contains(stderr, "mask.npy") {
		t.Errorf("missing --input file: exit %d %s", code, stderr)
	}
	mask, _ := npy.Encode(tensor.New([]int{3, 10}, slices.Repeat([]int64{1}, 30)))
	os.WriteFile(filepath.Join(dir, "mask.npy"), mask, 0o644)
	code, stdout, stderr = runIn(t, "exec", "testmodels/fixtures/bert", "--inputs", ds+"/inputs.npz",
		"--input", "attention_mask="+filepath.Join(dir, "mask.npy"), "--compare", ds+"/outputs.npz", "--atol", "1e-4")
	if code != 1 || !strings.Contains(stdout, filepath.Join(dir, "mask.npy")) || !strings.Contains(stderr, `"logits"`) {
		t.Errorf("an all-ones mask on padded rows should change the logits: exit %d\n%s%s", code, stdout, stderr)
	}
}

func maxDiff(a, b *tensor.Tensor) float64 {
	x, y := a.Float64s(), b.Float64s()
	d := 0.0
	for i := range x {
		d = max(d, abs(x[i]-y[i]))
	}
	return d
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// TestExecRandomInputs: ids below the embedding table's rows (the fixture's
// config: vocab_size 256, type_vocab_size 2), masks of ones, floats in
// [-1, 1], sizes from --dim, reproducible by seed.
func TestExecRandomInputs(t *testing.T) {
	dir := t.TempDir()
	draw := func(model string, seed string, dims ...string) []npy.Array {
		t.Helper()
		p := filepath.Join(dir, "in.npz")
		args := []string{"exec", model, "--random", "--seed", seed, "--save-inputs", p}
		for _, d := range dims {
			args = append(args, "--dim", d)
		}
		code, out, stderr := runIn(t, args...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		if !strings.Contains(out, "random: ") {
			t.Errorf("report does not say how inputs were drawn:\n%s", out)
		}
		return readNPZ(t, p)
	}
	a := draw("testmodels/fixtures/bert", "7", "batch_size=4", "sequence_length=50")
	// [lowest, highest] allowed, and how close to each end 200 uniform draws must come
	limits := map[string][3]int64{"input_ids": {0, 255, 8}, "token_type_ids": {0, 1, 0}, "attention_mask": {1, 1, 0}}
	for _, arr := range a {
		if !slices.Equal(arr.Tensor.Shape, []int{4, 50}) || arr.Tensor.DType() != tensor.Int64 {
			t.Errorf("%s: %s %v", arr.Name, arr.Tensor.DType(), arr.Tensor.Shape)
			continue
		}
		lim := limits[arr.Name]
		lo, hi := slices.Min(arr.Tensor.I64()), slices.Max(arr.Tensor.I64())
		if lo < lim[0] || hi > lim[1] || lo > lim[0]+lim[2] || hi < lim[1]-lim[2] {
			t.Errorf("%s in [%d, %d], want within [%d, %d] and spanning it", arr.Name, lo, hi, lim[0], lim[1])
		}
	}
	b := draw("testmodels/fixtures/bert", "7", "batch_size=4", "sequence_length=50")
	c := draw("testmodels/fixtures/bert", "8", "batch_size=4", "sequence_length=50")
	if !slices.Equal(a[0].Tensor.I64(), b[0].Tensor.I64()) || slices.Equal(a[0].Tensor.I64(), c[0].Tensor.I64()) {
		t.Error("same seed must give the same ids, another seed other ids")
	}
	// bert-dynamo: the same model through another exporter; distilbert: no token types.
	for _, m := range []string{"testmodels/fixtures/bert-dynamo", "testmodels/fixtures/distilbert"} {
		for _, arr := range draw(m, "1", "batch_size=8", "sequence_length=64") {
			if arr.Name == "input_ids" && slices.Max(arr.Tensor.I64()) >= 256 {
				t.Errorf("%s: id %d out of the vocabulary", m, slices.Max(arr.Tensor.I64()))
			}
		}
	}
	f := draw("testmodels/fixtures/mlp", "1", "batch_size=100")
	v := f[0].Tensor.F32()
	if len(v) != 1000 || slices.Min(v) < -1 || slices.Max(v) > 1 || slices.Min(v) > -0.9 || slices.Max(v) < 0.9 {
		t.Errorf("mlp input: %d values in [%v, %v], want uniform in [-1, 1]", len(v), slices.Min(v), slices.Max(v))
	}
}

func TestExecBench(t *testing.T) {
	code, out, stderr := runIn(t, "exec", "testmodels/fixtures/bert", "--random", "--dim", "batch_size=5", "--dim", "sequence_length=16",
		"--bench", "4", "--warmup", "1", "--threads", "1", "--json")
	if code != 0 {
		t.Fatal(stderr)
	}
	var rep execReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	b := rep.Bench
	if b == nil || b.Runs != 4 || len(b.LatenciesMs) != 4 || b.Batch != 5 || b.Threads != 1 || rep.Threads != 1 {
		t.Fatalf("bench %+v", b)
	}
	s := slices.Sorted(slices.Values(b.LatenciesMs))
	if b.MinMs != s[0] || b.MaxMs != s[3] || b.MedianMs != (s[1]+s[2])/2 || b.P90Ms != s[3] || b.MinMs <= 0 {
		t.Errorf("latency stats %+v from %v", b, s)
	}
	if want := 5 / (b.MedianMs / 1000); abs(b.SamplesPerSec-want) > 1e-9*want {
		t.Errorf("samples/s %v, want %v", b.SamplesPerSec, want)
	}
	if runtime.GOOS == "linux" && (b.PeakRSSBytes < 1<<20 || b.PeakRSSBytes > 1<<40) {
		t.Errorf("peak RSS %d bytes", b.PeakRSSBytes)
	}
	if runtime.GOMAXPROCS(0) == 1 && runtime.NumCPU() > 1 {
		t.Error("--threads was not undone after the command")
	}
	// the text report
	code, out, _ = runIn(t, "exec", "testmodels/fixtures/mlp", "--random", "--dim", "batch_size=2", "--bench", "2")
	for _, w := range []string{"latency  median", "samples/s", "peak RSS", "batch 2"} {
		if code != 0 || !strings.Contains(out, w) {
			t.Errorf("text report lacks %q:\n%s", w, out)
		}
	}
}

func TestExecBadInputOneLineErrors(t *testing.T) {
	dir := t.TempDir()
	put := func(name string, arrs ...npy.Array) string {
		b, err := npy.EncodeNPZ(arrs, false)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	ids := tensor.New([]int{2, 3}, []int64{1, 2, 3, 4, 5, 6})
	ids32 := tensor.New([]int{2, 3}, []int32{1, 2, 3, 4, 5, 6})
	m := "testmodels/fixtures/bert"
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"no model", []string{}, []string{"MODEL"}},
		{"no inputs", []string{m}, []string{"input_ids", "attention_mask", "token_type_ids", "--random"}},
		{"no dims", []string{m, "--random"}, []string{"--dim batch_size=N", "--dim sequence_length=N"}},
		{"unknown dim", []string{m, "--random", "--dim", "batch=2"}, []string{`"batch"`, "batch_size, sequence_length"}},
		{"bad dim", []string{m, "--random", "--dim", "batch_size=0"}, []string{"batch_size=0", "positive"}},
		{"unknown array", []string{m, "--inputs", put("x.npz", npy.Array{Name: "ids", Tensor: ids})}, []string{"x.npz", `"ids"`, "input_ids"}},
		{"wrong dtype", []string{m, "--random", "--inputs", put("i32.npz", npy.Array{Name: "input_ids", Tensor: ids32})}, []string{"i32.npz", "int32", "int64", "astype"}},
		{"wrong rank", []string{m, "--random", "--inputs", put("r.npz", npy.Array{Name: "input_ids", Tensor: tensor.New([]int{6}, ids.I64())})}, []string{"r.npz", "[6]", "batch_size, sequence_length"}},
		{"dim conflict", []string{m, "--random", "--dim", "batch_size=4", "--inputs", put("c.npz", npy.Array{Name: "input_ids", Tensor: ids})}, []string{"c.npz", "batch_size = 2", "--dim"}},
		{"malformed --input", []string{m, "--input", "input_ids"}, []string{"NAME=FILE.npy"}},
		{"unknown --input", []string{m, "--input", "ids=a.npy"}, []string{`"ids"`, "input_ids"}},
		{"fortran", []string{m, "--random", "--input", "input_ids=npy/testdata/fortran_f4.npy"}, []string{"fortran_f4.npy", "Fortran"}},
		{"not an npz", []string{m, "--inputs", "testmodels/fixtures/bert/config.json"}, []string{"config.json", "not an .npz"}},
		{"unknown output", []string{m, "--random", "--dim", "batch_size=1", "--dim", "sequence_length=2", "--outputs", "logit"}, []string{`"logit"`, "logits"}},
		{"reference names another output", []string{m, "--random", "--dim", "batch_size=2", "--dim", "sequence_length=3", "--compare", put("ref.npz", npy.Array{Name: "pooled", Tensor: ids})}, []string{"ref.npz", `"pooled"`, "--outputs"}},
		{"negative bench", []string{m, "--bench", "-1"}, []string{"--bench"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runIn(t, append([]string{"exec"}, c.args...)...)
			if code == 0 {
				t.Fatal("no error")
			}
			msg := strings.TrimSpace(stderr)
			if strings.Count(msg, "\n") > 0 {
				t.Errorf("error is not one line:\n%s", msg)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
		})
	}
}

func TestExecHelpExplainsEveryFlag(t *testing.T) {
	code, _, help := runIn(t, "exec", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	f := newExecFlags(&strings.Builder{})
	f.fs.VisitAll(func(fl *flag.Flag) {
		if !strings.Contains(help, "-"+fl.Name) || len(fl.Usage) < 10 {
			t.Errorf("flag --%s is not explained in ft exec --help", fl.Name)
		}
	})
}
