package main

import (
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"ft/finetune"
	"ft/graph"
	"ft/internal/bundled"
	"ft/onnx"
)

func runExport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ckpt := fs.String("checkpoint", "", "a checkpoint file (checkpoint-<step>.ftckpt) or a run folder (its newest checkpoint)")
	best := fs.Bool("best", false, "with a run folder: export the best evaluated checkpoint instead of the newest")
	out := fs.String("output-dir", "", "where to write the export folder")
	model := fs.String("model", "", "the base model the run fine-tuned (default: the path stored in the checkpoint; its SHA-256 must match)")
	format := fs.String("format", "onnx", "onnx (an optimum-style export folder), safetensors (a transformers model folder) or peft (LoRA adapters for the peft library)")
	overwrite := fs.Bool("overwrite-output-dir", false, "replace the files of an earlier export in --output-dir (files ft did not write are kept)")
	external := fs.Bool("external-data", false, "onnx: keep tensors in model.onnx_data beside model.onnx (always done over 2 GB)")
	quantize := fs.String("quantize", "", "onnx: int8 writes a dynamically quantized model, as onnxruntime.quantization.quantize_dynamic(per_channel=True, weight_type=QInt8) does for MatMul and Gemm weights")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `Usage: ft export --checkpoint FILE|RUN_DIR --output-dir DIR [flags]

Writes a fine-tuned model from a checkpoint of ft run: an ONNX export folder
(model.onnx with the trained weights, config.json with the labels, the
tokenizer files) that ONNX Runtime, Optimum, transformers.js and ft load; or a
transformers folder (model.safetensors + config.json) for
AutoModelForSequenceClassification.from_pretrained; or, for a LoRA run, the
adapters in PEFT's format. LoRA adapters are merged into the weights of the
ONNX and safetensors exports.

Flags:
`)
		printFlags(fs.Output(), fs)
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (flags only; see --help)", fs.Arg(0))
	}
	if *ckpt == "" || *out == "" {
		return fmt.Errorf("give --checkpoint FILE|RUN_DIR and --output-dir DIR")
	}
	switch *format {
	case "onnx", "safetensors", "peft":
	default:
		return fmt.Errorf("--format %q: use onnx, safetensors or peft", *format)
	}
	switch {
	case *quantize != "" && *quantize != "int8":
		return fmt.Errorf("--quantize %q: use int8", *quantize)
	case *quantize != "" && *format != "onnx":
		return fmt.Errorf("--quantize int8 writes an ONNX model: use it with --format onnx")
	}
	path, err := finetune.FindCheckpoint(*ckpt)
	if err != nil {
		return err
	}
	ci, err := finetune.ReadCheckpointInfo(path)
	if err != nil {
		return err
	}
	if *best {
		if ci.State.BestCheckpoint == "" {
			return fmt.Errorf("%s names no best checkpoint (the run had no evaluation yet)", path)
		}
		path = ci.State.BestCheckpoint
		if _, err := os.Stat(path); err != nil {
			// the run folder may have moved: look beside the newest
			alt := filepath.Join(filepath.Dir(ci.Path), filepath.Base(path))
			if _, err2 := os.Stat(alt); err2 != nil {
				return fmt.Errorf("best checkpoint: %w", err)
			}
			path = alt
		}
	}
	if slices.Contains(embedTasks, ci.Config["task"]) {
		return exportEmbedding(path, *model, *out, *format, stdout, stderr)
	}
	m, cleanup, err := rebuildModel(path, *model, stderr)
	if err != nil {
		return err
	}
	defer cleanup()
	ci, _, err = m.LoadCheckpoint(path)
	if err != nil {
		return err
	}
	release, err := claimOutputDir(*out, exportOutput, outputOptions{flag: "--output-dir", overwrite: *overwrite,
		bases: []string{m.Dir}}, stderr)
	if err != nil {
		return err
	}
	defer release()
	stopSignals := releaseOnSignal()
	defer stopSignals()
	switch *format {
	case "onnx":
		save := m // SaveWith refuses non-finite weights
		if finetune.HasLoRA(m) {
			if save, err = finetune.MergeLoRA(m); err != nil {
				return err
			}
		}
		if err := save.SaveWith(*out, finetune.SaveOptions{ExternalData: *external}); err != nil {
			return err
		}
		if *quantize == "int8" {
			if err := quantizeExport(*out, stdout); err != nil {
				return err
			}
		}
	case "safetensors":
		if err := m.SaveSafetensors(*out); err != nil {
			return err
		}
	case "peft":
		if !finetune.HasLoRA(m) {
			return fmt.Errorf("%s is not from a LoRA run (--lora-r): use --format onnx or safetensors", path)
		}
		if err := finetune.SavePEFT(m, *out); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "exported %s (step %d, labels %v) as %s to %s\n", path, ci.State.Step, ci.Labels, *format, *out)
	return nil
}

// checkpointFlags returns the flags of ft export set to the settings the
// checkpoint at path was trained with (those export knows).
func checkpointFlags(path string, ci *finetune.CheckpointInfo, stderr io.Writer) (*runFlags, error) {
	f := newRunFlags("export", stderr)
	for _, k := range slices.Sorted(maps.Keys(ci.Config)) {
		if f.fs.Lookup(k) == nil {
			continue
		}
		if err := f.fs.Set(k, ci.Config[k]); err != nil {
			return nil, fmt.Errorf("checkpoint %s: stored setting %s=%q: %w", path, k, ci.Config[k], err)
		}
	}
	return f, nil
}

// checkBaseModel reports a stored base model of the checkpoint at path
// that is no longer there.
func checkBaseModel(path string, ci *finetune.CheckpointInfo) error {
	if _, err := os.Stat(ci.ModelPath); err != nil {
		return fmt.Errorf("the base model %s of checkpoint %s is not there: give it with --model", ci.ModelPath, path)
	}
	return nil
}

// rebuildModel builds the model a checkpoint was trained on: the base
// export adapted with the stored options, LoRA adapters added as the run's
// flags said. base overrides the stored model path.
func rebuildModel(path, base string, stderr io.Writer) (*finetune.Model, func(), error) {
	ci, err := finetune.ReadCheckpointInfo(path)
	if err != nil {
		return nil, nil, err
	}
	f, err := checkpointFlags(path, ci, stderr)
	if err != nil {
		return nil, nil, err
	}
	cleanup := func() {}
	modelPath := base
	if modelPath == "" {
		modelPath = ci.ModelPath
		if _, given := ci.Config["model"]; !given {
			// the bundled demo model
			dir, clean, err := bundled.Open("ft-demo-")
			if err != nil {
				return nil, nil, err
			}
			cleanup = clean
			modelPath = filepath.Join(dir, bundled.Model)
		} else if err := checkBaseModel(path, ci); err != nil {
			return nil, nil, err
		}
	}
	mo := ci.ModelOptions
	mo.Graph = graph.OptionsFromEnv()
	m, err := finetune.LoadModel(modelPath, mo)
	if err != nil {
		cleanup()
		return nil, nil, err
	}
	lora := finetune.LoRAConfig{R: f.loraR, Alpha: f.loraAlpha, Dropout: f.loraDropout, Targets: f.loraTargets, Seed: ci.ModelOptions.Seed}
	if _, err := applyLoRA(m, lora, f.topLayers); err != nil {
		cleanup()
		return nil, nil, err
	}
	return m, cleanup, nil
}

// quantizeExport rewrites the model.onnx that ft export just wrote in dir as
// a dynamically quantized int8 model (onnx.Model.QuantizeDynamic).
func quantizeExport(dir string, stdout io.Writer) error {
	qm, err := onnx.Load(dir)
	if err != nil {
		return err
	}
	rep, err := qm.QuantizeDynamic()
	if err != nil {
		return fmt.Errorf("--quantize int8: %w", err)
	}
	if rep.MatMuls == 0 {
		return fmt.Errorf("--quantize int8: %s has no MatMul or Gemm with a float32 weight to quantize", qm.Path)
	}
	if err := qm.Save(qm.Path); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "quantized %d MatMul/Gemm weights to int8 (per column): %.1f MB of float32 weights → %.1f MB\n",
		rep.MatMuls, float64(rep.FloatBytes)/1e6, float64(rep.Int8Bytes)/1e6)
	return nil
}
