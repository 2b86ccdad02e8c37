// Package fileio opens, reads and writes the files ft is given or makes:
// models, external data, checkpoints, tokenizer and configuration files.
//
// Reading refuses anything but a regular file (or a link to one) before it
// opens it, so a named pipe never blocks, a device such as /dev/zero is
// never read until memory runs out, and a folder gets a clear error; and it
// reads at most a limit sized from the memory limit (tensor.MemoryLimit),
// the same limit that writing checks. Writing is atomic: a temporary file
// in the same folder, synced, renamed over the target, and the folder
// synced, so a crash never leaves a half-written file under the final name.
package fileio

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"ft/tensor"
)

// Limit is the largest file ReadFile reads: the memory limit
// (tensor.MemoryLimit, FT_MEMORY_LIMIT), 0 for none.
func Limit() int64 {
	return tensor.MemoryLimit()
}

// kind names a file mode that is not a regular file.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a folder"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m&fs.ModeIrregular != 0:
		return "an irregular file"
	}
	return "not a regular file"
}

// NotRegularError is the error for a path that is not a regular file and
// does not link to one.
type NotRegularError struct {
	Path string
	Mode fs.FileMode // of the file the path leads to
	Link bool        // the path is a symbolic link
}

func (e *NotRegularError) Error() string {
	if e.Link {
		return fmt.Sprintf("%s is a link to %s, not to a regular file", e.Path, kind(e.Mode))
	}
	return fmt.Sprintf("%s is %s, not a regular file", e.Path, kind(e.Mode))
}

// Stat returns the information of the file path leads to, or an error when
// that is not a regular file. It never opens the path.
func Stat(path string) (fs.FileInfo, error) {
	lst, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	st := lst
	link := lst.Mode()&fs.ModeSymlink != 0
	if link {
		if st, err = os.Stat(path); err != nil {
			return nil, err
		}
	}
	if !st.Mode().IsRegular() {
		return nil, &NotRegularError{Path: path, Mode: st.Mode(), Link: link}
	}
	return st, nil
}

// Open opens path for reading if it is, or links to, a regular file. The
// type is checked before opening, and the open does not block (O_NONBLOCK)
// should the path be swapped for a named pipe in between; the file opened
// is checked again.
func Open(path string) (*os.File, error) {
	st, err := Stat(path)
	if err != nil {
		return nil, err
	}
	return openRegular(path, os.O_RDONLY, st)
}

// openRegular opens path with flag (and O_NONBLOCK) and returns the file if
// it is a regular file, and the same file as st where st is not nil.
func openRegular(path string, flag int, st fs.FileInfo) (*os.File, error) {
	f, err := os.OpenFile(path, flag|oNonblock, 0o644)
	if err != nil {
		return nil, err
	}
	fst, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fst.Mode().IsRegular() || (st != nil && !os.SameFile(st, fst)) {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: fst.Mode()}
	}
	return f, nil
}

// OpenAppend opens path for reading and appending, creating it (mode 0644)
// when missing. A path that exists must be, or link to, a regular file: a
// named pipe would block or a device swallow what is written. The open does
// not block, and the file opened is checked again.
func OpenAppend(path string) (*os.File, error) {
	if _, err := Stat(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return openRegular(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, nil)
}

// TooLargeError is the error for a file above the read limit.
type TooLargeError struct {
	Path   string
	Size   int64 // -1: unknown (grew while read)
	Limit  int64
	Memory bool // the limit is the memory limit
}

func (e *TooLargeError) Error() string {
	size := "more than " + tensor.FormatBytes(e.Limit)
	if e.Size >= 0 {
		size = tensor.FormatBytes(e.Size)
	}
	if !e.Memory {
		return fmt.Sprintf("%s is %s, above the limit of %s", e.Path, size, tensor.FormatBytes(e.Limit))
	}
	return fmt.Sprintf("%s is %s, above the memory limit of %s (set %s to change it)", e.Path, size, tensor.FormatBytes(e.Limit), tensor.MemoryLimitEnv)
}

// ReadFile reads a whole regular file (see Open) of at most limit bytes
// (0: the memory limit, Limit()). A file that is larger, or grows past the limit while it is
// read, gets a *TooLargeError.
func ReadFile(path string, limit int64) ([]byte, error) {
	memory := limit <= 0
	if memory {
		limit = Limit()
	}
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if limit > 0 && st.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Limit: limit, Memory: memory}
	}
	// The size is a hint (a file may grow, and some report 0): read to
	// the end, never past limit.
	buf := make([]byte, 0, st.Size()+512)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := f.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if limit > 0 && int64(len(buf)) > limit {
			return nil, &TooLargeError{Path: path, Size: -1, Limit: limit, Memory: memory}
		}
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// WriteAtomic writes path through write: into a temporary file in the same
// folder (made if missing), buffered, then flushed, synced, closed, renamed
// over path, and the folder synced. On any error the temporary file is
// removed and path is left as it was. The file gets mode 0644.
func WriteAtomic(path string, write func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	name := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600 files
		return err
	}
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := write(bw); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	return syncDir(dir)
}

// WriteFile writes data to path atomically (see WriteAtomic).
func WriteFile(path string, data []byte) error {
	return WriteAtomic(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
