// Package checkpoint reads and writes ft's compressed checkpoints.
//
// A checkpoint is one file: a zstd stream (with zstd's content checksum)
// whose content is laid out as a safetensors file — an 8-byte little-endian
// header length N, N bytes of header JSON, then the tensors' bytes
// (little-endian, row-major). The header maps each tensor name to
// {"dtype", "shape", "data_offsets"} and "__metadata__" to string pairs:
//
//	format          "ft-checkpoint/1"
//	content_sha256  SHA-256 of the decoded tensors: for each tensor in
//	                header order its name, dtype, shape and bytes
//	encoding        JSON object: tensor name -> "raw", "shuffle" or
//	                "xor+shuffle" (see below; absent = "raw")
//	...             the caller's metadata (training state, configuration)
//
// Two encodings make float tensors compress: "shuffle" stores byte 0 of
// every element, then byte 1, ... (the exponent bytes of neighbouring
// floats are alike, so zstd finds them); "xor+shuffle" first XORs each
// element's bits with the same tensor of a base model (a fine-tuned weight
// keeps the sign, exponent and top mantissa bits of the pretrained one, so
// the XOR is mostly zero bytes). Reading an "xor+shuffle" tensor needs the
// same base tensor; the caller identifies the base model (its SHA-256) in
// the metadata and must check it before reading.
//
// Files are written to a temporary file in the same folder, synced and
// renamed, so a crash never leaves a half-written checkpoint under the
// final name.
//
// Writing refuses what reading would refuse, so every checkpoint ft writes
// can be read back on the same machine: each tensor must fit the memory
// limit that model tensors are held to (tensor.CheckAlloc, FT_MEMORY_LIMIT),
// and the whole decoded content (header and tensor bytes, held in memory
// when read) the memory the process may use (Limit).
package checkpoint

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"math"
	"sort"

	"github.com/klauspost/compress/zstd"

	"ft/internal/fileio"
	"ft/tensor"
)

// Format is the value of the "format" metadata key.
const Format = "ft-checkpoint/1"

// Tensor is a named tensor of a checkpoint.
type Tensor struct {
	Name string
	T    *tensor.Tensor
}

// File is a checkpoint's content: tensors in order and string metadata.
type File struct {
	Tensors []Tensor
	Meta    map[string]string
}

// Lookup returns the tensor of that name (nil if absent).
func (f *File) Lookup(name string) *tensor.Tensor {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t.T
		}
	}
	return nil
}

// Options control writing.
type Options struct {
	// Base, when set, gives a base model's value of a tensor (nil if none);
	// float tensors with a base of the same dtype and shape are stored XORed
	// with it.
	Base func(name string) *tensor.Tensor
	// Level is the zstd level (default zstd.SpeedBetterCompression).
	Level zstd.EncoderLevel
	// NoShuffle stores float tensors unshuffled (for measurements).
	NoShuffle bool
	// MaxBytes bounds the content's size (default: Limit); reading must
	// be given at least the same.
	MaxBytes int64
}

// ReadOptions control reading.
type ReadOptions struct {
	// Base gives the base model's tensors for "xor+shuffle" tensors.
	Base func(name string) *tensor.Tensor
	// MaxBytes bounds the decoded content's size (default: Limit).
	MaxBytes int64
}

// maxHeader bounds the header JSON (names, shapes, metadata), on writing
// and reading alike.
const maxHeader = 100 << 20

// Limit is the largest checkpoint content (header and tensor bytes,
// decoded) that Write and Read accept by default: the memory the process
// may use (tensor.SystemMemory: physical memory, RLIMIT_AS, cgroup), or
// the memory limit (tensor.SetMemoryLimit; ft: FT_MEMORY_LIMIT) where that is set higher; 0 (none)
// where the memory limit is off (0) or nothing is known.
// Reading holds the whole content in memory, so a checkpoint above it
// could not be read back; writing checks the same limit. It is not the
// memory limit itself, which bounds each tensor: a model's checkpoint
// (weights and optimizer state) is several times its largest tensor.
func Limit() int64 {
	lim := tensor.MemoryLimit()
	if lim == 0 {
		return 0
	}
	return max(lim, systemMemory())
}

// systemMemory is tensor.SystemMemory (tests lower it).
var systemMemory = tensor.SystemMemory

// limitOf returns the limit an option asks for (<= 0: Limit()).
func limitOf(maxBytes int64) int64 {
	if maxBytes > 0 {
		return maxBytes
	}
	return Limit()
}

// LimitError is the error for a checkpoint whose content exceeds the limit.
type LimitError struct {
	Bytes, Limit int64
}

func (e *LimitError) Error() string {
	size := tensor.FormatBytes(e.Bytes)
	if e.Bytes < 0 {
		size = "more than " + tensor.FormatBytes(e.Limit) // the zstd frame says so
	}
	return fmt.Sprintf("checkpoint content is %s, above the limit of %s (the memory this process may use, or %s where set higher)",
		size, tensor.FormatBytes(e.Limit), tensor.MemoryLimitEnv)
}

// withLimit fills in the limit of a *LimitError from the zstd reader.
func withLimit(err error, limit int64) error {
	var le *LimitError
	if errors.As(err, &le) && le.Limit == 0 {
		le.Limit = limit
	}
	return err
}

var dtypeNames = map[tensor.DType]string{
	tensor.Float32: "F32",
	tensor.Float64: "F64",
	tensor.Int64:   "I64",
	tensor.Int32:   "I32",
}

func dtypeByName(s string) (tensor.DType, bool) {
	for k, v := range dtypeNames {
		if v == s {
			return k, true
		}
	}
	return tensor.Invalid, false
}

func elemSize(dt tensor.DType) int {
	switch dt {
	case tensor.Float64, tensor.Int64:
		return 8
	}
	return 4
}

type entry struct {
	DType   string   `json:"dtype"`
	Shape   []int    `json:"shape"`
	Offsets [2]int64 `json:"data_offsets"`
}

// rawBytes returns the little-endian bytes of t.
func rawBytes(t *tensor.Tensor) ([]byte, error) {
	switch d := t.Data.(type) {
	case []float32:
		b := make([]byte, 4*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return b, nil
	case []float64:
		b := make([]byte, 8*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint64(b[8*i:], math.Float64bits(v))
		}
		return b, nil
	case []int64:
		b := make([]byte, 8*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
		}
		return b, nil
	case []int32:
		b := make([]byte, 4*len(d))
		for i, v := range d {
			binary.LittleEndian.PutUint32(b[4*i:], uint32(v))
		}
		return b, nil
	}
	return nil, fmt.Errorf("checkpoint: tensors of type %s are not supported", t.DType())
}

func fromBytes(dt tensor.DType, shape []int, b []byte) *tensor.Tensor {
	n := tensor.Size(shape)
	switch dt {
	case tensor.Float32:
		d := make([]float32, n)
		for i := range d {
			d[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return tensor.New(shape, d)
	case tensor.Float64:
		d := make([]float64, n)
		for i := range d {
			d[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return tensor.New(shape, d)
	case tensor.Int64:
		d := make([]int64, n)
		for i := range d {
			d[i] = int64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return tensor.New(shape, d)
	default:
		d := make([]int32, n)
		for i := range d {
			d[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
		return tensor.New(shape, d)
	}
}

// shuffle groups byte k of every element together (k = 0..size-1).
func shuffle(b []byte, size int) []byte { return transpose(b, len(b)/size, size) }

// unshuffle undoes shuffle.
func unshuffle(b []byte, size int) []byte { return transpose(b, size, len(b)/size) }

// transpose returns the rows×cols byte matrix b (row-major) transposed.
func transpose(b []byte, rows, cols int) []byte {
	out := make([]byte, len(b))
	for i := 0; i < rows; i++ {
		for j := 0; j < cols; j++ {
			out[j*rows+i] = b[i*cols+j]
		}
	}
	return out
}

func xorInto(dst, base []byte) {
	for i := range dst {
		dst[i] ^= base[i]
	}
}

// hashTensor adds one decoded tensor to the content digest (the SHA-256
// of every tensor in order: its name, dtype, shape and bytes).
func hashTensor(h hash.Hash, name string, dt tensor.DType, shape []int, raw []byte) {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(name)))
	h.Write(n[:])
	io.WriteString(h, name)
	io.WriteString(h, dtypeNames[dt])
	binary.LittleEndian.PutUint64(n[:], uint64(len(shape)))
	h.Write(n[:])
	for _, d := range shape {
		binary.LittleEndian.PutUint64(n[:], uint64(d))
		h.Write(n[:])
	}
	h.Write(raw)
}

func baseOf(opt Options, name string) *tensor.Tensor {
	if opt.Base == nil {
		return nil
	}
	return opt.Base(name)
}

// Encode writes f to w (zstd stream of the safetensors layout). It holds
// one tensor's bytes at a time besides f: a first pass hashes the content,
// a second encodes and writes it.
func Encode(w io.Writer, f *File, opt Options) error {
	limit := limitOf(opt.MaxBytes)
	digest, err := contentDigest(f, limit)
	if err != nil {
		return err
	}
	hj, kinds, err := encodeHeader(f, opt, digest, limit)
	if err != nil {
		return err
	}
	level := opt.Level
	if level == 0 {
		level = zstd.SpeedBetterCompression
	}
	zw, err := zstd.NewWriter(w, zstd.WithEncoderLevel(level), zstd.WithEncoderCRC(true))
	if err != nil {
		return err
	}
	if err := writeBody(zw, f, opt, hj, kinds); err != nil {
		zw.Close()
		return err
	}
	return zw.Close()
}

// contentDigest checks f's tensors (names, values, types, sizes within
// limit) and returns the hex SHA-256 of their content (see hashTensor).
func contentDigest(f *File, limit int64) (string, error) {
	seen := map[string]bool{}
	h := sha256.New()
	var size int64
	for _, t := range f.Tensors {
		if t.Name == "" || t.Name == "__metadata__" {
			return "", fmt.Errorf("checkpoint: invalid tensor name %q", t.Name)
		}
		if seen[t.Name] {
			return "", fmt.Errorf("checkpoint: tensor %q given twice", t.Name)
		}
		seen[t.Name] = true
		if t.T == nil {
			return "", fmt.Errorf("checkpoint: tensor %q has no value", t.Name)
		}
		if _, ok := dtypeNames[t.T.DType()]; !ok {
			return "", fmt.Errorf("checkpoint: tensor %q is %s; checkpoints hold float32, float64, int64 and int32", t.Name, t.T.DType())
		}
		if err := tensor.CheckAlloc(t.T.DType(), t.T.Shape); err != nil { // reading checks the same
			return "", fmt.Errorf("checkpoint: tensor %q: %w", t.Name, err)
		}
		size += tensor.Bytes(t.T.DType(), t.T.Shape)
		if limit > 0 && size > limit {
			return "", &LimitError{Bytes: size, Limit: limit}
		}
		b, err := rawBytes(t.T)
		if err != nil {
			return "", err
		}
		hashTensor(h, t.Name, t.T.DType(), t.T.Shape, b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// encodeHeader chooses each tensor's encoding ("raw", "shuffle" or
// "xor+shuffle" against opt.Base) and returns the safetensors header (JSON
// padded to a multiple of 8 bytes, metadata included) and the encodings.
func encodeHeader(f *File, opt Options, digest string, limit int64) ([]byte, []string, error) {
	meta := map[string]string{}
	for k, v := range f.Meta {
		meta[k] = v
	}
	meta["format"] = Format
	meta["content_sha256"] = digest
	enc := map[string]string{}
	kinds := make([]string, len(f.Tensors))
	header := map[string]any{}
	var off int64
	for i, t := range f.Tensors {
		kind := "raw"
		if dt := t.T.DType(); dt.IsFloat() {
			if base := baseOf(opt, t.Name); base != nil && base.DType() == dt && tensor.SameShape(base.Shape, t.T.Shape) {
				kind = "xor+shuffle" // always shuffled: the XOR leaves zero high bytes
			} else if !opt.NoShuffle {
				kind = "shuffle"
			}
		}
		kinds[i] = kind
		if kind != "raw" {
			enc[t.Name] = kind
		}
		n := tensor.Bytes(t.T.DType(), t.T.Shape)
		header[t.Name] = entry{DType: dtypeNames[t.T.DType()], Shape: append([]int{}, t.T.Shape...), Offsets: [2]int64{off, off + n}}
		off += n
	}
	if len(enc) > 0 {
		e, _ := json.Marshal(enc)
		meta["encoding"] = string(e)
	}
	header["__metadata__"] = meta
	hj, err := json.Marshal(header)
	if err != nil {
		return nil, nil, err
	}
	// safetensors pads the header with spaces to a multiple of 8
	for len(hj)%8 != 0 {
		hj = append(hj, ' ')
	}
	if len(hj) > maxHeader {
		return nil, nil, fmt.Errorf("checkpoint: the header (names, shapes, metadata) is %d bytes, above the limit of %d", len(hj), maxHeader)
	}
	if total := 8 + int64(len(hj)) + off; limit > 0 && total > limit {
		return nil, nil, &LimitError{Bytes: total, Limit: limit}
	}
	return hj, kinds, nil
}

// writeBody writes the header's length, the header and each tensor's
// bytes encoded as kinds says.
func writeBody(w io.Writer, f *File, opt Options, hj []byte, kinds []string) error {
	var n [8]byte
	binary.LittleEndian.PutUint64(n[:], uint64(len(hj)))
	if _, err := w.Write(n[:]); err != nil {
		return err
	}
	if _, err := w.Write(hj); err != nil {
		return err
	}
	for i, t := range f.Tensors {
		b, err := rawBytes(t.T)
		if err != nil {
			return err
		}
		if kinds[i] == "xor+shuffle" {
			bb, err := rawBytes(baseOf(opt, t.Name))
			if err != nil {
				return err
			}
			xorInto(b, bb)
		}
		if kinds[i] != "raw" {
			b = shuffle(b, elemSize(t.T.DType()))
		}
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	return nil
}

// Write writes f to path atomically: a temporary file in the same folder,
// synced, then renamed over path (and the folder synced).
func Write(path string, f *File, opt Options) error {
	err := fileio.WriteAtomic(path, func(w io.Writer) error {
		if wrapWriter != nil {
			w = wrapWriter(w)
		}
		return Encode(w, f, opt)
	})
	if err != nil {
		return fmt.Errorf("write checkpoint %s: %w", path, err)
	}
	return nil
}

// wrapWriter, set by tests, wraps the temporary file's writer (to fail
// like a full disk).
var wrapWriter func(io.Writer) io.Writer

// ErrCorrupt marks a checkpoint whose bytes are damaged (truncated,
// checksum mismatch, inconsistent header).
var ErrCorrupt = errors.New("corrupt checkpoint")

// Read reads and verifies a checkpoint file. The path must be, or link
// to, a regular file.
func Read(path string, opt ReadOptions) (*File, error) {
	fh, err := fileio.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint: %w", err)
	}
	defer fh.Close()
	f, err := Decode(bufio.NewReaderSize(fh, 1<<20), opt)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	return f, nil
}

// ReadMeta reads only the header of a checkpoint (no verification of the
// tensor bytes): its metadata and tensor names. It refuses a checkpoint
// whose content is above the limit Read applies (Limit).
func ReadMeta(path string) (map[string]string, []string, error) {
	return ReadMetaWith(path, ReadOptions{})
}

// ReadMetaWith is ReadMeta with a limit (opt.MaxBytes; Base is not used).
func ReadMetaWith(path string, opt ReadOptions) (map[string]string, []string, error) {
	limit := limitOf(opt.MaxBytes)
	fh, err := fileio.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read checkpoint: %w", err)
	}
	defer fh.Close()
	zr, err := newReader(fh, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read checkpoint %s: %w", path, err)
	}
	defer zr.Close()
	h, err := readHeader(zr, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("read checkpoint %s: %w", path, withLimit(err, limit))
	}
	return h.meta, h.order, nil
}

// newReader checks the zstd magic and starts decoding.
func newReader(r io.Reader, limit int64) (*zstd.Decoder, error) {
	br := bufio.NewReader(r)
	if err := checkMagic(br); err != nil {
		return nil, err
	}
	opts := []zstd.DOption{zstd.WithDecoderConcurrency(1)}
	if limit > 0 {
		// a guard against a frame that declares more; readHeader checks
		// the exact size first (and says how large the content is)
		opts = append(opts, zstd.WithDecoderMaxMemory(uint64(min(limit, math.MaxInt64-2*maxHeader)+2*maxHeader)))
	}
	return zstd.NewReader(br, opts...)
}

type header struct {
	meta    map[string]string
	order   []string // tensor names by offset
	entries map[string]entry
	size    int64 // data section size
}

func corrupt(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, a...))
}

// readHeader reads the header of a content of at most limit bytes (0: no
// limit).
func readHeader(r io.Reader, limit int64) (*header, error) {
	maxBytes := limit
	if maxBytes <= 0 {
		maxBytes = math.MaxInt64
	}
	var n [8]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, wrapRead(err, "header length")
	}
	hl := binary.LittleEndian.Uint64(n[:])
	if hl == 0 || hl > maxHeader {
		return nil, corrupt("header length %d is not plausible", hl)
	}
	hb := make([]byte, hl)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, wrapRead(err, "header")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(hb, &raw); err != nil {
		return nil, corrupt("header is not JSON: %v", err)
	}
	h := &header{meta: map[string]string{}, entries: map[string]entry{}}
	if m, ok := raw["__metadata__"]; ok {
		if err := json.Unmarshal(m, &h.meta); err != nil {
			return nil, corrupt("__metadata__: %v", err)
		}
	}
	if h.meta["format"] != Format {
		return nil, fmt.Errorf("not an ft checkpoint (format %q, want %q)", h.meta["format"], Format)
	}
	for name, m := range raw {
		if name == "__metadata__" {
			continue
		}
		var e entry
		if err := json.Unmarshal(m, &e); err != nil {
			return nil, corrupt("tensor %q: %v", name, err)
		}
		dt, ok := dtypeByName(e.DType)
		if !ok {
			return nil, corrupt("tensor %q: unknown dtype %q", name, e.DType)
		}
		count := int64(1)
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > maxBytes/int64(d)) {
				return nil, corrupt("tensor %q: bad shape %v", name, e.Shape)
			}
			count *= int64(d)
		}
		if e.Offsets[0] < 0 || count > maxBytes/int64(elemSize(dt)) || e.Offsets[1]-e.Offsets[0] != count*int64(elemSize(dt)) {
			return nil, corrupt("tensor %q: data_offsets %v do not fit %s%v", name, e.Offsets, e.DType, e.Shape)
		}
		if err := tensor.CheckAlloc(dt, e.Shape); err != nil { // as on writing
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		h.entries[name] = e
		h.order = append(h.order, name)
	}
	sort.Slice(h.order, func(i, j int) bool {
		a, b := h.entries[h.order[i]].Offsets, h.entries[h.order[j]].Offsets
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		if a[1] != b[1] { // an empty tensor before the one that starts where it is
			return a[1] < b[1]
		}
		return h.order[i] < h.order[j]
	})
	var off int64
	for _, name := range h.order {
		e := h.entries[name]
		if e.Offsets[0] != off {
			return nil, corrupt("tensor %q starts at %d, want %d (tensors must be contiguous)", name, e.Offsets[0], off)
		}
		off = e.Offsets[1]
	}
	h.size = off
	if total := off + int64(hl) + 8; limit > 0 && (total > limit || total < off) {
		return nil, &LimitError{Bytes: total, Limit: limit}
	}
	return h, nil
}

// readSize reads exactly n bytes, growing the buffer as they arrive, so a
// damaged header that claims more data than the stream holds cannot make the
// reader allocate that much.
func readSize(r io.Reader, n int64) ([]byte, error) {
	buf := make([]byte, min(n, 64<<20))
	got := 0
	for {
		k, err := io.ReadFull(r, buf[got:])
		got += k
		if err != nil {
			return nil, err
		}
		if int64(got) == n {
			return buf, nil
		}
		buf = append(buf, make([]byte, min(n-int64(got), int64(len(buf))))...)
	}
}

func wrapRead(err error, what string) error {
	if errors.Is(err, zstd.ErrDecoderSizeExceeded) { // the frame declares more than the limit
		return &LimitError{Bytes: -1}
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return corrupt("truncated (ends inside the %s)", what)
	}
	return corrupt("%s: %v", what, err)
}

func checkMagic(br *bufio.Reader) error {
	b, err := br.Peek(4)
	if err == nil && bytes.Equal(b, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		return nil
	}
	if len(b) == 0 {
		return corrupt("empty file")
	}
	// The file's bytes are not shown: the path may be a link to a file
	// that is none of ft's business.
	return fmt.Errorf("not an ft checkpoint (it does not start with zstd's magic number)")
}

// Decode reads a checkpoint stream and verifies it: zstd checksums, the
// header, and the content SHA-256. It holds one tensor's encoded bytes at
// a time besides the tensors it returns.
func Decode(r io.Reader, opt ReadOptions) (*File, error) {
	limit := limitOf(opt.MaxBytes)
	zr, err := newReader(r, limit)
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	h, err := readHeader(zr, limit)
	if err != nil {
		return nil, withLimit(err, limit)
	}
	encs := map[string]string{}
	if e, ok := h.meta["encoding"]; ok {
		if err := json.Unmarshal([]byte(e), &encs); err != nil {
			return nil, corrupt("encoding metadata: %v", err)
		}
	}
	f := &File{Meta: h.meta}
	sum := sha256.New()
	for _, name := range h.order {
		e := h.entries[name]
		dt, _ := dtypeByName(e.DType)
		b, err := readSize(zr, e.Offsets[1]-e.Offsets[0])
		if err != nil {
			return nil, withLimit(wrapRead(err, "tensor data"), limit)
		}
		switch k := encs[name]; k {
		case "", "raw":
		case "shuffle", "xor+shuffle":
			if !dt.IsFloat() {
				return nil, corrupt("tensor %q: encoding %q on a %s tensor", name, k, e.DType)
			}
			b = unshuffle(b, elemSize(dt))
			if k == "xor+shuffle" {
				var base *tensor.Tensor
				if opt.Base != nil {
					base = opt.Base(name)
				}
				if base == nil {
					return nil, fmt.Errorf("tensor %q is stored relative to the base model, and no base value was given for it (load the checkpoint with its base model)", name)
				}
				if base.DType() != dt || !tensor.SameShape(base.Shape, e.Shape) {
					return nil, fmt.Errorf("tensor %q is %s%v in the checkpoint but %s%v in the base model: not the base this checkpoint was made from", name, e.DType, e.Shape, base.DType(), base.Shape)
				}
				bb, err := rawBytes(base)
				if err != nil {
					return nil, err
				}
				xorInto(b, bb)
			}
		default:
			return nil, corrupt("tensor %q: unknown encoding %q", name, k)
		}
		hashTensor(sum, name, dt, e.Shape, b)
		f.Tensors = append(f.Tensors, Tensor{Name: name, T: fromBytes(dt, e.Shape, b)})
	}
	// the stream must end here (and its checksum verify)
	var one [1]byte
	if n, err := zr.Read(one[:]); n != 0 || (err != nil && err != io.EOF) {
		if n != 0 {
			return nil, corrupt("extra bytes after the tensor data")
		}
		return nil, withLimit(wrapRead(err, "end of stream"), limit)
	}
	if want, got := h.meta["content_sha256"], hex.EncodeToString(sum.Sum(nil)); want != got {
		return nil, corrupt("content SHA-256 %s does not match the header's %s", got, want)
	}
	return f, nil
}
