package queue

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// recover brings the journal back to a consistent state after a stop or a
// crash, in one transaction:
//
//   - a sale still waiting for its buyer code is voided (its code, kept only
//     in memory, is gone; nothing was sent);
//   - a sale caught in paying is an unknown outcome: it goes to querying,
//     due now (query, then cancel at the deadline — never a second pay).
//
// Querying, cancelling, checking and refunding operations keep the next
// attempt their write-ahead record scheduled, unless the wall clock was
// stepped back since it was written (see tolerateSteps).
func (e *Engine) recover(ctx context.Context) error {
	at := e.clk.now()
	now := at.UnixMilli()
	const voidReason = "the daemon restarted before the buyer code was sent; nothing was sent"
	const unknownDetail = "restarted while the pay was in flight; outcome unknown, querying"
	stmts := []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO events (op_id, at, name, call, from_state, to_state, detail)
			SELECT id, ?, ?, '', state, ?, ? FROM operations WHERE state = ?`,
			[]any{now, EventVoided, StateVoided, voidReason, StateWaitingScan}},
		{`UPDATE operations SET state = ?, reason = ?, next_attempt_at = NULL, final_at = ?,
			updated_at = ?, state_attempts = 0, version = version + 1 WHERE state = ?`,
			[]any{StateVoided, voidReason, now, now, StateWaitingScan}},
		{`INSERT INTO events (op_id, at, name, call, from_state, to_state, detail)
			SELECT id, ?, ?, '', state, ?, ? FROM operations WHERE state = ?`,
			[]any{now, EventRecovered, StateQuerying, unknownDetail, StatePaying}},
		{`UPDATE operations SET state = ?, next_attempt_at = ?, updated_at = ?, state_attempts = 0,
			version = version + 1 WHERE state = ?`,
			[]any{StateQuerying, now, now, StatePaying}},
	}
	e.wmu.Lock()
	defer e.wmu.Unlock()
	return e.st.inTx(ctx, func(tx *sql.Tx) error {
		for _, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.sql, s.args...); err != nil {
				return fmt.Errorf("queue: recover journal: %w", err)
			}
		}
		return e.tolerateSteps(ctx, tx, at)
	})
}

// tolerateSteps repairs, at start-up, the times a wall clock stepped back
// since the last run left in the future. The engine's time starts again
// from the wall clock at Open, without the monotonic basis of the previous
// run, so a stored time may lie ahead by the size of a step:
//
//   - a next attempt further ahead than the longest delay the engine ever
//     plans for its state (maxDelay) cannot have been planned from now: it
//     is due now;
//   - a pay sent "in the future" of a sale still deciding its outcome is
//     taken as sent now, so that its pay deadline is at most PayDeadline
//     away rather than the size of the step.
//
// A step forward needs no repair: everything is due at once, and Expiry
// ends an operation only after an attempt in its state (see plan).
func (e *Engine) tolerateSteps(ctx context.Context, tx *sql.Tx, now time.Time) error {
	ops, err := queryOps(ctx, tx, "SELECT "+opColumns+" FROM operations WHERE next_attempt_at IS NOT NULL")
	if err != nil {
		return fmt.Errorf("queue: recover journal: %w", err)
	}
	for _, op := range ops {
		var why []string
		if bound := e.lc.maxDelay(op.State); op.NextAttemptAt.After(now.Add(bound)) {
			why = append(why, fmt.Sprintf("next attempt was planned at %s, more than %s from now",
				op.NextAttemptAt.Format(time.RFC3339Nano), bound))
			op.NextAttemptAt = now
		}
		if (op.State == StateQuerying || op.State == StatePaying) && op.PaySentAt.After(now) {
			why = append(why, fmt.Sprintf("pay sent at %s, after now", op.PaySentAt.Format(time.RFC3339Nano)))
			op.PaySentAt = now
		}
		if len(why) == 0 {
			continue
		}
		c := to(op, op.State, EventRecovered, now)
		c.ev.Detail = fmt.Sprintf("the clock was stepped back since the last run (%s, now %s): "+
			"rescheduled from now", strings.Join(why, "; "), now.Format(time.RFC3339Nano))
		if err := updateOp(ctx, tx, c.op); err != nil {
			return fmt.Errorf("queue: recover journal: %w", err)
		}
		if err := insertEvent(ctx, tx, &c.ev); err != nil {
			return fmt.Errorf("queue: recover journal: %w", err)
		}
		e.cfg.Logger.Warn("queue: clock stepped back since the last run; operation rescheduled",
			"op", op.ID, "detail", c.ev.Detail)
	}
	return nil
}
