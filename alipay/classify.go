package alipay

import "errors"

// Outcome is the class of a gateway answer. The zero value is Unknown.
type Outcome int

// The three outcomes. Unknown is never to be read as Declined: it means
// "resolve by query, then cancel".
const (
	// OutcomeUnknown: the request may or may not have taken effect.
	OutcomeUnknown Outcome = iota
	// OutcomeSuccess: a verified result_code=SUCCESS.
	OutcomeSuccess
	// OutcomeDeclined: a definite, permanent failure of the request.
	OutcomeDeclined
)

// String returns "unknown", "success" or "declined".
func (o Outcome) String() string {
	switch o {
	case OutcomeSuccess:
		return "success"
	case OutcomeDeclined:
		return "declined"
	}
	return "unknown"
}

// codeSystemError is the only code that marks an outage (reference §6.4).
const codeSystemError = "SYSTEM_ERROR"

// isBusinessDecline reports whether a result_code FAIL/FAILED error code of
// service is known to be permanent (reference §6.4, §7.2, §8.2, §9, §11.2).
// Codes that imply the trade may exist or be paid (TRADE_BUYER_NOT_MATCH,
// TRADE_HAS_SUCCESS, TRADE_STATUS_ERROR on pay) are deliberately absent:
// they stay Unknown and are resolved by query.
func isBusinessDecline(service, code string) bool {
	switch code {
	case "INVALID_PARAMETER", "ILLEGAL_ARGUMENT":
		return true
	}
	switch service {
	case ServicePay:
		return isPayDecline(code)
	case ServiceQuery:
		return code == "TRADE_NOT_EXIST" || code == "TRANS_NOT_FOUND"
	case ServiceCancel:
		switch code {
		case "TRADE_CANCEL_TIME_OUT", "TRADE_HAS_FINISHED", "REASON_TRADE_BEEN_FREEZEN":
			return true
		}
	case ServiceRefund:
		switch code {
		case "REFUND_AMT_RESTRICTION", "REQUEST_AMOUNT_EXCEED", "RETURN_AMOUNT_EXCEED",
			"TRADE_NOT_EXIST", "PURCHASE_TRADE_NOT_EXIST", "TRADE_STATUS_ERROR", "TRADE_HAS_CLOSE",
			"TRADE_HAS_FINISHED", "CURRENCY_NOT_SAME", "REASON_TRADE_BEEN_FREEZEN":
			return true
		}
	}
	return false
}

// isPayDecline reports whether a spot.pay FAILED code is permanent.
func isPayDecline(code string) bool {
	switch code {
	case "BUYER_BALANCE_NOT_ENOUGH", "BUYER_BANKCARD_BALANCE_NOT_ENOUGH", "BUYER_NOT_EXIST",
		"BUYER_ENABLE_STATUS_FORBID", "BUYER_SELLER_EQUAL", "BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR",
		"BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR", "PAYMENT_AUTH_CODE_INVALID", "SOUNDWAVE_PARSER_FAIL",
		"CLIENT_VERSION_NOT_MATCH", "EXIST_FORBIDDEN_WORD", "SELLER_NOT_EXIST", "TRADE_HAS_CLOSE",
		"REASON_TRADE_BEEN_FREEZEN", "CURRENCY_NOT_SUPPORT":
		return true
	}
	return false
}

// Detail is what a call learned from the gateway, kept for the journal. It
// never holds keys, signatures or a full buyer code: Fields are the children
// of response/alipay only (not the <request> echo), with any
// buyer_identity_code masked.
type Detail struct {
	// HTTPStatus is the HTTP status code (0 when no answer arrived).
	HTTPStatus int
	// IsSuccess is the envelope's is_success ("T", "F", or "" when absent).
	IsSuccess string
	// GatewayError is the top-level <error> of an is_success=F envelope.
	GatewayError string
	// ResultCode is response/alipay/result_code as received.
	ResultCode string
	// Error is response/alipay/error as received.
	Error string
	// DetailErrorCode is response/alipay/detail_error_code, if any.
	DetailErrorCode string
	// RetryFlag is response/alipay/retry_flag (cancel), if any.
	RetryFlag string
	// Verified is true when an is_success=T envelope's signature verified.
	Verified bool
	// Fields are all children of response/alipay, raw text.
	Fields map[string]string
}

// ErrorCode returns the most specific error code present: the business
// error, else the detail error code, else the gateway error.
func (d Detail) ErrorCode() string {
	for _, c := range []string{d.Error, d.DetailErrorCode, d.GatewayError} {
		if c != "" {
			return c
		}
	}
	return ""
}

// Classify maps one call of service to an Outcome, from an explicit
// positive list; everything not listed is Unknown:
//
//   - Success: err == nil, is_success=T, signature verified, result_code
//     exactly SUCCESS, and SYSTEM_ERROR nowhere (for pay, also no
//     alipay_trans_status other than TRADE_SUCCESS).
//   - Declined: a verified result_code FAIL/FAILED whose error is a known
//     permanent code of that service (for cancel also a verified
//     retry_flag=N), or an *InvalidRequestError (nothing was sent: a fact
//     the client knows by itself).
//   - Unknown: everything else. That includes every is_success=F answer
//     (*GatewayError), whatever its code: Alipay does not sign them, so
//     anything on the path (a proxy, a captive portal, an attacker) can
//     forge one while the request went on to Alipay, or reached it another
//     way; for a pay that would be a DECLINED sale whose money was taken
//     (invariants 2 and 3). It also includes transport errors, timeouts,
//     HTTP statuses other than 200, malformed or oversize bodies, a bad or
//     missing signature, a mismatched echo, SYSTEM_ERROR anywhere,
//     UNKNOW/UNKNOWN/missing result codes, and FAIL/FAILED with an
//     unlisted code.
//
// The cost of the is_success=F rule is time, not money: a till whose key is
// wrong (a genuine ILLEGAL_SIGN, where the request was never processed)
// polls and cancels each sale until the pay deadline instead of hearing
// DECLINED at once; the error text says "gateway refused the signature:
// check keys" (see GatewayError) in the log and the journal.
func Classify(service string, d Detail, err error) Outcome {
	if d.Error == codeSystemError || d.DetailErrorCode == codeSystemError || d.GatewayError == codeSystemError {
		return OutcomeUnknown
	}
	if err != nil {
		return classifyErr(err)
	}
	if d.IsSuccess != "T" || !d.Verified {
		return OutcomeUnknown
	}
	switch d.ResultCode {
	case "SUCCESS":
		// A pay answer claiming SUCCESS with a trade status other than
		// TRADE_SUCCESS contradicts itself: leave it to the query.
		if st := d.Fields["alipay_trans_status"]; service == ServicePay && st != "" && st != "TRADE_SUCCESS" {
			return OutcomeUnknown
		}
		return OutcomeSuccess
	case "FAIL", "FAILED":
		if isBusinessDecline(service, d.Error) {
			return OutcomeDeclined
		}
		if service == ServiceCancel && d.RetryFlag == "N" {
			return OutcomeDeclined
		}
	}
	return OutcomeUnknown
}

// classifyErr classifies a call that returned an error: only a request
// the client refused to send is Declined. A *GatewayError (is_success=F)
// is Unknown: it carries no signature (reference §4.4, §5.2), so it proves
// nothing about what Alipay did. (§5.2 calls a non-SYSTEM_ERROR refusal a
// definite failure of the request, but which codes come at gateway level is
// UNCONFIRMED and an unsigned answer cannot be told from a forged one: the
// safe reading is Unknown, which a signed query resolves.)
func classifyErr(err error) Outcome {
	var inv *InvalidRequestError
	if errors.As(err, &inv) {
		return OutcomeDeclined
	}
	return OutcomeUnknown
}

// TradeStatus is a trade's state as the query service reports it. The zero
// value is StatusUnknown.
type TradeStatus int

// Trade statuses (reference §7.3); StatusNotFound covers both
// TRADE_NOT_EXIST and TRANS_NOT_FOUND.
const (
	StatusUnknown TradeStatus = iota
	StatusWaitBuyerPay
	StatusSuccess
	StatusClosed
	StatusFinished
	StatusNotFound
)

// String returns Alipay's name for s ("NOT_FOUND", "UNKNOWN" for the two
// statuses Alipay has no single name for).
func (s TradeStatus) String() string {
	switch s {
	case StatusWaitBuyerPay:
		return "WAIT_BUYER_PAY"
	case StatusSuccess:
		return "TRADE_SUCCESS"
	case StatusClosed:
		return "TRADE_CLOSED"
	case StatusFinished:
		return "TRADE_FINISHED"
	case StatusNotFound:
		return "NOT_FOUND"
	}
	return "UNKNOWN"
}

// ParseTradeStatus maps alipay_trans_status to a TradeStatus; anything
// unrecognised is StatusUnknown.
func ParseTradeStatus(s string) TradeStatus {
	switch s {
	case "WAIT_BUYER_PAY":
		return StatusWaitBuyerPay
	case "TRADE_SUCCESS":
		return StatusSuccess
	case "TRADE_CLOSED":
		return StatusClosed
	case "TRADE_FINISHED":
		return StatusFinished
	}
	return StatusUnknown
}
