package soak

import (
	"strings"
	"time"
)

// Trade is one trade of the sandbox gateway's ledger (GET /sandbox/trades,
// docs/sandbox.md): the fields the checker reads.
type Trade struct {
	PartnerTransID string        `json:"partner_trans_id"`
	AlipayTransID  string        `json:"alipay_trans_id"`
	Status         string        `json:"status"` // WAIT_BUYER_PAY, TRADE_SUCCESS, TRADE_CLOSED
	Amount         int64         `json:"amount"` // minor units of Currency
	Currency       string        `json:"currency"`
	TransName      string        `json:"trans_name"`     // the SALE's subject
	Paid           *time.Time    `json:"paid,omitempty"` // set once the buyer paid, even if later reversed
	ClosedBy       string        `json:"closed_by,omitempty"`
	CancelAction   string        `json:"cancel_action,omitempty"`
	Refunded       int64         `json:"refunded"` // returned to the buyer, by refunds or by a cancel
	Refunds        []TradeRefund `json:"refunds"`
}

// TradeRefund is one refund the gateway accepted.
type TradeRefund struct {
	PartnerRefundID string `json:"partner_refund_id"`
	Amount          int64  `json:"amount"`
	Currency        string `json:"currency"`
}

// kept is what the gateway holds of the buyer's money for t.
func (t Trade) kept() int64 {
	if t.Paid == nil {
		return 0
	}
	return max(t.Amount-t.Refunded, 0)
}

// Op is one operation of the journal (the operations table, read-only).
type Op struct {
	ID              string
	Kind            string // sale or refund
	Lane            string
	Ref             string // the sale's ref, or the refund's refund_ref
	ParentID        string // refunds: the sale's operation id
	State           string // queue.State names
	PartnerTransID  string
	PartnerRefundID string
	Amount          int64
	Currency        string
	Reason          string
	Subject         string
	Auto            bool // a refund the engine queued itself
}

// Told is what the ECR clients heard about one ref.
type Told struct {
	// Kind is "sale" or "refund".
	Kind string
	// Lane and Ref identify the sale (Ref) or the refund (its refund_ref).
	Lane, Ref string
	// SaleRef is, for a refund, the ref of the sale it refunds.
	SaleRef string
	// Amount and Currency are what was asked for.
	Amount   int64
	Currency string
	// Scenario is the sale's sandbox scenario code.
	Scenario string
	// Heard lists every final status heard for the ref, in order (RESULTs
	// of SALE, STATUS, CANCEL, REFUND; never PENDING).
	Heard []string
	// Final is the answer to the closing STATUS: a RESULT status, PENDING,
	// or an ERROR code; "" when none came.
	Final string
	// Reason is the closing answer's reason (MANUAL must have one).
	Reason string
}

// Sources are the checker's three inputs, and the driver's list of
// unexpected ERROR answers.
type Sources struct {
	// Trades is the sandbox ledger.
	Trades []Trade
	// Ops is the journal.
	Ops []Op
	// Told is what the ECR clients heard.
	Told []Told
	// Requests counts the requests the driver sent; Errors lists the
	// answers no ECR should ever get (E_INTERNAL, E_REF_CONFLICT, …).
	Requests int
	Errors   []string
}

// Subject is the SALE subject (the gateway's trans_name) the driver sends,
// so a trade can be traced to its lane and ref without the journal.
func Subject(tag, lane, ref string) string {
	return "soak " + tag + " " + lane + " " + ref
}

// parseSubject returns the lane/ref key of a Subject, or "".
func parseSubject(s string) string {
	f := strings.Fields(s)
	if len(f) != 4 || f[0] != "soak" {
		return ""
	}
	return key(f[2], f[3])
}

// key joins a lane and a ref.
func key(lane, ref string) string { return lane + "/" + ref }
