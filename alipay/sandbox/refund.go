package sandbox

import (
	"time"
)

// refund implements alipay.acquire.overseas.spot.refund, always
// synchronously (is_sync is accepted and ignored): partial and repeated
// refunds while their sum stays within the paid amount, in the payment's
// currency, idempotent by partner_refund_id (reference §9.3).
func (s *Server) refund(g *gatewayRequest, now time.Time) (reply, *rejection) {
	if rej := g.require("partner_trans_id", "partner_refund_id", "refund_amount", "currency"); rej != nil {
		return reply{}, rej
	}
	transID, refundID, cur := g.get("partner_trans_id"), g.get("partner_refund_id"), g.get("currency")
	if len(transID) > 64 || len(refundID) > 64 {
		return reply{}, reject(ErrIllegalArgument, "partner_trans_id or partner_refund_id longer than 64")
	}
	amount, rej := parseTransAmount(g.get("refund_amount"), cur)
	if rej != nil {
		return reply{}, rej
	}
	if refundID == transID {
		return refundFailed(transID, refundID, CodeInvalidParam), nil // UNCONFIRMED code: ids must differ
	}
	t := s.lookup("", transID)
	if t == nil || (g.get("alipay_trans_id") != "" && g.get("alipay_trans_id") != t.AlipayTransID) {
		return refundFailed(transID, refundID, CodeTradeNotExist), nil
	}
	t.Calls.Refund++
	s.st.touch(t)
	if owner, ok := s.st.byRefundID[refundKey(t.Partner, refundID)]; ok {
		return replayRefund(owner, t, refundID, amount, cur), nil
	}
	if code := refundRefusal(t, t.at(now), amount, cur); code != "" {
		return refundFailed(transID, refundID, code), nil
	}
	r := Refund{PartnerRefundID: refundID, Amount: amount, Currency: cur, Time: now}
	s.st.addRefund(t, r)
	return refundAnswer(t, r), nil
}

// replayRefund answers a refund id already used: the original result when
// it is the same refund, an error otherwise (reference §9.3).
func replayRefund(owner, t *tradeRecord, refundID string, amount int64, cur string) reply {
	r, _ := owner.findRefund(refundID)
	if owner != t || r.Amount != amount || r.Currency != cur {
		return refundFailed(t.PartnerTransID, refundID, CodeInvalidParam) // UNCONFIRMED code
	}
	return refundAnswer(t, r)
}

// refundRefusal is the error code refusing a new refund, "" to accept it.
func refundRefusal(t *tradeRecord, tl timeline, amount int64, cur string) string {
	switch {
	case cur != t.Currency:
		return CodeInvalidParam // UNCONFIRMED code: currency differs
	case !tl.paid() || tl.closed():
		return CodeTradeStatus
	case amount > t.Amount-t.refunded():
		return CodeReturnExceed
	}
	return ""
}

// refundFailed is a FAILED refund answer with code.
func refundFailed(transID, refundID, code string) reply {
	return reply{fields: map[string]string{"result_code": "FAILED", "error": code,
		"partner_trans_id": transID, "partner_refund_id": refundID}}
}

// refundAnswer is the SUCCESS answer for an accepted refund.
func refundAnswer(t *tradeRecord, r Refund) reply {
	return reply{fields: map[string]string{
		"result_code": "SUCCESS", "partner_trans_id": t.PartnerTransID,
		"alipay_trans_id": t.AlipayTransID, "partner_refund_id": r.PartnerRefundID,
		"refund_amount": formatMinor(r.Amount, r.Currency), "currency": r.Currency,
		"exchange_rate": t.ExchangeRate, "refund_amount_cny": formatCNY(toCNY(r.Amount, r.Currency, t.ExchangeRate)),
	}}
}
