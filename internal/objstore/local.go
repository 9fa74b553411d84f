package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// local is a bucket kept as a directory: <Dir>/<Bucket>/<key>. It is what
// tests, `flarehose sim --ownership-dir` and a bucket synced to disk use.
type local struct {
	root string // <Dir>/<Bucket>
	name string
}

func newLocal(cfg Config) (Bucket, error) {
	return &local{root: filepath.Join(cfg.Dir, cfg.Bucket), name: "file://" + filepath.ToSlash(filepath.Join(cfg.Dir, cfg.Bucket))}, nil
}

func (l *local) String() string { return l.name }

// path maps a key to a file, refusing keys that would leave the root.
func (l *local) path(key string) (string, error) {
	if key == "" || strings.HasPrefix(key, "/") || strings.Contains(key, "\x00") {
		return "", fmt.Errorf("%s: invalid key %q", l, key)
	}
	clean := path.Clean("/" + key)[1:]
	if clean != strings.TrimSuffix(key, "/") || clean == "" {
		return "", fmt.Errorf("%s: invalid key %q (holds . or .. segments or repeated slashes)", l, key)
	}
	return filepath.Join(l.root, filepath.FromSlash(clean)), nil
}

func (l *local) Get(_ context.Context, key string) (io.ReadCloser, error) {
	p, err := l.path(key)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNotExist(l, key)
	}
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err == nil && st.IsDir() {
		f.Close()
		return nil, errNotExist(l, key)
	}
	return f, nil
}

// Put writes to a temporary file and renames it, so a reader never sees a
// partial object.
func (l *local) Put(_ context.Context, key string, body []byte, _ PutOptions) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".put-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	os.Chmod(tmp.Name(), 0o644)
	return os.Rename(tmp.Name(), p)
}

func (l *local) List(ctx context.Context, prefix, startAfter string, fn func(Object) error) error {
	var objs []Object
	err := filepath.WalkDir(l.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), ".put-") {
			return nil
		}
		rel, err := filepath.Rel(l.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || key <= startAfter {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil // removed while listing
		}
		objs = append(objs, Object{Key: key, Size: info.Size(), LastModified: info.ModTime(),
			ETag: fmt.Sprintf("%x-%x", info.ModTime().UnixNano(), info.Size())})
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(objs, func(i, j int) bool { return objs[i].Key < objs[j].Key })
	for _, o := range objs {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	return nil
}

func (l *local) Delete(_ context.Context, key string) error {
	p, err := l.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
