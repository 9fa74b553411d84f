//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package queue

import (
	"os"
	"path/filepath"
)

// lockDir only creates dir/LOCK on platforms without flock: nothing stops two
// processes from opening the same queue there.
func lockDir(dir string) (*os.File, error) {
	return os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o640)
}
