// Package sweep searches hyper-parameters: a Sweep crosses (grid) or draws
// (random) values of its Params — each parsed by ParseParam from a list or a
// range such as log:1e-5:1e-3 — into Trials, runs an Objective on each
// (typically a finetune.Trainer's Fit and Evaluate), and appends every
// TrialResult to a JSON-lines log that ReadLog reads back, so that running
// the same sweep again skips the trials already done. SortResults, BestTrial
// and Table rank and show the results; Events reports progress. The package
// knows nothing of models: the objective does the training.
package sweep
