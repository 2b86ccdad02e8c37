// Package tokenclass holds the pure pieces of token classification (named
// entities, part-of-speech tags) that need no model: entity-level metrics,
// word-label alignment to sub-tokens, and the aggregation of per-token
// predictions into entities.
//
// Metrics. Evaluate computes precision, recall and F1 per entity type with
// micro, macro and weighted averages exactly as seqeval 1.2.2's
// classification_report does, in its default (conlleval-compatible) mode and
// in strict mode with a tagging scheme (IOB1, IOB2, IOE1, IOE2, IOBES,
// BILOU, or detected from the true tags). Malformed sequences are read as
// seqeval reads them: in default mode I- without B- starts an entity and a
// type change splits one; in strict mode a span the scheme cannot start or
// end is no entity. Tags may carry the chunk letter last ("PER-B", seqeval's
// suffix=True). Accuracy is seqeval's token accuracy. Ratios with a zero
// denominator are 0 (seqeval's zero_division="warn") or 1. The figures equal
// seqeval's on the generated corpora of testdata/seqeval_cases.json.gz
// (testmodels/seqeval_oracle.py).
//
// Alignment. AlignLabels puts each word's label on the first sub-token of the
// word and IgnoreIndex (-100) on the others and on special tokens, as
// transformers' examples/pytorch/token-classification/run_ner.py does; with
// LabelAllTokens the other sub-tokens get the label too, B- turned into I-
// when the label list has the I- label (run_ner's b_to_i_label).
//
// Aggregation. Aggregate turns per-token scores into entities as
// transformers' TokenClassificationPipeline (4.57) does, with its
// aggregation strategies none, simple, first, average and max and its
// ignore_labels (default "O"). Offsets are character (code point) offsets
// into the text, as Hugging Face tokenizers report them for Python strings.
// Sub-token strings are joined into words by the tokenizer's decoder:
// WordPieceDecode ("##" continuation, BERT kinds), ByteLevelDecode
// (RoBERTa, GPT-2 kinds) and MetaspaceDecoder (SentencePiece kinds: XLM-R,
// ALBERT, DeBERTa-v2) are here; other decoders (byte fallback, CTC) are
// future work. The entities equal the pipeline's on the texts of
// testdata/ner_pipeline.json.gz (testmodels/ner_pipeline_oracle.py) for two
// WordPiece tokenizers, a byte-level BPE and a Unigram tokenizer.
package tokenclass
