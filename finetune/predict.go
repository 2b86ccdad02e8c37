package finetune

import (
	"context"
	"fmt"

	"ft/tokenize"
)

// Prediction is the model's answer for one text.
type Prediction struct {
	Text          string             `json:"text"`
	Label         string             `json:"label"`
	Score         float64            `json:"score"`
	Probabilities map[string]float64 `json:"probabilities"`
}

// Predict classifies texts in batches of 32 (softmax over the logits).
func (m *Model) Predict(ctx context.Context, tok *tokenize.Tokenizer, texts []string, maxLength int) ([]Prediction, error) {
	var res []Prediction
	for lo := 0; lo < len(texts); lo += 32 {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		chunk := texts[lo:min(lo+32, len(texts))]
		e, err := tok.EncodeBatch(chunk, nil, tokenize.Options{MaxLength: maxLength})
		if err != nil {
			return res, err
		}
		feeds, err := e.Tensors(m.Graph.InputNames()...)
		if err != nil {
			return res, err
		}
		out, err := m.Graph.Run(feeds, m.Output)
		if err != nil {
			return res, err
		}
		y := out[m.Output].F32()
		c := len(y) / len(chunk)
		if m.IsRegression() {
			// the score is the output itself (transformers' pipeline applies
			// no function for problem_type regression)
			for i, t := range chunk {
				res = append(res, Prediction{Text: t, Label: m.LabelName(0), Score: float64(y[i*c])})
			}
			continue
		}
		for i, t := range chunk {
			row := y[i*c : (i+1)*c]
			p := Softmax(row)
			best := 0
			pm := map[string]float64{}
			for j := range p {
				if p[j] > p[best] {
					best = j
				}
				pm[m.LabelName(j)] = p[j]
			}
			res = append(res, Prediction{Text: t, Label: m.LabelName(best), Score: p[best], Probabilities: pm})
		}
	}
	return res, nil
}

// LabelName returns the name of output class i: its label, or LABEL_i as
// transformers names classes without one.
func (m *Model) LabelName(i int) string {
	if i < len(m.Labels) {
		return m.Labels[i]
	}
	return fmt.Sprintf("LABEL_%d", i)
}

// IsRegression reports whether the model predicts one number (config.json
// problem_type "regression").
func (m *Model) IsRegression() bool {
	return m.Config["problem_type"] == "regression"
}
