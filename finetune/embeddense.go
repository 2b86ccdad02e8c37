package finetune

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"ft/embed"
	"ft/internal/fileio"
	"ft/onnx"
	"ft/tensor"
)

// decodeSafetensors reads the float32 tensors of a safetensors file (the
// format EncodeSafetensors writes).
func decodeSafetensors(path string, b []byte) (map[string]*tensor.Tensor, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%s: %d bytes is too short for safetensors", path, len(b))
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return nil, fmt.Errorf("%s: header of %d bytes in a file of %d", path, n, len(b))
	}
	var header map[string]json.RawMessage
	if err := json.Unmarshal(b[8:8+n], &header); err != nil {
		return nil, fmt.Errorf("%s: header: %v", path, err)
	}
	data := b[8+n:]
	out := map[string]*tensor.Tensor{}
	for name, raw := range header {
		if name == "__metadata__" {
			continue
		}
		var e struct {
			DType   string `json:"dtype"`
			Shape   []int  `json:"shape"`
			Offsets [2]int `json:"data_offsets"`
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, fmt.Errorf("%s: tensor %s: %v", path, name, err)
		}
		if e.DType != "F32" {
			return nil, fmt.Errorf("%s: tensor %s is %s; ft reads F32 weights (save them in float32)", path, name, e.DType)
		}
		count := 1
		for _, d := range e.Shape {
			if d < 0 || (d > 0 && count > math.MaxInt32/d) {
				return nil, fmt.Errorf("%s: tensor %s has shape %v", path, name, e.Shape)
			}
			count *= d
		}
		lo, hi := e.Offsets[0], e.Offsets[1]
		if lo < 0 || hi < lo || hi > len(data) || hi-lo != 4*count {
			return nil, fmt.Errorf("%s: tensor %s: data_offsets %v do not fit shape %v in %d data bytes", path, name, e.Offsets, e.Shape, len(data))
		}
		v := make([]float32, count)
		for i := range v {
			v[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[lo+4*i:]))
		}
		out[name] = tensor.New(append([]int{}, e.Shape...), v)
	}
	return out, nil
}

// readDense reads an ST Dense module folder: config.json and
// model.safetensors (linear.weight [out, in], linear.bias).
func readDense(dir string) (*embed.Dense, error) {
	cfg, err := embed.ReadDenseConfig(filepath.Join(dir, "config.json"))
	if err != nil {
		return nil, err
	}
	p := filepath.Join(dir, SafetensorsFile)
	b, err := fileio.ReadFile(p, 0)
	if err != nil {
		return nil, fmt.Errorf("%v (ft reads a Dense module's weights from model.safetensors)", err)
	}
	ts, err := decodeSafetensors(p, b)
	if err != nil {
		return nil, err
	}
	w := ts["linear.weight"]
	if w == nil || !tensor.SameShape(w.Shape, []int{cfg.OutFeatures, cfg.InFeatures}) {
		return nil, fmt.Errorf("%s: want linear.weight of shape [%d %d]", p, cfg.OutFeatures, cfg.InFeatures)
	}
	d := &embed.Dense{In: cfg.InFeatures, Out: cfg.OutFeatures, Activation: cfg.ActivationFunction, Weight: w.Float64s()}
	if cfg.Bias {
		bias := ts["linear.bias"]
		if bias == nil || bias.Len() != cfg.OutFeatures {
			return nil, fmt.Errorf("%s: want linear.bias of %d values (config.json says bias: true)", p, cfg.OutFeatures)
		}
		d.Bias = bias.Float64s()
	}
	return d, nil
}

// writeDense writes d as an ST Dense module folder.
func writeDense(dir string, d *embed.Dense) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cfg := embed.DenseConfig{InFeatures: d.In, OutFeatures: d.Out, Bias: d.Bias != nil, ActivationFunction: d.Activation}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(filepath.Join(dir, "config.json"), append(b, '\n')); err != nil {
		return err
	}
	f32 := func(v []float64, shape ...int) *tensor.Tensor {
		o := make([]float32, len(v))
		for i, x := range v {
			o[i] = float32(x)
		}
		return tensor.New(shape, o)
	}
	ts := map[string]*tensor.Tensor{"linear.weight": f32(d.Weight, d.Out, d.In)}
	if d.Bias != nil {
		ts["linear.bias"] = f32(d.Bias, d.Out)
	}
	st, err := EncodeSafetensors(ts, map[string]string{"format": "pt"})
	if err != nil {
		return err
	}
	return onnx.WriteFileAtomic(filepath.Join(dir, SafetensorsFile), st)
}
