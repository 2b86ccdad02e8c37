//go:build unix

package fileio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"ft/internal/fileio/fileiotest"
	"ft/tensor"
)

// TestReadRefusesSpecialFiles: a named pipe, a link to /dev/zero, a folder
// and a link to a folder are refused with an error naming the path and
// what it is, before anything is read (the pipe has no writer: opening or
// reading it would block for ever).
func TestReadRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "model.onnx")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	mustLink := func(target, name string) string {
		p := filepath.Join(dir, name)
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	sub := filepath.Join(dir, "sub")
	os.Mkdir(sub, 0o755)
	cases := []struct {
		path string
		want string
	}{
		{fifo, "is a named pipe (FIFO), not a regular file"},
		{mustLink(fifo, "linked-fifo"), "is a link to a named pipe (FIFO)"},
		{mustLink("/dev/zero", "zero"), "is a link to a character device"},
		{sub, "is a folder, not a regular file"},
		{mustLink(sub, "linked-dir"), "is a link to a folder"},
	}
	for _, c := range cases {
		done := make(chan error, 1)
		go func() {
			_, err := ReadFile(c.path, 0)
			done <- err
		}()
		select {
		case err := <-done:
			var nr *NotRegularError
			if !errors.As(err, &nr) || !strings.Contains(err.Error(), c.path) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("ReadFile(%s) = %v, want an error naming it and containing %q", c.path, err, c.want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("ReadFile(%s) blocked", c.path)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "config.json")
	if err := os.WriteFile(p, []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, link} {
		b, err := ReadFile(path, 10)
		if err != nil || string(b) != "0123456789" {
			t.Errorf("ReadFile(%s, 10) = %q, %v", path, b, err)
		}
		_, err = ReadFile(path, 9)
		var tl *TooLargeError
		if !errors.As(err, &tl) || tl.Size != 10 || tl.Limit != 9 || !strings.Contains(err.Error(), "above the limit of 9 B") {
			t.Errorf("ReadFile(%s, 9) = %v, want a TooLargeError of 10 bytes over 9", path, err)
		}
	}
	defer tensor.SetMemoryLimit(tensor.SetMemoryLimit(8))
	if _, err := ReadFile(p, 0); err == nil || !strings.Contains(err.Error(), "above the memory limit of 8 B (set FT_MEMORY_LIMIT") {
		t.Errorf("ReadFile(%s, 0) with a memory limit of 8 B: %v", p, err)
	}
	if _, err := ReadFile(filepath.Join(dir, "missing"), 0); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// a file that reports size 0 but holds more (as /proc files do) is
	// still bounded by the limit
	if _, err := os.Stat("/proc/self/status"); err == nil {
		var tl *TooLargeError
		if _, err := ReadFile("/proc/self/status", 16); !errors.As(err, &tl) || tl.Size != -1 {
			t.Errorf("/proc/self/status with limit 16: %v", err)
		}
	}
}

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "out.bin")
	if err := WriteFile(p, []byte("first")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Fatalf("stat: %v %v", st, err)
	}
	// A failing write leaves the old content and no temporary file.
	boom := errors.New("disk full")
	err = WriteAtomic(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Fatalf("content after a failed write: %q", b)
	}
	if err := WriteFile(p, []byte("second")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "second" {
		t.Fatalf("content: %q", b)
	}
	ents, _ := os.ReadDir(filepath.Dir(p))
	if len(ents) != 1 {
		t.Fatalf("folder holds %d files, want 1 (temporary files left behind?)", len(ents))
	}
}

// TestOpenAppend: a missing file is created, an existing one appended to;
// a named pipe (which would block a writer-less open for reading and
// writing on some systems, and take the records nowhere) and a link to
// /dev/zero are refused with an error naming the path.
func TestOpenAppend(t *testing.T) {
	p := filepath.Join(t.TempDir(), "log.jsonl")
	for _, s := range []string{"a\n", "b\n"} {
		f, err := OpenAppend(p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteString(s); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "a\nb\n" {
		t.Fatalf("got %q, %v; want \"a\\nb\\n\"", b, err)
	}
	for _, s := range fileiotest.Specials(t, "log.jsonl") {
		fileiotest.Refuses(t, "OpenAppend", s, func() error {
			f, err := OpenAppend(s.Path)
			if err == nil {
				f.Close()
			}
			return err
		})
	}
}
