// Package finetune trains a model imported by graph: LoadModel adapts a
// Hugging Face ONNX export to a task (a classifier head of the right width,
// pooling), the Trainer runs the training loop with Hugging Face Trainer
// arguments (Args) over dataset Sources with optim optimizers and
// schedules, writing checkpoints it can resume bit for bit and a metrics
// log; Loss, its implementations and the metrics (ClassificationMetrics,
// MultiLabelMetrics, RegressionMetrics) score the outputs; LoRA adapters
// (ApplyLoRA, MergeLoRA, SavePEFT), parameter Selection, Predict and the
// exports (Save, SaveSafetensors) complete it.
package finetune
