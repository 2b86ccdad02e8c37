// Package onnx reads and writes ONNX models: the ModelProto messages (from our
// own onnx.proto, with the IR's field numbers), external data kept inside the
// model's folder, conversion between TensorProto and tensor.Tensor, and the
// builders and helpers that edit a graph (NewNode, ShallowCopy, Initializers,
// Model.SetInitializer).
package onnx

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"google.golang.org/protobuf/proto"

	"ft/internal/fileio"
	"ft/tensor"
)

// Model is a loaded ONNX model and the folder its external data lives in.
type Model struct {
	Proto *ModelProto
	// Path is the .onnx file the model was read from ("" if built in memory).
	Path string
	// Dir is the folder that external data locations are resolved in.
	Dir string
}

// DefaultFile is the model file name inside a Hugging Face export folder.
const DefaultFile = "model.onnx"

// Load reads a model from a .onnx file or from an export folder holding
// model.onnx (plus any external data files). External tensors are checked —
// location inside the folder, offset and length inside the file — but read
// only when used (see TensorData).
func Load(path string) (*Model, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	if st.IsDir() {
		p := filepath.Join(path, DefaultFile)
		if _, err := os.Stat(p); err != nil {
			cands, _ := filepath.Glob(filepath.Join(path, "*.onnx"))
			if len(cands) != 1 {
				return nil, fmt.Errorf("load model: folder %s has no %s (found %d .onnx files; pass the file instead)", path, DefaultFile, len(cands))
			}
			p = cands[0]
		}
		path = p
	}
	// a regular file, no larger than protobuf (and Save) allows
	b, err := fileio.ReadFile(path, MaxProtoBytes)
	if err != nil {
		return nil, fmt.Errorf("load model: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	m.Path = path
	m.Dir = filepath.Dir(path)
	if err := m.checkExternal(); err != nil {
		return nil, fmt.Errorf("load model %s: %w", path, err)
	}
	return m, nil
}

// Parse decodes a serialized ModelProto (no external data folder).
func Parse(b []byte) (*Model, error) {
	mp := &ModelProto{}
	if err := proto.Unmarshal(b, mp); err != nil {
		return nil, fmt.Errorf("not a valid ONNX model (truncated or corrupt protobuf): %w", err)
	}
	if mp.Graph == nil {
		return nil, errors.New("not a valid ONNX model: no graph")
	}
	return &Model{Proto: mp}, nil
}

// Opset returns the model's opset version for a domain ("" or "ai.onnx" for
// the default domain), or 0 if the model does not import it.
func (m *Model) Opset(domain string) int {
	for _, o := range m.Proto.OpsetImport {
		d := o.GetDomain()
		if d == "ai.onnx" {
			d = ""
		}
		if domain == "ai.onnx" {
			domain = ""
		}
		if d == domain {
			return int(o.GetVersion())
		}
	}
	return 0
}

// AllTensors returns every TensorProto of the model: initializers and tensor
// attributes, in the main graph and in subgraphs.
func (m *Model) AllTensors() []*TensorProto {
	var r []*TensorProto
	var walk func(g *GraphProto)
	walkAttr := func(a *AttributeProto) {
		if a.T != nil {
			r = append(r, a.T)
		}
		r = append(r, a.Tensors...)
		if a.G != nil {
			walk(a.G)
		}
		for _, g := range a.Graphs {
			walk(g)
		}
	}
	walk = func(g *GraphProto) {
		r = append(r, g.Initializer...)
		for _, n := range g.Node {
			for _, a := range n.Attribute {
				walkAttr(a)
			}
		}
	}
	walk(m.Proto.Graph)
	return r
}

// ExternalInfo is the parsed external_data of a tensor.
type ExternalInfo struct {
	Location string
	Offset   int64
	Length   int64 // -1: to the end of the file
}

// External returns the external data reference of t, if it has one.
func External(t *TensorProto) (ExternalInfo, bool, error) {
	if t.GetDataLocation() != TensorProto_EXTERNAL {
		return ExternalInfo{}, false, nil
	}
	info := ExternalInfo{Length: -1}
	for _, kv := range t.ExternalData {
		switch kv.GetKey() {
		case "location":
			info.Location = kv.GetValue()
		case "offset", "length":
			v, err := strconv.ParseInt(kv.GetValue(), 10, 64)
			if err != nil || v < 0 {
				return info, true, fmt.Errorf("tensor %q: external data %s %q is not a non-negative integer", t.GetName(), kv.GetKey(), kv.GetValue())
			}
			if kv.GetKey() == "offset" {
				info.Offset = v
			} else {
				info.Length = v
			}
		}
	}
	if info.Location == "" {
		return info, true, fmt.Errorf("tensor %q: external data has no location", t.GetName())
	}
	return info, true, nil
}

// resolveLocation maps an external data location to a file inside dir,
// refusing absolute paths, ".." and links that leave the folder.
func resolveLocation(dir, loc string) (string, error) {
	if dir == "" {
		return "", fmt.Errorf("external data %q: the model was not read from a folder", loc)
	}
	if _, err := resolveLocationName(loc); err != nil {
		return "", err
	}
	p := filepath.Join(dir, filepath.FromSlash(loc))
	realDir, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return "", fmt.Errorf("external data %q: %w", loc, err)
	}
	realP, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", fmt.Errorf("external data file %q of the model folder: %w", loc, err)
	}
	rel, err := filepath.Rel(realDir, realP)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("external data location %q is a link that leaves the model folder", loc)
	}
	return realP, nil
}

func (m *Model) checkExternal() error {
	sizes := map[string]int64{}
	for _, t := range m.AllTensors() {
		info, ok, err := External(t)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		p, err := resolveLocation(m.Dir, info.Location)
		if err != nil {
			return fmt.Errorf("tensor %q: %w", t.GetName(), err)
		}
		size, seen := sizes[p]
		if !seen {
			st, err := fileio.Stat(p)
			if err != nil {
				return fmt.Errorf("tensor %q: external data %q: %w", t.GetName(), info.Location, err)
			}
			size = st.Size()
			sizes[p] = size
		}
		length := info.Length
		if length < 0 {
			length = size - info.Offset
		}
		if info.Offset > size || length < 0 || info.Offset+length > size || info.Offset+length < info.Offset {
			return fmt.Errorf("tensor %q: external data %q offset %d length %d lies outside the file (%d bytes)", t.GetName(), info.Location, info.Offset, info.Length, size)
		}
		want, err := byteSize(t)
		if err != nil {
			return err
		}
		if shape, err := CheckShape(t.Dims); err == nil && elemSize(t.GetDataType()) > 0 {
			if err := checkLimit(t, shape); err != nil {
				return err
			}
		}
		if want >= 0 && want != length {
			return fmt.Errorf("tensor %q: external data holds %d bytes, its shape %v and type need %d", t.GetName(), length, t.Dims, want)
		}
	}
	return nil
}

// ReadExternal returns the raw bytes of an external tensor.
func (m *Model) ReadExternal(t *TensorProto) ([]byte, error) {
	info, ok, err := External(t)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("tensor %q has no external data", t.GetName())
	}
	p, err := resolveLocation(m.Dir, info.Location)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: %w", t.GetName(), err)
	}
	f, err := fileio.Open(p)
	if err != nil {
		return nil, fmt.Errorf("tensor %q: external data %q: %w", t.GetName(), info.Location, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	length := info.Length
	if length < 0 {
		length = st.Size() - info.Offset
	}
	if info.Offset+length > st.Size() || length < 0 {
		return nil, fmt.Errorf("tensor %q: external data %q offset %d length %d lies outside the file (%d bytes)", t.GetName(), info.Location, info.Offset, length, st.Size())
	}
	b := make([]byte, length)
	if _, err := f.ReadAt(b, info.Offset); err != nil && !(errors.Is(err, io.EOF) && length == 0) {
		return nil, fmt.Errorf("tensor %q: reading %s: %w", t.GetName(), info.Location, err)
	}
	return b, nil
}

// Tensor converts a TensorProto of this model (external data included) to a tensor.
func (m *Model) Tensor(t *TensorProto) (*tensor.Tensor, error) {
	if t.GetDataLocation() == TensorProto_EXTERNAL {
		raw, err := m.ReadExternal(t)
		if err != nil {
			return nil, err
		}
		c := proto.Clone(t).(*TensorProto)
		c.ExternalData = nil
		c.DataLocation = nil
		c.RawData = raw
		return ToTensor(c)
	}
	return ToTensor(t)
}

// savePath is the file a save to path writes: path itself, or
// path/model.onnx when path is a folder.
func savePath(path string) string {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return filepath.Join(path, DefaultFile)
	}
	return path
}

// Save writes the model to path (a .onnx file, or a folder that gets
// model.onnx). Tensors stored as external data are written to files of the
// same location names beside it, each at its original offset, so that
// load → save → load gives equal messages. Files are written atomically.
func (m *Model) Save(path string) error {
	path = savePath(path)
	dir := filepath.Dir(path)
	// Gather the external data per location.
	type piece struct {
		off  int64
		data []byte
	}
	files := map[string][]piece{}
	for _, t := range m.AllTensors() {
		info, ok, err := External(t)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if _, err := resolveLocationName(info.Location); err != nil {
			return err
		}
		b, err := m.ReadExternal(t)
		if err != nil {
			return err
		}
		files[info.Location] = append(files[info.Location], piece{info.Offset, b})
	}
	locs := make([]string, 0, len(files))
	for l := range files {
		locs = append(locs, l)
	}
	sort.Strings(locs)
	for _, loc := range locs {
		ps := files[loc]
		var size int64
		for _, p := range ps {
			size = max(size, p.off+int64(len(p.data)))
		}
		buf := make([]byte, size)
		for _, p := range ps {
			copy(buf[p.off:], p.data)
		}
		if err := WriteFileAtomic(filepath.Join(dir, filepath.FromSlash(loc)), buf); err != nil {
			return err
		}
	}
	return writeProto(path, m.Proto)
}

// writeProto serializes a model and writes it atomically, refusing one
// above MaxProtoBytes (which Load would refuse).
func writeProto(path string, mp *ModelProto) error {
	if n := proto.Size(mp); n > MaxProtoBytes {
		return fmt.Errorf("save model %s: %d bytes is over protobuf's 2 GiB limit: save with external data", path, n)
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(mp)
	if err != nil {
		return fmt.Errorf("save model: %w", err)
	}
	return WriteFileAtomic(path, b)
}

// resolveLocationName checks an external data location by its text alone:
// no absolute path, no "..".
func resolveLocationName(loc string) (string, error) {
	if filepath.IsAbs(loc) || strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, `\`) || filepath.VolumeName(loc) != "" {
		return "", fmt.Errorf("external data location %q is an absolute path; it must be a file inside the model folder", loc)
	}
	for _, part := range strings.FieldsFunc(loc, func(r rune) bool { return r == '/' || r == '\\' }) {
		if part == ".." {
			return "", fmt.Errorf("external data location %q leaves the model folder (..)", loc)
		}
	}
	return loc, nil
}

// WriteFileAtomic writes data to a temporary file in the same folder, syncs it
// and renames it over path, so a reader never sees a half-written file
// (fileio.WriteFile).
func WriteFileAtomic(path string, data []byte) error {
	return fileio.WriteFile(path, data)
}

// CheckShape validates ONNX dims: non-negative, and the element count must
// not overflow.
func CheckShape(dims []int64) ([]int, error) {
	shape := make([]int, len(dims))
	n := int64(1)
	for i, d := range dims {
		if d < 0 {
			return nil, fmt.Errorf("negative dimension %d in shape %v", d, dims)
		}
		if d > 0 && n > math.MaxInt32*int64(256)/d {
			return nil, fmt.Errorf("shape %v has too many elements", dims)
		}
		n *= d
		shape[i] = int(d)
	}
	return shape, nil
}
