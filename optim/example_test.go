package optim_test

import (
	"fmt"

	"ft/graph"
	"ft/optim"
	"ft/tensor"
)

func ExampleNewAdamW() {
	w := &graph.Param{Name: "classifier.weight", Value: tensor.New([]int{2}, []float32{0.5, -0.5})}
	b := &graph.Param{Name: "classifier.bias", Value: tensor.New([]int{1}, []float32{0})}
	cfg := optim.DefaultAdamWConfig()
	cfg.LR = 0.1
	opt, err := optim.NewAdamW(optim.DefaultParamGroups([]*graph.Param{w, b}), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	sched := optim.LinearScheduleWithWarmup(0, 10)
	grads := map[*graph.Param]*tensor.Tensor{
		w: tensor.New([]int{2}, []float32{1, -1}),
		b: tensor.New([]int{1}, []float32{0.5}),
	}
	norm, _ := optim.ClipGradNorm(grads, 1.0)
	opt.SetLR(sched.LR(cfg.LR, 0))
	if err := opt.Step(grads); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("grad norm %.4f, weight %.4f, bias %.4f\n", norm, w.Value.F32(), b.Value.F32())
	// Output:
	// grad norm 1.5000, weight [0.3995 -0.3995], bias [-0.1000]
}
