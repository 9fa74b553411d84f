// Package store is flarehose's embedded event store and default sink: one
// DuckDB file holding an `events` table with typed columns for the fields
// people filter and aggregate on, plus the full ECS document as JSON. It
// implements sink.Sink (Write) and search.Engine (Search, Histogram, Top).
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/flarehose/flarehose/internal/search"
	"github.com/flarehose/flarehose/internal/sink"
	"github.com/flarehose/flarehose/internal/telemetry"
)

// Options configures Open.
type Options struct {
	Path      string             // DuckDB file, e.g. <data_dir>/flarehose.duckdb (required)
	Retention time.Duration      // delete events older than this; 0 = keep forever
	Metrics   *telemetry.Metrics // may be nil
	Logger    *slog.Logger       // may be nil
	// Name is the sink's name (its queue cursor); default "duckdb".
	Name string
	// MemoryLimit caps DuckDB's buffer memory, e.g. "1GB" (DuckDB syntax);
	// "" keeps DuckDB's default of 80% of RAM.
	MemoryLimit string
	// CheckpointThreshold is the write-ahead log size that triggers a
	// checkpoint (DuckDB syntax, e.g. "256MB"); "" keeps DuckDB's 16MB.
	CheckpointThreshold string
	// MaxWriteBytes and MaxWriteRecords are the store's bounds on one
	// Write (sink.WriteSizer); 0 keeps the pipeline's defaults.
	MaxWriteBytes, MaxWriteRecords int
}

// Validate checks the options.
func (o Options) Validate() error {
	if o.Path == "" {
		return errors.New("store: path is required")
	}
	if o.Retention < 0 {
		return errors.New("store: retention must not be negative")
	}
	return nil
}

var (
	// ErrLocked means another process (or another Store in this process)
	// has the database open. DuckDB allows one writing process per file: a
	// CLI should then talk to the running server instead.
	ErrLocked = errors.New("store: database is in use by another process")
	// ErrReadOnly is returned by writes to a store opened with OpenReadOnly.
	ErrReadOnly = errors.New("store: opened read-only")
	// ErrClosed is returned by every method after Close.
	ErrClosed = errors.New("store: closed")
)

// Store is an open DuckDB event store. Open one per process; its methods are
// safe for concurrent use (DuckDB runs many readers alongside the writer).
type Store struct {
	db       *sql.DB
	path     string
	readOnly bool
	opts     Options
	log      *slog.Logger
	sc       *schema
	insert   string // appender query

	mu     sync.RWMutex // held shared by every operation, exclusively by Close
	closed bool

	retMu sync.Mutex // one retention DELETE at a time
}

var (
	_ sink.Sink       = (*Store)(nil)
	_ sink.WriteSizer = (*Store)(nil)
	_ search.Engine   = (*Store)(nil)
)

// MaxWrite implements sink.WriteSizer.
func (s *Store) MaxWrite() (records, bytes int) { return s.opts.MaxWriteRecords, s.opts.MaxWriteBytes }

// Name is the sink's name.
func (s *Store) Name() string {
	if s.opts.Name != "" {
		return s.opts.Name
	}
	return "duckdb"
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Open opens (creating if needed) the store at o.Path and brings its schema
// up to date. It returns an error matching ErrLocked when another process
// holds the file.
func Open(o Options) (*Store, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if dir := filepath.Dir(o.Path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	s, err := open(o, false)
	if err != nil {
		return nil, err
	}
	if err := s.migrate(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// OpenReadOnly opens an existing store for queries only. DuckDB refuses it
// (ErrLocked) while another process has the file open for writing.
func OpenReadOnly(path string) (*Store, error) {
	if path == "" {
		return nil, errors.New("store: path is required")
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	s, err := open(Options{Path: path}, true)
	if err != nil {
		return nil, err
	}
	if err := s.checkSchema(context.Background()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// openPaths guards against two Stores on one file in one process: DuckDB's
// file lock is per process, so it would not stop the second, and two
// database instances writing one file corrupt it.
var (
	openMu    sync.Mutex
	openPaths = map[string]bool{}
)

func open(o Options, readOnly bool) (*Store, error) {
	abs, err := filepath.Abs(o.Path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	if real, err := filepath.EvalSymlinks(abs); err == nil {
		abs = real
	}
	openMu.Lock()
	defer openMu.Unlock()
	if openPaths[abs] {
		return nil, fmt.Errorf("%w: %s is already open in this process", ErrLocked, abs)
	}
	sc, err := newSchema(columns)
	if err != nil {
		return nil, err
	}
	dsn := abs
	params := url.Values{}
	if readOnly {
		params.Set("access_mode", "READ_ONLY")
	}
	if o.MemoryLimit != "" {
		params.Set("memory_limit", o.MemoryLimit)
	}
	if o.CheckpointThreshold != "" && !readOnly {
		params.Set("checkpoint_threshold", o.CheckpointThreshold)
	}
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	conn, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		if isLockError(err) {
			return nil, fmt.Errorf("%w: %s: %v", ErrLocked, abs, err)
		}
		return nil, fmt.Errorf("store: open %s: %w", abs, err)
	}
	db := sql.OpenDB(conn)
	db.SetMaxIdleConns(4)
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	openPaths[abs] = true
	return &Store{
		db: db, path: abs, readOnly: readOnly, opts: o, log: log,
		sc: sc, insert: sc.insertSQL(),
	}, nil
}

// isLockError recognizes DuckDB's "Could not set lock on file ...:
// Conflicting lock is held in <program> (PID n)".
func isLockError(err error) bool {
	var de *duckdb.Error
	if errors.As(err, &de) && de.Type != duckdb.ErrorTypeIO {
		return false
	}
	msg := err.Error()
	return strings.Contains(msg, "Could not set lock on file") || strings.Contains(msg, "Conflicting lock")
}

// Close closes the database, waiting for running operations.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	err := s.db.Close()
	openMu.Lock()
	delete(openPaths, s.path)
	openMu.Unlock()
	if err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// acquire takes the shared lock for one operation.
func (s *Store) acquire() error {
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *Store) release() { s.mu.RUnlock() }

// ---- schema ----

// schemaVersion is the version of the table layout that migrations build.
// Typed columns added to the columns list do not need a new version: they
// are added by reconcile.
const schemaVersion = 1

// migrations[i] brings a database from version i to i+1.
var migrations = []func(sc *schema) []string{
	func(sc *schema) []string { return []string{sc.createSQL()} },
}

func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	var v int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	if v > schemaVersion {
		return fmt.Errorf("store: %s has schema version %d, newer than this flarehose (%d)", s.path, v, schemaVersion)
	}
	for ; v < schemaVersion; v++ {
		for _, stmt := range migrations[v](s.sc) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("store: migrate to version %d: %w", v+1, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version VALUES (?, now()::TIMESTAMP)`, v+1); err != nil {
			return fmt.Errorf("store: migrate: %w", err)
		}
		s.log.Info("store schema migrated", "path", s.path, "version", v+1)
	}
	if err := s.reconcile(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func tableColumns(ctx context.Context, q querier) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' AND table_name = 'events'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]string{}
	for rows.Next() {
		var n, t string
		if err := rows.Scan(&n, &t); err != nil {
			return nil, err
		}
		have[n] = t
	}
	return have, rows.Err()
}

// reconcile adds columns of the declarative list that the table lacks and
// refuses type changes (those need a migration).
func (s *Store) reconcile(ctx context.Context, tx *sql.Tx) error {
	have, err := tableColumns(ctx, tx)
	if err != nil {
		return fmt.Errorf("store: reading schema: %w", err)
	}
	for _, p := range s.sc.phys {
		t, ok := have[p.name]
		switch {
		case !ok:
			if _, err := tx.ExecContext(ctx, "ALTER TABLE events ADD COLUMN "+p.name+" "+p.typ); err != nil {
				return fmt.Errorf("store: adding column %s: %w", p.name, err)
			}
			s.log.Info("store column added", "column", p.name, "type", p.typ)
		case !strings.EqualFold(t, p.typ):
			return fmt.Errorf("store: column %s has type %s, want %s: needs a migration", p.name, t, p.typ)
		}
	}
	return nil
}

// checkSchema verifies a read-only database has every column this build
// queries.
func (s *Store) checkSchema(ctx context.Context) error {
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("store: %s is not a flarehose store: %w", s.path, err)
	}
	if v > schemaVersion {
		return fmt.Errorf("store: %s has schema version %d, newer than this flarehose (%d)", s.path, v, schemaVersion)
	}
	have, err := tableColumns(ctx, s.db)
	if err != nil {
		return fmt.Errorf("store: reading schema: %w", err)
	}
	for _, p := range s.sc.phys {
		if t, ok := have[p.name]; !ok || !strings.EqualFold(t, p.typ) {
			return fmt.Errorf("store: %s lacks column %s %s: open it read-write once to migrate", s.path, p.name, p.typ)
		}
	}
	return nil
}
