//go:build unix

// Package fileiotest makes the special files that every reader of user
// files must refuse (a named pipe, a link to /dev/zero) and checks that a
// reader refuses them with a clear error instead of blocking or reading
// for ever. For tests only.
package fileiotest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Special is a special file made under the name a reader looks for.
type Special struct {
	Kind string // "fifo" or "/dev/zero link"
	Dir  string // a fresh folder that holds it
	Path string // Dir/name
	Want string // what the error says the file is
}

// Specials makes, each in a fresh folder of its own, a named pipe with no
// writer and a symbolic link to /dev/zero, both called name (which may
// hold a folder, as "1_Pooling/config.json"). It skips t where named pipes
// cannot be made.
func Specials(t testing.TB, name string) []Special {
	t.Helper()
	fifoDir, zeroDir := t.TempDir(), t.TempDir()
	fifo, zero := filepath.Join(fifoDir, name), filepath.Join(zeroDir, name)
	for _, p := range []string{fifo, zero} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skipf("symlink: %v", err)
	}
	return []Special{
		{Kind: "fifo", Dir: fifoDir, Path: fifo, Want: "is a named pipe (FIFO), not a regular file"},
		{Kind: "/dev/zero link", Dir: zeroDir, Path: zero, Want: "is a link to a character device, not to a regular file"},
	}
}

// Refuses runs read (which reads s) and fails t unless it returns, within
// a few seconds, an error that names s.Path and says what it is.
func Refuses(t testing.TB, what string, s Special, read func() error) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- read() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), s.Path) || !strings.Contains(err.Error(), s.Want) {
			t.Errorf("%s on a %s: got %v; want an error naming %s that %s", what, s.Kind, err, s.Path, s.Want)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("%s on a %s: blocked (or read for ever)", what, s.Kind)
	}
}
