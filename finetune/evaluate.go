package finetune

import (
	"context"

	"ft/dataset"
	"ft/tensor"
)

// Predictions runs the model on every row of src and returns the outputs
// (one row per example) and the targets.
func (t *Trainer) Predictions(ctx context.Context, src dataset.Source) (outs [][]float32, targets []*tensor.Tensor, err error) {
	outs, targets, _, err = t.predict(ctx, src, false)
	return outs, targets, err
}

// predict runs src in evaluation batches; with withLoss it also returns the
// loss over all rows (the per-batch mean losses weighted by batch size),
// computed on each batch's output as it comes.
func (t *Trainer) predict(ctx context.Context, src dataset.Source, withLoss bool) (outs [][]float32, targets []*tensor.Tensor, loss float64, err error) {
	t.Args.Defaults()
	t.usePrecision()
	bs := t.Args.PerDeviceEvalBatchSize
	if bs <= 0 {
		return nil, nil, 0, &ArgError{"per_device_eval_batch_size", bs, "an integer from 1 to 2147483647 (0: the training batch size)"}
	}
	lossSum := 0.0
	for lo := 0; lo < src.Len(); lo += bs {
		if err := ctx.Err(); err != nil {
			return nil, nil, 0, err
		}
		rows := make([]int, 0, min(bs, src.Len()-lo)) // not the flag's size: the batch may exceed the data
		for i := lo; i < min(lo+bs, src.Len()); i++ {
			rows = append(rows, i)
		}
		b, err := src.Batch(rows)
		if err != nil {
			return nil, nil, 0, err
		}
		res, err := t.Model.Graph.Run(b.Feeds, t.Model.Output)
		if err != nil {
			return nil, nil, 0, err
		}
		y := res[t.Model.Output]
		if withLoss {
			l, _, err := t.Loss.Loss(y, b.Target)
			if err != nil {
				return nil, nil, 0, err
			}
			lossSum += l * float64(b.Size)
		}
		c := y.Len() / max(1, b.Size)
		d := y.F32()
		for i := 0; i < b.Size; i++ {
			outs = append(outs, append([]float32(nil), d[i*c:(i+1)*c]...))
		}
		targets = append(targets, b.Target)
	}
	return outs, targets, lossSum / float64(max(1, len(outs))), nil
}

// Evaluate returns the loss and the metrics of the problem type on src.
func (t *Trainer) Evaluate(ctx context.Context, src dataset.Source) (map[string]float64, error) {
	if t.Loss == nil {
		t.Loss = NewCrossEntropyLoss()
	}
	t.LastReport = nil
	outs, targets, loss, err := t.predict(ctx, src, true)
	if err != nil {
		return nil, err
	}
	m := map[string]float64{"loss": loss}
	score := t.problemMetrics
	if t.Metrics != nil {
		score = t.Metrics
	}
	more, err := score(outs, targets)
	if err != nil {
		return nil, err
	}
	for k, v := range more {
		m[k] = v
	}
	return m, nil
}

// problemMetrics are the metrics of t.Problem; single-label classification
// keeps its report in t.LastReport.
func (t *Trainer) problemMetrics(outs [][]float32, targets []*tensor.Tensor) (map[string]float64, error) {
	switch t.Problem {
	case dataset.Regression:
		var yt, yp []float64
		for _, tg := range targets {
			yt = append(yt, tg.Float64s()...)
		}
		for _, o := range outs {
			yp = append(yp, float64(o[0]))
		}
		rep, err := RegressionMetrics(yt, yp)
		if err != nil {
			return nil, err
		}
		return rep.Metrics(), nil
	case dataset.MultiLabel:
		var yt, yp [][]bool
		for _, tg := range targets {
			c := tg.Shape[len(tg.Shape)-1]
			yt = append(yt, ThresholdRows(tg.F32(), c, 0.5)...)
		}
		for _, o := range outs {
			// sigmoid(z) > 0.5  ⇔  z > 0
			yp = append(yp, ThresholdRows(o, len(o), 0)...)
		}
		rep, err := MultiLabelMetrics(yt, yp)
		if err != nil {
			return nil, err
		}
		return rep.Metrics(), nil
	}
	var yTrue, yPred []int
	for _, tg := range targets {
		for _, v := range tg.I64() {
			yTrue = append(yTrue, int(v))
		}
	}
	for _, o := range outs {
		yPred = append(yPred, ArgmaxRows(o, len(o))...)
	}
	k := len(t.Model.Labels)
	if k == 0 && len(outs) > 0 {
		k = len(outs[0])
	}
	rep, err := ClassificationMetrics(yTrue, yPred, k)
	if err != nil {
		return nil, err
	}
	t.LastReport = rep
	return rep.Metrics(), nil
}
