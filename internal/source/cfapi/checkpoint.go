package cfapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CheckpointDir is where sources keep their checkpoints, under the data
// directory.
const CheckpointDir = "checkpoints"

// CheckpointPath returns <dataDir>/checkpoints/<name>.json, name made safe
// for a file name.
func CheckpointPath(dataDir, name string) string {
	return filepath.Join(dataDir, CheckpointDir, SafeName(name)+".json")
}

// SafeName keeps letters, digits, '.', '_' and '-' of name and replaces
// anything else with '_'.
func SafeName(name string) string {
	s := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, name)
	if s == "" || strings.Trim(s, ".") == "" {
		s = "_" + s
	}
	return s
}

// LoadCheckpoint reads the JSON checkpoint at path into v. found is false
// (and err nil) when there is none yet. A file that does not decode is an
// error naming it: it is never silently replaced.
func LoadCheckpoint(path string, v any) (found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, &CheckpointError{Path: path, Err: err}
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, &CheckpointError{Path: path, Err: fmt.Errorf("unreadable (%v); move it away to start over from the configured since", err)}
	}
	return true, nil
}

// SaveCheckpoint writes v as JSON to path atomically: a temporary file in
// the same directory, fsynced, renamed over path, and the directory
// fsynced, so a crash leaves either the old checkpoint or the new one.
func SaveCheckpoint(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return &CheckpointError{Path: path, Err: err}
	}
	if err := WriteFileAtomic(path, append(b, '\n')); err != nil {
		return &CheckpointError{Path: path, Err: err}
	}
	return nil
}

// WriteFileAtomic writes data to path with write, fsync, rename and a
// directory fsync.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return SyncDir(dir)
}

// SyncDir fsyncs a directory so a rename or create in it is durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
