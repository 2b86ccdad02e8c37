//go:build unix

package fileio

import (
	"errors"
	"os"
	"syscall"
)

// oNonblock keeps opening a named pipe from waiting for a writer.
const oNonblock = syscall.O_NONBLOCK

// syncDir makes a rename in dir durable. File systems that cannot sync a
// folder (EINVAL) are not an error: the rename stands.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) {
		return err
	}
	return nil
}
