//go:build unix

package tensor

import "syscall"

// rlimitAS returns the soft address-space limit (ulimit -v), 0 for none
// (RLIM_INFINITY is all ones).
func rlimitAS() int64 {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_AS, &r); err != nil || uint64(r.Cur) >= 1<<62 {
		return 0
	}
	return int64(r.Cur)
}
