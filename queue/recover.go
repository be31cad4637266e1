package queue

import (
	"context"
	"database/sql"
	"fmt"
)

// recover brings the journal back to a consistent state after a stop or a
// crash, in one transaction:
//
//   - a sale still waiting for its buyer code is voided (its code, kept only
//     in memory, is gone; nothing was sent);
//   - a sale caught in paying is an unknown outcome: it goes to querying,
//     due now (query, then cancel at the deadline — never a second pay).
//
// Querying, cancelling, checking and refunding operations need nothing:
// their write-ahead record already scheduled the next attempt.
func (e *Engine) recover(ctx context.Context) error {
	now := e.cfg.Now().UnixMilli()
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
		return nil
	})
}
