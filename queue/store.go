package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// querier is what reads need: a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// opColumns is the column list every operation read uses, in scanOp's order.
const opColumns = `id, kind, lane, ref, COALESCE(parent_id, ''), state, partner_trans_id,
	COALESCE(partner_refund_id, ''), amount, currency, subject, terminal, buyer_masked,
	attempts, state_attempts, next_attempt_at, pay_sent_at, cancel_requested, auto, reason,
	last_code, alipay_trans_id, buyer_login, amount_cny, exchange_rate, paid_at,
	created_at, updated_at, final_at, version`

type rowScanner interface{ Scan(dest ...any) error }

func scanOp(r rowScanner) (Operation, error) {
	var o Operation
	var next, sent, paid, final sql.NullInt64
	var created, updated int64
	err := r.Scan(&o.ID, &o.Kind, &o.Lane, &o.Ref, &o.ParentID, &o.State, &o.PartnerTransID,
		&o.PartnerRefundID, &o.Amount, &o.Currency, &o.Subject, &o.Terminal, &o.BuyerMasked,
		&o.Attempts, &o.StateAttempts, &next, &sent, &o.CancelRequested, &o.Auto, &o.Reason,
		&o.LastCode, &o.AlipayTransID, &o.BuyerLogin, &o.AmountCNY, &o.ExchangeRate, &paid,
		&created, &updated, &final, &o.Version)
	if err != nil {
		return o, err
	}
	o.NextAttemptAt, o.PaySentAt, o.PaidAt, o.FinalAt = fromMS(next), fromMS(sent), fromMS(paid), fromMS(final)
	o.CreatedAt, o.UpdatedAt = time.UnixMilli(created).UTC(), time.UnixMilli(updated).UTC()
	return o, nil
}

// fromMS turns a nullable Unix-millisecond column into a time (zero for NULL).
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64).UTC()
}

// toMS turns a time into a nullable Unix-millisecond column value.
func toMS(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func insertOp(ctx context.Context, q querier, o Operation) error {
	const ins = `INSERT INTO operations (id, kind, lane, ref, parent_id, state, partner_trans_id,
		partner_refund_id, amount, currency, subject, terminal, buyer_masked, attempts,
		state_attempts, next_attempt_at, pay_sent_at, cancel_requested, auto, reason, last_code,
		alipay_trans_id, buyer_login, amount_cny, exchange_rate, paid_at, created_at, updated_at,
		final_at, version)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`
	_, err := q.ExecContext(ctx, ins, o.ID, o.Kind, o.Lane, o.Ref, nullIfEmpty(o.ParentID), o.State,
		o.PartnerTransID, nullIfEmpty(o.PartnerRefundID), o.Amount, o.Currency, o.Subject,
		o.Terminal, o.BuyerMasked, o.Attempts, o.StateAttempts, toMS(o.NextAttemptAt),
		toMS(o.PaySentAt), o.CancelRequested, o.Auto, o.Reason, o.LastCode, o.AlipayTransID,
		o.BuyerLogin, o.AmountCNY, o.ExchangeRate, toMS(o.PaidAt), o.CreatedAt.UnixMilli(),
		o.UpdatedAt.UnixMilli(), toMS(o.FinalAt), o.Version)
	if err != nil {
		return fmt.Errorf("queue: insert operation %s: %w", o.ID, err)
	}
	return nil
}

// errStale reports an update whose version guard failed: the operation was
// changed since it was read.
var errStale = errors.New("queue: operation changed concurrently")

// updateOp writes o's mutable columns if the row still has version
// o.Version, and bumps the version.
func updateOp(ctx context.Context, q querier, o Operation) error {
	const upd = `UPDATE operations SET state=?, attempts=?, state_attempts=?, next_attempt_at=?,
		pay_sent_at=?, cancel_requested=?, reason=?, last_code=?, alipay_trans_id=?,
		buyer_login=?, amount_cny=?, exchange_rate=?, paid_at=?, buyer_masked=?, updated_at=?,
		final_at=?, version=version+1
		WHERE id=? AND version=?`
	res, err := q.ExecContext(ctx, upd, o.State, o.Attempts, o.StateAttempts, toMS(o.NextAttemptAt),
		toMS(o.PaySentAt), o.CancelRequested, o.Reason, o.LastCode, o.AlipayTransID, o.BuyerLogin,
		o.AmountCNY, o.ExchangeRate, toMS(o.PaidAt), o.BuyerMasked, o.UpdatedAt.UnixMilli(),
		toMS(o.FinalAt), o.ID, o.Version)
	if err != nil {
		return fmt.Errorf("queue: update operation %s: %w", o.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return errStale
	}
	return nil
}

func insertEvent(ctx context.Context, q querier, ev *Event) error {
	const ins = `INSERT INTO events (op_id, at, name, call, from_state, to_state, gateway_code,
		raw_status, detail) VALUES (?,?,?,?,?,?,?,?,?)`
	res, err := q.ExecContext(ctx, ins, ev.OpID, ev.At.UnixMilli(), ev.Name, ev.Call, ev.From, ev.To,
		ev.Code, ev.RawStatus, ev.Detail)
	if err != nil {
		return fmt.Errorf("queue: insert event for %s: %w", ev.OpID, err)
	}
	ev.Seq, err = res.LastInsertId()
	return err
}

func getOp(ctx context.Context, q querier, id string) (Operation, error) {
	row := q.QueryRowContext(ctx, "SELECT "+opColumns+" FROM operations WHERE id = ?", id)
	return oneOp(row, "id "+id)
}

func getOpByRef(ctx context.Context, q querier, lane string, kind Kind, ref string) (Operation, error) {
	row := q.QueryRowContext(ctx, "SELECT "+opColumns+
		" FROM operations WHERE lane = ? AND kind = ? AND ref = ?", lane, kind, ref)
	return oneOp(row, fmt.Sprintf("lane %s %s ref %s", lane, kind, ref))
}

func getOpByRefundID(ctx context.Context, q querier, partnerRefundID string) (Operation, error) {
	row := q.QueryRowContext(ctx, "SELECT "+opColumns+
		" FROM operations WHERE kind = 'refund' AND partner_refund_id = ?", partnerRefundID)
	return oneOp(row, "partner_refund_id "+partnerRefundID)
}

func oneOp(row *sql.Row, what string) (Operation, error) {
	o, err := scanOp(row)
	if errors.Is(err, sql.ErrNoRows) {
		return o, fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return o, fmt.Errorf("queue: read operation %s: %w", what, err)
	}
	return o, nil
}

func queryOps(ctx context.Context, q querier, query string, args ...any) ([]Operation, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("queue: list operations: %w", err)
	}
	defer rows.Close()
	var out []Operation
	for rows.Next() {
		o, err := scanOp(rows)
		if err != nil {
			return nil, fmt.Errorf("queue: read operation: %w", err)
		}
		out = append(out, o)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: list operations: %w", err)
	}
	return out, nil
}

// dueOps returns up to limit operations whose next attempt is due at now,
// earliest first.
func dueOps(ctx context.Context, q querier, now time.Time, limit int) ([]Operation, error) {
	return queryOps(ctx, q, "SELECT "+opColumns+` FROM operations
		WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
		ORDER BY next_attempt_at, id LIMIT ?`, now.UnixMilli(), limit)
}

// nextDue returns the ids and times of the earliest scheduled attempts.
func nextDue(ctx context.Context, q querier, limit int) ([]string, []time.Time, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, next_attempt_at FROM operations
		WHERE next_attempt_at IS NOT NULL ORDER BY next_attempt_at, id LIMIT ?`, limit)
	if err != nil {
		return nil, nil, fmt.Errorf("queue: next due: %w", err)
	}
	defer rows.Close()
	var ids []string
	var ats []time.Time
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, nil, fmt.Errorf("queue: next due: %w", err)
		}
		ids, ats = append(ids, id), append(ats, time.UnixMilli(at).UTC())
	}
	return ids, ats, rows.Err()
}

// refundedSum is what earlier refunds of a sale take from it: every refund
// that is not declined (pending ones count, so two racing refunds cannot
// together exceed the sale).
func refundedSum(ctx context.Context, q querier, saleID string) (int64, error) {
	var sum int64
	err := q.QueryRowContext(ctx, `SELECT COALESCE(SUM(amount), 0) FROM operations
		WHERE parent_id = ? AND kind = 'refund' AND state <> ?`, saleID, StateRefundDeclined).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("queue: refunded sum of %s: %w", saleID, err)
	}
	return sum, nil
}
