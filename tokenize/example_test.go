package tokenize_test

import (
	"fmt"
	"log"

	"ft/tokenize"
)

func Example() {
	// An export folder: tokenizer.json and tokenizer_config.json.
	tok, err := tokenize.Load("../testmodels/tokenizers/minilm-l6-v2")
	if err != nil {
		log.Fatal(err)
	}
	texts := []string{"Café au lait!", "A fine-tuned model, at last."}
	enc, err := tok.EncodeBatch(texts, nil, tokenize.Options{MaxLength: 16, Padding: tokenize.PadLongest})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(enc.InputIDs)
	fmt.Println(enc.AttentionMask)

	// The inputs the model declares, as [batch, sequence] int64 tensors.
	inputs, err := enc.Tensors("input_ids", "attention_mask", "token_type_ids")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(inputs["input_ids"].Shape)
	// Output:
	// [[101 7668 8740 21110 2102 999 102 0 0 0 0] [101 1037 2986 1011 15757 2944 1010 2012 2197 1012 102]]
	// [[1 1 1 1 1 1 1 0 0 0 0] [1 1 1 1 1 1 1 1 1 1 1]]
	// [2 11]
}

func ExampleTokenizer_EncodeBatch() {
	tok, err := tokenize.Load("../testmodels/tokenizers/minilm-l6-v2")
	if err != nil {
		log.Fatal(err)
	}
	enc, err := tok.EncodeBatch(
		[]string{"The movie was great."},
		[]string{"It was a good film."},
		tokenize.Options{MaxLength: 12, Truncation: tokenize.LongestFirst, Padding: tokenize.PadMaxLength})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(enc.InputIDs[0])
	fmt.Println(enc.TokenTypeIDs[0])
	// Output:
	// [101 1996 3185 2001 2307 102 2009 2001 1037 2204 2143 102]
	// [0 0 0 0 0 0 1 1 1 1 1 1]
}

func ExampleTokenizer_Decode() {
	// A Llama 3-style tokenizer: Split regex + byte-level BPE.
	tok, err := tokenize.Load("../testmodels/tokenizers/llama3-bpe")
	if err != nil {
		log.Fatal(err)
	}
	enc, err := tok.EncodeBatch([]string{"Héllo  wörld 👍🏽"}, nil, tokenize.Options{})
	if err != nil {
		log.Fatal(err)
	}
	ids := enc.InputIDs[0]
	fmt.Println(ids)
	// Without and with the special tokens; then with the last byte of 🏽
	// cut off, which becomes U+FFFD as in HF.
	for _, c := range []struct {
		ids  []int64
		skip bool
	}{{ids, true}, {ids, false}, {ids[:len(ids)-1], true}} {
		text, err := tok.Decode(c.ids, c.skip)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%q\n", text)
	}
	// Output:
	// [0 42 130 105 78 78 81 223 287 130 117 84 413 223 175 256 242 238 175 256 240 124]
	// "Héllo  wörld 👍🏽"
	// "<|begin_of_text|>Héllo  wörld 👍🏽"
	// "Héllo  wörld 👍�"
}
