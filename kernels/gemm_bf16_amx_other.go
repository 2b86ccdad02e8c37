//go:build amd64 && !purego && !linux

package kernels

// amxPermit: AMX is used on Linux only (other systems need their own
// request for the tile state).
func amxPermit() bool { return false }
