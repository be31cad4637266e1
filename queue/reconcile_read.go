package queue

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// JournalReader reads a journal file without ever writing to it, for
// reconciliation: the running daemon's journal (WAL readers never block
// its writer) or a copy exported from another till.
type JournalReader struct {
	db   *sql.DB
	file string
}

// OpenJournalReader opens file read-only (SQLite mode=ro; when that
// fails, e.g. a copy on read-only media without its -shm file, it retries
// with immutable=1) and checks that this build knows its schema.
func OpenJournalReader(ctx context.Context, file string) (*JournalReader, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, fmt.Errorf("queue: journal reader %s: %w", file, err)
	}
	var lastErr error
	for _, extra := range []string{"mode=ro", "mode=ro&immutable=1"} {
		p := filepath.ToSlash(abs)
		if !strings.HasPrefix(p, "/") {
			p = "/" + p
		}
		db, err := sql.Open("sqlite3", "file:"+(&url.URL{Path: p}).EscapedPath()+"?_busy_timeout=5000&"+extra)
		if err != nil {
			lastErr = err
			continue
		}
		r := &JournalReader{db: db, file: file}
		if err = r.check(ctx); err != nil {
			db.Close()
			lastErr = err
			continue
		}
		return r, nil
	}
	return nil, fmt.Errorf("queue: journal reader %s: %w", file, lastErr)
}

// check verifies the file is a journal of a schema this build knows.
func (r *JournalReader) check(ctx context.Context) error {
	var have int
	if err := r.db.QueryRowContext(ctx, "SELECT COALESCE(MAX(version), 0) FROM schema_version").Scan(&have); err != nil {
		return fmt.Errorf("not a journal: %w", err)
	}
	steps, err := migrations()
	if err != nil {
		return err
	}
	if have > len(steps) {
		return &SchemaError{Found: have, Known: len(steps)}
	}
	if have == 0 {
		return fmt.Errorf("not a journal: no schema version")
	}
	return nil
}

// File returns the path the reader was opened with.
func (r *JournalReader) File() string { return r.file }

// reconTexts and reconInts are the columns EachOperation reads. Each row
// comes back as one packed string (every text as "<byte length>:<text>",
// every integer as "<digits or empty>;"): one value per row instead of
// seventeen, which is most of the cost of reading 100 000 rows through
// database/sql (each column is boxed and allocated on its own).
var (
	reconTexts = []string{"id", "kind", "lane", "ref", "COALESCE(parent_id, '')", "state", "partner_trans_id",
		"COALESCE(partner_refund_id, '')", "currency", "terminal", "alipay_trans_id"}
	reconInts = []string{"amount", "paid_at", "created_at", "updated_at", "final_at"}
)

// packedRow is the SQL expression of one packed row.
func packedRow() string {
	var parts []string
	for _, c := range reconTexts {
		parts = append(parts, "length(CAST("+c+" AS BLOB)) || ':' || "+c)
	}
	for _, c := range reconInts {
		parts = append(parts, "IFNULL("+c+", '') || ';'")
	}
	return strings.Join(parts, " || ")
}

// unpack reads one packed row into o.
func unpack(row string, o *Operation) error {
	texts := [11]*string{&o.ID, (*string)(&o.Kind), &o.Lane, &o.Ref, &o.ParentID, (*string)(&o.State),
		&o.PartnerTransID, &o.PartnerRefundID, &o.Currency, &o.Terminal, &o.AlipayTransID}
	for _, dst := range texts {
		colon := strings.IndexByte(row, ':')
		if colon < 0 {
			return fmt.Errorf("packed row: no length")
		}
		n, err := strconv.Atoi(row[:colon])
		if err != nil || n < 0 || colon+1+n > len(row) {
			return fmt.Errorf("packed row: bad length %q", row[:colon])
		}
		*dst = row[colon+1 : colon+1+n]
		row = row[colon+1+n:]
	}
	var ints [5]int64
	var null [5]bool
	for i := range ints {
		semi := strings.IndexByte(row, ';')
		if semi < 0 {
			return fmt.Errorf("packed row: no integer")
		}
		if semi == 0 {
			null[i] = true
		} else {
			v, err := strconv.ParseInt(row[:semi], 10, 64)
			if err != nil {
				return fmt.Errorf("packed row: %w", err)
			}
			ints[i] = v
		}
		row = row[semi+1:]
	}
	o.Amount = ints[0]
	ms := func(i int) time.Time {
		if null[i] {
			return time.Time{}
		}
		return time.UnixMilli(ints[i]).UTC()
	}
	o.PaidAt, o.CreatedAt, o.UpdatedAt, o.FinalAt = ms(1), ms(2), ms(3), ms(4)
	return nil
}

// Count returns how many operations EachOperation(ctx, since, …) visits
// (to size a slice).
func (r *JournalReader) Count(ctx context.Context, since time.Time) (int, error) {
	ms := sinceMS(since)
	var n int
	err := r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM operations WHERE created_at >= ? OR updated_at >= ?", ms, ms).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("queue: read %s: %w", r.file, err)
	}
	return n, nil
}

func sinceMS(since time.Time) int64 {
	if since.IsZero() {
		return 0
	}
	return since.UnixMilli()
}

// EachOperation calls fn for every operation created or updated at or
// after since (zero: every operation), in the journal's storage order,
// streaming (the journal is never loaded whole). Only the fields
// reconciliation uses are filled: ID, Kind, Lane, Ref, ParentID, State,
// PartnerTransID, PartnerRefundID, Amount, Currency, Terminal,
// AlipayTransID, PaidAt, CreatedAt, UpdatedAt, FinalAt. An error from fn
// stops the walk and is returned.
func (r *JournalReader) EachOperation(ctx context.Context, since time.Time, fn func(Operation) error) error {
	ms := sinceMS(since)
	rows, err := r.db.QueryContext(ctx, "SELECT "+packedRow()+
		" FROM operations WHERE created_at >= ? OR updated_at >= ?", ms, ms)
	if err != nil {
		return fmt.Errorf("queue: read %s: %w", r.file, err)
	}
	defer rows.Close()
	var row string
	for rows.Next() {
		if err := rows.Scan(&row); err != nil {
			return fmt.Errorf("queue: read %s: %w", r.file, err)
		}
		var o Operation
		if err := unpack(row, &o); err != nil {
			return fmt.Errorf("queue: read %s: %w", r.file, err)
		}
		if err := fn(o); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("queue: read %s: %w", r.file, err)
	}
	return nil
}

// Close closes the reader.
func (r *JournalReader) Close() error { return r.db.Close() }
