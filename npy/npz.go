package npy

import (
	"archive/zip"
	"bytes"
	"fmt"
	"io"
	"strings"

	"ft/internal/fileio"
	"ft/tensor"
)

// Array is one named array of an .npz archive.
type Array struct {
	Name   string
	Tensor *tensor.Tensor
}

// ReadNPZFile reads every array of an .npz archive (numpy.savez or
// numpy.savez_compressed), in archive order. The path must be, or link to,
// a regular file (see fileio.Open). Errors name the file and entry.
func ReadNPZFile(path string) ([]Array, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	arrs, err := ReadNPZ(f, st.Size())
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return arrs, nil
}

// ReadNPZ reads every array of an .npz archive of the given size. Entry
// "name.npy" becomes array "name", as numpy.load names them.
func ReadNPZ(r io.ReaderAt, size int64) ([]Array, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, fmt.Errorf("not an .npz archive: %v", err)
	}
	var arrs []Array
	seen := map[string]bool{}
	for _, f := range z.File {
		if strings.HasSuffix(f.Name, "/") {
			continue // a directory entry
		}
		name, ok := strings.CutSuffix(f.Name, ".npy")
		if !ok {
			return nil, fmt.Errorf("entry %q is not a .npy array", f.Name)
		}
		if seen[name] {
			return nil, fmt.Errorf("entry %q appears twice", f.Name)
		}
		seen[name] = true
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %v", f.Name, err)
		}
		t, err := Read(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("entry %q: %w", f.Name, err)
		}
		arrs = append(arrs, Array{Name: name, Tensor: t})
	}
	return arrs, nil
}

// WriteNPZ writes the arrays as an .npz archive that numpy.load reads: one
// "name.npy" entry per array, stored (numpy.savez) or deflated
// (numpy.savez_compressed).
func WriteNPZ(w io.Writer, arrs []Array, compress bool) error {
	z := zip.NewWriter(w)
	seen := map[string]bool{}
	method := zip.Store
	if compress {
		method = zip.Deflate
	}
	for _, a := range arrs {
		if a.Name == "" {
			return fmt.Errorf("an array has no name")
		}
		if seen[a.Name] {
			return fmt.Errorf("array %q appears twice", a.Name)
		}
		seen[a.Name] = true
		b, err := Encode(a.Tensor)
		if err != nil {
			return fmt.Errorf("array %q: %w", a.Name, err)
		}
		fw, err := z.CreateHeader(&zip.FileHeader{Name: a.Name + ".npy", Method: method})
		if err != nil {
			return err
		}
		if _, err := fw.Write(b); err != nil {
			return err
		}
	}
	return z.Close()
}

// EncodeNPZ returns the bytes of WriteNPZ (for an atomic file write).
func EncodeNPZ(arrs []Array, compress bool) ([]byte, error) {
	var b bytes.Buffer
	if err := WriteNPZ(&b, arrs, compress); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
