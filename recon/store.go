package recon

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver
)

// storeSchema is the recon database: one report per day, the exceptions a
// person lists and resolves, and the archived files with their SHA-256.
const storeSchema = `
CREATE TABLE IF NOT EXISTS runs (
    day        TEXT PRIMARY KEY,
    at         INTEGER NOT NULL,
    verdict    TEXT NOT NULL,
    exceptions INTEGER NOT NULL,
    report     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS exceptions (
    id          INTEGER PRIMARY KEY,
    day         TEXT NOT NULL,
    class       TEXT NOT NULL,
    type        TEXT NOT NULL,
    key         TEXT NOT NULL,
    line        INTEGER NOT NULL DEFAULT 0,
    journal     TEXT NOT NULL DEFAULT '',
    op_id       TEXT NOT NULL DEFAULT '',
    file        TEXT NOT NULL DEFAULT '',
    amount      INTEGER NOT NULL DEFAULT 0,
    currency    TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    carried     INTEGER NOT NULL DEFAULT 0,
    status      TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    resolved_at INTEGER,
    resolved_by TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL DEFAULT '',
    UNIQUE (day, class, type, key, line)
);
CREATE INDEX IF NOT EXISTS exceptions_open ON exceptions (status, day);
CREATE TABLE IF NOT EXISTS files (
    name       TEXT NOT NULL,
    sha256     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    path       TEXT NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (name, sha256)
);
`

// ErrNotFound is returned for an exception id that does not exist.
var ErrNotFound = errors.New("recon: no such exception")

// StateError reports an exception that cannot be resolved (already
// resolved).
type StateError struct {
	ID     int64
	Status string
}

// Error implements error.
func (e *StateError) Error() string {
	return fmt.Sprintf("recon: exception %d is %s", e.ID, e.Status)
}

// Store is the recon database in the data directory (recon.db).
type Store struct {
	db *sql.DB
}

// OpenStore opens (creating) the recon database file.
func OpenStore(ctx context.Context, file string) (*Store, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("recon: open %s: %w", file, err)
	}
	p := filepath.ToSlash(abs)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: p}).EscapedPath()+
		"?_journal_mode=WAL&_synchronous=FULL&_busy_timeout=5000&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("recon: open %s: %w", file, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, storeSchema); err != nil {
		db.Close()
		return nil, fmt.Errorf("recon: open %s: %w", file, err)
	}
	return &Store{db: db}, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Exception is a stored exception item.
type Exception struct {
	ID         int64     `json:"id"`
	Day        string    `json:"day"`
	Status     string    `json:"status"` // open or resolved
	Item       Item      `json:"item"`
	FirstSeen  time.Time `json:"first_seen"`
	LastSeen   time.Time `json:"last_seen"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`
	ResolvedBy string    `json:"resolved_by,omitempty"`
	Reason     string    `json:"reason,omitempty"`
}

// Carried returns the open carried exceptions of days before day, for
// re-checking against day's file.
func (s *Store) Carried(ctx context.Context, day string) ([]Carry, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, day, class, type, key FROM exceptions
		WHERE status = 'open' AND carried = 1 AND day < ? ORDER BY id`, day)
	if err != nil {
		return nil, fmt.Errorf("recon: carried items: %w", err)
	}
	defer rows.Close()
	var out []Carry
	for rows.Next() {
		var c Carry
		if err := rows.Scan(&c.ID, &c.Day, &c.Class, &c.Type, &c.Key); err != nil {
			return nil, fmt.Errorf("recon: carried items: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Save records a day's result in one transaction: the report, every
// exception (again-seen ones updated, never duplicated), the carried items
// the day's file settled (resolved, with the reason), and the day's
// earlier open exceptions no longer found (resolved, with the reason).
func (s *Store) Save(ctx context.Context, res *Result, now time.Time) error {
	rep := res.Report
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("recon: save %s: %w", rep.Day, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("recon: save %s: %w", rep.Day, err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	ms := now.UnixMilli()
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (day, at, verdict, exceptions, report) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET at = excluded.at, verdict = excluded.verdict,
		exceptions = excluded.exceptions, report = excluded.report`,
		rep.Day, ms, rep.Verdict(), rep.Exceptions, string(body)); err != nil {
		return fmt.Errorf("recon: save %s: %w", rep.Day, err)
	}
	const up = `INSERT INTO exceptions (day, class, type, key, line, journal, op_id, file, amount, currency,
		detail, carried, first_seen, last_seen) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (day, class, type, key, line) DO UPDATE SET last_seen = excluded.last_seen,
		detail = excluded.detail, amount = excluded.amount, currency = excluded.currency`
	for _, it := range rep.Items {
		if !it.Class.Exception() {
			continue
		}
		if _, err := tx.ExecContext(ctx, up, rep.Day, it.Class, it.Type, it.Key, it.Line, it.Journal, it.OpID,
			it.File, it.Amount, it.Currency, it.Detail, it.Carried, ms, ms); err != nil {
			return fmt.Errorf("recon: save exception %s: %w", it.Key, err)
		}
	}
	for _, c := range res.Found {
		if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET status = 'resolved', resolved_at = ?,
			resolved_by = 'reconcile', reason = ? WHERE id = ? AND status = 'open'`,
			ms, "found in Alipay's file of "+rep.Day, c.ID); err != nil {
			return fmt.Errorf("recon: resolve carried %d: %w", c.ID, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE exceptions SET status = 'resolved', resolved_at = ?,
		resolved_by = 'reconcile', reason = ? WHERE day = ? AND status = 'open' AND last_seen < ?`,
		ms, "no longer found when "+rep.Day+" was reconciled again at "+now.UTC().Format(time.RFC3339), rep.Day, ms); err != nil {
		return fmt.Errorf("recon: save %s: %w", rep.Day, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recon: save %s: %w", rep.Day, err)
	}
	return nil
}

// Filter selects exceptions.
type Filter struct {
	// All includes resolved exceptions (default: open only).
	All bool
	// Day limits to one day (YYYY-MM-DD).
	Day string
}

// Exceptions lists exceptions, oldest first.
func (s *Store) Exceptions(ctx context.Context, f Filter) ([]Exception, error) {
	q := `SELECT id, day, status, class, type, key, line, journal, op_id, file, amount, currency, detail,
		carried, first_seen, last_seen, resolved_at, resolved_by, reason FROM exceptions WHERE 1=1`
	var args []any
	if !f.All {
		q += " AND status = 'open'"
	}
	if f.Day != "" {
		q += " AND day = ?"
		args = append(args, f.Day)
	}
	rows, err := s.db.QueryContext(ctx, q+" ORDER BY id", args...)
	if err != nil {
		return nil, fmt.Errorf("recon: list exceptions: %w", err)
	}
	defer rows.Close()
	var out []Exception
	for rows.Next() {
		e, err := scanException(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

type scanner interface{ Scan(...any) error }

func scanException(r scanner) (Exception, error) {
	var e Exception
	var first, last int64
	var resolved sql.NullInt64
	it := &e.Item
	if err := r.Scan(&e.ID, &e.Day, &e.Status, &it.Class, &it.Type, &it.Key, &it.Line, &it.Journal, &it.OpID,
		&it.File, &it.Amount, &it.Currency, &it.Detail, &it.Carried, &first, &last, &resolved,
		&e.ResolvedBy, &e.Reason); err != nil {
		return e, fmt.Errorf("recon: read exception: %w", err)
	}
	e.FirstSeen, e.LastSeen = time.UnixMilli(first).UTC(), time.UnixMilli(last).UTC()
	if resolved.Valid {
		e.ResolvedAt = time.UnixMilli(resolved.Int64).UTC()
	}
	return e, nil
}

// Resolve closes an open exception with a reason (mandatory) and who
// resolved it. It never deletes: the exception stays listed with --all.
func (s *Store) Resolve(ctx context.Context, id int64, reason, by string, now time.Time) error {
	if strings.TrimSpace(reason) == "" {
		return fmt.Errorf("recon: resolve %d: a reason is required", id)
	}
	res, err := s.db.ExecContext(ctx, `UPDATE exceptions SET status = 'resolved', resolved_at = ?, resolved_by = ?,
		reason = ? WHERE id = ? AND status = 'open'`, now.UnixMilli(), by, reason, id)
	if err != nil {
		return fmt.Errorf("recon: resolve %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return nil
	}
	var status string
	if err := s.db.QueryRowContext(ctx, "SELECT status FROM exceptions WHERE id = ?", id).Scan(&status); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("recon: resolve %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("recon: resolve %d: %w", id, err)
	}
	return &StateError{ID: id, Status: status}
}

// LastRun returns the newest day's report (nil when none).
func (s *Store) LastRun(ctx context.Context) (*Report, time.Time, error) {
	var body string
	var at int64
	err := s.db.QueryRowContext(ctx, "SELECT report, at FROM runs ORDER BY day DESC LIMIT 1").Scan(&body, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, time.Time{}, nil
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("recon: last run: %w", err)
	}
	var rep Report
	if err := json.Unmarshal([]byte(body), &rep); err != nil {
		return nil, time.Time{}, fmt.Errorf("recon: last run: %w", err)
	}
	return &rep, time.UnixMilli(at).UTC(), nil
}

// RecordFile records an archived file and its SHA-256.
func (s *Store) RecordFile(ctx context.Context, name, sum string, size int64, path string, now time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO files (name, sha256, size, path, fetched_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name, sha256) DO NOTHING`, name, sum, size, path, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("recon: record file %s: %w", name, err)
	}
	return nil
}
