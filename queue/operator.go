package queue

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// defaultListLimit is List's limit when the filter sets none.
const defaultListLimit = 1000

// Get returns one operation by id; ErrNotFound (wrapped) if there is none.
func (e *Engine) Get(ctx context.Context, id string) (Operation, error) {
	return getOp(ctx, e.st.r, id)
}

// GetByRef returns the operation of a lane by its ECR ref (sales) or
// refund_ref (refunds).
func (e *Engine) GetByRef(ctx context.Context, lane string, kind Kind, ref string) (Operation, error) {
	return getOpByRef(ctx, e.st.r, lane, kind, ref)
}

// Refunds returns the refunds of a sale, oldest first.
func (e *Engine) Refunds(ctx context.Context, saleID string) ([]Operation, error) {
	return queryOps(ctx, e.st.r, "SELECT "+opColumns+
		" FROM operations WHERE parent_id = ? ORDER BY created_at, id", saleID)
}

// List returns the operations f selects.
func (e *Engine) List(ctx context.Context, f Filter) ([]Operation, error) {
	var where []string
	var args []any
	if len(f.States) > 0 {
		where = append(where, "state IN (?"+strings.Repeat(", ?", len(f.States)-1)+")")
		for _, s := range f.States {
			args = append(args, s)
		}
	}
	add := func(cond string, v any) {
		where = append(where, cond)
		args = append(args, v)
	}
	if f.Kind != "" {
		add("kind = ?", f.Kind)
	}
	if f.Lane != "" {
		add("lane = ?", f.Lane)
	}
	if !f.Since.IsZero() {
		add("created_at >= ?", f.Since.UnixMilli())
	}
	if !f.Until.IsZero() {
		add("created_at < ?", f.Until.UnixMilli())
	}
	q := "SELECT " + opColumns + " FROM operations"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	order := "DESC"
	if f.Order == OldestFirst {
		order = "ASC"
	}
	limit := f.Limit
	if limit <= 0 {
		limit = defaultListLimit
	}
	q += fmt.Sprintf(" ORDER BY created_at %s, id %s LIMIT ?", order, order)
	return queryOps(ctx, e.st.r, q, append(args, limit)...)
}

// Events returns an operation's log, oldest first.
func (e *Engine) Events(ctx context.Context, id string) ([]Event, error) {
	rows, err := e.st.r.QueryContext(ctx, `SELECT e.seq, e.op_id, o.lane, o.ref, o.kind, e.name,
		e.call, e.from_state, e.to_state, e.gateway_code, e.raw_status, e.detail, e.at
		FROM events e JOIN operations o ON o.id = e.op_id WHERE e.op_id = ? ORDER BY e.seq`, id)
	if err != nil {
		return nil, fmt.Errorf("queue: events of %s: %w", id, err)
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var ev Event
		var at int64
		if err := rows.Scan(&ev.Seq, &ev.OpID, &ev.Lane, &ev.Ref, &ev.Kind, &ev.Name, &ev.Call,
			&ev.From, &ev.To, &ev.Code, &ev.RawStatus, &ev.Detail, &at); err != nil {
			return nil, fmt.Errorf("queue: events of %s: %w", id, err)
		}
		ev.At = fromMS(sql.NullInt64{Int64: at, Valid: true})
		out = append(out, ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("queue: events of %s: %w", id, err)
	}
	if len(out) == 0 {
		if _, err := e.Get(ctx, id); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Counts returns how many operations are in each state (states with none
// are absent).
func (e *Engine) Counts(ctx context.Context) (map[State]int, error) {
	rows, err := e.st.r.QueryContext(ctx, "SELECT state, COUNT(*) FROM operations GROUP BY state")
	if err != nil {
		return nil, fmt.Errorf("queue: counts: %w", err)
	}
	defer rows.Close()
	out := map[State]int{}
	for rows.Next() {
		var s State
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, fmt.Errorf("queue: counts: %w", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}

// RetryNow makes a non-final operation due now (e.g. once a technician has
// fixed the network), and wakes the scheduler. It does nothing while a call
// for the operation is in flight.
func (e *Engine) RetryNow(ctx context.Context, id string) (Operation, error) {
	if !e.claim(id) {
		// A gateway call or the scheduler's pass holds it: an attempt is
		// under way already, unless that pass just ended it.
		op, err := e.Get(ctx, id)
		if err != nil {
			return op, err
		}
		return op, checkRetry(op)
	}
	defer e.release(id)
	var op Operation
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		cur, err := getOp(ctx, tx, id)
		if err != nil {
			return err
		}
		op = cur
		if err := checkRetry(cur); err != nil {
			return err
		}
		c := to(cur, cur.State, EventRetryNow, e.clk.now())
		c.op.NextAttemptAt = c.ev.At
		op, err = rec.apply(c)
		return err
	})
	return op, e.staleAsState(err, op, "retry")
}

// checkRetry refuses a retry of an operation with nothing left to attempt:
// final (MANUAL included) or still waiting for its code.
func checkRetry(op Operation) error {
	if op.Final() || op.State == StateWaitingScan {
		return &StateError{OpID: op.ID, State: op.State, Action: "retry",
			Reason: "nothing to retry in this state"}
	}
	return nil
}

// Resolve ends an operation by hand: a technician who checked the trade in
// the Alipay merchant portal sets its final state. Reason and operator are
// mandatory and recorded in a RESOLVED event. Only non-final and manual
// operations can be resolved, never while a gateway call for them is in
// flight. Sales resolve to paid, declined, cancelled or voided; refunds to
// refunded or refund_declined.
func (e *Engine) Resolve(ctx context.Context, id string, final State, reason, operator string) (Operation, error) {
	reason, operator = strings.TrimSpace(reason), strings.TrimSpace(operator)
	if reason == "" || operator == "" {
		return Operation{}, &InvalidError{Field: "reason/operator", Reason: "both are required"}
	}
	if !e.claim(id) {
		return Operation{}, &StateError{OpID: id, Action: "resolve",
			Reason: "a gateway call for it is in flight; try again in a moment"}
	}
	defer e.release(id)
	var op Operation
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		cur, err := getOp(ctx, tx, id)
		if err != nil {
			return err
		}
		op = cur
		if err := resolvable(cur, final); err != nil {
			return err
		}
		c := to(cur, final, EventResolved, e.clk.now())
		c.op.Reason = "resolved by " + operator + ": " + reason
		c.ev.Detail = c.op.Reason
		op, err = rec.apply(c)
		return err
	})
	return op, e.staleAsState(err, op, "resolve")
}

func resolvable(cur Operation, final State) error {
	if cur.Final() && cur.State != StateManual {
		return &StateError{OpID: cur.ID, State: cur.State, Action: "resolve",
			Reason: "it is already final"}
	}
	allowed := map[Kind][]State{
		KindSale:   {StatePaid, StateDeclined, StateCancelled, StateVoided},
		KindRefund: {StateRefunded, StateRefundDeclined},
	}[cur.Kind]
	for _, s := range allowed {
		if s == final {
			return nil
		}
	}
	return &InvalidError{Field: "final state", Reason: fmt.Sprintf("%q is not a final state for a %s",
		final, cur.Kind)}
}
