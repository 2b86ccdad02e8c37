// Command hugotcheck loads a sentence-transformers folder that ft wrote
// (ft run --task sentence-similarity: OUTPUT-DIR/model) with hugot's
// pure-Go backend (NewGoSession: GoMLX's simplego, no cgo) and its
// feature-extraction pipeline (mean pooling, normalisation when the folder's
// modules.json has a Normalize module), and compares its embeddings with
// ft's: the JSON lines of `ft embed MODEL TEXT...`.
//
//	ft embed DIR "a text" "another" > ft.jsonl
//	go run . DIR ft.jsonl
//
// It is its own module so that hugot's dependencies stay out of ft's go.mod.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/knights-analytics/hugot"
	"github.com/knights-analytics/hugot/pipelines"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "hugotcheck:", err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) != 3 {
		return fmt.Errorf("usage: hugotcheck EXPORT_DIR FT_EMBED.jsonl")
	}
	dir, path := os.Args[1], os.Args[2]
	path, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var texts []string
	var want [][]float32
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for sc.Scan() {
		var r struct {
			Text      string    `json:"text"`
			Embedding []float32 `json:"embedding"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("%s: %v", path, err)
		}
		texts, want = append(texts, r.Text), append(want, r.Embedding)
	}
	if err := sc.Err(); err != nil {
		return err
	}
	// hugot v0.6.1 finds onnx/model.onnx but opens it relative to the
	// working directory (getOnnxFiles keeps the subfolder, not the model
	// path): run from the folder itself.
	if err := os.Chdir(dir); err != nil {
		return err
	}
	session, err := hugot.NewGoSession()
	if err != nil {
		return err
	}
	defer session.Destroy()
	cfg := hugot.FeatureExtractionConfig{ModelPath: ".", Name: "ft-export", OnnxFilename: "model.onnx"}
	if b, err := os.ReadFile("modules.json"); err == nil && strings.Contains(string(b), ".Normalize") {
		cfg.Options = append(cfg.Options, pipelines.WithNormalization())
	}
	p, err := hugot.NewPipeline(session, cfg)
	if err != nil {
		return err
	}
	out, err := p.RunPipeline(texts)
	if err != nil {
		return err
	}
	worst, minCos := 0.0, 1.0
	for i, got := range out.Embeddings {
		if len(got) != len(want[i]) {
			return fmt.Errorf("text %d: hugot gives %d values, ft %d", i, len(got), len(want[i]))
		}
		var dot, ng, nw float64
		for j := range got {
			g, w := float64(got[j]), float64(want[i][j])
			worst = math.Max(worst, math.Abs(g-w))
			dot, ng, nw = dot+g*w, ng+g*g, nw+w*w
		}
		minCos = math.Min(minCos, dot/math.Sqrt(ng*nw))
	}
	fmt.Printf("hugot (pure Go) vs ft: %d texts, max |diff| %.3g, min cosine %.8f\n", len(texts), worst, minCos)
	if worst > 1e-5 || minCos < 0.99999 {
		return fmt.Errorf("embeddings differ")
	}
	return nil
}
