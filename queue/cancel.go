package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Cancel asks for a sale to be cancelled, durably: once it returns without
// error the engine owns the duty to cancel (invariant 3).
//
//   - waiting_scan: nothing was sent; the sale is voided at once.
//   - paying, querying: the sale goes to cancelling; the cancel is sent as
//     soon as no call is in flight for it, and retried until confirmed.
//   - paid: the same, while the trade's cancel window is open and the sale
//     has no refunds; otherwise *StateError (refund instead).
//   - cancelling, checking, and sales already declined, voided or
//     cancelled: nothing to do; the operation is returned as it is.
//   - manual, and refunds: *StateError.
func (e *Engine) Cancel(ctx context.Context, id string) (Operation, error) {
	return e.cancel(ctx, id, "cancel", false)
}

// Abort is Cancel for a sale whose outcome nobody has been told yet (the
// ECR's ABORT): it stops a sale that is not final — voided before the pay,
// the duty to cancel after it — and leaves a final one (paid, declined …)
// as it is, with a *StateError. The state is read in the same transaction
// that writes the cancel, so a pay confirmed a moment before is never
// reversed by an abort.
func (e *Engine) Abort(ctx context.Context, id string) (Operation, error) {
	return e.cancel(ctx, id, "abort", true)
}

func (e *Engine) cancel(ctx context.Context, id, action string, unlessFinal bool) (Operation, error) {
	var op Operation
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		cur, err := getOp(ctx, tx, id)
		if err != nil {
			return err
		}
		op = cur
		if unlessFinal && cur.Final() {
			return &StateError{OpID: cur.ID, State: cur.State, Action: action,
				Reason: "the sale's outcome is known; nothing to stop"}
		}
		c, err := e.cancelChange(ctx, tx, cur)
		if err != nil || c == nil {
			return err
		}
		op, err = rec.apply(*c)
		return err
	})
	return op, e.staleAsState(err, op, action)
}

func (e *Engine) cancelChange(ctx context.Context, q querier, cur Operation) (*change, error) {
	now := e.clk.now()
	refuse := func(why string) (*change, error) {
		return nil, &StateError{OpID: cur.ID, State: cur.State, Action: "cancel", Reason: why}
	}
	if cur.Kind != KindSale {
		return refuse("a refund cannot be cancelled")
	}
	switch cur.State {
	case StateWaitingScan:
		c := to(cur, StateVoided, EventVoided, now)
		c.op.Reason = "cancelled before the buyer code was sent; nothing was sent"
		c.ev.Detail = c.op.Reason
		return &c, nil
	case StatePaying, StateQuerying:
		return cancelling(cur, now), nil
	case StatePaid:
		if end := cancelWindowEnd(e.lc.tradeTime(cur), e.cfg.CancelGrace); !now.Before(end) {
			return refuse(fmt.Sprintf("the cancel window closed at %s; refund instead",
				end.Format(time.RFC3339)))
		}
		sum, err := refundedSum(ctx, q, cur.ID)
		if err != nil {
			return nil, err
		}
		if sum > 0 {
			return refuse("the sale has refunds; refund the rest instead")
		}
		return cancelling(cur, now), nil
	case StateManual:
		return refuse("it needs a person: " + cur.Reason)
	}
	return nil, nil // already cancelling, or nothing left to cancel
}

// cancelling hands a sale to the cancel loop, due now.
func cancelling(op Operation, now time.Time) *change {
	c := to(op, StateCancelling, EventCancelling, now)
	c.op.CancelRequested, c.op.NextAttemptAt = true, now
	c.ev.Detail = "cancel requested"
	return &c
}

// autoRefund queues a full refund of a paid sale whose cancel is impossible,
// in the same transaction that marks the sale cancelled.
func (r *recorder) autoRefund(c *change) error {
	sale := c.op
	sum, err := refundedSum(r.ctx, r.tx, sale.ID)
	if err != nil {
		return err
	}
	now := c.ev.At
	if sale.Amount-sum <= 0 {
		*c = manual(c.op, fmt.Sprintf("%s; the trade %s is still paid but earlier refunds cover the "+
			"whole amount: check it in the Alipay merchant portal, then resolve this operation",
			sale.Reason, sale.PartnerTransID), now)
		return nil
	}
	ref, err := r.e.newRefundOp(Refund{Lane: sale.Lane, RefundRef: sale.Ref + "~auto",
		Amount: sale.Amount - sum, Currency: sale.Currency,
		Reason: "cancel impossible; automatic full refund"}, sale, now)
	if err != nil {
		return err
	}
	// The ECR may have used "<ref>~auto" as a refund_ref already (it is a
	// legal ref): the refund's own id then makes the ref unique. A failed
	// insert would roll back the scheduler's pass again at every try.
	if _, err := getOpByRef(r.ctx, r.tx, ref.Lane, KindRefund, ref.Ref); err == nil {
		ref.Ref += "~" + ref.ID
	} else if !errors.Is(err, ErrNotFound) {
		return err
	}
	ref.Auto = true
	if err := insertOp(r.ctx, r.tx, ref); err != nil {
		return err
	}
	if err := r.event(refundingEvent(ref)); err != nil {
		return err
	}
	c.op.Reason = fmt.Sprintf("%s; the trade was paid, so refund %s (partner_refund_id %s) returns "+
		"the %d %s", sale.Reason, ref.ID, ref.PartnerRefundID, ref.Amount, ref.Currency)
	c.ev.Detail = c.op.Reason
	return nil
}
