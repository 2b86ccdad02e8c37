// Package optim updates parameters from their gradients as PyTorch does, bit
// for bit where the arithmetic allows: the Optimizer interface with SGD (with
// momentum and Nesterov), Adam and AdamW, whose State a checkpoint stores and
// LoadState restores; ParamGroups (DefaultParamGroups exempts biases and
// LayerNorm weights from weight decay, see NoDecay); GradNorm,
// ClipGradNorm and L1/L2 Penalty on the gradients; and the learning-rate
// Schedules of the Hugging Face Trainer (NewSchedule by name: linear,
// cosine, cosine_with_restarts, constant, constant_with_warmup; WarmupSteps
// from a count or a ratio).
package optim
