package sandbox

import (
	"time"
)

// Trade statuses, with Alipay's names (reference §7.3).
const (
	StatusWaitBuyerPay = "WAIT_BUYER_PAY"
	StatusTradeSuccess = "TRADE_SUCCESS"
	StatusTradeClosed  = "TRADE_CLOSED"
)

// How a trade was closed (Trade.ClosedBy).
const (
	ClosedByCancel    = "cancel"         // acquire.cancel, paid or not
	ClosedByAutoClose = "auto-close"     // still waiting at Config.AutoClose
	ClosedByRefund    = "refund"         // refunds reached the paid amount
	ClosedByRejected  = "buyer-rejected" // scenario 12
	ClosedByDeclined  = "declined"       // scenarios 20 and 21
)

// Cancel actions (Trade.CancelAction and the cancel answer's action).
const (
	ActionClose  = "close"  // the trade was unpaid and is now closed
	ActionRefund = "refund" // the trade was paid and the money returned
)

// Trade is the ledger view of one trade, as GET /sandbox/trades shows it.
// Amounts are minor units of Currency; the buyer code is masked.
type Trade struct {
	Partner        string     `json:"partner"`
	PartnerTransID string     `json:"partner_trans_id"`
	AlipayTransID  string     `json:"alipay_trans_id"`
	Status         string     `json:"status"`
	Amount         int64      `json:"amount"`
	Currency       string     `json:"currency"`
	ExchangeRate   string     `json:"exchange_rate"`
	BuyerCode      string     `json:"buyer_code"`
	Scenario       Scenario   `json:"scenario"`
	TransName      string     `json:"trans_name"`
	Memo           string     `json:"memo,omitempty"`
	Merchant       Merchant   `json:"merchant"`
	Created        time.Time  `json:"created"`
	Paid           *time.Time `json:"paid,omitempty"`
	Closed         *time.Time `json:"closed,omitempty"`
	ClosedBy       string     `json:"closed_by,omitempty"`
	CancelAction   string     `json:"cancel_action,omitempty"`
	Error          string     `json:"error,omitempty"`
	Refunded       int64      `json:"refunded"`
	Refunds        []Refund   `json:"refunds"`
	Calls          Calls      `json:"calls"`
}

// Merchant holds the extend_info fields the files need.
type Merchant struct {
	SecondaryMerchantID       string `json:"secondary_merchant_id,omitempty"`
	SecondaryMerchantName     string `json:"secondary_merchant_name,omitempty"`
	SecondaryMerchantIndustry string `json:"secondary_merchant_industry,omitempty"`
	StoreID                   string `json:"store_id,omitempty"`
	StoreName                 string `json:"store_name,omitempty"`
	TerminalID                string `json:"terminal_id,omitempty"`
}

// Refund is one accepted refund of a trade.
type Refund struct {
	PartnerRefundID string    `json:"partner_refund_id"`
	Amount          int64     `json:"amount"`
	Currency        string    `json:"currency"`
	Time            time.Time `json:"time"`
}

// Calls counts the gateway calls made for a trade (the calls answered by a
// gateway-wide fault are not counted).
type Calls struct {
	Pay    int `json:"pay"`
	Query  int `json:"query"`
	Cancel int `json:"cancel"`
	Refund int `json:"refund"`
}

// tradeRecord is a trade as stored. Planned events (PayAt, RejectAt,
// AutoCloseAt) take effect when the clock passes them; explicit events
// (CancelledAt, Refunds) take effect when they are recorded.
type tradeRecord struct {
	Partner        string     `json:"partner"`
	PartnerTransID string     `json:"partner_trans_id"`
	AlipayTransID  string     `json:"alipay_trans_id"`
	BuyerHash      string     `json:"buyer_hash"`
	BuyerMasked    string     `json:"buyer_masked"`
	BuyerUserID    string     `json:"buyer_user_id"`
	BuyerLoginID   string     `json:"buyer_login_id"`
	Scenario       Scenario   `json:"scenario"`
	Amount         int64      `json:"amount"`
	Currency       string     `json:"currency"`
	ExchangeRate   string     `json:"exchange_rate"`
	TransName      string     `json:"trans_name"`
	Memo           string     `json:"memo,omitempty"`
	Merchant       Merchant   `json:"merchant"`
	CreatedAt      time.Time  `json:"created_at"`
	AutoCloseAt    time.Time  `json:"auto_close_at"`
	PayAt          *time.Time `json:"pay_at,omitempty"`
	RejectAt       *time.Time `json:"reject_at,omitempty"`
	DeclineCode    string     `json:"decline_code,omitempty"`
	CancelledAt    *time.Time `json:"cancelled_at,omitempty"`
	Refunds        []Refund   `json:"refunds,omitempty"`
	Calls          Calls      `json:"calls"`

	savedRefunds int // how many of Refunds the state database holds
}

// timeline is the state of a trade at one instant.
type timeline struct {
	status   string
	paidAt   time.Time // zero when unpaid
	closedAt time.Time // zero when open
	closedBy string
}

func (tl timeline) paid() bool   { return !tl.paidAt.IsZero() }
func (tl timeline) closed() bool { return !tl.closedAt.IsZero() }

// at computes the trade's state at now from its stored timestamps.
func (t *tradeRecord) at(now time.Time) timeline {
	if p, ok := t.paidAt(now); ok {
		tl := timeline{status: StatusTradeSuccess, paidAt: p}
		switch {
		case t.CancelledAt != nil:
			tl.closedAt, tl.closedBy = *t.CancelledAt, ClosedByCancel
		case len(t.Refunds) > 0 && t.refunded() >= t.Amount:
			tl.closedAt, tl.closedBy = t.Refunds[len(t.Refunds)-1].Time, ClosedByRefund
		}
		if tl.closed() {
			tl.status = StatusTradeClosed
		}
		return tl
	}
	tl := timeline{status: StatusWaitBuyerPay}
	for _, c := range t.closeCandidates() {
		if c.at != nil && !c.at.After(now) && (!tl.closed() || c.at.Before(tl.closedAt)) {
			tl.closedAt, tl.closedBy = *c.at, c.by
		}
	}
	if tl.closed() {
		tl.status = StatusTradeClosed
	}
	return tl
}

// paidAt reports when the buyer paid, if that happened by now: the planned
// payment counts when it came before auto-close and before any cancel.
func (t *tradeRecord) paidAt(now time.Time) (time.Time, bool) {
	if t.PayAt == nil || t.DeclineCode != "" {
		return time.Time{}, false
	}
	p := *t.PayAt
	if p.After(now) || !p.Before(t.AutoCloseAt) {
		return time.Time{}, false
	}
	if t.CancelledAt != nil && p.After(*t.CancelledAt) {
		return time.Time{}, false
	}
	return p, true
}

// closeCandidate is one way an unpaid trade may close.
type closeCandidate struct {
	at *time.Time
	by string
}

// closeCandidates lists the events that close an unpaid trade; the
// earliest one that has happened wins.
func (t *tradeRecord) closeCandidates() []closeCandidate {
	auto := t.AutoCloseAt
	cs := []closeCandidate{
		{t.RejectAt, ClosedByRejected},
		{&auto, ClosedByAutoClose},
		{t.CancelledAt, ClosedByCancel},
	}
	if t.DeclineCode != "" {
		created := t.CreatedAt
		cs = append(cs, closeCandidate{&created, ClosedByDeclined})
	}
	return cs
}

// refunded is the sum of the accepted refunds.
func (t *tradeRecord) refunded() int64 {
	var sum int64
	for _, r := range t.Refunds {
		sum += r.Amount
	}
	return sum
}

// findRefund returns the refund with this partner_refund_id.
func (t *tradeRecord) findRefund(id string) (Refund, bool) {
	for _, r := range t.Refunds {
		if r.PartnerRefundID == id {
			return r, true
		}
	}
	return Refund{}, false
}

// cancelAction is what a cancel did (or would do) to the trade.
func (t *tradeRecord) cancelAction(tl timeline) string {
	if tl.paid() {
		return ActionRefund
	}
	return ActionClose
}

// view returns the ledger view of the trade at now.
func (t *tradeRecord) view(now time.Time) Trade {
	tl := t.at(now)
	v := Trade{
		Partner: t.Partner, PartnerTransID: t.PartnerTransID, AlipayTransID: t.AlipayTransID,
		Status: tl.status, Amount: t.Amount, Currency: t.Currency, ExchangeRate: t.ExchangeRate,
		BuyerCode: t.BuyerMasked, Scenario: t.Scenario, TransName: t.TransName, Memo: t.Memo,
		Merchant: t.Merchant, Created: t.CreatedAt, ClosedBy: tl.closedBy, Error: t.DeclineCode,
		Refunds: append([]Refund{}, t.Refunds...), Calls: t.Calls, Refunded: t.refunded(),
	}
	if tl.paid() {
		v.Paid = &tl.paidAt
	}
	if tl.closed() {
		v.Closed = &tl.closedAt
	}
	if t.CancelledAt != nil {
		v.CancelAction = t.cancelAction(tl)
		if tl.paid() {
			v.Refunded = t.Amount
		}
	}
	return v
}
