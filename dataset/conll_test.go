package dataset

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestReadTaggedFiles(t *testing.T) {
	conll2003 := []string{"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-MISC", "I-MISC"}
	tests := []struct {
		file    string
		opt     TaggedOptions
		tagCol  string
		want    []TaggedSentence
		tagList []string
	}{
		{"wnut_style.conll", TaggedOptions{}, "last", []TaggedSentence{
			// BOM, CRLF, a tab-only line and a space-only line as breaks.
			{Tokens: []string{"@paul", "loves", "New", "York"}, Tags: []string{"O", "O", "B-location", "I-location"}, Line: 1},
			{Tokens: []string{"Facebook"}, Tags: []string{"B-corporation"}, Line: 6},
			{Tokens: []string{"ok"}, Tags: []string{"O"}, Line: 9},
		}, []string{"B-corporation", "B-location", "I-location", "O"}},
		{"conll2003_style.conll", TaggedOptions{}, "last", []TaggedSentence{
			{Tokens: []string{"EU", "rejects", "German", "call"}, Tags: []string{"B-ORG", "O", "B-MISC", "O"}, Line: 3},
			{Tokens: []string{"Peter", "Blackburn"}, Tags: []string{"B-PER", "I-PER"}, Line: 10},
		}, []string{"B-MISC", "B-ORG", "B-PER", "I-PER", "O"}},
		{"conll2003_style.conll", TaggedOptions{TagColumn: "1"}, "1", []TaggedSentence{
			{Tokens: []string{"EU", "rejects", "German", "call"}, Tags: []string{"NNP", "VBZ", "JJ", "NN"}, Line: 3},
			{Tokens: []string{"Peter", "Blackburn"}, Tags: []string{"NNP", "NNP"}, Line: 10},
		}, []string{"JJ", "NN", "NNP", "VBZ"}},
		{"sample.conllu", TaggedOptions{}, "upos", []TaggedSentence{
			{Tokens: []string{"I", "do", "n't", "know", "."}, Tags: []string{"PRON", "AUX", "PART", "VERB", "PUNCT"}, Line: 4},
			{Tokens: []string{"Hi"}, Tags: []string{"INTJ"}, Line: 13},
		}, []string{"AUX", "INTJ", "PART", "PRON", "PUNCT", "VERB"}},
		{"sample.conllu", TaggedOptions{TagColumn: "xpos"}, "xpos", []TaggedSentence{
			{Tokens: []string{"I", "do", "n't", "know", "."}, Tags: []string{"PRP", "VBP", "RB", "VB", "."}, Line: 4},
			{Tokens: []string{"Hi"}, Tags: []string{"UH"}, Line: 13},
		}, []string{".", "PRP", "RB", "UH", "VB", "VBP"}},
		{"hf_ids.jsonl", TaggedOptions{Labels: conll2003}, "ner_tags", []TaggedSentence{
			{Tokens: []string{"EU", "rejects", "German", "call"}, Tags: []string{"B-ORG", "O", "B-MISC", "O"}, Line: 1},
			{Tokens: []string{"Peter", "Blackburn"}, Tags: []string{"B-PER", "I-PER"}, Line: 3},
		}, []string{"B-MISC", "B-ORG", "B-PER", "I-PER", "O"}},
		{"strings.jsonl", TaggedOptions{}, "tags", []TaggedSentence{
			{Tokens: []string{"@paul", "loves", "New", "York"}, Tags: []string{"O", "O", "B-location", "I-location"}, Line: 1},
			{Tokens: []string{}, Tags: []string{}, Line: 2},
		}, []string{"B-location", "I-location", "O"}},
	}
	for _, tc := range tests {
		t.Run(tc.file+" "+tc.opt.TagColumn, func(t *testing.T) {
			d, err := ReadTagged(filepath.Join("testdata", "conll", tc.file), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(d.Sentences, tc.want) {
				t.Errorf("sentences\n%+v\nwant\n%+v", d.Sentences, tc.want)
			}
			if d.TagColumn != tc.tagCol {
				t.Errorf("tag column %q, want %q", d.TagColumn, tc.tagCol)
			}
			if got := d.TagList(); !reflect.DeepEqual(got, tc.tagList) {
				t.Errorf("tag list %q, want %q", got, tc.tagList)
			}
		})
	}
}

func TestParseTaggedErrors(t *testing.T) {
	tests := []struct {
		name, path, data string
		opt              TaggedOptions
		want             string
	}{
		{"one field", "a.conll", "EU\tB-ORG\nrejects\n", TaggedOptions{}, "a.conll:2: one field \"rejects\": a CoNLL line holds a token and its tag"},
		{"tag column past the fields", "a.conll", "EU\tNNP\tB-ORG\nx\tO\n", TaggedOptions{TagColumn: "2"}, "a.conll:2: 2 fields, but the tag column is 2"},
		{"bad column", "a.conll", "EU\tO\n", TaggedOptions{TagColumn: "ner"}, `a.conll: tag column "ner": CoNLL columns are field numbers`},
		{"empty tag", "a.conll", "EU\t \n", TaggedOptions{}, `a.conll:1: the tag (column 1) of "EU" is empty`},
		{"empty token", "a.conll", "\tO\n", TaggedOptions{}, "a.conll:1: the token (column 0) is empty"},
		{"no sentences", "a.conll", "-DOCSTART-\tO\n\n \n", TaggedOptions{}, "a.conll: no sentences"},
		{"not UTF-8", "a.conll", "ok\tO\nCaf\xe9\tO\n", TaggedOptions{}, "a.conll:2: byte 0xe9 at column 4 is not UTF-8"},
		{"UTF-16", "a.conll", "\xff\xfeo\x00", TaggedOptions{}, "a.conll:1: the file is UTF-16"},
		{"extension", "a.csv", "x", TaggedOptions{}, `a.csv: cannot tell the tagged-data format from the extension ".csv"`},
		{"conllu fields", "a.conllu", "1\tI\tI\tPRON\n", TaggedOptions{}, "a.conllu:1: 4 tab-separated fields, but a CoNLL-U word line has 10"},
		{"conllu id", "a.conllu", "x\tI\tI\tPRON\tPRP\t_\t0\troot\t_\t_\n", TaggedOptions{}, `a.conllu:1: ID "x" is not a word number`},
		{"conllu tag column", "a.conllu", "", TaggedOptions{TagColumn: "deprel"}, `a.conllu: tag column "deprel": a CoNLL-U file tags with upos (the default) or xpos`},
		{"jsonl not an object", "a.jsonl", "[1]\n", TaggedOptions{}, "a.jsonl:1: each line must be one JSON object"},
		{"jsonl no tag key", "a.jsonl", `{"tokens": ["a"], "labels": ["O"]}`, TaggedOptions{}, `a.jsonl:1: no tag key: looked for tags, ner_tags, pos_tags; the keys are "labels", "tokens"`},
		{"jsonl lengths", "a.jsonl", `{"tokens": ["a", "b"], "tags": ["O"]}`, TaggedOptions{}, "a.jsonl:1: 2 tokens but 1 tags"},
		{"jsonl ids without labels", "a.jsonl", "{\"tokens\": [\"a\"], \"tags\": [\"O\"]}\n{\"tokens\": [\"a\"], \"tags\": [3]}", TaggedOptions{}, `a.jsonl:2: "tags"[0]: tag 3 is a label id but no label list was given`},
		{"jsonl id out of range", "a.jsonl", `{"tokens": ["a"], "ner_tags": [3]}`, TaggedOptions{Labels: []string{"O", "B-X"}}, `a.jsonl:1: "ner_tags"[0]: label id 3 outside the 2 labels (0..1)`},
		{"jsonl float tag", "a.jsonl", `{"tokens": ["a"], "ner_tags": [1.5]}`, TaggedOptions{Labels: []string{"O", "B-X"}}, `a string or a label id (an integer), got "1.5"`},
		{"jsonl tokens not strings", "a.jsonl", `{"tokens": "a b", "tags": ["O"]}`, TaggedOptions{}, `a.jsonl:1: "tokens" must be a list of strings`},
		{"jsonl missing key later", "a.jsonl", "{\"tokens\": [\"a\"], \"tags\": [\"O\"]}\n{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}", TaggedOptions{}, `a.jsonl:2: the object has no "tags" key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTagged(tc.path, []byte(tc.data), tc.opt)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v\nwant one containing %q", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

// The counts of ../shared/data/README.md, also counted independently by
// testmodels/seqeval_oracle.py --count-data.
func TestReadTaggedRealData(t *testing.T) {
	dir := sharedData(t, "wnut17/train.conll")
	tests := []struct {
		file             string
		opt              TaggedOptions
		sentences, words int
		tags             int
	}{
		{"wnut17/train.conll", TaggedOptions{}, 3394, 62730, 13},
		{"wnut17/dev.conll", TaggedOptions{}, 1009, 15733, 13},
		{"ud-ewt/train.conllu", TaggedOptions{}, 9717, 157987, 17},
		{"ud-ewt/dev.conllu", TaggedOptions{}, 2001, 25147, 17},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			d, err := ReadTagged(filepath.Join(dir, tc.file), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Sentences) != tc.sentences || d.Tokens() != tc.words {
				t.Errorf("%d sentences, %d tokens; want %d, %d", len(d.Sentences), d.Tokens(), tc.sentences, tc.words)
			}
			if n := len(d.TagList()); n != tc.tags {
				t.Errorf("%d distinct tags %q, want %d", n, d.TagList(), tc.tags)
			}
		})
	}
	d, err := ReadTagged(filepath.Join(dir, "ud-ewt", "train.conllu"), TaggedOptions{TagColumn: "xpos"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Tokens() != 157987 || len(d.TagList()) != 49 {
		t.Errorf("xpos: %d tokens, %d distinct tags; want 157987, 49", d.Tokens(), len(d.TagList()))
	}
}
