package onnx

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// externalFolder makes a model folder with external data files, links that
// stay inside and links that leave it, and a secret file outside it.
func externalFolder(f *testing.F) (dir string, secret []byte) {
	root := f.TempDir()
	dir = filepath.Join(root, "model")
	outside := filepath.Join(root, "outside")
	for _, d := range []string{dir, outside, filepath.Join(dir, "sub")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			f.Fatal(err)
		}
	}
	secret = bytes.Repeat([]byte("SECRET!!"), 8)
	data := make([]byte, 64)
	for i := range data {
		data[i] = byte(i)
	}
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(outside, "secret.bin"), secret, 0o644))
	must(os.WriteFile(filepath.Join(dir, "model.onnx_data"), data, 0o644))
	must(os.WriteFile(filepath.Join(dir, "sub", "w.bin"), data[:16], 0o644))
	must(os.Symlink(filepath.Join(outside, "secret.bin"), filepath.Join(dir, "link.bin")))
	must(os.Symlink(outside, filepath.Join(dir, "linkdir")))
	must(os.Symlink("model.onnx_data", filepath.Join(dir, "inner.bin")))
	must(os.Symlink("../outside/secret.bin", filepath.Join(dir, "sub", "rel.bin")))
	must(os.Symlink("loop", filepath.Join(dir, "loop")))
	return dir, secret
}

// FuzzExternalData: any external data reference (location, offset, length,
// shape, type) either fails with an error or reads bytes from a file inside
// the model folder, never from outside it, and never panics.
func FuzzExternalData(f *testing.F) {
	dir, secret := externalFolder(f)
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		f.Fatal(err)
	}
	f.Add("model.onnx_data", "16", "16", int64(2), int64(2), int32(TensorProto_FLOAT))
	f.Add("../../etc/passwd", "0", "", int64(4), int64(1), int32(TensorProto_FLOAT))
	f.Add("/etc/passwd", "0", "8", int64(2), int64(1), int32(TensorProto_INT32))
	f.Add("link.bin", "0", "16", int64(2), int64(2), int32(TensorProto_FLOAT))
	f.Add("linkdir/secret.bin", "0", "64", int64(8), int64(1), int32(TensorProto_DOUBLE))
	f.Add("sub/rel.bin", "0", "", int64(16), int64(1), int32(TensorProto_FLOAT))
	f.Add("inner.bin", "8", "8", int64(1), int64(1), int32(TensorProto_INT64))
	f.Add("sub/w.bin", "0", "", int64(16), int64(1), int32(TensorProto_UINT8))
	f.Add("sub/../model.onnx_data", "0", "4", int64(2), int64(2), int32(TensorProto_FLOAT16))
	f.Add(`sub\..\..\outside\secret.bin`, "0", "", int64(64), int64(1), int32(TensorProto_BOOL))
	f.Add("loop", "0", "", int64(1), int64(1), int32(TensorProto_INT8))
	f.Add("model.onnx_data", "9223372036854775807", "1", int64(1), int64(1), int32(TensorProto_UINT8))
	f.Add("model.onnx_data", "1", "18446744073709551615", int64(-1), int64(1), int32(TensorProto_FLOAT))
	f.Add("model.onnx_data", "0", "", int64(1<<40), int64(1<<40), int32(TensorProto_STRING))
	f.Fuzz(func(t *testing.T, loc, offset, length string, d0, d1 int64, dtype int32) {
		w := &TensorProto{Name: s("W"), Dims: []int64{d0, d1}, DataType: &dtype,
			DataLocation: TensorProto_EXTERNAL.Enum(),
			ExternalData: []*StringStringEntryProto{{Key: s("location"), Value: s(loc)}, {Key: s("offset"), Value: s(offset)}}}
		if length != "" {
			w.ExternalData = append(w.ExternalData, &StringStringEntryProto{Key: s("length"), Value: s(length)})
		}
		m := &Model{Proto: &ModelProto{Graph: &GraphProto{Initializer: []*TensorProto{w}}}, Dir: dir}
		if p, err := resolveLocation(dir, loc); err == nil {
			// "." names the folder itself: refused later as not a regular file
			if p != realDir && !strings.HasPrefix(p, realDir+string(filepath.Separator)) {
				t.Fatalf("location %q resolved to %s, outside %s", loc, p, realDir)
			}
		}
		if err := m.checkExternal(); err != nil {
			return
		}
		raw, err := m.ReadExternal(w)
		if err != nil {
			return
		}
		if len(raw) >= 4 && bytes.Contains(secret, raw) {
			t.Fatalf("location %q read the secret file outside the folder", loc)
		}
		m.Tensor(w)
	})
}
