package checkpoint

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"ft/tensor"
)

// FuzzDecode: any bytes given as a checkpoint either fail with an error or
// decode to tensors that write and read back unchanged; never a panic, and
// never an allocation larger than the stream's own content.
func FuzzDecode(f *testing.F) {
	base := map[string]*tensor.Tensor{"w": tensor.New([]int{2, 2}, []float32{1, 2, 3, 4})}
	baseOf := func(name string) *tensor.Tensor { return base[name] }
	for i, file := range []*File{
		{Tensors: []Tensor{
			{"b", tensor.New([]int{3}, []float64{1, -2, 0.5})},
			{"n", tensor.New([]int{2}, []int64{-1, 1 << 40})},
			{"i", tensor.New([]int{1}, []int32{7})},
			{"e", tensor.New([]int{0, 4}, []float32{})},
			{"s", tensor.New([]int{}, []float32{3.5})},
		}},
		{Tensors: []Tensor{{"w", tensor.New([]int{2, 2}, []float32{1, 2, 3, 5})}}, Meta: map[string]string{"step": "3"}},
		{},
	} {
		var buf bytes.Buffer
		opt := Options{}
		if i == 1 {
			opt.Base = baseOf
		}
		if err := Encode(&buf, file, opt); err != nil {
			f.Fatal(err)
		}
		f.Add(buf.Bytes(), i == 1)
		b := buf.Bytes()
		f.Add(b[:len(b)/2], false)
	}
	f.Fuzz(func(t *testing.T, data []byte, withBase bool) {
		// A hang is a failure too: crash the worker so the input is kept.
		watchdog := time.AfterFunc(5*time.Second, func() { panic(fmt.Sprintf("Decode of %d bytes took over 5s", len(data))) })
		defer watchdog.Stop()
		opt := ReadOptions{MaxBytes: 1 << 20}
		if withBase {
			opt.Base = baseOf
		}
		got, err := Decode(bytes.NewReader(data), opt)
		if err != nil {
			return
		}
		for _, x := range got.Tensors {
			if x.T.Len() != tensor.Size(x.T.Shape) {
				t.Fatalf("%s: %d elements for shape %v", x.Name, x.T.Len(), x.T.Shape)
			}
		}
		var buf bytes.Buffer
		if err := Encode(&buf, got, Options{}); err != nil {
			t.Fatalf("decoded checkpoint does not encode: %v", err)
		}
		again, err := Decode(&buf, ReadOptions{})
		if err != nil {
			t.Fatalf("re-encoded checkpoint does not decode: %v", err)
		}
		delete(got.Meta, "encoding") // how each tensor was stored may differ (no base now)
		equalFiles(t, got, again)
	})
}

// TestDecodeDoesNotTrustSize: a small file whose header claims 8 GiB of
// tensor data fails as truncated without allocating the 8 GiB.
func TestDecodeDoesNotTrustSize(t *testing.T) {
	header := `{"__metadata__":{"format":"ft-checkpoint/1"},"a":{"dtype":"F32","shape":[2147483648],"data_offsets":[0,8589934592]}}`
	data := encodeRaw(t, header, make([]byte, 1000))
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(bytes.NewReader(data), ReadOptions{})
	runtime.ReadMemStats(&after)
	if err == nil || !strings.Contains(err.Error(), "truncated (ends inside the tensor data)") {
		t.Fatalf("got %v", err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 256<<20 {
		t.Fatalf("allocated %d MiB for a %d-byte file", got>>20, len(data))
	}
}

// TestEmptyTensorBesideAnother: an empty tensor shares its offset with the
// tensor after it; reading must not depend on which of the two the header's
// (unordered) JSON object gives first. Found by FuzzDecode.
func TestEmptyTensorBesideAnother(t *testing.T) {
	f := &File{Tensors: []Tensor{
		{"i", tensor.New([]int{1}, []int32{7})},
		{"e", tensor.New([]int{0, 4}, []float32{})},
		{"s", tensor.New([]int{}, []float32{3.5})},
		{"z", tensor.New([]int{0}, []int64{})},
	}}
	var buf bytes.Buffer
	if err := Encode(&buf, f, Options{}); err != nil {
		t.Fatal(err)
	}
	for range 100 { // the header's keys are visited in random order each time
		got, err := Decode(bytes.NewReader(buf.Bytes()), ReadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		equalFiles(t, f, got)
	}
}
