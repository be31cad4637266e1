package sandbox

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mattn/go-sqlite3" // the SQLite driver (cgo)
)

// stateVersion is the schema version of the state database (PRAGMA
// user_version).
const stateVersion = 1

// stateSchema creates the state database. A trade is one row: the keys it
// is looked up by as columns, the rest of it as JSON; its refunds are rows
// of their own, in the order they were accepted (rowid).
const stateSchema = `
CREATE TABLE trades (
	partner          TEXT NOT NULL,
	partner_trans_id TEXT NOT NULL,
	alipay_trans_id  TEXT NOT NULL UNIQUE,
	created_at       TEXT NOT NULL,
	record           TEXT NOT NULL,
	PRIMARY KEY (partner, partner_trans_id)
);
CREATE TABLE refunds (
	partner           TEXT NOT NULL,
	partner_refund_id TEXT NOT NULL,
	partner_trans_id  TEXT NOT NULL,
	amount            INTEGER NOT NULL,
	currency          TEXT NOT NULL,
	time              TEXT NOT NULL,
	PRIMARY KEY (partner, partner_refund_id),
	FOREIGN KEY (partner, partner_trans_id) REFERENCES trades (partner, partner_trans_id)
);
CREATE INDEX refunds_by_trade ON refunds (partner, partner_trans_id);
`

// Statements of a save.
const (
	upsertTradeSQL = `INSERT INTO trades (partner, partner_trans_id, alipay_trans_id, created_at, record)
VALUES (?, ?, ?, ?, ?)
ON CONFLICT (partner, partner_trans_id) DO UPDATE SET record = excluded.record`
	insertRefundSQL = `INSERT INTO refunds (partner, partner_refund_id, partner_trans_id, amount, currency, time)
VALUES (?, ?, ?, ?, ?, ?)`
)

// stateDB is the SQLite state file: one connection, WAL, written under
// Server.mu.
type stateDB struct {
	path   string
	db     *sql.DB
	upsert *sql.Stmt
	refund *sql.Stmt
	closed bool
}

// errStateClosed answers a save after Close.
var errStateClosed = errors.New("state file closed")

// openState opens or creates the state database at path and loads it into
// a store. A new database imports the JSON state file importPath when it
// exists (the format before SQLite); imported reports how many trades.
func openState(ctx context.Context, path, importPath string, hook func(*sqlite3.SQLiteConn) error) (_ *store, imported int, err error) {
	if err := refuseNonSQLite(path); err != nil {
		return nil, 0, &StateError{path, "load", err}
	}
	db := sql.OpenDB(connector{dsn: stateDSN(path), drv: &sqlite3.SQLiteDriver{ConnectHook: hook}})
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	sdb := &stateDB{path: path, db: db}
	defer func() {
		if err != nil {
			_ = sdb.close()
		}
	}()
	// The schema is checked before WAL is turned on: WAL is written into
	// the file's header, and a file that is not ours stays untouched.
	if imported, err = sdb.prepareSchema(ctx, importPath); err != nil {
		return nil, 0, err
	}
	if err := setWAL(ctx, db); err != nil {
		return nil, 0, &StateError{path, "load", err}
	}
	if sdb.upsert, err = db.PrepareContext(ctx, upsertTradeSQL); err != nil {
		return nil, 0, &StateError{path, "load", err}
	}
	if sdb.refund, err = db.PrepareContext(ctx, insertRefundSQL); err != nil {
		return nil, 0, &StateError{path, "load", err}
	}
	st, err := sdb.load(ctx)
	if err != nil {
		return nil, 0, &StateError{path, "load", err}
	}
	st.db = sdb
	return st, imported, nil
}

// stateDSN is the go-sqlite3 data source name (an SQLite URI). WAL (set
// by setWAL) with synchronous=NORMAL: a commit survives the process being killed, which is
// what a simulator restarted by tests and soaks needs; an OS crash may lose
// the last commits.
func stateDSN(path string) string {
	q := url.Values{}
	q.Set("_busy_timeout", "5000")
	q.Set("_foreign_keys", "on")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	p := filepath.ToSlash(path)
	if abs, err := filepath.Abs(path); err == nil {
		p = filepath.ToSlash(abs)
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive path: file:/C:/…
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + q.Encode()
}

// connector opens connections of one SQLite driver to one data source (no
// global driver registration, so a test can hook the connections).
type connector struct {
	dsn string
	drv *sqlite3.SQLiteDriver
}

// Connect opens a connection.
func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }

// Driver returns the driver.
func (c connector) Driver() driver.Driver { return c.drv }

// refuseNonSQLite gives a clear error for an existing file that is not an
// SQLite database, above all a JSON state file of an earlier version
// (SQLite alone would say "file is not a database").
func refuseNonSQLite(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 16)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return err
	}
	head = head[:n]
	switch {
	case n == 0 || bytes.Equal(head, []byte("SQLite format 3\x00")):
		return nil
	case bytes.HasPrefix(bytes.TrimSpace(head), []byte("{")):
		return errors.New("a JSON state file of an earlier version: name a new state file " +
			"and import this one (Config.ImportStateFile, --import-state)")
	}
	return errors.New("not an SQLite database")
}

// setWAL turns WAL on and verifies that it took effect (SQLite silently
// keeps another journal mode, e.g. on some network shares). The mode is
// kept in the file; the one connection keeps synchronous=NORMAL from the
// data source name.
func setWAL(ctx context.Context, db *sql.DB) error {
	var mode string
	if err := db.QueryRowContext(ctx, "PRAGMA journal_mode = WAL").Scan(&mode); err != nil {
		return fmt.Errorf("set journal_mode: %w", err)
	}
	if !strings.EqualFold(mode, "wal") {
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	return nil
}

// prepareSchema checks the schema version; a new (empty) database gets the
// schema and, in the same transaction, the trades of importPath.
func (s *stateDB) prepareSchema(ctx context.Context, importPath string) (int, error) {
	var version, objects int
	if err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
		return 0, &StateError{s.path, "load", err}
	}
	switch {
	case version == stateVersion:
		return 0, nil
	case version != 0:
		return 0, &StateError{s.path, "load", fmt.Errorf("schema version %d, want %d", version, stateVersion)}
	}
	if err := s.db.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&objects); err != nil {
		return 0, &StateError{s.path, "load", err}
	}
	if objects != 0 {
		return 0, &StateError{s.path, "load", errors.New("an SQLite database of something else, not a sandbox state file")}
	}
	old, err := readJSONState(importPath)
	if err != nil {
		return 0, &StateError{importPath, "import", err}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, &StateError{s.path, "load", err}
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	if _, err := tx.ExecContext(ctx, stateSchema); err != nil {
		return 0, &StateError{s.path, "load", fmt.Errorf("create schema: %w", err)}
	}
	if len(old) > 0 {
		up, err := tx.PrepareContext(ctx, upsertTradeSQL)
		if err != nil {
			return 0, &StateError{s.path, "import", err}
		}
		rf, err := tx.PrepareContext(ctx, insertRefundSQL)
		if err != nil {
			return 0, &StateError{s.path, "import", err}
		}
		for _, t := range old {
			if err := writeTrade(ctx, up, rf, t); err != nil {
				return 0, &StateError{s.path, "import", err}
			}
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", stateVersion)); err != nil {
		return 0, &StateError{s.path, "load", err}
	}
	if err := tx.Commit(); err != nil {
		return 0, &StateError{s.path, "load", err}
	}
	return len(old), nil
}

// load reads every trade and refund into a new store.
func (s *stateDB) load(ctx context.Context) (*store, error) {
	st := newStore()
	rows, err := s.db.QueryContext(ctx, "SELECT partner, partner_trans_id, alipay_trans_id, record FROM trades")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byKey := make(map[string]*tradeRecord)
	for rows.Next() {
		var partner, transID, alipayID, record string
		if err := rows.Scan(&partner, &transID, &alipayID, &record); err != nil {
			return nil, err
		}
		t := new(tradeRecord)
		if err := json.Unmarshal([]byte(record), t); err != nil {
			return nil, fmt.Errorf("trade %s: %w", transID, err)
		}
		if t.Partner != partner || t.PartnerTransID != transID || t.AlipayTransID != alipayID || len(t.Refunds) > 0 {
			return nil, fmt.Errorf("trade %s: record differs from its row", transID)
		}
		byKey[tradeKey(partner, transID)] = t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := loadRefunds(ctx, s.db, byKey); err != nil {
		return nil, err
	}
	for _, t := range byKey {
		t.savedRefunds = len(t.Refunds)
		st.add(t)
	}
	return st, nil
}

// loadRefunds appends every stored refund to its trade, in the order they
// were accepted.
func loadRefunds(ctx context.Context, db *sql.DB, byKey map[string]*tradeRecord) error {
	rows, err := db.QueryContext(ctx, `SELECT partner, partner_trans_id, partner_refund_id, amount, currency, time
FROM refunds ORDER BY rowid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var partner, transID, at string
		var r Refund
		if err := rows.Scan(&partner, &transID, &r.PartnerRefundID, &r.Amount, &r.Currency, &at); err != nil {
			return err
		}
		if r.Time, err = time.Parse(time.RFC3339Nano, at); err != nil {
			return fmt.Errorf("refund %s: %w", r.PartnerRefundID, err)
		}
		t, ok := byKey[tradeKey(partner, transID)]
		if !ok {
			return fmt.Errorf("refund %s of unknown trade %s", r.PartnerRefundID, transID)
		}
		t.Refunds = append(t.Refunds, r)
	}
	return rows.Err()
}

// write saves the changed trades in one transaction: one UPSERT per trade
// and one INSERT per refund not yet written.
func (s *stateDB) write(ctx context.Context, changed map[*tradeRecord]struct{}) error {
	if s.closed {
		return &StateError{s.path, "save", errStateClosed}
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return &StateError{s.path, "save", err}
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	up, rf := tx.StmtContext(ctx, s.upsert), tx.StmtContext(ctx, s.refund)
	for t := range changed {
		if err := writeTrade(ctx, up, rf, t); err != nil {
			return &StateError{s.path, "save", err}
		}
	}
	if err := tx.Commit(); err != nil {
		return &StateError{s.path, "save", err}
	}
	for t := range changed {
		t.savedRefunds = len(t.Refunds)
	}
	return nil
}

// writeTrade upserts t and inserts its refunds from t.savedRefunds on.
func writeTrade(ctx context.Context, up, rf *sql.Stmt, t *tradeRecord) error {
	body := *t
	body.Refunds = nil // in their own table
	record, err := json.Marshal(&body)
	if err != nil {
		return fmt.Errorf("trade %s: %w", t.PartnerTransID, err)
	}
	if _, err := up.ExecContext(ctx, t.Partner, t.PartnerTransID, t.AlipayTransID,
		t.CreatedAt.UTC().Format(time.RFC3339Nano), string(record)); err != nil {
		return fmt.Errorf("trade %s: %w", t.PartnerTransID, err)
	}
	for _, r := range t.Refunds[min(t.savedRefunds, len(t.Refunds)):] {
		if _, err := rf.ExecContext(ctx, t.Partner, r.PartnerRefundID, t.PartnerTransID, r.Amount, r.Currency,
			r.Time.Format(time.RFC3339Nano)); err != nil {
			return fmt.Errorf("refund %s: %w", r.PartnerRefundID, err)
		}
	}
	return nil
}

// close closes the database; later saves fail with errStateClosed.
func (s *stateDB) close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	for _, st := range []*sql.Stmt{s.upsert, s.refund} {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	errs = append(errs, s.db.Close())
	if err := errors.Join(errs...); err != nil {
		return &StateError{s.path, "save", err}
	}
	return nil
}
