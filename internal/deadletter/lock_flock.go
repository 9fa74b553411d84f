//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package deadletter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile, in the dead-letter directory, is locked while a replay or a
// purge runs.
const LockFile = "replay.lock"

// Lock takes an exclusive advisory lock on the directory's LockFile so two
// replays (or a replay and a purge) never run at once: two replays would
// send the same entries twice. The writer (Store) does not take it. The
// kernel drops the lock when the process dies.
func Lock(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, fmt.Errorf("dead letters: %w", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("dead letters: %s is busy: another replay or purge is running", dir)
		}
		return nil, fmt.Errorf("dead letters: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil
}
