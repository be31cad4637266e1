package soak

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	_ "github.com/mattn/go-sqlite3" // the journal is SQLite (cgo)

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/queue"
)

// fetchLedger reads GET /sandbox/trades.
func fetchLedger(ctx context.Context, hc *http.Client, base string) ([]Trade, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sandbox/trades", nil)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("ledger: HTTP %s: %s", resp.Status, b)
	}
	var trades []Trade
	if err := json.NewDecoder(resp.Body).Decode(&trades); err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	return trades, nil
}

// journal is the daemon's journal opened read-only.
type journal struct{ db *sql.DB }

// openJournal opens DATA/journal.db read-only; the daemon may keep writing.
func openJournal(data string) (*journal, error) {
	p, err := filepath.Abs(filepath.Join(data, daemon.JournalFile))
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	p = filepath.ToSlash(p)
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: p}).EscapedPath()+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	db.SetMaxOpenConns(1)
	return &journal{db: db}, nil
}

func (j *journal) close() error { return j.db.Close() }

// nonFinalStates lists the states the engine still drives.
func nonFinalStates() []any {
	var out []any
	for _, s := range queue.States() {
		if !s.Final() {
			out = append(out, string(s))
		}
	}
	return out
}

// open counts the operations of this run that are not final yet.
func (j *journal) open(ctx context.Context, tag string) (int, error) {
	states := nonFinalStates()
	q := "SELECT COUNT(*) FROM operations WHERE ref LIKE ? AND state IN (?" + strings.Repeat(",?", len(states)-1) + ")"
	var n int
	err := j.db.QueryRowContext(ctx, q, append([]any{tag + "-%"}, states...)...).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	return n, nil
}

// ops reads the operations of this run (refs start with the run's tag).
func (j *journal) ops(ctx context.Context, tag string) ([]Op, error) {
	rows, err := j.db.QueryContext(ctx, `SELECT id, kind, lane, ref, COALESCE(parent_id, ''), state,
		partner_trans_id, COALESCE(partner_refund_id, ''), amount, currency, reason, subject, auto
		FROM operations WHERE ref LIKE ? ORDER BY created_at, id`, tag+"-%")
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	defer rows.Close()
	var out []Op
	for rows.Next() {
		var o Op
		if err := rows.Scan(&o.ID, &o.Kind, &o.Lane, &o.Ref, &o.ParentID, &o.State, &o.PartnerTransID,
			&o.PartnerRefundID, &o.Amount, &o.Currency, &o.Reason, &o.Subject, &o.Auto); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	return out, nil
}

// settle waits until the run's operations are all final, or bound passes;
// it returns how many are still open.
func (j *journal) settle(ctx context.Context, tag string, bound time.Duration) (int, error) {
	end := time.Now().Add(bound)
	for {
		n, err := j.open(ctx, tag)
		if err != nil || n == 0 || !time.Now().Before(end) {
			return n, err
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return n, err
		}
	}
}

// ownTrades keeps the ledger's trades of this run: those the journal knows
// and those whose subject carries the run's tag.
func ownTrades(all []Trade, ops []Op, tag string) []Trade {
	known := map[string]bool{}
	for _, o := range ops {
		known[o.PartnerTransID] = true
	}
	var out []Trade
	for _, t := range all {
		if known[t.PartnerTransID] || strings.HasPrefix(t.TransName, "soak "+tag+" ") {
			out = append(out, t)
		}
	}
	return out
}
