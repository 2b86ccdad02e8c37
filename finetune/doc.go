// Package finetune trains a model that graph imports, as the Hugging Face
// Trainer would: LoadModel adapts an ONNX export to a task (ModelOptions:
// labels, a classifier head of the right width, pooling; ConfigLabels and
// ExportLabels read the label names back); the Trainer runs the training
// loop with TrainingArguments-like Args over dataset Sources with optim
// optimizers and schedules, reports Events, writes a MetricsLog (Record,
// TruncateMetricsLog) and checkpoints it can resume bit for bit
// (TrainState, CheckpointInfo, ListCheckpoints, FindCheckpoint); a Loss
// (CrossEntropyLoss, BCEWithLogitsLoss, BCELoss, MSELoss; Softmax) trains
// the outputs and the metrics (ClassificationMetrics, MultiLabelMetrics,
// RegressionMetrics, ArgmaxRows, ThresholdRows, FormatConfusion) score
// them; Selection (LayerIndex, IsEmbedding, IsHeadParam) picks the
// parameters to train, LoRA adds low-rank adapters (ApplyLoRA,
// LoRATrainable, MergeLoRA, SavePEFT, EncodeSafetensors); Predict labels
// texts and Save, SaveWith and SaveSafetensors export the result. Token
// classification and sentence embeddings plug their data, head, loss and
// metrics into the same Trainer (see Trainer): for tagging tokens,
// ModelOptions.TokenClassification, TokenSource, TokenScorer and
// PredictEntities (tokencls.go); for sentence embeddings,
// SentenceEncoder, EmbedSource, EmbeddingLoss (a StepLoss: GradCache for
// CachedMultipleNegativesRankingLoss), EmbeddingMetrics, ReadEmbedData and
// SaveSentenceTransformer. Reading data lives in
// dataset, optimizers in optim, hyper-parameter search in sweep,
// attributions in explain.
package finetune
