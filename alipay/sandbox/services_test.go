package sandbox_test

import (
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

func TestPay_PaidAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	f := e.pay("P-1", 0, "12.50")
	expect(t, f, map[string]string{"result_code": "SUCCESS", "partner_trans_id": "P-1", "currency": "USD",
		"trans_amount": "12.50", "trans_amount_cny": "88.75", "exchange_rate": "7.10000000",
		"alipay_trans_status": "TRADE_SUCCESS", "alipay_pay_time": "20240110120000"})
	if len(f["alipay_trans_id"]) != 28 || len(f["alipay_buyer_user_id"]) != 16 || f["alipay_buyer_user_id"][:4] != "2088" {
		t.Errorf("ids: %v", f)
	}
	tr := e.trade("P-1")
	if tr.Status != sandbox.StatusTradeSuccess || tr.Amount != 1250 || tr.BuyerCode != "**************3400" ||
		tr.Calls.Pay != 1 || tr.Merchant.StoreName != "Main Gate" {
		t.Errorf("ledger: %+v", tr)
	}
}

func TestPay_ScenarioStatuses(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		scenario        int
		payResult       string
		payError        string
		statusAt1s      string // "" when no trade exists
		statusAt10s     string
		statusAfterAuto string
	}{
		{7, "SUCCESS", "", "TRADE_SUCCESS", "TRADE_SUCCESS", "TRADE_SUCCESS"},
		{10, "UNKNOW", "", "WAIT_BUYER_PAY", "TRADE_SUCCESS", "TRADE_SUCCESS"},
		{11, "UNKNOW", "", "WAIT_BUYER_PAY", "WAIT_BUYER_PAY", "TRADE_CLOSED"},
		{12, "UNKNOW", "", "WAIT_BUYER_PAY", "TRADE_CLOSED", "TRADE_CLOSED"},
		{20, "FAILED", "BUYER_BALANCE_NOT_ENOUGH", "TRADE_CLOSED", "TRADE_CLOSED", "TRADE_CLOSED"},
		{21, "FAILED", "BUYER_NOT_EXIST", "TRADE_CLOSED", "TRADE_CLOSED", "TRADE_CLOSED"},
		{30, "UNKNOW", "SYSTEM_ERROR", "", "", ""},
		{32, "SUCCESS", "", "TRADE_SUCCESS", "TRADE_SUCCESS", "TRADE_SUCCESS"},
		{34, "UNKNOW", "", "WAIT_BUYER_PAY", "WAIT_BUYER_PAY", "TRADE_CLOSED"},
		{99, "SUCCESS", "", "TRADE_SUCCESS", "TRADE_SUCCESS", "TRADE_SUCCESS"},
	}
	start := e.clock.Now()
	for _, tc := range tests {
		id := "S-" + code(tc.scenario)
		a := e.callRaw(sandbox.ServicePay, payParams(id, code(tc.scenario), "1.00", "USD"))
		f := mustT(t, a)
		if err := a.verify(md5Signer()); (err != nil) != (tc.scenario == 32) {
			t.Errorf("scenario %02d: signature check = %v", tc.scenario, err)
		}
		if f["result_code"] != tc.payResult || f["error"] != tc.payError {
			t.Errorf("scenario %02d pay = %s/%s, want %s/%s", tc.scenario, f["result_code"], f["error"], tc.payResult, tc.payError)
		}
	}
	check := func(when string, pick func(i int) string) {
		for i, tc := range tests {
			id := "S-" + code(tc.scenario)
			f := e.queryRaw(id)
			want := pick(i)
			got := f["alipay_trans_status"]
			if want == "" {
				want, got = "TRADE_NOT_EXIST", f["error"]
			}
			if got != want {
				t.Errorf("%s: scenario %02d status %q, want %q", when, tc.scenario, got, want)
			}
		}
	}
	e.clock.Advance(time.Second)
	check("after 1s", func(i int) string { return tests[i].statusAt1s })
	e.clock.Advance(9 * time.Second)
	check("after 10s", func(i int) string { return tests[i].statusAt10s })
	e.clock.Set(start.Add(3 * time.Minute))
	check("at auto-close", func(i int) string { return tests[i].statusAfterAuto })
	if tr := e.trade("S-" + code(11)); tr.ClosedBy != sandbox.ClosedByAutoClose || !tr.Closed.Equal(start.Add(3*time.Minute)) {
		t.Errorf("scenario 11 closed %v by %q", tr.Closed, tr.ClosedBy)
	}
	if tr := e.trade("S-" + code(12)); tr.ClosedBy != sandbox.ClosedByRejected {
		t.Errorf("scenario 12 closed by %q", tr.ClosedBy)
	}
}

// queryRaw queries and returns the fields whatever the result.
func (e *env) queryRaw(id string) map[string]string {
	e.t.Helper()
	return mustT(e.t, e.call(sandbox.ServiceQuery, map[string]string{"partner_trans_id": id}))
}

func TestPay_Scenario33FirstThreeQueriesFail(t *testing.T) {
	e := newEnv(t, nil)
	expect(t, e.pay("Q33", 33, "1.00"), map[string]string{"result_code": "UNKNOW"})
	for i := 1; i <= 3; i++ {
		expect(t, e.query("Q33"), map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR"})
	}
	expect(t, e.query("Q33"), map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "WAIT_BUYER_PAY"})
	e.clock.Advance(8 * time.Second)
	expect(t, e.query("Q33"), map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_SUCCESS"})
	if got := e.trade("Q33").Calls.Query; got != 5 {
		t.Errorf("query calls = %d", got)
	}
}

func TestPay_Scenario34FirstThreeCancelsFail(t *testing.T) {
	e := newEnv(t, nil)
	e.pay("C34", 34, "1.00")
	for i := 1; i <= 3; i++ {
		expect(t, e.cancel("C34"), map[string]string{"result_code": "FAIL", "error": "SYSTEM_ERROR", "retry_flag": "Y"})
		if st := e.trade("C34").Status; st != sandbox.StatusWaitBuyerPay {
			t.Fatalf("cancel %d changed status to %s", i, st)
		}
	}
	expect(t, e.cancel("C34"), map[string]string{"result_code": "SUCCESS", "action": "close"})
	expect(t, e.query("C34"), map[string]string{"alipay_trans_status": "TRADE_CLOSED"})
}

func TestPay_RepayTable(t *testing.T) {
	e := newEnv(t, nil)
	e.pay("R-WAIT", 11, "5.00")
	e.pay("R-PAID", 0, "5.00")
	e.pay("R-CLOSED", 12, "5.00")
	e.clock.Advance(6 * time.Second)
	tests := []struct {
		name, id, code, amount string
		result, err            string
	}{
		{"waiting", "R-WAIT", code(11), "5.00", "UNKNOW", ""},
		{"paid", "R-PAID", code(0), "5.00", "SUCCESS", ""},
		{"closed", "R-CLOSED", code(12), "5.00", "FAILED", "TRADE_HAS_CLOSE"},
		{"other buyer", "R-PAID", code(1), "5.00", "FAILED", "TRADE_BUYER_NOT_MATCH"},
		{"other amount", "R-PAID", code(0), "5.01", "FAILED", "INVALID_PARAMETER"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := mustT(t, e.call(sandbox.ServicePay, payParams(tc.id, tc.code, tc.amount, "USD")))
			expect(t, f, map[string]string{"result_code": tc.result, "error": tc.err, "partner_trans_id": tc.id})
		})
	}
	if got := e.trade("R-PAID").Calls.Pay; got != 4 {
		t.Errorf("pay calls = %d, want 4", got)
	}
	// Scenario 30 never creates anything: a re-sent pay is SYSTEM_ERROR again.
	for i := 0; i < 2; i++ {
		expect(t, e.pay("R-30", 30, "5.00"), map[string]string{"result_code": "UNKNOW", "error": "SYSTEM_ERROR"})
	}
	if _, ok := e.sb.Trade("R-30"); ok {
		t.Error("scenario 30 created a trade")
	}
}

func TestQuery_ByAlipayIDFirst(t *testing.T) {
	e := newEnv(t, nil)
	aid := e.pay("A-1", 0, "1.00")["alipay_trans_id"]
	e.pay("A-2", 0, "2.00")
	f := mustT(t, e.call(sandbox.ServiceQuery, map[string]string{"alipay_trans_id": aid, "partner_trans_id": "A-2"}))
	expect(t, f, map[string]string{"partner_trans_id": "A-1", "trans_amount": "1.00"})
	f = mustT(t, e.call(sandbox.ServiceQuery, map[string]string{"alipay_trans_id": "2024011022001999999999999999"}))
	expect(t, f, map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST"})
}

func TestCancel_Rules(t *testing.T) {
	e := newEnv(t, nil)
	expect(t, e.cancel("NEVER"), map[string]string{"result_code": "SUCCESS", "out_trade_no": "NEVER"})

	e.pay("C-WAIT", 11, "3.00")
	expect(t, e.cancel("C-WAIT"), map[string]string{"result_code": "SUCCESS", "action": "close"})
	tr := e.trade("C-WAIT")
	if tr.Status != sandbox.StatusTradeClosed || tr.ClosedBy != sandbox.ClosedByCancel || tr.Paid != nil {
		t.Errorf("cancelled unpaid: %+v", tr)
	}

	e.pay("C-PAID", 0, "3.00")
	f := e.cancel("C-PAID")
	expect(t, f, map[string]string{"result_code": "SUCCESS", "action": "refund", "out_trade_no": "C-PAID"})
	tr = e.trade("C-PAID")
	if tr.Status != sandbox.StatusTradeClosed || tr.CancelAction != sandbox.ActionRefund || tr.Refunded != 300 || tr.Paid == nil {
		t.Errorf("cancelled paid: %+v", tr)
	}
	expect(t, e.query("C-PAID"), map[string]string{"alipay_trans_status": "TRADE_CLOSED", "alipay_pay_time": "20240110120000"})
	// Idempotent: cancelling again is a success with the same action.
	expect(t, e.cancel("C-PAID"), map[string]string{"result_code": "SUCCESS", "action": "refund"})

	// Scenario 10 cancelled while waiting never gets paid afterwards.
	e.pay("C-10", 10, "3.00")
	e.clock.Advance(2 * time.Second)
	expect(t, e.cancel("C-10"), map[string]string{"action": "close"})
	e.clock.Advance(time.Minute)
	expect(t, e.query("C-10"), map[string]string{"alipay_trans_status": "TRADE_CLOSED"})
	if e.trade("C-10").Paid != nil {
		t.Error("cancelled scenario 10 got paid")
	}
}

func TestCancel_Window(t *testing.T) {
	e := newEnv(t, nil)
	bj := time.FixedZone("GMT+8", 8*3600)
	e.clock.Set(time.Date(2024, 1, 10, 23, 50, 0, 0, bj))
	e.pay("W-1", 0, "3.00")
	e.pay("W-2", 0, "3.00")
	e.clock.Set(time.Date(2024, 1, 11, 0, 15, 0, 0, bj)) // last instant of the window
	expect(t, e.cancel("W-1"), map[string]string{"result_code": "SUCCESS", "action": "refund"})
	e.clock.Advance(time.Second)
	expect(t, e.cancel("W-2"), map[string]string{"result_code": "FAIL", "retry_flag": "N", "error": "TRADE_CANCEL_TIME_OUT"})
	if st := e.trade("W-2").Status; st != sandbox.StatusTradeSuccess {
		t.Errorf("late cancel changed status to %s", st)
	}
	if got, want := sandbox.CancelDeadline(time.Date(2024, 1, 10, 16, 0, 0, 0, time.UTC)),
		time.Date(2024, 1, 12, 0, 15, 0, 0, bj); !got.Equal(want) {
		t.Errorf("deadline of 00:00 Beijing Jan 11 = %v, want %v", got, want)
	}
}

func TestCancel_MissingParameters(t *testing.T) {
	e := newEnv(t, nil)
	mustF(t, e.call(sandbox.ServiceCancel, map[string]string{"out_trade_no": "X"}), "ILLEGAL_ARGUMENT")
	mustF(t, e.call(sandbox.ServiceCancel, map[string]string{"timestamp": "1704859200000"}), "ILLEGAL_ARGUMENT")
	mustF(t, e.call(sandbox.ServiceCancel, map[string]string{"out_trade_no": "X", "timestamp": "yesterday"}), "ILLEGAL_ARGUMENT")
	expect(t, mustT(t, e.call(sandbox.ServiceCancel, map[string]string{"out_trade_no": "X", "timestamp": "2024-01-10 12:00:00"})),
		map[string]string{"result_code": "SUCCESS"})
}

func TestRefund_Rules(t *testing.T) {
	e := newEnv(t, nil)
	e.pay("F-1", 0, "10.00")
	expect(t, e.refund("F-1", "F-1-r1", "3.00", "USD"), map[string]string{"result_code": "SUCCESS",
		"refund_amount": "3.00", "currency": "USD", "refund_amount_cny": "21.30", "partner_refund_id": "F-1-r1"})
	expect(t, e.refund("F-1", "F-1-r2", "4.00", "USD"), map[string]string{"result_code": "SUCCESS"})
	expect(t, e.query("F-1"), map[string]string{"alipay_trans_status": "TRADE_SUCCESS"})

	failures := []struct {
		name, id, refundID, amount, currency, code string
	}{
		{"over remaining", "F-1", "F-1-r3", "3.01", "USD", "RETURN_AMOUNT_EXCEED"},
		{"other currency", "F-1", "F-1-r3", "1.00", "EUR", "INVALID_PARAMETER"},
		{"id equals trans id", "F-1", "F-1", "1.00", "USD", "INVALID_PARAMETER"},
		{"same id other amount", "F-1", "F-1-r1", "2.00", "USD", "INVALID_PARAMETER"},
		{"unknown trade", "F-404", "F-404-r1", "1.00", "USD", "TRADE_NOT_EXIST"},
	}
	for _, tc := range failures {
		t.Run(tc.name, func(t *testing.T) {
			expect(t, e.refund(tc.id, tc.refundID, tc.amount, tc.currency), map[string]string{"result_code": "FAILED", "error": tc.code})
		})
	}
	// Idempotent: the same refund again answers its result and changes nothing.
	expect(t, e.refund("F-1", "F-1-r1", "3.00", "USD"), map[string]string{"result_code": "SUCCESS", "refund_amount": "3.00"})
	if got := e.trade("F-1").Refunded; got != 700 {
		t.Fatalf("refunded = %d, want 700", got)
	}
	expect(t, e.refund("F-1", "F-1-r3", "3.00", "USD"), map[string]string{"result_code": "SUCCESS"})
	tr := e.trade("F-1")
	if tr.Status != sandbox.StatusTradeClosed || tr.ClosedBy != sandbox.ClosedByRefund || len(tr.Refunds) != 3 {
		t.Errorf("fully refunded: %+v", tr)
	}
	expect(t, e.refund("F-1", "F-1-r4", "0.01", "USD"), map[string]string{"result_code": "FAILED", "error": "TRADE_STATUS_ERROR"})
	expect(t, e.refund("F-1", "F-1-r3", "3.00", "USD"), map[string]string{"result_code": "SUCCESS"})

	e.pay("F-WAIT", 11, "10.00")
	expect(t, e.refund("F-WAIT", "F-WAIT-r1", "1.00", "USD"), map[string]string{"result_code": "FAILED", "error": "TRADE_STATUS_ERROR"})
	e.pay("F-JPY", 0, "1.00")
	mustF(t, e.call(sandbox.ServiceRefund, map[string]string{"partner_trans_id": "F-1", "partner_refund_id": "x",
		"refund_amount": "1.5", "currency": "USD"}), "ILLEGAL_ARGUMENT")
}

func TestRefund_JPYIntegerAmounts(t *testing.T) {
	e := newEnv(t, nil)
	f := mustT(t, e.call(sandbox.ServicePay, payParams("J-1", code(0), "1000", "JPY")))
	expect(t, f, map[string]string{"result_code": "SUCCESS", "trans_amount": "1000", "trans_amount_cny": "48.00"})
	expect(t, e.refund("J-1", "J-1-r1", "1000", "JPY"), map[string]string{"result_code": "SUCCESS", "refund_amount": "1000"})
}

func TestPay_AutoCloseBeforeConfirmation(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.AutoClose, c.ConfirmDelay = 3*time.Second, 10*time.Second })
	e.pay("AC-10", 10, "1.00")
	e.clock.Advance(time.Hour)
	expect(t, e.query("AC-10"), map[string]string{"alipay_trans_status": "TRADE_CLOSED"})
	if tr := e.trade("AC-10"); tr.Paid != nil || tr.ClosedBy != sandbox.ClosedByAutoClose {
		t.Errorf("confirmation after auto-close: %+v", tr)
	}
}
