//go:build !unix

package fileio

const oNonblock = 0

// syncDir: folders cannot be synced here; the rename stands.
func syncDir(string) error { return nil }
