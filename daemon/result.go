package daemon

import (
	"context"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/queue"
)

// Reasons the daemon puts in RESULT.reason (besides Alipay's own codes).
const (
	ReasonVoided       = "VOIDED"        // the sale ended before its pay was sent; nothing was charged
	ReasonTradeClosed  = "TRADE_CLOSED"  // the buyer did not pay (closed at the gateway)
	ReasonCancelQueued = "CANCEL_QUEUED" // the daemon durably owns the cancel; the journal finishes it
	ReasonInProgress   = "IN_PROGRESS"   // PENDING: the operation is still being driven
	ReasonStopping     = "STOPPING"      // PENDING: the daemon is stopping; ask STATUS after restart
	ReasonECRCancel    = "ECR_CANCEL"    // CANCELLED: the ECR asked for the cancel
	ReasonDeadline     = "PAY_DEADLINE"  // CANCELLED: still unknown at the pay deadline, so cancelled
	ReasonJournalError = "JOURNAL_ERROR" // DECLINED: the journal could not record the pay, so it was not sent
)

// ecrStatus maps a journal state to the RESULT status the ECR hears.
// cancelling and checking are CANCELLED only when queued is true: the
// daemon has durably taken on the cancel (invariant 3), and the wait for
// its confirmation is over.
func ecrStatus(op queue.Operation, queued bool) string {
	switch op.State {
	case queue.StatePaid:
		return ecrproto.StatusApproved
	case queue.StateDeclined, queue.StateVoided, queue.StateRefundDeclined:
		return ecrproto.StatusDeclined
	case queue.StateCancelled:
		return ecrproto.StatusCancelled
	case queue.StateRefunded:
		return ecrproto.StatusRefunded
	case queue.StateManual:
		return ecrproto.StatusManual
	case queue.StateCancelling, queue.StateChecking:
		if queued {
			return ecrproto.StatusCancelled
		}
	}
	return ecrproto.StatusPending
}

// cancelOwned reports whether the journal owns a cancel of op: it is
// cancelling or, the cancel being impossible, checking.
func cancelOwned(op queue.Operation) bool {
	return op.State == queue.StateCancelling || op.State == queue.StateChecking
}

// resultOf builds the RESULT for op. For a refund, saleRef is the sale's
// ref (the refund's own ref goes in refund_ref).
func resultOf(op queue.Operation, saleRef string, queued bool) *ecrproto.Message {
	m := &ecrproto.Message{Type: ecrproto.TypeResult, Lane: op.Lane, Ref: op.Ref,
		Status: ecrStatus(op, queued), Currency: op.Currency}
	if op.Amount > 0 {
		m.Amount = ecrproto.Int(op.Amount)
	}
	if op.Kind == queue.KindRefund {
		m.Ref, m.RefundRef = saleRef, op.Ref
	}
	m.Reason, m.Message = reasonOf(op, m.Status)
	if op.AlipayTransID != "" {
		m.AlipayTransID = op.AlipayTransID
	}
	if m.Status == ecrproto.StatusApproved {
		fillPayment(m, op)
	}
	return m
}

// reasonOf returns the machine reason and the cashier's message.
func reasonOf(op queue.Operation, status string) (string, string) {
	switch status {
	case ecrproto.StatusApproved:
		return "", "paid"
	case ecrproto.StatusRefunded:
		return "", "refunded"
	case ecrproto.StatusPending:
		return ReasonInProgress, "not final yet (" + string(op.State) + "); ask STATUS again"
	}
	if cancelOwned(op) {
		return ReasonCancelQueued, "the cancel is recorded and will be completed; the customer is not charged"
	}
	reason := finalReason(op)
	msg := op.Reason
	if msg == "" {
		msg = string(op.State)
	}
	return reason, msg
}

// finalReason is the machine reason of a final, unpaid operation: Alipay's
// error code when there is one, else what the daemon knows.
func finalReason(op queue.Operation) string {
	switch op.State {
	case queue.StateVoided:
		return ReasonVoided
	case queue.StateCancelled:
		if op.CancelRequested {
			return ReasonECRCancel
		}
		return ReasonDeadline
	case queue.StateDeclined:
		if op.LastCode == "" || op.LastCode == "SUCCESS" {
			return ReasonTradeClosed
		}
	}
	return op.LastCode
}

// fillPayment adds what Alipay reported about the paid trade.
func fillPayment(m *ecrproto.Message, op queue.Operation) {
	m.Buyer = op.BuyerLogin
	if m.Buyer == "" {
		m.Buyer = op.BuyerMasked
	}
	if op.AmountCNY != "" {
		if fen, err := alipay.ParseAmount(op.AmountCNY, "CNY"); err == nil {
			m.AmountCNY = ecrproto.Int(fen)
		}
	}
	m.ExchangeRate = op.ExchangeRate
	if !op.PaidAt.IsZero() {
		m.PaidAt = op.PaidAt.Format(time.RFC3339)
	}
}

// opResult builds the RESULT of any operation as STATUS reports it, with
// the receipt text of a final sale.
func (d *Daemon) opResult(ctx context.Context, op queue.Operation) *ecrproto.Message {
	saleRef := ""
	if op.Kind == queue.KindRefund {
		if sale, err := d.eng.Get(ctx, op.ParentID); err == nil {
			saleRef = sale.Ref
		}
	}
	m := resultOf(op, saleRef, cancelOwned(op))
	if r, ok := d.receiptFor(op, saleRef, false); ok {
		m.Receipt = d.receiptText(op.Lane, r)
	}
	return m
}
