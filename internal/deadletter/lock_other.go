//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package deadletter

import (
	"fmt"
	"os"
)

// LockFile, in the dead-letter directory, is locked while a replay or a
// purge runs (on platforms with flock).
const LockFile = "replay.lock"

// Lock only makes sure the directory exists on platforms without flock:
// nothing stops two replays from running at once there.
func Lock(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	return func() {}, nil
}
