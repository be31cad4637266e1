package queue

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver (cgo)
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// readConns is the size of the read pool; reads never wait for the writer in
// WAL mode.
const readConns = 4

// store is the journal file: one writer connection (every write transaction
// is BEGIN IMMEDIATE on it, so writers never deadlock on lock upgrades) and a
// small read-only pool.
type store struct {
	w *sql.DB
	r *sql.DB
}

// openStore opens or creates the journal at file, checks its pragmas,
// applies pending migrations and makes the journal files private
// (JournalFileMode). On any failure everything opened is closed.
func openStore(ctx context.Context, file string, cfg Config) (_ *store, err error) {
	st := &store{}
	defer func() {
		if err != nil {
			err = errors.Join(err, st.close())
		}
	}()
	// The writer goes through its own connector (no global driver
	// registration) so that tests can hook its connections: a commit hook
	// that refuses every COMMIT stands for a full disk.
	st.w = sql.OpenDB(connector{dsn: dsn(file, cfg, false),
		drv: &sqlite3.SQLiteDriver{ConnectHook: cfg.connectHook}})
	st.w.SetMaxOpenConns(1)
	st.w.SetMaxIdleConns(1)
	st.w.SetConnMaxLifetime(0)
	st.w.SetConnMaxIdleTime(0)
	if err = checkPragmas(ctx, st.w, cfg.Sync); err != nil {
		return nil, err
	}
	if err = migrate(ctx, st.w, cfg.Now()); err != nil {
		return nil, err
	}
	if err = protectJournalFiles(file); err != nil {
		return nil, err
	}
	if st.r, err = sql.Open("sqlite3", dsn(file, cfg, true)); err != nil {
		return nil, fmt.Errorf("queue: open journal readers: %w", err)
	}
	st.r.SetMaxOpenConns(readConns)
	st.r.SetMaxIdleConns(readConns)
	if err = st.r.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("queue: open journal readers: %w", err)
	}
	return st, nil
}

// connector opens connections of one SQLite driver to one data source.
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

// Connect opens a connection.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the driver.
func (c connector) Driver() driver.Driver { return c.drv }

// dsn builds the go-sqlite3 data source name (an SQLite URI) for the writer
// or the readers; file must be absolute.
func dsn(file string, cfg Config, readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", strconv.FormatInt(cfg.BusyTimeout.Milliseconds(), 10))
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", string(cfg.Sync))
	q.Set("_stmt_cache_size", "32") // the engine's statements, prepared once per connection
	if readOnly {
		q.Set("mode", "ro")
	} else {
		q.Set("_journal_mode", "WAL")
		q.Set("_txlock", "immediate")
	}
	p := filepath.ToSlash(file)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:/C:/…
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// checkPragmas verifies that the settings asked for in the DSN took effect:
// SQLite silently keeps another journal mode (e.g. on a network share).
func checkPragmas(ctx context.Context, db *sql.DB, sync SyncMode) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fmt.Errorf("queue: read journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("queue: journal_mode is %q, want wal", mode)
	}
	var syncLevel, fk int
	if err := db.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&syncLevel); err != nil {
		return fmt.Errorf("queue: read synchronous: %w", err)
	}
	want := map[SyncMode]int{SyncNormal: 1, SyncFull: 2}[sync]
	if syncLevel != want {
		return fmt.Errorf("queue: synchronous is %d, want %d (%s)", syncLevel, want, sync)
	}
	if err := db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
		return fmt.Errorf("queue: read foreign_keys: %w", err)
	}
	if fk != 1 {
		return errors.New("queue: foreign_keys is off")
	}
	return nil
}

// migration is one embedded schema step.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded steps in version order. Files are named
// NNNN_name.sql; versions must be 1, 2, 3… without gaps.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, fmt.Errorf("queue: list migrations: %w", err)
	}
	sort.Strings(names)
	out := make([]migration, 0, len(names))
	for i, n := range names {
		base := path.Base(n)
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil || v != i+1 {
			return nil, fmt.Errorf("queue: migration %s: want version %d", base, i+1)
		}
		body, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("queue: read migration %s: %w", base, err)
		}
		out = append(out, migration{version: v, name: base, sql: string(body)})
	}
	return out, nil
}

// migrate applies the steps the journal lacks, each in its own transaction
// recorded in schema_version.
func migrate(ctx context.Context, db *sql.DB, now time.Time) error {
	const create = `CREATE TABLE IF NOT EXISTS schema_version (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`
	if _, err := db.ExecContext(ctx, create); err != nil {
		return fmt.Errorf("queue: create schema_version: %w", err)
	}
	var have int
	if err := db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("queue: read schema_version: %w", err)
	}
	steps, err := migrations()
	if err != nil {
		return err
	}
	if have > len(steps) {
		return &SchemaError{Found: have, Known: len(steps)}
	}
	for _, m := range steps[have:] {
		if err := applyMigration(ctx, db, m, now); err != nil {
			return err
		}
	}
	return nil
}

func applyMigration(ctx context.Context, db *sql.DB, m migration, now time.Time) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue: migration %s: %w", m.name, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return fmt.Errorf("queue: migration %s: %w", m.name, err)
	}
	const rec = "INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)"
	if _, err := tx.ExecContext(ctx, rec, m.version, m.name, now.UnixMilli()); err != nil {
		return fmt.Errorf("queue: record migration %s: %w", m.name, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("queue: commit migration %s: %w", m.name, err)
	}
	return nil
}

// close closes both pools; the WAL is checkpointed by the last close.
func (s *store) close() error {
	var errs []error
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.w != nil {
		errs = append(errs, s.w.Close())
	}
	return errors.Join(errs...)
}

// inTx runs fn in one immediate write transaction and commits it; any error
// or panic rolls it back.
func (s *store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) (err error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("queue: begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("queue: commit: %w", err)
	}
	return nil
}
