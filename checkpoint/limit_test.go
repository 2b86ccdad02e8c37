package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ft/tensor"
)

// TestLimitSameOnBothSides: by default Write, ReadMeta and Read apply one
// limit, the memory limit. A checkpoint whose content is exactly at it is
// written and read back (ReadMeta used to cap at a constant 1 GiB that
// writing did not know); one byte over, Write refuses it before writing
// anything, and reading a checkpoint above it says so.
func TestLimitSameOnBothSides(t *testing.T) {
	dir := t.TempDir()
	mk := func(n int) *File {
		return &File{Tensors: []Tensor{{"w", tensor.New([]int{n}, make([]float32, n))}}, Meta: map[string]string{"k": "v"}}
	}
	// the content's size: 8 + header + data; measure the header once
	big := filepath.Join(dir, "big.ftckpt")
	if err := Write(big, mk(1000), Options{MaxBytes: 1 << 30}); err != nil {
		t.Fatal(err)
	}
	content := contentSize(t, big)
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(content))

	at := filepath.Join(dir, "at.ftckpt")
	if err := Write(at, mk(1000), Options{}); err != nil {
		t.Fatalf("content at the limit refused: %v", err)
	}
	if _, names, err := ReadMeta(at); err != nil || len(names) != 1 {
		t.Fatalf("ReadMeta at the limit: %v %v", names, err)
	}
	if _, err := Read(at, ReadOptions{}); err != nil {
		t.Fatalf("Read at the limit: %v", err)
	}

	over := filepath.Join(dir, "over.ftckpt")
	err := Write(over, mk(1001), Options{})
	var le *LimitError
	if !errors.As(err, &le) || le.Limit != content || !strings.Contains(err.Error(), "FT_MEMORY_LIMIT") {
		t.Fatalf("Write over the limit: %v", err)
	}
	if _, err := os.Stat(over); !os.IsNotExist(err) {
		t.Fatalf("a refused checkpoint left a file: %v", err)
	}
	// big.ftckpt holds 1000 floats; lower the limit below it
	tensor.SetMemoryLimit(content - 1)
	if _, _, err := ReadMeta(big); !errors.As(err, &le) {
		t.Fatalf("ReadMeta over the limit: %v", err)
	}
	if _, err := Read(big, ReadOptions{}); !errors.As(err, &le) {
		t.Fatalf("Read over the limit: %v", err)
	}
	// an explicit MaxBytes overrides the default on both sides
	if _, _, err := ReadMetaWith(big, ReadOptions{MaxBytes: content}); err != nil {
		t.Fatal(err)
	}
}

// contentSize is the decoded size of a checkpoint's content.
func contentSize(t *testing.T, path string) int64 {
	t.Helper()
	fh, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	zr, err := newReader(fh, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var n int64
	buf := make([]byte, 1<<16)
	for {
		k, err := zr.Read(buf)
		n += int64(k)
		if err != nil {
			return n
		}
	}
}

// TestSpecialFilesRefused: a named pipe as a checkpoint is refused at once
// (it used to block for ever), and a link to a file that is not a
// checkpoint gets an error that does not show that file's bytes.
func TestSpecialFilesRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "checkpoint-1.ftckpt")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	secret := filepath.Join(dir, "secret")
	os.WriteFile(secret, []byte("root:x:0:0"), 0o600)
	link := filepath.Join(dir, "checkpoint-2.ftckpt")
	os.Symlink(secret, link)
	zero := filepath.Join(dir, "checkpoint-3.ftckpt")
	os.Symlink("/dev/zero", zero)
	for _, c := range []struct{ path, want string }{
		{fifo, "named pipe"},
		{zero, "character device"},
		{link, "not an ft checkpoint"},
	} {
		done := make(chan [2]error, 1)
		go func() {
			_, _, e1 := ReadMeta(c.path)
			_, e2 := Read(c.path, ReadOptions{})
			done <- [2]error{e1, e2}
		}()
		select {
		case errs := <-done:
			for _, err := range errs {
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v, want %q", c.path, err, c.want)
				}
				if err != nil && (strings.Contains(err.Error(), "72 6f 6f 74") || strings.Contains(err.Error(), "root")) {
					t.Errorf("%s: the error shows the linked file's bytes: %v", c.path, err)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: reading blocked", c.path)
		}
	}
}

// TestLargeCheckpoint (FT_BIG_TESTS=1): a checkpoint of a 300M-parameter
// model with AdamW's two slots (900M float32, 3.6 GB of content, over the
// 1 GiB that ReadMeta used to allow) is written and its header read back.
// The tensors are zeros (cheap to hold and to compress). It is then read
// back whole (5 GB of memory).
func TestLargeCheckpoint(t *testing.T) {
	if os.Getenv("FT_BIG_TESTS") == "" {
		t.Skip("set FT_BIG_TESTS=1: writes a checkpoint of 3.6 GB content (about 15 s, 300 MB of memory) and reads it back (30 s, 5 GB)")
	}
	const params, chunk = 300_000_000, 10_000_000
	w := tensor.New([]int{chunk}, make([]float32, chunk))
	f := &File{Meta: map[string]string{"state": `{"step":1}`}}
	for i := range params / chunk {
		for _, pre := range []string{"", "optim.m.", "optim.v."} {
			f.Tensors = append(f.Tensors, Tensor{pre + "layer" + string(rune('A'+i/26)) + string(rune('a'+i%26)), w})
		}
	}
	path := filepath.Join(t.TempDir(), "checkpoint-1.ftckpt")
	start := time.Now()
	if err := Write(path, f, Options{}); err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	t.Logf("wrote %d tensors (%d parameters x 3) in %v: %d bytes on disk", len(f.Tensors), params, time.Since(start), st.Size())
	meta, names, err := ReadMeta(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != len(f.Tensors) || meta["state"] != `{"step":1}` {
		t.Fatalf("ReadMeta: %d names, meta %v", len(names), meta)
	}
	start = time.Now()
	g, err := Read(path, ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("read back in %v", time.Since(start))
	for i, x := range g.Tensors {
		if x.Name != f.Tensors[i].Name || x.T.Len() != chunk {
			t.Fatalf("tensor %d: %s %v", i, x.Name, x.T.Shape)
		}
		for _, v := range x.T.F32() {
			if v != 0 {
				t.Fatalf("%s holds %v", x.Name, v)
			}
		}
	}
}
