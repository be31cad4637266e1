package queue

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Refund is a refund the ECR (or an operator) asks for.
type Refund struct {
	Lane      string // the till; required
	RefundRef string // the ECR's refund reference, unique per lane; required
	SaleID    string // the sale to refund, by operation id …
	SaleRef   string // … or by its ref on Lane
	Amount    int64  // minor units; at most what is left of the sale
	Currency  string // the sale's currency
	Reason    string // refund_reason (at most 128 characters are sent)
	// PartnerRefundID, when set (a central server may assign it), is used
	// as is; otherwise one is generated. Either way it is committed before
	// the refund is sent, and the same id is re-sent on every retry.
	PartnerRefundID string
}

// SubmitRefund records a refund of a paid sale and schedules it at once.
// The same (lane, refund_ref), or the same PartnerRefundID, with the same
// sale, amount and currency returns the recorded refund; with different ones
// it fails with *RefConflictError. A refund larger than the sale minus its
// earlier refunds that were not declined fails with *RefundExceedsError; a
// sale that is not paid with *StateError; limits with *LimitError.
func (e *Engine) SubmitRefund(ctx context.Context, r Refund) (Operation, error) {
	if err := validRefund(r); err != nil {
		return Operation{}, err
	}
	if e.isClosed() {
		return Operation{}, ErrClosed
	}
	var op Operation
	err := e.write(ctx, func(tx *sql.Tx, rec *recorder) error {
		sale, err := e.refundedSale(ctx, tx, r)
		if err != nil {
			return err
		}
		if old, found, err := existingRefund(ctx, tx, r); err != nil || found {
			op = old
			if err != nil {
				return err
			}
			return sameRefund(old, r, sale)
		}
		if err := e.refundable(ctx, tx, sale, r); err != nil {
			return err
		}
		if err := e.checkLimits(ctx, tx, r.Currency, r.Amount); err != nil {
			return err
		}
		if op, err = e.newRefundOp(r, sale, e.clk.now()); err != nil {
			return err
		}
		if err := insertOp(ctx, tx, op); err != nil {
			return err
		}
		return rec.event(refundingEvent(op))
	})
	return op, err
}

func validRefund(r Refund) error {
	if err := validIdent("lane", r.Lane); err != nil {
		return err
	}
	if err := validIdent("refund_ref", r.RefundRef); err != nil {
		return err
	}
	if r.SaleID == "" && r.SaleRef == "" {
		return &InvalidError{Field: "sale", Reason: "neither SaleID nor SaleRef given"}
	}
	if len(r.PartnerRefundID) > maxField {
		return &InvalidError{Field: "partner_refund_id", Reason: "longer than 64"}
	}
	return validMoney(r.Amount, r.Currency)
}

// refundedSale finds the sale a refund names.
func (e *Engine) refundedSale(ctx context.Context, q querier, r Refund) (Operation, error) {
	if r.SaleID != "" {
		return getOp(ctx, q, r.SaleID)
	}
	return getOpByRef(ctx, q, r.Lane, KindSale, r.SaleRef)
}

// existingRefund finds a refund already recorded under the request's
// (lane, refund_ref) or partner_refund_id.
func existingRefund(ctx context.Context, q querier, r Refund) (Operation, bool, error) {
	old, err := getOpByRef(ctx, q, r.Lane, KindRefund, r.RefundRef)
	if err == nil || !errors.Is(err, ErrNotFound) {
		return old, err == nil, err
	}
	if r.PartnerRefundID == "" {
		return Operation{}, false, nil
	}
	old, err = getOpByRefundID(ctx, q, r.PartnerRefundID)
	if errors.Is(err, ErrNotFound) {
		return Operation{}, false, nil
	}
	return old, err == nil, err
}

func sameRefund(old Operation, r Refund, sale Operation) error {
	diff := ""
	switch {
	case old.Lane != r.Lane || old.Ref != r.RefundRef:
		diff = "refund_ref"
	case old.ParentID != sale.ID:
		diff = "sale"
	case old.Amount != r.Amount:
		diff = "amount"
	case old.Currency != r.Currency:
		diff = "currency"
	case r.PartnerRefundID != "" && old.PartnerRefundID != r.PartnerRefundID:
		diff = "partner_refund_id"
	}
	if diff != "" {
		return &RefConflictError{Lane: r.Lane, Ref: r.RefundRef, Field: diff, Existing: old}
	}
	return nil
}

// refundable checks the sale is paid, in the same currency, and has enough
// left.
func (e *Engine) refundable(ctx context.Context, q querier, sale Operation, r Refund) error {
	if sale.Kind != KindSale || sale.State != StatePaid {
		return &StateError{OpID: sale.ID, State: sale.State, Action: "refund",
			Reason: "only a paid sale can be refunded"}
	}
	if r.PartnerRefundID != "" && r.PartnerRefundID == sale.PartnerTransID {
		return &InvalidError{Field: "partner_refund_id", Reason: "equals the sale's partner_trans_id"}
	}
	if sale.Currency != r.Currency {
		return &InvalidError{Field: "currency", Reason: "differs from the sale's " + sale.Currency}
	}
	sum, err := refundedSum(ctx, q, sale.ID)
	if err != nil {
		return err
	}
	if r.Amount > sale.Amount-sum {
		return &RefundExceedsError{SaleID: sale.ID, Requested: r.Amount,
			Available: sale.Amount - sum, Currency: sale.Currency}
	}
	return nil
}

// newRefundOp builds a refund of sale, due now.
func (e *Engine) newRefundOp(r Refund, sale Operation, now time.Time) (Operation, error) {
	id, err := newOpID(now, e.cfg.Rand)
	if err != nil {
		return Operation{}, err
	}
	prid := r.PartnerRefundID
	if prid == "" {
		if prid, err = newPartnerID("TR", sale.Terminal, now, e.cfg.Rand); err != nil {
			return Operation{}, err
		}
	}
	return Operation{ID: id, Kind: KindRefund, Lane: r.Lane, Ref: r.RefundRef, ParentID: sale.ID,
		State: StateRefunding, PartnerTransID: sale.PartnerTransID, PartnerRefundID: prid,
		Amount: r.Amount, Currency: r.Currency, Subject: sale.Subject, Terminal: sale.Terminal,
		Reason: r.Reason, AlipayTransID: sale.AlipayTransID, NextAttemptAt: now, CreatedAt: now,
		UpdatedAt: now, Version: 1}, nil
}

func refundingEvent(op Operation) Event {
	return Event{OpID: op.ID, Lane: op.Lane, Ref: op.Ref, Kind: op.Kind, Name: EventRefunding,
		From: op.State, To: op.State, At: op.CreatedAt,
		Detail: "partner_refund_id=" + op.PartnerRefundID + "; sale " + op.ParentID}
}
