// Package dataset reads labelled text for training and turns it into
// batches. Read and Parse load a CSV, TSV or JSON-lines file (Format, found
// by FormatOf or ParseFormat) into a Dataset of Examples, finding the
// header (HeaderMode) and the text, pair and label columns (ReadOptions),
// detecting the ProblemType (single-label, multi-label or regression) and
// naming the labels in a LabelMap (from the file, or from a model's
// id2label via ID2LabelNames). CheckData is what `ft data check` reports on
// a training and an evaluation file (DataCheck: label balance, token
// lengths, duplicates, conflicting labels, overlap between the files,
// NormalizeText's comparison rule). A Source makes Batches from row
// indices: TextSource tokenizes a Dataset (CachedTextSource once for all
// rows), TensorSource slices fixed tensors; Permutation, Batches,
// EpochBatches, LengthGroupedBatches (for a LengthSource, whose Lengths a LengthCache
// can keep) and StepsPerEpoch
// give the row order a seed names, the same on every machine. Names and defaults follow the Hugging Face datasets and Trainer, so a run
// configured the same way in both sees the same rows in the same order.
package dataset
