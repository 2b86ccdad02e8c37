package tokenclass

import (
	"compress/gzip"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// pipelineRun is one tokenizer's part of testdata/ner_pipeline.json.gz,
// made by testmodels/ner_pipeline_oracle.py with transformers' pipeline.
type pipelineRun struct {
	Tokenizer string   `json:"tokenizer"`
	WordAware bool     `json:"word_aware"`
	Decoder   string   `json:"decoder"`
	Labels    []string `json:"labels"`
	Texts     []struct {
		Text     string                    `json:"text"`
		Tokens   []string                  `json:"tokens"`
		Offsets  [][2]int                  `json:"offsets"`
		Special  []int                     `json:"special"`
		Unknown  []bool                    `json:"unknown"`
		Logits   [][]float64               `json:"logits"`
		Entities map[string][]pipelineWant `json:"entities"`
	} `json:"texts"`
}

type pipelineWant struct {
	Entity      string  `json:"entity"`
	EntityGroup string  `json:"entity_group"`
	Score       float64 `json:"score"`
	Word        string  `json:"word"`
	Start       int     `json:"start"`
	End         int     `json:"end"`
	Index       *int    `json:"index"`
}

func loadPipelineRuns(t *testing.T) []pipelineRun {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "ner_pipeline.json.gz"))
	if err != nil {
		t.Fatalf("%v (make it with $FT_PYTHON testmodels/ner_pipeline_oracle.py)", err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Runs []pipelineRun `json:"runs"`
	}
	if err := json.NewDecoder(z).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	return doc.Runs
}

func TestAggregateMatchesPipeline(t *testing.T) {
	runs := loadPipelineRuns(t)
	if len(runs) == 0 {
		t.Fatal("no runs in the fixture")
	}
	for _, run := range runs {
		t.Run(run.Tokenizer, func(t *testing.T) {
			counts := map[string]int{}
			for ti, tx := range run.Texts {
				toks := make([]Token, len(tx.Tokens))
				logits := make([][]float32, len(tx.Logits))
				for i := range toks {
					toks[i] = Token{Text: tx.Tokens[i], Start: tx.Offsets[i][0], End: tx.Offsets[i][1], Special: tx.Special[i] == 1, Unknown: tx.Unknown[i]}
					logits[i] = make([]float32, len(tx.Logits[i]))
					for k, v := range tx.Logits[i] {
						logits[i][k] = float32(v)
					}
				}
				for key, want := range tx.Entities {
					name, all := strings.CutSuffix(key, "_all")
					s, err := ParseStrategy(name)
					if err != nil {
						t.Fatal(err)
					}
					opt := AggregateOptions{Strategy: s, Labels: run.Labels, WordAware: run.WordAware}
					switch run.Decoder {
					case "WordPiece":
					case "ByteLevel":
						opt.Decode = ByteLevelDecode
					case "Metaspace":
						opt.Decode = MetaspaceDecoder('▁', true)
					default:
						t.Fatalf("decoder %q", run.Decoder)
					}
					if all {
						opt.IgnoreLabels = []string{}
					}
					got, err := Aggregate(tx.Text, toks, logits, opt)
					if err != nil {
						t.Fatalf("text %d %s: %v", ti, key, err)
					}
					counts[key] += len(want)
					if len(got) != len(want) {
						t.Errorf("text %d %q %s: %d entities, pipeline %d\n got %+v\nwant %+v", ti, tx.Text, key, len(got), len(want), got, want)
						continue
					}
					for k, w := range want {
						g := got[k]
						wantIndex := -1
						if w.Index != nil {
							wantIndex = *w.Index
						}
						if g.Entity != w.Entity || g.EntityGroup != w.EntityGroup || g.Word != w.Word || g.Start != w.Start || g.End != w.End || g.Index != wantIndex || math.Abs(g.Score-w.Score) > 1e-6 {
							t.Errorf("text %d %q %s entity %d:\n got %+v\nwant %+v (index %d)", ti, tx.Text, key, k, g, w, wantIndex)
						}
					}
				}
			}
			t.Logf("%d texts, entities compared per strategy: %v", len(run.Texts), counts)
		})
	}
}

// Rust's String::from_utf8_lossy replaces each maximal ill-formed subpart
// with one U+FFFD; the cases are the Unicode standard's table 3-8 examples.
func TestLossyUTF8(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"a\xe2\x9d\xa4b", "a\u2764b"},
		{"a\xe2\x9db", "a\ufffdb"},                       // truncated 3-byte sequence: one U+FFFD
		{"\xe2", "\ufffd"},                               // lone lead byte
		{"\x80\x80", "\ufffd\ufffd"},                     // lone continuation bytes: one each
		{"\xc0\xaf", "\ufffd\ufffd"},                     // overlong: C0 is never valid
		{"\xe0\x80\xaf", "\ufffd\ufffd\ufffd"},           // E0 needs A0..BF next
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"},           // surrogate
		{"\xf0\x9f\x98", "\ufffd"},                       // truncated 4-byte sequence
		{"\xf4\x90\x80\x80", "\ufffd\ufffd\ufffd\ufffd"}, // past U+10FFFF
		{"\x61\xf1\x80\x80\xe1\x80\xc2\x62\x80\x63\x80\xbf\x64", "a\ufffd\ufffd\ufffdb\ufffdc\ufffd\ufffdd"},
	}
	for _, tc := range tests {
		if got := lossyUTF8([]byte(tc.in)); got != tc.want {
			t.Errorf("lossyUTF8(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// The decoder turns byte characters back into bytes.
	if got := ByteLevelDecode([]string{"Hello", "\u0120my", "\u0120fri", "end", ","}); got != "Hello my friend," {
		t.Errorf("ByteLevelDecode = %q", got)
	}
}

// tokenizers' Metaspace decoder (0.22) on the same tokens gives these.
func TestMetaspaceDecoder(t *testing.T) {
	toks := []string{"▁▁a▁", "▁b▁c", "d"}
	if got := MetaspaceDecoder('▁', true)(toks); got != "a b cd" {
		t.Errorf("prepend: %q", got)
	}
	if got := MetaspaceDecoder('▁', false)(toks); got != "  a  b cd" {
		t.Errorf("never: %q", got)
	}
}

func TestEntityJSON(t *testing.T) {
	tests := []struct {
		e    Entity
		want string
	}{
		{Entity{Entity: "B-PER", Score: 0.5, Word: "Jo", Start: 0, End: 2, Index: 1},
			`{"entity":"B-PER","score":0.5,"index":1,"word":"Jo","start":0,"end":2}`},
		{Entity{EntityGroup: "PER", Score: 0.25, Word: "Jo \"Q\"", Start: 3, End: 9, Index: -1},
			`{"entity_group":"PER","score":0.25,"word":"Jo \"Q\"","start":3,"end":9}`},
	}
	for _, tc := range tests {
		b, err := json.Marshal(tc.e)
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != tc.want {
			t.Errorf("got  %s\nwant %s", b, tc.want)
		}
	}
	if _, err := json.Marshal(Entity{EntityGroup: "X", Score: math.NaN()}); err == nil {
		t.Error("NaN score marshalled")
	}
}
