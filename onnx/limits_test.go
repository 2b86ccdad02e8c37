package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ft/tensor"
)

// TestTensorLimits: each malformed initializer gets an error that names the
// tensor and says what is wrong, before any data is allocated.
func TestTensorLimits(t *testing.T) {
	f32 := int32(TensorProto_FLOAT)
	str := int32(TensorProto_STRING)
	i64 := int32(TensorProto_INT64)
	cases := []struct {
		name string
		t    *TensorProto
		want string
	}{
		{"negative dim", &TensorProto{Name: s("bias"), Dims: []int64{4, -1}, DataType: &f32}, `tensor "bias": negative dimension -1 in shape [4 -1]`},
		{"shape product overflows", &TensorProto{Name: s("emb"), Dims: []int64{1 << 32, 1 << 32}, DataType: &f32}, `tensor "emb": shape [4294967296 4294967296] has too many elements`},
		{"shape product overflows int64", &TensorProto{Name: s("emb"), Dims: []int64{1 << 62, 4, 4}, DataType: &f32}, `tensor "emb": shape`},
		{"raw data too short", &TensorProto{Name: s("w"), Dims: []int64{2, 3}, DataType: &f32, RawData: make([]byte, 20)}, `tensor "w": raw_data holds 20 bytes, shape [2 3] of FLOAT needs 24`},
		{"raw data too long", &TensorProto{Name: s("w"), Dims: []int64{2}, DataType: &i64, RawData: make([]byte, 24)}, `tensor "w": raw_data holds 24 bytes, shape [2] of INT64 needs 16`},
		{"float_data too short for a huge shape", &TensorProto{Name: s("w"), Dims: []int64{1 << 30, 1 << 8}, DataType: &f32, FloatData: []float32{1}}, `tensor "w": holds 1 values, shape [1073741824 256] needs 274877906944`},
		{"int64_data too long", &TensorProto{Name: s("ids"), Dims: []int64{2}, DataType: &i64, Int64Data: []int64{1, 2, 3}}, `tensor "ids": holds 3 values, shape [2] needs 2`},
		{"unsupported type", &TensorProto{Name: s("names"), Dims: []int64{1}, DataType: &str, StringData: [][]byte{[]byte("a")}}, `tensor "names": data type STRING is not supported`},
		{"external not loaded", &TensorProto{Name: s("w"), Dims: []int64{1}, DataType: &f32, DataLocation: TensorProto_EXTERNAL.Enum()}, `tensor "w": external data not loaded`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ToTensor(c.t)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

// TestInitializerAboveMemoryLimit: an initializer larger than the memory
// limit is refused, in memory (ToTensor) and as external data (at Load,
// before its bytes are read).
func TestInitializerAboveMemoryLimit(t *testing.T) {
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(15)) // W is 16 bytes
	w, _ := FromTensor("W", tensor.New([]int{2, 2}, []float32{1, 2, 3, 4}))
	want := `tensor "W": a float32 tensor of shape [2 2] needs 16 B, above the memory limit of 15 B`
	if _, err := ToTensor(w); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("in memory: %v", err)
	}
	tensor.SetMemoryLimit(0)
	dir := t.TempDir()
	tinyModel(t, dir, true)
	tensor.SetMemoryLimit(15)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("external: %v", err)
	}
	tensor.SetMemoryLimit(16)
	if _, err := Load(dir); err != nil {
		t.Fatalf("at the limit: %v", err)
	}
}

// TestExternalDataOutsideFolder: locations that leave the model folder are
// refused at Load, by ReadExternal on a model built in memory, and by Save.
func TestExternalDataOutsideFolder(t *testing.T) {
	cases := []struct {
		loc  string
		link string // make a link of this name to a file outside first
		want string
	}{
		{loc: "../../etc/passwd", want: `tensor "W": external data location "../../etc/passwd" leaves the model folder (..)`},
		{loc: "/etc/passwd", want: `tensor "W": external data location "/etc/passwd" is an absolute path`},
		{loc: `..\secret.bin`, want: `leaves the model folder (..)`},
		{loc: "sub/../../secret.bin", want: `leaves the model folder (..)`},
		{loc: "evil.bin", link: "evil.bin", want: `tensor "W": external data location "evil.bin" is a link that leaves the model folder`},
		{loc: "evildir/secret.bin", link: "evildir", want: `is a link that leaves the model folder`},
	}
	for _, c := range cases {
		t.Run(c.loc, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "model")
			os.MkdirAll(dir, 0o755)
			secret := filepath.Join(root, "secret.bin")
			if err := os.WriteFile(secret, make([]byte, 32), 0o644); err != nil {
				t.Fatal(err)
			}
			tinyModel(t, dir, true)
			switch c.link {
			case "evil.bin":
				os.Symlink(secret, filepath.Join(dir, c.link))
			case "evildir":
				os.Symlink(root, filepath.Join(dir, c.link))
			}
			setLocation(t, dir, c.loc)
			if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Load: %v, want %q", err, c.want)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
			m, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			m.Dir = dir
			if _, err := m.Tensor(m.Proto.Graph.Initializer[0]); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Tensor: %v, want %q", err, c.want)
			}
			if err := m.Save(t.TempDir()); err == nil {
				t.Fatal("Save copied data from outside the folder")
			}
		})
	}
}
