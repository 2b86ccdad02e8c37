// Command ckptsize measures an ft checkpoint against plain formats: it
// decodes the checkpoint (with its base model), writes the same tensors as a
// plain safetensors file, and prints the sizes of both and of the
// checkpoint re-encoded without XOR-with-base and without byte shuffling,
// as JSON. For testmodels/export_real.py (zstd -3 of the raw file is
// measured there with the zstd command).
//
//	go run ./testmodels/ckptsize CHECKPOINT BASE_MODEL_DIR RAW_OUT.safetensors
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"ft/checkpoint"
	"ft/finetune"
	"ft/onnx"
	"ft/tensor"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "ckptsize:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 4 {
		return fmt.Errorf("usage: ckptsize CHECKPOINT BASE_MODEL_DIR RAW_OUT.safetensors")
	}
	path, baseDir, rawOut := os.Args[1], os.Args[2], os.Args[3]
	ci, err := finetune.ReadCheckpointInfo(path)
	if err != nil {
		return err
	}
	m, err := finetune.LoadModel(baseDir, ci.ModelOptions)
	if err != nil {
		return err
	}
	base := map[string]*tensor.Tensor{}
	for _, p := range m.Graph.Params {
		base[p.Name] = p.Value.Clone()
	}
	baseFn := func(n string) *tensor.Tensor { return base[n] }
	f, err := checkpoint.Read(path, checkpoint.ReadOptions{Base: baseFn})
	if err != nil {
		return err
	}
	ts := map[string]*tensor.Tensor{}
	params := 0
	for _, t := range f.Tensors {
		ts[t.Name] = t.T
		if m.Graph.Param(t.Name) != nil {
			params++
		}
	}
	raw, err := finetune.EncodeSafetensors(ts, nil)
	if err != nil {
		return err
	}
	if err := onnx.WriteFileAtomic(rawOut, raw); err != nil {
		return err
	}
	size := func(opt checkpoint.Options) (int, error) {
		var b bytes.Buffer
		err := checkpoint.Encode(&b, f, opt)
		return b.Len(), err
	}
	st, _ := os.Stat(path)
	noXor, err := size(checkpoint.Options{})
	if err != nil {
		return err
	}
	plain, err := size(checkpoint.Options{NoShuffle: true})
	if err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{
		"checkpoint": path, "tensors": len(f.Tensors), "trainable_params": params,
		"ours": st.Size(), "raw_safetensors": len(raw), "ours_without_xor": noXor, "ours_without_xor_and_shuffle": plain,
	})
}
