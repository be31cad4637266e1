package queue

import (
	"context"
	"time"
)

// Gateway is what the engine needs from a payment gateway. Implementations
// classify every answer: an error return, or a result whose Outcome is
// OutcomeUnknown, means the engine does not know what happened (timeout,
// connection loss, SYSTEM_ERROR, UNKNOW, a bad signature…) and resolves it by
// query and cancel, never by a new payment. The zero value of every result is
// Unknown.
//
// queue/alipaygw implements it over the Alipay client; a relay to a central
// partner server could implement it too.
type Gateway interface {
	// Pay sends one barcode payment.
	Pay(ctx context.Context, req PayRequest) (PayResult, error)
	// Query asks for the state of the trade partnerTransID.
	Query(ctx context.Context, partnerTransID string) (QueryResult, error)
	// Cancel closes the trade partnerTransID, refunding it if it was paid.
	Cancel(ctx context.Context, partnerTransID string) (CancelResult, error)
	// Refund returns part or all of a paid trade.
	Refund(ctx context.Context, req RefundRequest) (RefundResult, error)
}

// Outcome classifies a gateway answer.
type Outcome int

// Outcomes. The zero value is Unknown, so a forgotten field never reads as
// success or failure.
const (
	// OutcomeUnknown: the request may or may not have taken effect.
	OutcomeUnknown Outcome = iota
	// OutcomeSuccess: the gateway confirmed the request.
	OutcomeSuccess
	// OutcomeDeclined: the gateway refused it with a permanent business code.
	OutcomeDeclined
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeDeclined:
		return "declined"
	}
	return "unknown"
}

// TradeStatus is a trade's state at the gateway, as a query reports it.
type TradeStatus int

// Trade statuses. The zero value is Unknown.
const (
	// TradeUnknown: the query gave no usable status.
	TradeUnknown TradeStatus = iota
	// TradeWaitBuyerPay: created, waiting for the buyer.
	TradeWaitBuyerPay
	// TradeSuccess: paid (and still refundable).
	TradeSuccess
	// TradeClosed: never paid, cancelled, or fully refunded.
	TradeClosed
	// TradeFinished: paid, refund period over.
	TradeFinished
	// TradeNotFound: the gateway has no such trade.
	TradeNotFound
)

// String names the status with the gateway's words.
func (s TradeStatus) String() string {
	switch s {
	case TradeWaitBuyerPay:
		return "WAIT_BUYER_PAY"
	case TradeSuccess:
		return "TRADE_SUCCESS"
	case TradeClosed:
		return "TRADE_CLOSED"
	case TradeFinished:
		return "TRADE_FINISHED"
	case TradeNotFound:
		return "TRADE_NOT_EXIST"
	}
	return "UNKNOWN"
}

// RetryFlag is the cancel answer's retry_flag.
type RetryFlag string

// Retry flags.
const (
	RetryUnset RetryFlag = ""  // not sent
	RetryYes   RetryFlag = "Y" // the cancel may be retried
	RetryNo    RetryFlag = "N" // retrying will not succeed
)

// PayRequest is one payment. BuyerCode is the full customer code: it lives
// only in memory for this call and is never stored.
type PayRequest struct {
	PartnerTransID string
	BuyerCode      string
	Amount         int64 // minor units of Currency
	Currency       string
	Subject        string
	Terminal       string
	CreatedAt      time.Time // when the sale was recorded (trans_create_time)
}

// TradeInfo is what the gateway says about a paid trade.
type TradeInfo struct {
	AlipayTransID string
	BuyerLogin    string    // masked by the gateway
	AmountCNY     string    // decimal, as sent
	ExchangeRate  string    // decimal, as sent
	PaidAt        time.Time // zero when not sent
}

// PayResult is the classified answer to Pay.
type PayResult struct {
	Outcome   Outcome
	Code      string // gateway error or result code
	RawStatus string // raw result_code
	TradeInfo
}

// QueryResult is the classified answer to Query. Status is what counts;
// Outcome says whether the query itself was answered.
type QueryResult struct {
	Outcome   Outcome
	Status    TradeStatus
	Code      string
	RawStatus string
	TradeInfo
}

// CancelResult is the classified answer to Cancel.
type CancelResult struct {
	Outcome   Outcome
	Code      string
	RawStatus string
	RetryFlag RetryFlag
	Action    string // "close" or "refund" when sent
}

// RefundRequest is one refund of a paid trade.
type RefundRequest struct {
	PartnerTransID  string
	PartnerRefundID string
	Amount          int64 // minor units of Currency
	Currency        string
	Reason          string
}

// RefundResult is the classified answer to Refund.
type RefundResult struct {
	Outcome       Outcome
	Code          string
	RawStatus     string
	AlipayTransID string
	AmountCNY     string
}
