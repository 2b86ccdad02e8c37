package finetune

import (
	"context"
	"fmt"
	"runtime"

	"ft/optim"
)

// SyntheticValue is value i of a synthetic tensor: k = 0 a trainable
// parameter, 1 and 2 AdamW's exp_avg and exp_avg_sq (positive). The values
// are spread over [-0.05, 0.05) (and (0, 0.05] for exp_avg_sq) by a hash
// of the name, i and k, so a tensor read back from the wrong place or in
// the wrong order differs. For tests only.
func SyntheticValue(name string, i, k int) float32 {
	h := uint64(i)*0x9e3779b97f4a7c15 + uint64(k+1)*0xbf58476d1ce4e5b9 + uint64(len(name))*0x94d049bb133111eb
	h ^= h >> 31
	h *= 0xd6e9f8cc5c1a4c7d
	h ^= h >> 29
	v := float32(h>>40)/(1<<24)*0.1 - 0.05
	if k == 2 {
		v = float32(h>>40+1) / (1 << 24) * 0.05
	}
	return v
}

// WriteSyntheticCheckpoint writes, without training, the checkpoint t's run
// would leave in Args.OutputDir after its last step: the trainable
// parameters set to SyntheticValue(name, i, 0), AdamW's slots to
// SyntheticValue(name, i, 1) and (…, 2), the optimizer at the run's last
// step. It needs Args.Optim AdamW. Its memory is the model's, one copy of
// the trainable parameters (the XOR base) and the two slots. For tests of
// big checkpoints only.
func (t *Trainer) WriteSyntheticCheckpoint(ctx context.Context) (string, error) {
	f, err := t.newFit(ctx)
	if err != nil {
		return "", err
	}
	name := f.opt.Name()
	if name != "AdamW" {
		return "", fmt.Errorf("WriteSyntheticCheckpoint writes AdamW's slots, not %s's", name)
	}
	// the optimizer's own slots are not needed: the synthetic ones are
	// written instead
	t.opt, f.opt = nil, nil
	runtime.GC()
	st := f.st
	st.Step = f.total
	st.Epoch, st.Batch = f.total/f.stepsPerEpoch, f.total%f.stepsPerEpoch
	st.Samples = f.total * f.a.PerDeviceTrainBatchSize
	for s := range f.total {
		st.Losses = append(st.Losses, 0.7-0.01*float64(s))
	}
	ost := &optim.State{Optimizer: name, Step: int64(f.total), Slots: map[string][]float32{}}
	for _, p := range t.Trainable {
		v := p.Value.F32()
		m, sq := make([]float32, len(v)), make([]float32, len(v))
		for i := range v {
			v[i] = SyntheticValue(p.Name, i, 0)
			m[i] = SyntheticValue(p.Name, i, 1)
			sq[i] = SyntheticValue(p.Name, i, 2)
		}
		ost.Slots[p.Name+"/exp_avg"], ost.Slots[p.Name+"/exp_avg_sq"] = m, sq
	}
	return t.writeCheckpointState(f.a.OutputDir, st, f.base, ost)
}
