package npy

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"ft/tensor"
)

// The arrays of testdata/, rebuilt by hand from the formulas in
// testmodels/make_npy_fixtures.py (which wrote the files with numpy).
func base(f func(i int) float64) []float64 {
	v := make([]float64, 24)
	for i := range v {
		v[i] = f(i)
	}
	return v
}

func conv[T tensor.Elem](v []float64, f func(float64) T) []T {
	r := make([]T, len(v))
	for i, x := range v {
		r[i] = f(x)
	}
	return r
}

func expected() map[string]*tensor.Tensor {
	s := []int{2, 3, 4}
	f4 := conv(base(func(i int) float64 { return float64(i)*0.5 - 3 }), func(x float64) float32 { return float32(x) })
	i8 := conv(base(func(i int) float64 { return float64(i - 12) }), func(x float64) int64 { return int64(x) })
	b1 := make([]bool, 6)
	for i := range b1 {
		b1[i] = i%3 == 0
	}
	u1, i1 := make([]uint8, 10), make([]int8, 10)
	for i := range u1 {
		u1[i] = uint8(i * 25)
		i1[i] = int8(i*25 - 128)
	}
	long := make([]int64, 1000)
	for i := range long {
		long[i] = int64(i)
	}
	return map[string]*tensor.Tensor{
		"f4":         tensor.New(s, f4),
		"f8":         tensor.New(s, base(func(i int) float64 { return float64(i)*0.25 - 2 })),
		"i8":         tensor.New(s, i8),
		"i4":         tensor.New(s, conv(base(func(i int) float64 { return float64(i*1000 - 5) }), func(x float64) int32 { return int32(x) })),
		"b1":         tensor.New([]int{2, 3}, b1),
		"u1":         tensor.New([]int{10}, u1),
		"i1":         tensor.New([]int{10}, i1),
		"f4_special": tensor.New([]int{8}, []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), 1e-45, 3.4028235e38, -1.5}),
		"i8_limits":  tensor.New([]int{5}, []int64{math.MinInt64, -1, 0, 1, math.MaxInt64}),
		"i4_limits":  tensor.New([]int{5}, []int32{math.MinInt32, -1, 0, 1, math.MaxInt32}),
		"scalar_f8":  tensor.New([]int{}, []float64{2.5}),
		"empty_f4":   tensor.New([]int{0, 3}, []float32{}),
		"long_i8":    tensor.New([]int{10, 100}, long),
		"vec_f4":     tensor.New([]int{5}, []float32{0, 1, 2, 3, 4}),
		"big_f4":     tensor.New(s, f4),
		"big_i8":     tensor.New(s, i8),
		"v2_f4":      tensor.New(s, f4),
		"v3_f4":      tensor.New(s, f4),
	}
}

// sameTensor compares type, shape and bits (so NaN equals NaN and -0 differs from 0).
func sameTensor(t *testing.T, what string, got, want *tensor.Tensor) {
	t.Helper()
	if got.DType() != want.DType() || !reflect.DeepEqual(got.Shape, want.Shape) {
		t.Errorf("%s: got %s %v, want %s %v", what, got.DType(), got.Shape, want.DType(), want.Shape)
		return
	}
	switch w := want.Data.(type) {
	case []float32:
		g := got.F32()
		for i := range w {
			if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
				t.Errorf("%s[%d] = %v, want %v", what, i, g[i], w[i])
			}
		}
	case []float64:
		g := got.F64()
		for i := range w {
			if math.Float64bits(g[i]) != math.Float64bits(w[i]) {
				t.Errorf("%s[%d] = %v, want %v", what, i, g[i], w[i])
			}
		}
	default:
		if !reflect.DeepEqual(got.Data, want.Data) {
			t.Errorf("%s = %v, want %v", what, got.Data, want.Data)
		}
	}
}

func TestReadNumpyFiles(t *testing.T) {
	for name, want := range expected() {
		t.Run(name, func(t *testing.T) {
			got, err := ReadFile(filepath.Join("testdata", name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			sameTensor(t, name, got, want)
		})
	}
}

// TestWriteIsNumpyByteForByte: our encoding of every little-endian C-order
// array numpy wrote (format 1.0) is the file numpy wrote.
func TestWriteIsNumpyByteForByte(t *testing.T) {
	for name, want := range expected() {
		if strings.HasPrefix(name, "big_") || strings.HasPrefix(name, "v2_") || strings.HasPrefix(name, "v3_") {
			continue
		}
		t.Run(name, func(t *testing.T) {
			file, err := os.ReadFile(filepath.Join("testdata", name+".npy"))
			if err != nil {
				t.Fatal(err)
			}
			ours, err := Encode(want)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(ours, file) {
				t.Errorf("ours differs from numpy's:\nours  %q\nnumpy %q", ours[:min(len(ours), 140)], file[:min(len(file), 140)])
			}
		})
	}
}

func TestReadRefusesClearly(t *testing.T) {
	f4, _ := os.ReadFile(filepath.Join("testdata", "f4.npy"))
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		path string
		want []string
	}{
		{filepath.Join("testdata", "fortran_f4.npy"), []string{"fortran_f4.npy", "Fortran", "ascontiguousarray"}},
		{filepath.Join("testdata", "f2.npy"), []string{"f2.npy", "unsupported dtype", "<f2", "astype"}},
		{write("short.npy", f4[:len(f4)-3]), []string{"short.npy", "truncated", "96 bytes", "93"}},
		{write("text.npy", []byte("hello, world")), []string{"text.npy", "not a .npy"}},
		{write("empty.npy", nil), []string{"empty.npy", "not a .npy"}},
		{write("v9.npy", append([]byte("\x93NUMPY\x09\x00"), f4[8:]...)), []string{"version 9.0"}},
		{write("hdr.npy", []byte("\x93NUMPY\x01\x00\x10\x00{'descr': '<f4',")), []string{"bad .npy header"}},
		{write("neg.npy", []byte("\x93NUMPY\x01\x00\x3a\x00{'descr': '<f4', 'fortran_order': False, 'shape': (-2,), }")), []string{"non-negative"}},
		{write("struct.npy", []byte("\x93NUMPY\x01\x00\x42\x00{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }")), []string{"structured dtype"}},
		{filepath.Join(dir, "missing.npy"), []string{"missing.npy", "no such file"}},
	}
	for _, c := range cases {
		t.Run(filepath.Base(c.path), func(t *testing.T) {
			_, err := ReadFile(c.path)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestReadNumpyNPZ(t *testing.T) {
	want := expected()
	names := []string{"f4", "f8", "i8", "i4", "b1", "scalar_f8"}
	for _, file := range []string{"arrays.npz", "arrays_compressed.npz"} {
		t.Run(file, func(t *testing.T) {
			arrs, err := ReadNPZFile(filepath.Join("testdata", file))
			if err != nil {
				t.Fatal(err)
			}
			if len(arrs) != len(names) {
				t.Fatalf("%d arrays, want %d", len(arrs), len(names))
			}
			for i, a := range arrs {
				if a.Name != names[i] {
					t.Errorf("array %d is %q, want %q", i, a.Name, names[i])
				}
				sameTensor(t, a.Name, a.Tensor, want[a.Name])
			}
		})
	}
}

func TestNPZRoundTripAndErrors(t *testing.T) {
	want := expected()
	var arrs []Array
	for _, n := range []string{"f4_special", "i8_limits", "b1", "u1", "i1", "empty_f4", "scalar_f8"} {
		arrs = append(arrs, Array{Name: n, Tensor: want[n]})
	}
	for _, compress := range []bool{false, true} {
		b, err := EncodeNPZ(arrs, compress)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ReadNPZ(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(arrs) {
			t.Fatalf("%d arrays back, want %d", len(got), len(arrs))
		}
		for i := range arrs {
			if got[i].Name != arrs[i].Name {
				t.Errorf("array %d named %q, want %q", i, got[i].Name, arrs[i].Name)
			}
			sameTensor(t, arrs[i].Name, got[i].Tensor, arrs[i].Tensor)
		}
	}
	if _, err := EncodeNPZ([]Array{{"a", want["f4"]}, {"a", want["f8"]}}, false); err == nil || !strings.Contains(err.Error(), `"a" appears twice`) {
		t.Errorf("duplicate name: %v", err)
	}
	p := filepath.Join(t.TempDir(), "x.npz")
	os.WriteFile(p, []byte("PK not really"), 0o644)
	if _, err := ReadNPZFile(p); err == nil || !strings.Contains(err.Error(), "x.npz") || !strings.Contains(err.Error(), "not an .npz") {
		t.Errorf("bad zip: %v", err)
	}
}

// TestNumpyReadsOurs writes every dtype with our writer and has numpy load
// and check them against its own arrays. Needs Python with numpy.
func TestNumpyReadsOurs(t *testing.T) {
	py := os.Getenv("FT_PYTHON")
	if py == "" {
		t.Skip("set FT_PYTHON to a Python with numpy (FT_PYTHON=path/to/venv/bin/python) to check that numpy reads our files")
	}
	dir := t.TempDir()
	want := expected()
	var arrs []Array
	for name, tt := range want {
		if strings.Contains(name, "_") && !strings.HasSuffix(name, "_limits") && name != "f4_special" && name != "scalar_f8" && name != "empty_f4" {
			continue // big_/v2_/v3_/long_/vec_ are the same data as others
		}
		b, err := Encode(tt)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name+".npy"), b, 0o644)
		arrs = append(arrs, Array{Name: name, Tensor: tt})
	}
	for _, c := range []struct {
		file     string
		compress bool
	}{{"ours.npz", false}, {"ours_compressed.npz", true}} {
		b, err := EncodeNPZ(arrs, c.compress)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, c.file), b, 0o644)
	}
	script := `
import sys, os, numpy as np
d = sys.argv[1]
base = np.arange(24).reshape(2, 3, 4)
want = {
    "f4": (base * 0.5 - 3).astype(np.float32),
    "f8": (base * 0.25 - 2).astype(np.float64),
    "i8": (base - 12).astype(np.int64),
    "i4": (base * 1000 - 5).astype(np.int32),
    "b1": (np.arange(6).reshape(2, 3) % 3 == 0),
    "u1": (np.arange(10) * 25).astype(np.uint8),
    "i1": (np.arange(10) * 25 - 128).astype(np.int8),
    "f4_special": np.array([0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, 3.4028235e38, -1.5], dtype=np.float32),
    "i8_limits": np.array([-(2**63), -1, 0, 1, 2**63 - 1], dtype=np.int64),
    "i4_limits": np.array([-(2**31), -1, 0, 1, 2**31 - 1], dtype=np.int32),
    "scalar_f8": np.array(2.5, dtype=np.float64),
    "empty_f4": np.zeros((0, 3), dtype=np.float32),
}
def same(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
n = 0
for k, w in want.items():
    a = np.load(os.path.join(d, k + ".npy"), allow_pickle=False)
    assert same(a, w), (k, a, w)
    n += 1
for z in ("ours.npz", "ours_compressed.npz"):
    with np.load(os.path.join(d, z), allow_pickle=False) as f:
        assert sorted(f.keys()) == sorted(want), (z, f.keys())
        for k, w in want.items():
            assert same(f[k], w), (z, k)
            n += 1
print("numpy", np.__version__, "read", n, "arrays")
`
	out, err := exec.Command(py, "-c", script, dir).CombinedOutput()
	if err != nil {
		t.Fatalf("numpy could not read our files: %v\n%s", err, out)
	}
	t.Log(strings.TrimSpace(string(out)))
	if !strings.Contains(string(out), fmt.Sprintf("read %d arrays", 3*12)) {
		t.Fatalf("unexpected output %s", out)
	}
}

// FuzzRead: no input makes Read panic, and what it reads it writes back to
// the same array.
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.npy"))
	for _, p := range files {
		b, _ := os.ReadFile(p)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tt, err := Read(bytes.NewReader(b))
		if err != nil {
			return
		}
		enc, err := Encode(tt)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Read(bytes.NewReader(enc))
		if err != nil {
			t.Fatal(err)
		}
		sameTensor(t, "round trip", back, tt)
	})
}

func ExampleWriteNPZ() {
	logits := tensor.New([]int{2, 2}, []float32{0.5, -1, 2, 0})
	ids := tensor.New([]int{2, 3}, []int64{101, 7, 102, 101, 9, 102})
	var b bytes.Buffer
	if err := WriteNPZ(&b, []Array{{"logits", logits}, {"input_ids", ids}}, true); err != nil {
		panic(err)
	}
	arrs, err := ReadNPZ(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		panic(err)
	}
	for _, a := range arrs {
		fmt.Println(a.Name, a.Tensor.DType(), a.Tensor.Shape, a.Tensor.Data)
	}
	// Output:
	// logits float32 [2 2] [0.5 -1 2 0]
	// input_ids int64 [2 3] [101 7 102 101 9 102]
}
