package deadletter

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// PurgeResult says what Purge removed (or, dry, would remove).
type PurgeResult struct {
	Files   []string // names of the removed files
	Bytes   int64    // their size
	Kept    int      // daily files kept
	Cutoff  time.Time
	Skipped []string // files that could not be removed, with the reason
}

// Purge removes the daily files whose whole day lies before before (a file
// is removed once every entry it can hold is older than before; today's
// file never is), then drops their replay marks. With dry it only reports.
// It holds the directory's lock (see Lock) so it does not run under a
// replay.
func Purge(dir string, before time.Time, dry bool) (*PurgeResult, error) {
	res := &PurgeResult{Cutoff: before}
	unlock, err := Lock(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	names, err := Files(dir)
	if err != nil {
		return nil, err
	}
	removed := map[string]bool{}
	for _, n := range names {
		day, _ := fileDay(n)
		if day.Add(24 * time.Hour).After(before) {
			res.Kept++
			continue
		}
		path := filepath.Join(dir, n)
		st, err := os.Stat(path)
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue
			}
			res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", n, err))
			continue
		}
		if !dry {
			if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
				res.Skipped = append(res.Skipped, fmt.Sprintf("%s: %v", n, err))
				continue
			}
		}
		removed[n] = true
		res.Files = append(res.Files, n)
		res.Bytes += st.Size()
	}
	if dry || len(removed) == 0 {
		return res, nil
	}
	syncDir(dir)
	marks, err := LoadMarks(dir)
	if err != nil {
		return res, err
	}
	if err := marks.dropFiles(removed); err != nil {
		return res, fmt.Errorf("dead letters: files removed, but rewriting %s failed (harmless: its marks for removed files stay): %w", MarksFile, err)
	}
	return res, nil
}
