package onnx

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"ft/tensor"
)

func s(v string) *string { return &v }

// tinyModel builds Y = X + W with W stored as external data when ext is set.
func tinyModel(t *testing.T, dir string, ext bool) *Model {
	t.Helper()
	w, err := FromTensor("W", tensor.New([]int{2, 2}, []float32{1, 2, 3, 4}))
	if err != nil {
		t.Fatal(err)
	}
	if ext {
		if err := os.WriteFile(filepath.Join(dir, "model.onnx_data"), append(make([]byte, 16), w.RawData...), 0o644); err != nil {
			t.Fatal(err)
		}
		w.RawData = nil
		w.DataLocation = TensorProto_EXTERNAL.Enum()
		w.ExternalData = []*StringStringEntryProto{{Key: s("location"), Value: s("model.onnx_data")}, {Key: s("offset"), Value: s("16")}, {Key: s("length"), Value: s("16")}}
	}
	f32 := int32(TensorProto_FLOAT)
	vi := func(name string) *ValueInfoProto {
		return &ValueInfoProto{Name: s(name), Type: &TypeProto{Value: &TypeProto_TensorType{TensorType: &TypeProto_Tensor{ElemType: &f32}}}}
	}
	mp := &ModelProto{
		IrVersion:   ptr(int64(8)),
		OpsetImport: []*OperatorSetIdProto{{Domain: s(""), Version: ptr(int64(17))}},
		Graph: &GraphProto{
			Name:        s("g"),
			Node:        []*NodeProto{{OpType: s("Add"), Name: s("add"), Input: []string{"X", "W"}, Output: []string{"Y"}}},
			Initializer: []*TensorProto{w},
			Input:       []*ValueInfoProto{vi("X")},
			Output:      []*ValueInfoProto{vi("Y")},
		},
	}
	b, err := proto.Marshal(mp)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoadSaveLoad(t *testing.T) {
	for _, ext := range []bool{false, true} {
		dir := t.TempDir()
		m := tinyModel(t, dir, ext)
		// an unknown field must survive
		m.Proto.Graph.ProtoReflect().SetUnknown([]byte{0xf8, 0x07, 0x2a}) // field 127, varint 42
		out := t.TempDir()
		if err := m.Save(out); err != nil {
			t.Fatal(err)
		}
		m2, err := Load(out)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(m.Proto, m2.Proto) {
			t.Fatalf("ext=%v: load → save → load changed the model", ext)
		}
		if len(m2.Proto.Graph.ProtoReflect().GetUnknown()) == 0 {
			t.Fatal("unknown field lost")
		}
		w, err := m2.Tensor(m2.Proto.Graph.Initializer[0])
		if err != nil {
			t.Fatal(err)
		}
		if got := w.F32(); got[3] != 4 {
			t.Fatalf("W = %v", got)
		}
	}
}

func TestBadFiles(t *testing.T) {
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		want string
	}{
		{"truncated", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
			os.WriteFile(filepath.Join(dir, "model.onnx"), b[:len(b)-7], 0o644)
		}, "truncated or corrupt"},
		{"external outside file", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "model.onnx_data"), make([]byte, 20), 0o644)
		}, "lies outside the file"},
		{"external missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "model.onnx_data"))
		}, "model.onnx_data"},
		{"absolute location", func(t *testing.T, dir string) { setLocation(t, dir, "/etc/passwd") }, "absolute path"},
		{"dotdot location", func(t *testing.T, dir string) { setLocation(t, dir, "../x.bin") }, "leaves the model folder"},
		{"link leaving folder", func(t *testing.T, dir string) {
			outside := filepath.Join(t.TempDir(), "secret.bin")
			os.WriteFile(outside, make([]byte, 64), 0o644)
			os.Symlink(outside, filepath.Join(dir, "link.bin"))
			setLocation(t, dir, "link.bin")
		}, "link that leaves"},
		{"negative offset", func(t *testing.T, dir string) { setExternal(t, dir, "offset", "-4") }, "non-negative"},
		{"overflowing length", func(t *testing.T, dir string) { setExternal(t, dir, "length", "9223372036854775807") }, "outside the file"},
		{"negative dim", func(t *testing.T, dir string) {
			editModel(t, dir, func(m *ModelProto) { m.Graph.Initializer[0].Dims = []int64{-2, 2} })
		}, "negative dimension"},
		{"overflowing dims", func(t *testing.T, dir string) {
			editModel(t, dir, func(m *ModelProto) { m.Graph.Initializer[0].Dims = []int64{1 << 40, 1 << 40} })
		}, "too many elements"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			tinyModel(t, dir, true)
			c.edit(t, dir)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want one containing %q", err, c.want)
			}
		})
	}
}

func editModel(t *testing.T, dir string, f func(m *ModelProto)) {
	b, _ := os.ReadFile(filepath.Join(dir, "model.onnx"))
	m := &ModelProto{}
	if err := proto.Unmarshal(b, m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, _ = proto.Marshal(m)
	os.WriteFile(filepath.Join(dir, "model.onnx"), b, 0o644)
}

func setExternal(t *testing.T, dir, key, value string) {
	editModel(t, dir, func(m *ModelProto) {
		for _, kv := range m.Graph.Initializer[0].ExternalData {
			if kv.GetKey() == key {
				kv.Value = s(value)
			}
		}
	})
}

func setLocation(t *testing.T, dir, loc string) { setExternal(t, dir, "location", loc) }

func TestTensorRoundTrip(t *testing.T) {
	ts := []*tensor.Tensor{
		tensor.New([]int{2, 3}, []float32{1, -2, 3.5, 0, 1e-8, 7}),
		tensor.New([]int{3}, []float64{1, 2, 3}),
		tensor.New([]int{2}, []int64{-1, 1 << 40}),
		tensor.New([]int{2}, []int32{-1, 5}),
		tensor.New([]int{3}, []bool{true, false, true}),
		tensor.New([]int{}, []float32{2.5}),
	}
	for _, x := range ts {
		p, err := FromTensor("x", x)
		if err != nil {
			t.Fatal(err)
		}
		y, err := ToTensor(p)
		if err != nil {
			t.Fatal(err)
		}
		if y.String() != x.String() {
			t.Fatalf("%v became %v", x, y)
		}
	}
	// raw data of the wrong length
	p, _ := FromTensor("x", ts[0])
	p.RawData = p.RawData[:5]
	if _, err := ToTensor(p); err == nil || !strings.Contains(err.Error(), "raw_data holds 5 bytes") {
		t.Fatalf("got %v", err)
	}
}

func TestHalf(t *testing.T) {
	for bits, want := range map[uint16]float32{0x3c00: 1, 0xc000: -2, 0x0001: 5.9604645e-08, 0x7bff: 65504, 0x0000: 0} {
		if got := halfToFloat(bits); got != want {
			t.Errorf("half %#04x = %v, want %v", bits, got, want)
		}
	}
}
