//go:build !linux

package queue

import "os"

// datasync flushes f to stable storage (on darwin, os.File.Sync issues
// F_FULLFSYNC, which is what durability needs there).
func datasync(f *os.File) error { return f.Sync() }
