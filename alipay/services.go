package alipay

import (
	"context"
	"strconv"
	"time"
)

// PayRequest is one spot.pay (merchant scans the buyer's code).
type PayRequest struct {
	// PartnerTransID is the merchant's unique id of this payment (≤64).
	PartnerTransID string
	// BuyerCode is the scanned dynamic code: 16–24 digits, 25–30 prefix.
	BuyerCode string
	// Amount is in minor units of Currency (JPY/KRW: whole units).
	Amount int64
	// Currency is the ISO code, upper case (sent as currency).
	Currency string
	// TransName is shown in the buyer's records (≤256 characters).
	TransName string
	// Memo is an optional note.
	Memo string
	// Extend overrides single extend_info fields of the Config (e.g. the
	// lane's store and terminal); nil keeps the Config's.
	Extend *ExtendInfo
}

// PayResult is the answer to Pay. Only Outcome decides. ResultCode and Error
// are as received, even from an answer whose signature failed (see
// Detail.Verified); the business fields are set only from a verified answer.
type PayResult struct {
	// Outcome is the classification; see Classify.
	Outcome Outcome
	// ResultCode is result_code as received (SUCCESS, FAILED, UNKNOW…).
	ResultCode string
	// Error is the most specific error code (business, detail or gateway).
	Error string
	// PartnerTransID echoes the request.
	PartnerTransID string
	// AlipayTransID is Alipay's transaction id.
	AlipayTransID string
	// BuyerLoginID is the masked buyer login (as Alipay sends it).
	BuyerLoginID string
	// BuyerUserID is the buyer's 2088… user id.
	BuyerUserID string
	// PayTime is alipay_pay_time read in GMT+8 (zero when absent or
	// unparseable; the raw value stays in Detail.Fields).
	PayTime time.Time
	// Amount is trans_amount in minor units (0 when absent/unparseable).
	Amount int64
	// Currency is the answer's currency.
	Currency string
	// TransAmountCNY is trans_amount_cny as received (decimal string).
	TransAmountCNY string
	// ExchangeRate is exchange_rate as received (decimal string).
	ExchangeRate string
	// TradeStatus is alipay_trans_status as received, if any.
	TradeStatus string
	// Detail is the raw material for the journal.
	Detail Detail
}

// Pay sends alipay.acquire.overseas.spot.pay. trans_create_time comes from
// the client's clock, in GMT+8. A non-nil error explains an Unknown outcome
// (or, for an *InvalidRequestError, a Declined one: nothing was sent); the
// result is always usable.
func (c *Client) Pay(ctx context.Context, r PayRequest) (PayResult, error) {
	start := time.Now()
	k := call{service: ServicePay, transID: r.PartnerTransID, buyerCode: r.BuyerCode}
	params, err := c.payParams(r)
	var d Detail
	if err == nil {
		k.params = params
		d, err = c.exchange(ctx, k)
	}
	if err == nil && d.Verified {
		err = firstErr(
			echo(d, "partner_trans_id", r.PartnerTransID),
			echo(d, "currency", r.Currency),
			echoAmount(d, "trans_amount", r.Amount, r.Currency),
		)
	}
	d, err = scrubCode(d, err, r.BuyerCode)
	res := PayResult{Outcome: c.finish(k, start, d, err), ResultCode: d.ResultCode, Error: d.ErrorCode(), Detail: d}
	if d.Verified {
		f := d.Fields
		res.PartnerTransID, res.AlipayTransID = f["partner_trans_id"], f["alipay_trans_id"]
		res.BuyerLoginID, res.BuyerUserID = f["alipay_buyer_login_id"], f["alipay_buyer_user_id"]
		res.PayTime = parsePayTime(f["alipay_pay_time"])
		res.Currency = f["currency"]
		res.Amount = parseAnswerAmount(f["trans_amount"], f["currency"])
		res.TransAmountCNY, res.ExchangeRate = f["trans_amount_cny"], f["exchange_rate"]
		res.TradeStatus = f["alipay_trans_status"]
	}
	return res, err
}

// payParams validates r and builds the spot.pay parameters.
func (c *Client) payParams(r PayRequest) (map[string]string, error) {
	if err := firstErr(checkID("partner_trans_id", r.PartnerTransID), checkBuyerCode(r.BuyerCode),
		checkText("trans_name", r.TransName, true, maxTransNameLen)); err != nil {
		return nil, err
	}
	amount, err := amountParam("trans_amount", r.Amount, r.Currency)
	if err != nil {
		return nil, err
	}
	ext, err := c.cfg.Extend.Merge(r.Extend).JSON()
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"alipay_seller_id":    c.cfg.Partner,
		"biz_product":         "OVERSEAS_MBARCODE_PAY",
		"buyer_identity_code": r.BuyerCode,
		"currency":            r.Currency,
		"extend_info":         ext,
		"identity_code_type":  "barcode",
		"memo":                r.Memo,
		"notify_url":          c.cfg.NotifyURL,
		"partner_trans_id":    r.PartnerTransID,
		"trans_amount":        amount,
		"trans_create_time":   c.now().In(gmt8()).Format(layoutCompact),
		"trans_name":          r.TransName,
	}, nil
}

// QueryResult is the answer to Query. Status is the trade's state; Outcome
// says whether the query itself got a verified answer (a verified not-found
// answer is Declined for the query, StatusNotFound for the trade: keep
// polling).
// ResultCode and Error are as received; business fields only when verified.
type QueryResult struct {
	// Outcome is the classification of the query call.
	Outcome Outcome
	// Status is the trade status; StatusUnknown unless the answer verified
	// (an unsigned is_success=F TRADE_NOT_EXIST is StatusUnknown too).
	Status TradeStatus
	// ResultCode is result_code as received (SUCCESS, FAIL…).
	ResultCode string
	// Error is the most specific error code.
	Error string
	// RawStatus is alipay_trans_status as received.
	RawStatus string
	// PartnerTransID, AlipayTransID identify the trade.
	PartnerTransID, AlipayTransID string
	// BuyerLoginID, BuyerUserID identify the (masked) buyer.
	BuyerLoginID, BuyerUserID string
	// PayTime is alipay_pay_time read in GMT+8.
	PayTime time.Time
	// Amount is trans_amount in minor units of Currency.
	Amount int64
	// Currency is the answer's currency.
	Currency string
	// TransAmountCNY and ExchangeRate are as received.
	TransAmountCNY, ExchangeRate string
	// PaymentInst is the wallet (ALIPAYCN, ALIPAYHK).
	PaymentInst string
	// Detail is the raw material for the journal.
	Detail Detail
}

// Query sends alipay.acquire.overseas.query for partnerTransID.
func (c *Client) Query(ctx context.Context, partnerTransID string) (QueryResult, error) {
	start := time.Now()
	k := call{service: ServiceQuery, transID: partnerTransID,
		params: map[string]string{"partner_trans_id": partnerTransID}}
	var d Detail
	err := checkID("partner_trans_id", partnerTransID)
	if err == nil {
		d, err = c.exchange(ctx, k)
	}
	if err == nil && d.Verified {
		err = firstErr(echo(d, "partner_trans_id", partnerTransID), echo(d, "out_trade_no", partnerTransID))
	}
	res := QueryResult{Outcome: c.finish(k, start, d, err), ResultCode: d.ResultCode, Error: d.ErrorCode(), Detail: d}
	res.Status = queryStatus(d, err, res.Outcome)
	if d.Verified {
		f := d.Fields
		res.RawStatus = f["alipay_trans_status"]
		res.PartnerTransID, res.AlipayTransID = f["partner_trans_id"], f["alipay_trans_id"]
		res.BuyerLoginID, res.BuyerUserID = f["alipay_buyer_login_id"], f["alipay_buyer_user_id"]
		res.PayTime = parsePayTime(f["alipay_pay_time"])
		res.Currency = f["currency"]
		res.Amount = parseAnswerAmount(f["trans_amount"], f["currency"])
		res.TransAmountCNY, res.ExchangeRate = f["trans_amount_cny"], f["exchange_rate"]
		res.PaymentInst = f["payment_inst"]
	}
	return res, err
}

// queryStatus derives the trade status, from a verified answer only: the
// alipay_trans_status of a SUCCESS answer, or NotFound for a verified FAIL
// with TRADE_NOT_EXIST / TRANS_NOT_FOUND. An is_success=F TRADE_NOT_EXIST
// is StatusUnknown: it is unsigned, and an engine that read it as "no such
// trade" could decide a sale whose cancel was refused as declined while it
// is paid.
func queryStatus(d Detail, err error, out Outcome) TradeStatus {
	notFound := func(code string) bool { return code == "TRADE_NOT_EXIST" || code == "TRANS_NOT_FOUND" }
	switch {
	case out == OutcomeSuccess:
		return ParseTradeStatus(d.Fields["alipay_trans_status"])
	case out == OutcomeDeclined && err == nil && d.Verified && notFound(d.Error):
		return StatusNotFound
	}
	return StatusUnknown
}

// CancelResult is the answer to Cancel. ResultCode and Error are as
// received; the other fields are set only from a verified answer.
type CancelResult struct {
	// Outcome: Success = cancelled (closed or refunded); Declined = the
	// cancel will not succeed (retry_flag=N or a permanent code); Unknown =
	// retry with the same parameters.
	Outcome Outcome
	// ResultCode is result_code as received.
	ResultCode string
	// Error is the most specific error code.
	Error string
	// RetryFlag is retry_flag: "Y", "N" or "".
	RetryFlag string
	// Action is "close" (trade was unpaid) or "refund" (money returned).
	Action string
	// TradeNo is Alipay's transaction id; OutTradeNo echoes the request.
	TradeNo, OutTradeNo string
	// DetailErrorCode and DetailErrorDes explain a failure.
	DetailErrorCode, DetailErrorDes string
	// Detail is the raw material for the journal.
	Detail Detail
}

// Cancel sends alipay.acquire.cancel for the pay with partnerTransID
// (out_trade_no), stamped with the client clock in epoch milliseconds.
func (c *Client) Cancel(ctx context.Context, partnerTransID string) (CancelResult, error) {
	start := time.Now()
	k := call{service: ServiceCancel, transID: partnerTransID, params: map[string]string{
		"out_trade_no": partnerTransID,
		"timestamp":    strconv.FormatInt(c.now().UnixMilli(), 10),
	}}
	var d Detail
	err := checkID("out_trade_no", partnerTransID)
	if err == nil {
		d, err = c.exchange(ctx, k)
	}
	if err == nil && d.Verified {
		err = echo(d, "out_trade_no", partnerTransID)
	}
	res := CancelResult{Outcome: c.finish(k, start, d, err), ResultCode: d.ResultCode, Error: d.ErrorCode(), Detail: d}
	if d.Verified {
		f := d.Fields
		res.RetryFlag, res.Action = f["retry_flag"], f["action"]
		res.TradeNo, res.OutTradeNo = f["trade_no"], f["out_trade_no"]
		res.DetailErrorCode, res.DetailErrorDes = f["detail_error_code"], f["detail_error_des"]
	}
	return res, err
}

// RefundRequest is one synchronous spot.refund.
type RefundRequest struct {
	// PartnerTransID is the paid trade's id.
	PartnerTransID string
	// PartnerRefundID identifies this refund; it must differ from
	// PartnerTransID and is the idempotency key of retries.
	PartnerRefundID string
	// Amount is in minor units of Currency (≤ remaining paid amount).
	Amount int64
	// Currency must equal the payment's currency.
	Currency string
	// Reason is optional (≤128 characters), sent as refund_reason.
	Reason string
}

// RefundResult is the answer to Refund. ResultCode and Error are as
// received; the other fields are set only from a verified answer.
type RefundResult struct {
	// Outcome is the classification; see Classify.
	Outcome Outcome
	// ResultCode is result_code as received.
	ResultCode string
	// Error is the most specific error code.
	Error string
	// PartnerTransID, AlipayTransID, PartnerRefundID are the echoes / ids.
	PartnerTransID, AlipayTransID, PartnerRefundID string
	// Amount is refund_amount in minor units of Currency.
	Amount int64
	// Currency is the answer's currency.
	Currency string
	// RefundAmountCNY and ExchangeRate are as received.
	RefundAmountCNY, ExchangeRate string
	// Detail is the raw material for the journal.
	Detail Detail
}

// Refund sends alipay.acquire.overseas.spot.refund with is_sync=Y.
func (c *Client) Refund(ctx context.Context, r RefundRequest) (RefundResult, error) {
	start := time.Now()
	k := call{service: ServiceRefund, transID: r.PartnerTransID, refundID: r.PartnerRefundID}
	params, err := c.refundParams(r)
	var d Detail
	if err == nil {
		k.params = params
		d, err = c.exchange(ctx, k)
	}
	if err == nil && d.Verified {
		err = firstErr(
			echo(d, "partner_trans_id", r.PartnerTransID),
			echo(d, "partner_refund_id", r.PartnerRefundID),
			echo(d, "currency", r.Currency),
			echoAmount(d, "refund_amount", r.Amount, r.Currency),
		)
	}
	res := RefundResult{Outcome: c.finish(k, start, d, err), ResultCode: d.ResultCode, Error: d.ErrorCode(), Detail: d}
	if d.Verified {
		f := d.Fields
		res.PartnerTransID, res.AlipayTransID = f["partner_trans_id"], f["alipay_trans_id"]
		res.PartnerRefundID, res.Currency = f["partner_refund_id"], f["currency"]
		res.Amount = parseAnswerAmount(f["refund_amount"], f["currency"])
		res.RefundAmountCNY, res.ExchangeRate = f["refund_amount_cny"], f["exchange_rate"]
	}
	return res, err
}

// refundParams validates r and builds the spot.refund parameters.
func (c *Client) refundParams(r RefundRequest) (map[string]string, error) {
	if err := firstErr(checkID("partner_trans_id", r.PartnerTransID),
		checkID("partner_refund_id", r.PartnerRefundID),
		checkText("refund_reason", r.Reason, false, maxReasonLen)); err != nil {
		return nil, err
	}
	if r.PartnerRefundID == r.PartnerTransID {
		return nil, &InvalidRequestError{Field: "partner_refund_id", Reason: "must differ from partner_trans_id"}
	}
	amount, err := amountParam("refund_amount", r.Amount, r.Currency)
	if err != nil {
		return nil, err
	}
	return map[string]string{
		"currency":          r.Currency,
		"is_sync":           "Y",
		"notify_url":        c.cfg.NotifyURL,
		"partner_refund_id": r.PartnerRefundID,
		"partner_trans_id":  r.PartnerTransID,
		"refund_amount":     amount,
		"refund_reason":     r.Reason,
	}, nil
}
