package queue

import (
	"fmt"
	"time"
)

// maxDetail caps the free text stored with an event.
const maxDetail = 500

// result is a finished gateway call: the operation as its write-ahead record
// left it, and the answer.
type result struct {
	op     Operation
	call   Call
	err    error
	pay    PayResult
	query  QueryResult
	cancel CancelResult
	refund RefundResult
}

// answer turns a call's result into the change to record.
func (l lifecycle) answer(r result, now time.Time) change {
	var c change
	switch r.call {
	case CallPay:
		c = l.answerPay(r, now)
	case CallQuery:
		c = l.answerQuery(r, now)
	case CallCancel:
		c = l.answerCancel(r, now)
	case CallRefund:
		c = l.answerRefund(r, now)
	}
	c.ev.Call = r.call
	if r.err != nil {
		c.ev.Detail = clip(joinDetail(c.ev.Detail, "error: "+r.err.Error()))
	}
	return c
}

func (l lifecycle) answerPay(r result, now time.Time) change {
	op, res := r.op, r.pay
	if r.err != nil {
		res = PayResult{Code: res.Code} // an error is Unknown; its code still tells why
	}
	op.LastCode = res.Code
	switch res.Outcome {
	case OutcomeSuccess:
		return withCodes(approve(op, res.TradeInfo, now), res.Code, res.RawStatus)
	case OutcomeDeclined:
		c := to(op, StateDeclined, EventDeclined, now)
		c.op.Reason = "declined by the gateway: " + res.Code
		return withCodes(c, res.Code, res.RawStatus)
	}
	c := to(op, StateQuerying, EventUnknown, now)
	if r.err == nil && res.RawStatus == "UNKNOW" && res.Code != "SYSTEM_ERROR" {
		c.ev.Name = EventWaitBuyerConfirm
	}
	c.op.NextAttemptAt = nextQuery(op.PaySentAt, now, l.cfg.FirstQuery, l.cfg.QueryInterval, l.cfg.PayDeadline)
	return withCodes(c, res.Code, res.RawStatus)
}

// approve records a confirmed payment.
func approve(op Operation, t TradeInfo, now time.Time) change {
	c := to(op, StatePaid, EventApproved, now)
	c.op.AlipayTransID = firstNonEmpty(t.AlipayTransID, op.AlipayTransID)
	c.op.BuyerLogin, c.op.AmountCNY, c.op.ExchangeRate = t.BuyerLogin, t.AmountCNY, t.ExchangeRate
	c.op.PaidAt = t.PaidAt
	if c.op.PaidAt.IsZero() {
		c.op.PaidAt = now
	}
	c.op.Reason = ""
	c.ev.Detail = "alipay_trans_id=" + c.op.AlipayTransID
	return c
}

func (l lifecycle) answerQuery(r result, now time.Time) change {
	op, res := r.op, r.query
	if r.err != nil {
		res = QueryResult{Code: res.Code} // an error is Unknown; its code still tells why
	}
	op.LastCode = res.Code
	var c change
	if op.State == StateChecking {
		c = l.checkAnswer(op, res, now)
	} else {
		c = l.pollAnswer(op, res, now)
	}
	return withCodes(c, res.Code, firstNonEmpty(res.RawStatus, res.Status.String()))
}

// pollAnswer handles a query while the pay outcome is unknown.
func (l lifecycle) pollAnswer(op Operation, res QueryResult, now time.Time) change {
	switch res.Status {
	case TradeSuccess, TradeFinished:
		return approve(op, res.TradeInfo, now)
	case TradeClosed:
		c := to(op, StateDeclined, EventDeclined, now)
		c.op.Reason = "trade closed at the gateway without payment (TRADE_CLOSED)"
		return c
	case TradeWaitBuyerPay:
		return to(op, op.State, EventWaitBuyerConfirm, now)
	}
	return to(op, op.State, EventAnswer, now)
}

// checkAnswer decides a sale whose cancel is impossible from its trade state.
func (l lifecycle) checkAnswer(op Operation, res QueryResult, now time.Time) change {
	switch res.Status {
	case TradeClosed:
		c := to(op, StateCancelled, EventCancelled, now)
		c.op.Reason = joinDetail(op.Reason, "the trade is closed at the gateway (TRADE_CLOSED)")
		c.ev.Detail = c.op.Reason
		return c
	case TradeNotFound:
		if !op.PaidAt.IsZero() {
			// Alipay confirmed this payment: "not found" contradicts it, and
			// declined would forget a payment that can then not be refunded.
			return manual(op, fmt.Sprintf("%s, and the gateway reports the trade partner_trans_id %s "+
				"(alipay_trans_id %s) not found although it confirmed its payment of %d %s: look it up in "+
				"the Alipay merchant portal; if it is still paid, refund it there; then resolve this "+
				"operation", op.Reason, op.PartnerTransID, op.AlipayTransID, op.Amount, op.Currency), now)
		}
		c := to(op, StateDeclined, EventDeclined, now)
		c.op.Reason = joinDetail(op.Reason, "the gateway has no such trade; no money moved")
		c.ev.Detail = c.op.Reason
		return c
	case TradeSuccess:
		c := to(op, StateCancelled, EventCancelled, now)
		c.op.AlipayTransID = firstNonEmpty(res.AlipayTransID, op.AlipayTransID)
		c.autoRefund = true // the writer fills in the refund and the reason
		return c
	case TradeFinished:
		return manual(op, fmt.Sprintf("%s, and the trade partner_trans_id %s is paid with its refund "+
			"period over (TRADE_FINISHED): neither cancel nor refund is possible; settle %d %s with the "+
			"customer by hand, then resolve this operation", op.Reason, op.PartnerTransID, op.Amount,
			op.Currency), now)
	}
	return to(op, op.State, EventAnswer, now) // WAIT_BUYER_PAY or no answer: ask again later
}

func (l lifecycle) answerCancel(r result, now time.Time) change {
	op, res := r.op, r.cancel
	if r.err != nil {
		res = CancelResult{Code: res.Code} // an error is Unknown; its code still tells why
	}
	op.LastCode = res.Code
	var c change
	switch {
	case res.Outcome == OutcomeSuccess:
		c = to(op, StateCancelled, EventCancelled, now)
		c.op.Reason = ""
		if res.Action != "" {
			c.ev.Detail = "action=" + res.Action
		}
	case res.Outcome == OutcomeDeclined && res.RetryFlag != RetryYes:
		// retry_flag=N, or a permanent code without a flag: retrying will not help
		c = to(op, StateChecking, EventChecking, now)
		c.op.Reason = fmt.Sprintf("cancel refused (%s, retry_flag=%s)", res.Code, res.RetryFlag)
		c.ev.Detail = c.op.Reason + "; querying the trade to decide"
		c.op.NextAttemptAt = now
	default: // unknown, or refused with retry_flag=Y: retry (planned at write-ahead)
		c = to(op, op.State, EventRetry, now)
		c.ev.Detail = fmt.Sprintf("retry at %s", op.NextAttemptAt.UTC().Format(time.RFC3339Nano))
	}
	return withCodes(c, res.Code, firstNonEmpty(res.RawStatus, string(res.RetryFlag)))
}

func (l lifecycle) answerRefund(r result, now time.Time) change {
	op, res := r.op, r.refund
	if r.err != nil {
		res = RefundResult{Code: res.Code} // an error is Unknown; its code still tells why
	}
	op.LastCode = res.Code
	var c change
	switch res.Outcome {
	case OutcomeSuccess:
		c = to(op, StateRefunded, EventRefunded, now)
		c.op.AlipayTransID = firstNonEmpty(res.AlipayTransID, op.AlipayTransID)
		c.op.AmountCNY = firstNonEmpty(res.AmountCNY, op.AmountCNY)
	case OutcomeDeclined:
		if op.Attempts > 1 && !op.Auto {
			// An earlier attempt's answer was lost: it may have refunded, and
			// a refusal of this retry (the trade now closed, the amount now
			// exceeded) does not say it did not.
			c = manual(op, fmt.Sprintf("refund %s of %d %s on partner_trans_id %s: an earlier attempt's "+
				"outcome is unknown and the retry was refused (%s), which does not prove that no money "+
				"moved: look up partner_refund_id %s in the Alipay merchant portal, then resolve this "+
				"operation as refunded or refund_declined", op.PartnerRefundID, op.Amount, op.Currency,
				op.PartnerTransID, res.Code, op.PartnerRefundID), now)
			break
		}
		if op.Auto {
			c = manual(op, fmt.Sprintf("the automatic full refund %s of sale %s (partner_trans_id %s, "+
				"%d %s) was declined by the gateway (%s): refund the customer by hand, then resolve this "+
				"operation", op.PartnerRefundID, op.ParentID, op.PartnerTransID, op.Amount, op.Currency,
				res.Code), now)
			break
		}
		c = to(op, StateRefundDeclined, EventRefundDeclined, now)
		c.op.Reason = "refund declined by the gateway: " + res.Code
	default:
		c = to(op, op.State, EventRetry, now)
		c.ev.Detail = fmt.Sprintf("retry at %s", op.NextAttemptAt.UTC().Format(time.RFC3339Nano))
	}
	return withCodes(c, res.Code, res.RawStatus)
}

func withCodes(c change, code, raw string) change {
	c.ev.Code, c.ev.RawStatus = code, raw
	return c
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func clip(s string) string {
	if len(s) <= maxDetail {
		return s
	}
	return s[:maxDetail] + "…"
}
