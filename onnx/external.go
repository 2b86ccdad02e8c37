package onnx

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"google.golang.org/protobuf/proto"

	"ft/internal/fileio"
)

// MaxProtoBytes is the largest serialized ModelProto protobuf allows (2 GiB);
// bigger models must keep their tensors in an external data file.
const MaxProtoBytes = 1<<31 - 1

// SaveExternal writes the model to path with every tensor of at least
// threshold bytes moved to one external data file, dataName, beside it
// (as onnx.save_model(..., save_as_external_data=True,
// all_tensors_to_one_file=True, location=dataName, size_threshold=threshold)).
// Tensors the model already keeps externally are read from the model's own
// folder. Offsets are aligned to 64 bytes. Both files are written
// atomically (the data file first). The model in memory is not changed.
func (m *Model) SaveExternal(path, dataName string, threshold int) error {
	path = savePath(path)
	if _, err := resolveLocationName(dataName); err != nil {
		return err
	}
	dir := filepath.Dir(path)
	out := proto.Clone(m.Proto).(*ModelProto)
	clone := &Model{Proto: out}
	src := m.AllTensors()
	dst := clone.AllTensors()
	if len(src) != len(dst) {
		return fmt.Errorf("save model: tensor walk mismatch")
	}
	err := fileio.WriteAtomic(filepath.Join(dir, dataName), func(w io.Writer) error {
		var off int64
		for i, t := range src {
			var data []byte
			_, ext, err := External(t)
			if err != nil {
				return err
			}
			if ext {
				if data, err = m.ReadExternal(t); err != nil {
					return err
				}
			} else if len(t.RawData) > 0 {
				data = t.RawData
			} else {
				continue // typed fields (small constants) stay inline
			}
			if len(data) < threshold {
				if ext {
					d := dst[i]
					d.RawData, d.ExternalData, d.DataLocation = data, nil, nil
				}
				continue
			}
			if pad := (64 - off%64) % 64; pad > 0 {
				if _, err := w.Write(make([]byte, pad)); err != nil {
					return err
				}
				off += pad
			}
			if _, err := w.Write(data); err != nil {
				return err
			}
			d := dst[i]
			d.RawData = nil
			d.DataLocation = TensorProto_EXTERNAL.Enum()
			d.ExternalData = []*StringStringEntryProto{
				{Key: proto.String("location"), Value: proto.String(dataName)},
				{Key: proto.String("offset"), Value: proto.String(strconv.FormatInt(off, 10))},
				{Key: proto.String("length"), Value: proto.String(strconv.Itoa(len(data)))},
			}
			off += int64(len(data))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("save model %s: %w", path, err)
	}
	return writeProto(path, out)
}

// InlineSize is the size of the model serialized with all its tensors
// inline (what Save would write, external data included).
func (m *Model) InlineSize() (int64, error) {
	n := int64(proto.Size(m.Proto))
	for _, t := range m.AllTensors() {
		info, ext, err := External(t)
		if err != nil {
			return 0, err
		}
		if ext {
			if info.Length < 0 {
				b, err := m.ReadExternal(t)
				if err != nil {
					return 0, err
				}
				info.Length = int64(len(b))
			}
			n += info.Length + 16
		}
	}
	return n, nil
}

// SaveInline writes the model to path as one file: tensors the model keeps
// in external data are read from its folder and stored inline. The model
// in memory is not changed.
func (m *Model) SaveInline(path string) error {
	path = savePath(path)
	out := proto.Clone(m.Proto).(*ModelProto)
	src := m.AllTensors()
	dst := (&Model{Proto: out}).AllTensors()
	for i, t := range src {
		if _, ext, err := External(t); err != nil {
			return err
		} else if ext {
			data, err := m.ReadExternal(t)
			if err != nil {
				return err
			}
			dst[i].RawData, dst[i].ExternalData, dst[i].DataLocation = data, nil, nil
		}
	}
	return writeProto(path, out)
}
