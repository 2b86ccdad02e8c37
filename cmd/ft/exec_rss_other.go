//go:build !unix

package main

// peakRSS is unknown where getrusage is not available (Windows, Plan 9,
// wasm): ft exec reports it as unknown.
func peakRSS() int64 { return 0 }
