package alipay

import (
	"errors"
	"fmt"
	"testing"
)

func TestClassifyTable(t *testing.T) {
	t.Parallel()
	ok := func(rc, code string) Detail {
		return Detail{IsSuccess: "T", Verified: true, ResultCode: rc, Error: code}
	}
	cases := []struct {
		name    string
		service string
		d       Detail
		err     error
		want    Outcome
	}{
		{"SUCCESS", ServicePay, ok("SUCCESS", ""), nil, OutcomeSuccess},
		{"SUCCESS unverified", ServicePay, Detail{IsSuccess: "T", ResultCode: "SUCCESS"}, nil, OutcomeUnknown},
		{"SUCCESS with SYSTEM_ERROR", ServicePay, ok("SUCCESS", "SYSTEM_ERROR"), nil, OutcomeUnknown},
		{"success lower case", ServicePay, ok("success", ""), nil, OutcomeUnknown},
		{"UNKNOW", ServicePay, ok("UNKNOW", ""), nil, OutcomeUnknown},
		{"UNKNOWN", ServiceRefund, ok("UNKNOWN", ""), nil, OutcomeUnknown},
		{"missing result code", ServicePay, ok("", ""), nil, OutcomeUnknown},
		{"FAILED balance", ServicePay, ok("FAILED", "BUYER_BALANCE_NOT_ENOUGH"), nil, OutcomeDeclined},
		{"FAIL balance", ServicePay, ok("FAIL", "BUYER_NOT_EXIST"), nil, OutcomeDeclined},
		{"FAILED unlisted", ServicePay, ok("FAILED", "BRAND_NEW_CODE"), nil, OutcomeUnknown},
		{"FAILED no code", ServicePay, ok("FAILED", ""), nil, OutcomeUnknown},
		{"FAILED SYSTEM_ERROR", ServicePay, ok("FAILED", "SYSTEM_ERROR"), nil, OutcomeUnknown},
		{"FAILED buyer not match", ServicePay, ok("FAILED", "TRADE_BUYER_NOT_MATCH"), nil, OutcomeUnknown},
		{"FAILED has success", ServicePay, ok("FAILED", "TRADE_HAS_SUCCESS"), nil, OutcomeUnknown},
		{"FAILED has close", ServicePay, ok("FAILED", "TRADE_HAS_CLOSE"), nil, OutcomeDeclined},
		{"pay code on refund", ServiceRefund, ok("FAILED", "BUYER_BALANCE_NOT_ENOUGH"), nil, OutcomeUnknown},
		{"refund exceed", ServiceRefund, ok("FAILED", "REQUEST_AMOUNT_EXCEED"), nil, OutcomeDeclined},
		{"query not exist", ServiceQuery, ok("FAIL", "TRADE_NOT_EXIST"), nil, OutcomeDeclined},
		{"cancel retry N unverified", ServiceCancel, Detail{IsSuccess: "T", ResultCode: "FAIL", Error: "X", RetryFlag: "N"}, ErrBadSignature, OutcomeUnknown},
		{"decline unverified", ServicePay, Detail{IsSuccess: "T", ResultCode: "FAILED", Error: "BUYER_BALANCE_NOT_ENOUGH"}, nil, OutcomeUnknown},
		{"decline bad signature", ServicePay, Detail{IsSuccess: "T", ResultCode: "FAILED", Error: "BUYER_BALANCE_NOT_ENOUGH"}, ErrBadSignature, OutcomeUnknown},
		{"refund decline bad signature", ServiceRefund, Detail{IsSuccess: "T", ResultCode: "FAILED", Error: "RETURN_AMOUNT_EXCEED"}, ErrBadSignature, OutcomeUnknown},
		{"cancel retry N", ServiceCancel, Detail{IsSuccess: "T", Verified: true, ResultCode: "FAIL", Error: "X", RetryFlag: "N"}, nil, OutcomeDeclined},
		{"cancel retry Y", ServiceCancel, Detail{IsSuccess: "T", Verified: true, ResultCode: "FAIL", Error: "X", RetryFlag: "Y"}, nil, OutcomeUnknown},
		{"cancel SYSTEM_ERROR retry N", ServiceCancel, Detail{IsSuccess: "T", Verified: true, ResultCode: "FAIL", DetailErrorCode: "SYSTEM_ERROR", RetryFlag: "N"}, nil, OutcomeUnknown},
		{"pay SUCCESS but waiting", ServicePay, Detail{IsSuccess: "T", Verified: true, ResultCode: "SUCCESS", Fields: map[string]string{"alipay_trans_status": "WAIT_BUYER_PAY"}}, nil, OutcomeUnknown},
		// is_success=F is never signed: Unknown for every service and code.
		{"is_success=F ILLEGAL_SIGN pay", ServicePay, Detail{IsSuccess: "F", GatewayError: "ILLEGAL_SIGN"}, &GatewayError{Code: "ILLEGAL_SIGN"}, OutcomeUnknown},
		{"is_success=F ILLEGAL_SIGN query", ServiceQuery, Detail{IsSuccess: "F", GatewayError: "ILLEGAL_SIGN"}, &GatewayError{Code: "ILLEGAL_SIGN"}, OutcomeUnknown},
		{"is_success=F ILLEGAL_SIGN cancel", ServiceCancel, Detail{IsSuccess: "F", GatewayError: "ILLEGAL_SIGN"}, &GatewayError{Code: "ILLEGAL_SIGN"}, OutcomeUnknown},
		{"is_success=F ILLEGAL_SIGN refund", ServiceRefund, Detail{IsSuccess: "F", GatewayError: "ILLEGAL_SIGN"}, &GatewayError{Code: "ILLEGAL_SIGN"}, OutcomeUnknown},
		{"is_success=F INVALID_PARAMETER", ServicePay, Detail{IsSuccess: "F", GatewayError: "INVALID_PARAMETER"}, &GatewayError{Code: "INVALID_PARAMETER"}, OutcomeUnknown},
		{"is_success=F TRADE_NOT_EXIST query", ServiceQuery, Detail{IsSuccess: "F", GatewayError: "TRADE_NOT_EXIST"}, &GatewayError{Code: "TRADE_NOT_EXIST"}, OutcomeUnknown},
		{"is_success=F wrapped", ServicePay, Detail{}, fmt.Errorf("x: %w", &GatewayError{Code: "ILLEGAL_PARTNER"}), OutcomeUnknown},
		{"is_success=F SYSTEM_ERROR", ServicePay, Detail{IsSuccess: "F", GatewayError: "SYSTEM_ERROR"}, &GatewayError{Code: "SYSTEM_ERROR"}, OutcomeUnknown},
		{"F without error", ServicePay, Detail{IsSuccess: "F"}, nil, OutcomeUnknown},
		{"transport", ServicePay, Detail{}, &TransportError{Op: "send", Err: errors.New("reset")}, OutcomeUnknown},
		{"timeout", ServicePay, Detail{}, &TransportError{Op: "read", Timeout: true}, OutcomeUnknown},
		{"http", ServicePay, Detail{HTTPStatus: 503}, &HTTPStatusError{StatusCode: 503}, OutcomeUnknown},
		{"malformed", ServicePay, Detail{}, &MalformedError{Reason: "x"}, OutcomeUnknown},
		{"bad signature with SUCCESS", ServicePay, Detail{IsSuccess: "T", ResultCode: "SUCCESS"}, ErrBadSignature, OutcomeUnknown},
		{"verified SUCCESS but error", ServicePay, ok("SUCCESS", ""), ErrBodyTooLarge, OutcomeUnknown},
		{"mismatch", ServicePay, ok("SUCCESS", ""), &MismatchError{Field: "partner_trans_id"}, OutcomeUnknown},
		{"invalid request", ServicePay, Detail{}, &InvalidRequestError{Field: "memo"}, OutcomeDeclined},
		{"unknown service", "alipay.other", ok("FAILED", "BUYER_NOT_EXIST"), nil, OutcomeUnknown},
	}
	for _, tc := range cases {
		if got := Classify(tc.service, tc.d, tc.err); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestOutcomeAndStatusNames(t *testing.T) {
	t.Parallel()
	var zero Outcome
	var zs TradeStatus
	if zero != OutcomeUnknown || zero.String() != "unknown" || zs != StatusUnknown {
		t.Fatal("zero values must be Unknown")
	}
	for _, s := range []TradeStatus{StatusWaitBuyerPay, StatusSuccess, StatusClosed, StatusFinished} {
		if ParseTradeStatus(s.String()) != s {
			t.Errorf("round trip of %v", s)
		}
	}
	for _, raw := range []string{"", "TRADE_CANCELLED", "trade_success", "NOT_FOUND"} {
		if ParseTradeStatus(raw) != StatusUnknown {
			t.Errorf("%q must be StatusUnknown", raw)
		}
	}
}

func TestPayBusinessOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields map[string]string
		want   Outcome
		errIs  func(error) bool
	}{
		{"UNKNOW", map[string]string{"result_code": "UNKNOW", "partner_trans_id": "T20240101000001", "alipay_trans_id": "1"}, OutcomeUnknown, nil},
		{"FAILED balance", map[string]string{"result_code": "FAILED", "error": "BUYER_BALANCE_NOT_ENOUGH"}, OutcomeDeclined, nil},
		{"FAILED SYSTEM_ERROR", map[string]string{"result_code": "FAILED", "error": "SYSTEM_ERROR"}, OutcomeUnknown, nil},
		{"SUCCESS other trade", map[string]string{"result_code": "SUCCESS", "partner_trans_id": "T-OTHER"}, OutcomeUnknown, isMismatch("partner_trans_id")},
		{"SUCCESS other amount", map[string]string{"result_code": "SUCCESS", "trans_amount": "1.25", "currency": "USD"}, OutcomeUnknown, isMismatch("trans_amount")},
		{"SUCCESS other currency", map[string]string{"result_code": "SUCCESS", "trans_amount": "12.50", "currency": "HKD"}, OutcomeUnknown, isMismatch("currency")},
		{"SUCCESS still waiting", map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "WAIT_BUYER_PAY"}, OutcomeUnknown, nil},
		{"SUCCESS minimal", map[string]string{"result_code": "SUCCESS"}, OutcomeSuccess, nil},
		{"SUCCESS amount without padding", map[string]string{"result_code": "SUCCESS", "trans_amount": "12.5", "currency": "USD"}, OutcomeSuccess, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return reply{fields: tc.fields} })
			c := newTestClient(t, md5Config(g))
			res, err := c.Pay(ctxT(t), v7Request())
			if res.Outcome != tc.want {
				t.Fatalf("outcome %v, want %v (err %v)", res.Outcome, tc.want, err)
			}
			if tc.errIs != nil && !tc.errIs(err) {
				t.Fatalf("err = %v", err)
			}
			if tc.errIs == nil && err != nil {
				t.Fatalf("unexpected err %v", err)
			}
			if res.ResultCode != tc.fields["result_code"] || res.Error != tc.fields["error"] {
				t.Fatalf("result code %q error %q", res.ResultCode, res.Error)
			}
		})
	}
}

func isMismatch(field string) func(error) bool {
	return func(err error) bool {
		var m *MismatchError
		return errors.As(err, &m) && m.Field == field
	}
}

func TestQueryStatuses(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		rep     reply
		status  TradeStatus
		outcome Outcome
	}{
		{"waiting", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "WAIT_BUYER_PAY"}}, StatusWaitBuyerPay, OutcomeSuccess},
		{"paid", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_SUCCESS"}}, StatusSuccess, OutcomeSuccess},
		{"closed", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_CLOSED"}}, StatusClosed, OutcomeSuccess},
		{"finished", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_FINISHED"}}, StatusFinished, OutcomeSuccess},
		{"odd status", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_CANCELLED"}}, StatusUnknown, OutcomeSuccess},
		{"TRADE_NOT_EXIST", reply{fields: map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST"}}, StatusNotFound, OutcomeDeclined},
		{"TRANS_NOT_FOUND", reply{fields: map[string]string{"result_code": "FAIL", "error": "TRANS_NOT_FOUND"}}, StatusNotFound, OutcomeDeclined},
		// unsigned, so not a status: the engine must not decide a sale on it
		{"gateway TRADE_NOT_EXIST", reply{failEnv: true, gwError: "TRADE_NOT_EXIST"}, StatusUnknown, OutcomeUnknown},
		{"SYSTEM_ERROR", reply{fields: map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR"}}, StatusUnknown, OutcomeUnknown},
		{"paid but bad signature", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_SUCCESS"}, badSign: true}, StatusUnknown, OutcomeUnknown},
		{"not found but bad signature", reply{fields: map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST"}, badSign: true}, StatusUnknown, OutcomeUnknown},
		{"other trade", reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_SUCCESS", "out_trade_no": "T9"}}, StatusUnknown, OutcomeUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return tc.rep })
			c := newTestClient(t, md5Config(g))
			res, _ := c.Query(ctxT(t), "T1")
			if res.Status != tc.status || res.Outcome != tc.outcome {
				t.Fatalf("status %v outcome %v, want %v %v", res.Status, res.Outcome, tc.status, tc.outcome)
			}
		})
	}
}

func TestCancelOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields map[string]string
		want   Outcome
		retry  string
		action string
	}{
		{"closed", map[string]string{"result_code": "SUCCESS", "action": "close"}, OutcomeSuccess, "", "close"},
		{"refunded", map[string]string{"result_code": "SUCCESS", "action": "refund"}, OutcomeSuccess, "", "refund"},
		{"window closed", map[string]string{"result_code": "FAIL", "error": "TRADE_CANCEL_TIME_OUT", "retry_flag": "N"}, OutcomeDeclined, "N", ""},
		{"retry N unlisted code", map[string]string{"result_code": "FAIL", "error": "SOMETHING", "retry_flag": "N"}, OutcomeDeclined, "N", ""},
		{"retry Y", map[string]string{"result_code": "FAIL", "error": "SOMETHING", "retry_flag": "Y"}, OutcomeUnknown, "Y", ""},
		{"system error", map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR", "retry_flag": "Y"}, OutcomeUnknown, "Y", ""},
		{"UNKNOWN", map[string]string{"result_code": "UNKNOWN"}, OutcomeUnknown, "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return reply{fields: tc.fields} })
			c := newTestClient(t, md5Config(g))
			res, err := c.Cancel(ctxT(t), "T1")
			if err != nil || res.Outcome != tc.want || res.RetryFlag != tc.retry || res.Action != tc.action {
				t.Fatalf("%+v, %v", res, err)
			}
		})
	}
}

func TestRefundOutcomes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		fields map[string]string
		want   Outcome
	}{
		{"exceed", map[string]string{"result_code": "FAILED", "error": "REQUEST_AMOUNT_EXCEED"}, OutcomeDeclined},
		{"UNKNOW", map[string]string{"result_code": "UNKNOW"}, OutcomeUnknown},
		{"system", map[string]string{"result_code": "FAILED", "error": "SYSTEM_ERROR"}, OutcomeUnknown},
		{"other refund id", map[string]string{"result_code": "SUCCESS", "partner_refund_id": "R9"}, OutcomeUnknown},
		{"other amount", map[string]string{"result_code": "SUCCESS", "refund_amount": "0.50"}, OutcomeUnknown},
		{"ok", map[string]string{"result_code": "SUCCESS", "refund_amount": "1.00", "partner_refund_id": "R1"}, OutcomeSuccess},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return reply{fields: tc.fields} })
			c := newTestClient(t, md5Config(g))
			res, _ := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T1", PartnerRefundID: "R1", Amount: 100, Currency: "USD"})
			if res.Outcome != tc.want {
				t.Fatalf("outcome %v, want %v", res.Outcome, tc.want)
			}
		})
	}
}
