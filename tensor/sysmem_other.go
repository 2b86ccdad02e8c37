//go:build !unix

package tensor

func rlimitAS() int64 { return 0 }
