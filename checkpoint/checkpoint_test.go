package checkpoint

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"

	"ft/tensor"
)

func sample(r *rand.Rand) *File {
	w := make([]float32, 64*32)
	for i := range w {
		w[i] = float32(r.NormFloat64() * 0.05)
	}
	b := make([]float64, 7)
	for i := range b {
		b[i] = r.NormFloat64()
	}
	return &File{
		Tensors: []Tensor{
			{"encoder.weight", tensor.New([]int{64, 32}, w)},
			{"scalar", tensor.New([]int{}, []float32{3.5})},
			{"f64", tensor.New([]int{7}, b)},
			{"steps", tensor.New([]int{3}, []int64{1, -2, 1 << 40})},
			{"i32", tensor.New([]int{2}, []int32{7, -7})},
			{"empty", tensor.New([]int{0, 4}, []float32{})},
		},
		Meta: map[string]string{"state": `{"step":12}`},
	}
}

func equalFiles(t *testing.T, a, b *File) {
	t.Helper()
	if len(a.Tensors) != len(b.Tensors) {
		t.Fatalf("%d tensors, want %d", len(b.Tensors), len(a.Tensors))
	}
	for _, x := range a.Tensors {
		y := b.Lookup(x.Name)
		if y == nil {
			t.Fatalf("tensor %q missing", x.Name)
		}
		if x.T.DType() != y.DType() || !tensor.SameShape(x.T.Shape, y.Shape) {
			t.Fatalf("%s: %s%v, want %s%v", x.Name, y.DType(), y.Shape, x.T.DType(), x.T.Shape)
		}
		xb, _ := rawBytes(x.T)
		yb, _ := rawBytes(y)
		if !bytes.Equal(xb, yb) {
			t.Fatalf("%s: values differ", x.Name)
		}
	}
	for k, v := range a.Meta {
		if b.Meta[k] != v {
			t.Fatalf("meta %s = %q, want %q", k, b.Meta[k], v)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	f := sample(r)
	// a base close to the values, as a fine-tuned weight is to the pretrained one
	bw := append([]float32(nil), f.Tensors[0].T.F32()...)
	for i := range bw {
		bw[i] += float32(r.NormFloat64() * 1e-4)
	}
	base := map[string]*tensor.Tensor{
		"encoder.weight": tensor.New([]int{64, 32}, bw),
		"f64":            tensor.New([]int{7}, []float64{1, 2, 3, 4, 5, 6, 7}),
		"scalar":         tensor.New([]int{2}, []float32{1, 2}), // other shape: stored plainly
	}
	baseFn := func(n string) *tensor.Tensor { return base[n] }
	for _, tc := range []struct {
		name string
		opt  Options
		enc  string // encoding of encoder.weight
	}{
		{"default", Options{}, "shuffle"},
		{"noshuffle", Options{NoShuffle: true}, ""},
		{"base", Options{Base: baseFn}, "xor+shuffle"},
		{"fastest", Options{Level: zstd.SpeedFastest}, "shuffle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Encode(&buf, f, tc.opt); err != nil {
				t.Fatal(err)
			}
			g, err := Decode(bytes.NewReader(buf.Bytes()), ReadOptions{Base: baseFn})
			if err != nil {
				t.Fatal(err)
			}
			equalFiles(t, f, g)
			if !strings.Contains(g.Meta["encoding"], tc.enc) {
				t.Fatalf("encoding %s, want %s for encoder.weight", g.Meta["encoding"], tc.enc)
			}
			if tc.opt.Base != nil {
				// without the base the XORed tensors cannot be read
				_, err := Decode(bytes.NewReader(buf.Bytes()), ReadOptions{})
				if err == nil || !strings.Contains(err.Error(), "relative to the base model") {
					t.Fatalf("read without base: %v", err)
				}
			}
		})
	}
}

// The decompressed content is a safetensors file: the header of an
// unshuffled checkpoint gives every tensor's raw little-endian bytes.
func TestSafetensorsLayout(t *testing.T) {
	f := &File{Tensors: []Tensor{{"a", tensor.New([]int{2}, []float32{1.5, -2})}, {"b", tensor.New([]int{1}, []int64{9})}}}
	var buf bytes.Buffer
	if err := Encode(&buf, f, Options{NoShuffle: true}); err != nil {
		t.Fatal(err)
	}
	zr, _ := zstd.NewReader(&buf)
	raw, err := zr.DecodeAll(buf.Bytes(), nil)
	if err != nil {
		t.Fatal(err)
	}
	hl := binary.LittleEndian.Uint64(raw)
	if hl%8 != 0 {
		t.Fatalf("header length %d not padded to 8", hl)
	}
	hdr := string(raw[8 : 8+hl])
	for _, want := range []string{`"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}`, `"b":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}`, `"format":"ft-checkpoint/1"`} {
		if !strings.Contains(hdr, want) {
			t.Fatalf("header %s lacks %s", hdr, want)
		}
	}
	data := raw[8+hl:]
	if math.Float32frombits(binary.LittleEndian.Uint32(data[4:])) != -2 || binary.LittleEndian.Uint64(data[8:]) != 9 {
		t.Fatalf("data % x", data)
	}
}

func TestShuffle(t *testing.T) {
	b := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	if s := shuffle(b, 4); !bytes.Equal(s, []byte{1, 5, 2, 6, 3, 7, 4, 8}) {
		t.Fatalf("shuffle % x", s)
	}
	if u := unshuffle(shuffle(b, 4), 4); !bytes.Equal(u, b) {
		t.Fatalf("unshuffle % x", u)
	}
}

func TestDamage(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var buf bytes.Buffer
	if err := Encode(&buf, sample(r), Options{}); err != nil {
		t.Fatal(err)
	}
	good := buf.Bytes()
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		return b
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty file"},
		{"not zstd", []byte("PK\x03\x04 a zip file"), "not an ft checkpoint"},
		{"truncated half", good[:len(good)/2], "corrupt checkpoint"},
		{"truncated end", good[:len(good)-3], "corrupt checkpoint"},
		{"bit flip middle", flip(len(good) / 2), "corrupt checkpoint"},
		{"bit flip near end", flip(len(good) - 6), "corrupt checkpoint"},
		{"trailing garbage", append(append([]byte(nil), good...), 0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3), "corrupt checkpoint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(tc.data), ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

// encodeRaw compresses hand-made safetensors content.
func encodeRaw(t *testing.T, header string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(header)))
	b.Write(n[:])
	b.WriteString(header)
	b.Write(data)
	zw, _ := zstd.NewWriter(nil)
	return zw.EncodeAll(b.Bytes(), nil)
}

func TestBadHeaders(t *testing.T) {
	for _, tc := range []struct {
		name, header string
		data         []byte
		want         string
	}{
		{"not json", `{"a":`, nil, "header is not JSON"},
		{"no format", `{"__metadata__":{}}`, nil, "not an ft checkpoint"},
		{"bad dtype", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, []byte{0}, `unknown dtype "Q8"`},
		{"negative dim", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}`, make([]byte, 4), "bad shape"},
		{"huge dims", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[4294967296,4294967296,16],"data_offsets":[0,4]}}`, make([]byte, 4), "bad shape"},
		{"offsets", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, make([]byte, 4), "do not fit"},
		{"gap", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8), "contiguous"},
		{"missing data", `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}`, make([]byte, 8), "truncated"},
		{"sha", `{"__metadata__":{"format":"ft-checkpoint/1","content_sha256":"00"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4), "content SHA-256"},
		{"unknown encoding", `{"__metadata__":{"format":"ft-checkpoint/1","encoding":"{\"a\":\"lz\"}"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, make([]byte, 4), `unknown encoding "lz"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(bytes.NewReader(encodeRaw(t, tc.header, tc.data)), ReadOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestWrongBase(t *testing.T) {
	f := &File{Tensors: []Tensor{{"w", tensor.New([]int{2, 2}, []float32{1, 2, 3, 4})}}}
	base := tensor.New([]int{2, 2}, []float32{1, 2, 3, 5})
	var buf bytes.Buffer
	if err := Encode(&buf, f, Options{Base: func(string) *tensor.Tensor { return base }}); err != nil {
		t.Fatal(err)
	}
	other := tensor.New([]int{2, 2}, []float32{1, 2, 3, 6})
	_, err := Decode(bytes.NewReader(buf.Bytes()), ReadOptions{Base: func(string) *tensor.Tensor { return other }})
	if err == nil || !strings.Contains(err.Error(), "content SHA-256") {
		t.Fatalf("other base values: %v", err)
	}
	_, err = Decode(bytes.NewReader(buf.Bytes()), ReadOptions{Base: func(string) *tensor.Tensor { return tensor.New([]int{4}, []float32{1, 2, 3, 5}) }})
	if err == nil || !strings.Contains(err.Error(), "not the base this checkpoint was made from") {
		t.Fatalf("other base shape: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint-1.ftckpt")
	r := rand.New(rand.NewPCG(5, 6))
	f := sample(r)
	if err := Write(path, f, Options{}); err != nil {
		t.Fatal(err)
	}
	// a write that fails half way (a tensor type the format refuses comes
	// last) leaves the previous file intact and no temporary behind
	bad := &File{Tensors: append(append([]Tensor{}, f.Tensors...), Tensor{"u8", tensor.New([]int{1}, []uint8{1})})}
	if err := Write(path, bad, Options{}); err == nil {
		t.Fatal("want an error")
	}
	g, err := Read(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	equalFiles(t, f, g)
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("folder holds %d entries, want 1", len(ents))
	}
	meta, names, err := ReadMeta(path)
	if err != nil || meta["state"] != `{"step":12}` || len(names) != len(f.Tensors) {
		t.Fatalf("ReadMeta: %v %v %v", meta, names, err)
	}
	if _, err := Read(filepath.Join(dir, "nope"), ReadOptions{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

// fullDisk fails with ENOSPC once n bytes are written.
type fullDisk struct {
	w io.Writer
	n int
}

func (d *fullDisk) Write(p []byte) (int, error) {
	if len(p) > d.n {
		k, _ := d.w.Write(p[:d.n])
		d.n = 0
		return k, &os.PathError{Op: "write", Path: "checkpoint", Err: syscall.ENOSPC}
	}
	d.n -= len(p)
	return d.w.Write(p)
}

// TestFullDiskKeepsPrevious: a save that fails part way (the disk is full)
// leaves the previous checkpoint of the same name readable and removes its
// temporary file.
func TestFullDiskKeepsPrevious(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "checkpoint-7.ftckpt")
	r := rand.New(rand.NewPCG(7, 8))
	old := sample(r)
	if err := Write(path, old, Options{}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{0, 100, 5000} {
		wrapWriter = func(w io.Writer) io.Writer { return &fullDisk{w, n} }
		err := Write(path, sample(r), Options{})
		wrapWriter = nil
		if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), path) {
			t.Fatalf("after %d bytes: got %v", n, err)
		}
		g, err := Read(path, ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		equalFiles(t, old, g)
		ents, _ := os.ReadDir(dir)
		if len(ents) != 1 {
			t.Fatalf("folder holds %d entries after a failed save, want 1", len(ents))
		}
	}
}
