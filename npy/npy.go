// Package npy reads and writes NumPy's .npy and .npz files (the formats of
// numpy.save, numpy.savez and numpy.savez_compressed) as ft tensors.
//
// Supported element types: float32 (<f4), float64 (<f8), int64 (<i8),
// int32 (<i4), bool (|b1), uint8 (|u1) and int8 (|i1); big-endian files are
// read and converted. Arrays must be in C (row-major) order: a
// Fortran-ordered array is refused with an error that says how to resave it.
// Files are written the way numpy 2 writes them (format version 1.0, header
// padded to 64 bytes, little-endian), byte for byte.
package npy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"ft/internal/fileio"
	"ft/tensor"
)

var magic = []byte("\x93NUMPY")

// maxHeader bounds the header length we accept (numpy's own limit is 10000
// bytes unless told otherwise; we allow more but never an absurd size).
const maxHeader = 1 << 20

// ReadFile reads one .npy file. The path must be, or link to, a regular
// file (a named pipe or a device is refused, see fileio.Open). Errors name
// the file.
func ReadFile(path string) (*tensor.Tensor, error) {
	f, err := fileio.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	t, err := Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Read decodes one .npy array from r. It reads exactly the array (header and
// data), so several arrays can follow each other in one stream.
func Read(r io.Reader) (*tensor.Tensor, error) {
	h, err := readHeader(r)
	if err != nil {
		return nil, err
	}
	n := tensor.Size(h.shape)
	need := int64(n) * int64(h.size)
	// io.ReadAll grows with what actually arrives, so a header announcing a
	// huge shape over a short file does not allocate the announced size.
	data, err := io.ReadAll(io.LimitReader(r, need))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) != need {
		return nil, fmt.Errorf("truncated data: shape %s of %s needs %d bytes, the file holds %d", shapeRepr(h.shape), h.descr, need, len(data))
	}
	return decode(h, data), nil
}

type header struct {
	descr string
	dtype tensor.DType
	size  int  // bytes per element
	big   bool // big-endian data
	shape []int
}

func readHeader(r io.Reader) (*header, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, fmt.Errorf("not a .npy array (too short: %v)", err)
	}
	if !bytes.Equal(pre[:6], magic) {
		return nil, fmt.Errorf("not a .npy array (the file does not start with \\x93NUMPY)")
	}
	major := pre[6]
	var hlen int
	switch major {
	case 1:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %v", err)
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case 2, 3:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, fmt.Errorf("truncated .npy header: %v", err)
		}
		hlen = int(binary.LittleEndian.Uint32(b[:]))
	default:
		return nil, fmt.Errorf("unsupported .npy format version %d.%d (ft reads 1.0, 2.0 and 3.0)", major, pre[7])
	}
	if hlen > maxHeader {
		return nil, fmt.Errorf(".npy header of %d bytes is too long", hlen)
	}
	hb := make([]byte, hlen)
	if _, err := io.ReadFull(r, hb); err != nil {
		return nil, fmt.Errorf("truncated .npy header: %v", err)
	}
	return parseHeader(string(hb))
}

// parseHeader parses the Python dict literal of a .npy header, e.g.
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
func parseHeader(s string) (*header, error) {
	p := &lit{s: s}
	v, err := p.value()
	if err != nil {
		return nil, fmt.Errorf("bad .npy header %q: %v", strings.TrimSpace(s), err)
	}
	d, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("bad .npy header %q: not a dict", strings.TrimSpace(s))
	}
	h := &header{}
	switch descr := d["descr"].(type) {
	case string:
		h.descr = descr
	case nil:
		return nil, fmt.Errorf("bad .npy header %q: no 'descr'", strings.TrimSpace(s))
	default:
		return nil, fmt.Errorf("structured dtype %v is not supported (ft reads plain arrays of float32, float64, int64, int32, bool, uint8, int8)", descr)
	}
	if err := h.setDType(); err != nil {
		return nil, err
	}
	switch fo := d["fortran_order"].(type) {
	case bool:
		if fo {
			return nil, errors.New("Fortran-order array (fortran_order: True): ft reads C-order arrays only; save np.ascontiguousarray(a) instead")
		}
	default:
		return nil, fmt.Errorf("bad .npy header %q: no boolean 'fortran_order'", strings.TrimSpace(s))
	}
	sh, ok := d["shape"].([]any)
	if !ok {
		return nil, fmt.Errorf("bad .npy header %q: 'shape' is not a tuple", strings.TrimSpace(s))
	}
	h.shape = make([]int, len(sh))
	total := int64(1)
	for i, x := range sh {
		n, ok := x.(int64)
		if !ok || n < 0 {
			return nil, fmt.Errorf("bad .npy header %q: dimension %d is not a non-negative integer", strings.TrimSpace(s), i)
		}
		h.shape[i] = int(n)
		if n > 0 && total > math.MaxInt64/8/n {
			return nil, fmt.Errorf("bad .npy header %q: shape too large", strings.TrimSpace(s))
		}
		total *= n
	}
	return h, nil
}

func (h *header) setDType() error {
	d := h.descr
	if len(d) < 3 {
		return fmt.Errorf("unsupported dtype %q", d)
	}
	order, kind := d[0], d[1:]
	switch order {
	case '<', '|', '=':
	case '>':
		h.big = true
	default:
		return fmt.Errorf("unsupported dtype %q", d)
	}
	switch kind {
	case "f4":
		h.dtype, h.size = tensor.Float32, 4
	case "f8":
		h.dtype, h.size = tensor.Float64, 8
	case "i8":
		h.dtype, h.size = tensor.Int64, 8
	case "i4":
		h.dtype, h.size = tensor.Int32, 4
	case "b1":
		h.dtype, h.size = tensor.Bool, 1
	case "u1":
		h.dtype, h.size = tensor.Uint8, 1
	case "i1":
		h.dtype, h.size = tensor.Int8, 1
	default:
		return fmt.Errorf("unsupported dtype %q (ft reads float32 <f4, float64 <f8, int64 <i8, int32 <i4, bool |b1, uint8 |u1, int8 |i1; convert with a.astype(...))", d)
	}
	return nil
}

func decode(h *header, b []byte) *tensor.Tensor {
	var bo binary.ByteOrder = binary.LittleEndian
	if h.big {
		bo = binary.BigEndian
	}
	n := tensor.Size(h.shape)
	t := tensor.Zeros(h.dtype, h.shape...)
	switch d := t.Data.(type) {
	case []float32:
		for i := range n {
			d[i] = math.Float32frombits(bo.Uint32(b[4*i:]))
		}
	case []float64:
		for i := range n {
			d[i] = math.Float64frombits(bo.Uint64(b[8*i:]))
		}
	case []int64:
		for i := range n {
			d[i] = int64(bo.Uint64(b[8*i:]))
		}
	case []int32:
		for i := range n {
			d[i] = int32(bo.Uint32(b[4*i:]))
		}
	case []bool:
		for i := range n {
			d[i] = b[i] != 0
		}
	case []uint8:
		copy(d, b)
	case []int8:
		for i := range n {
			d[i] = int8(b[i])
		}
	}
	return t
}

// descrOf gives numpy's dtype string for a tensor type.
func descrOf(dt tensor.DType) (string, int, error) {
	switch dt {
	case tensor.Float32:
		return "<f4", 4, nil
	case tensor.Float64:
		return "<f8", 8, nil
	case tensor.Int64:
		return "<i8", 8, nil
	case tensor.Int32:
		return "<i4", 4, nil
	case tensor.Bool:
		return "|b1", 1, nil
	case tensor.Uint8:
		return "|u1", 1, nil
	case tensor.Int8:
		return "|i1", 1, nil
	}
	return "", 0, fmt.Errorf("cannot write a tensor of type %s as .npy", dt)
}

// shapeRepr is Python's repr of a shape tuple: (), (3,), (2, 3).
func shapeRepr(shape []int) string {
	switch len(shape) {
	case 0:
		return "()"
	case 1:
		return "(" + strconv.Itoa(shape[0]) + ",)"
	}
	parts := make([]string, len(shape))
	for i, d := range shape {
		parts[i] = strconv.Itoa(d)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// Encode returns the .npy bytes of t, identical to what numpy.save writes
// for the same array.
func Encode(t *tensor.Tensor) ([]byte, error) {
	var b bytes.Buffer
	if err := Write(&b, t); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Write writes t as one .npy array.
func Write(w io.Writer, t *tensor.Tensor) error {
	descr, size, err := descrOf(t.DType())
	if err != nil {
		return err
	}
	n := t.Len()
	if got := t.DataLen(); got != n {
		return fmt.Errorf("tensor of shape %v holds %d elements, not %d", t.Shape, got, n)
	}
	// numpy.lib.format._write_array_header: sorted keys, then spare room for
	// the first axis to grow to 21 digits, then 1 to 64 spaces up to a
	// multiple of 64 bytes (counting magic, version and length) and a newline.
	hdr := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, shapeRepr(t.Shape))
	if len(t.Shape) > 0 {
		hdr += strings.Repeat(" ", max(0, 21-len(strconv.Itoa(t.Shape[0]))))
	}
	const align = 64
	version, lenBytes := byte(1), 2
	pad := align - (len(magic)+2+lenBytes+len(hdr)+1)%align
	if len(hdr)+pad+1 > math.MaxUint16 {
		version, lenBytes = 2, 4
		pad = align - (len(magic)+2+lenBytes+len(hdr)+1)%align
	}
	hdr += strings.Repeat(" ", pad) + "\n"
	out := make([]byte, 0, len(magic)+2+lenBytes+len(hdr)+n*size)
	out = append(out, magic...)
	out = append(out, version, 0)
	if lenBytes == 2 {
		out = binary.LittleEndian.AppendUint16(out, uint16(len(hdr)))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(hdr)))
	}
	out = append(out, hdr...)
	switch d := t.Data.(type) {
	case []float32:
		for _, v := range d {
			out = binary.LittleEndian.AppendUint32(out, math.Float32bits(v))
		}
	case []float64:
		for _, v := range d {
			out = binary.LittleEndian.AppendUint64(out, math.Float64bits(v))
		}
	case []int64:
		for _, v := range d {
			out = binary.LittleEndian.AppendUint64(out, uint64(v))
		}
	case []int32:
		for _, v := range d {
			out = binary.LittleEndian.AppendUint32(out, uint32(v))
		}
	case []bool:
		for _, v := range d {
			if v {
				out = append(out, 1)
			} else {
				out = append(out, 0)
			}
		}
	case []uint8:
		out = append(out, d...)
	case []int8:
		for _, v := range d {
			out = append(out, byte(v))
		}
	}
	_, err = w.Write(out)
	return err
}

// lit parses the small subset of Python literals a .npy header uses:
// dicts, tuples, lists, strings, integers, True, False and None.
type lit struct {
	s string
	i int
}

func (p *lit) skip() {
	for p.i < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.i]) >= 0 {
		p.i++
	}
}

func (p *lit) value() (any, error) {
	p.skip()
	if p.i >= len(p.s) {
		return nil, errors.New("unexpected end")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		p.i++
		m := map[string]any{}
		for {
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == '}' {
				p.i++
				return m, nil
			}
			k, err := p.value()
			if err != nil {
				return nil, err
			}
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("dict key at offset %d is not a string", p.i)
			}
			p.skip()
			if p.i >= len(p.s) || p.s[p.i] != ':' {
				return nil, fmt.Errorf("expected ':' at offset %d", p.i)
			}
			p.i++
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			m[ks] = v
			if err := p.sep('}'); err != nil {
				return nil, err
			}
		}
	case c == '(' || c == '[':
		end := byte(')')
		if c == '[' {
			end = ']'
		}
		p.i++
		l := []any{}
		for {
			p.skip()
			if p.i < len(p.s) && p.s[p.i] == end {
				p.i++
				return l, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			l = append(l, v)
			if err := p.sep(end); err != nil {
				return nil, err
			}
		}
	case c == '\'' || c == '"':
		j := strings.IndexByte(p.s[p.i+1:], c)
		if j < 0 {
			return nil, fmt.Errorf("unterminated string at offset %d", p.i)
		}
		v := p.s[p.i+1 : p.i+1+j]
		p.i += j + 2
		return v, nil
	case c == '-' || (c >= '0' && c <= '9'):
		j := p.i + 1
		for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
			j++
		}
		// numpy < 1.? wrote shapes of longs as "3L"
		n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad integer at offset %d", p.i)
		}
		if j < len(p.s) && p.s[j] == 'L' {
			j++
		}
		p.i = j
		return n, nil
	default:
		for _, w := range []struct {
			s string
			v any
		}{{"True", true}, {"False", false}, {"None", nil}} {
			if strings.HasPrefix(p.s[p.i:], w.s) {
				p.i += len(w.s)
				return w.v, nil
			}
		}
		return nil, fmt.Errorf("unexpected %q at offset %d", c, p.i)
	}
}

// sep consumes a ',' or stops before the closing byte.
func (p *lit) sep(end byte) error {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == ',' {
		p.i++
		return nil
	}
	if p.i < len(p.s) && p.s[p.i] == end {
		return nil
	}
	return fmt.Errorf("expected ',' or %q at offset %d", end, p.i)
}
