package sandbox_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// clientFor returns the real alipay.Client pointed at e, MD5-signed.
func clientFor(t *testing.T, e *env, timeout time.Duration) *alipay.Client {
	t.Helper()
	c, err := alipay.NewClient(alipay.Config{
		GatewayURL: e.srv.URL + "/gateway.do", Partner: testPartner,
		SignType: alipay.SignMD5, MD5Key: testMD5Key, Timeout: timeout,
		Extend: alipay.ExtendInfo{SecondaryMerchantID: "M001", StoreID: "S01", StoreName: "Main Gate", TerminalID: "T01"},
	}, alipay.WithClock(e.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// clientPay pays 12.50 USD with the code of scenario.
func clientPay(t *testing.T, c *alipay.Client, id, buyerCode string) (alipay.PayResult, error) {
	t.Helper()
	return c.Pay(context.Background(), alipay.PayRequest{PartnerTransID: id, BuyerCode: buyerCode,
		Amount: 1250, Currency: "USD", TransName: "Ticket"})
}

func wantStatus(t *testing.T, c *alipay.Client, id string, want alipay.TradeStatus) {
	t.Helper()
	q, err := c.Query(context.Background(), id)
	if q.Status != want {
		t.Fatalf("query %s: status %v (outcome %v, error %q, err %v), want %v", id, q.Status, q.Outcome, q.Error, err, want)
	}
}

func TestClient_PaidAtOnce(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	for _, bc := range []string{code(0), code(5), code(9), code(13), code(99), "2512345678901234", "301234567890123456789012"} {
		id := "CL-" + bc
		res, err := clientPay(t, c, id, bc)
		if err != nil || res.Outcome != alipay.OutcomeSuccess || res.Amount != 1250 || res.TradeStatus != "TRADE_SUCCESS" ||
			res.AlipayTransID == "" || res.TransAmountCNY != "88.75" || res.PayTime.IsZero() {
			t.Errorf("%s: pay = %+v, %v", bc, res, err)
		}
		wantStatus(t, c, id, alipay.StatusSuccess)
	}
	if tr := e.trade("CL-" + code(0)); tr.Merchant.TerminalID != "T01" || tr.Merchant.StoreID != "S01" {
		t.Errorf("extend_info not kept: %+v", tr.Merchant)
	}
}

func TestClient_Scenario10_ConfirmOnPhone(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	res, err := clientPay(t, c, "CL-10", code(10))
	if res.Outcome != alipay.OutcomeUnknown || res.ResultCode != "UNKNOW" {
		t.Fatalf("pay = %+v, %v", res, err)
	}
	wantStatus(t, c, "CL-10", alipay.StatusWaitBuyerPay)
	e.clock.Advance(8*time.Second - time.Millisecond)
	wantStatus(t, c, "CL-10", alipay.StatusWaitBuyerPay)
	e.clock.Advance(time.Millisecond)
	wantStatus(t, c, "CL-10", alipay.StatusSuccess)
	// A re-sent pay now learns the success (§11.2).
	if res, err := clientPay(t, c, "CL-10", code(10)); res.Outcome != alipay.OutcomeSuccess {
		t.Errorf("re-pay = %+v, %v", res, err)
	}
}

func TestClient_Scenario11_NeverConfirms(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.AutoClose = time.Minute })
	c := clientFor(t, e, 5*time.Second)
	if res, _ := clientPay(t, c, "CL-11", code(11)); res.Outcome != alipay.OutcomeUnknown {
		t.Fatalf("pay outcome %v", res.Outcome)
	}
	e.clock.Advance(59 * time.Second)
	wantStatus(t, c, "CL-11", alipay.StatusWaitBuyerPay)
	e.clock.Advance(time.Second)
	wantStatus(t, c, "CL-11", alipay.StatusClosed)
	if res, _ := clientPay(t, c, "CL-11", code(11)); res.Outcome != alipay.OutcomeDeclined || res.Error != "TRADE_HAS_CLOSE" {
		t.Errorf("re-pay of a closed trade = %v %q", res.Outcome, res.Error)
	}
}

func TestClient_Scenario12_Rejects(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	if res, _ := clientPay(t, c, "CL-12", code(12)); res.Outcome != alipay.OutcomeUnknown {
		t.Fatalf("pay outcome %v", res.Outcome)
	}
	e.clock.Advance(4 * time.Second)
	wantStatus(t, c, "CL-12", alipay.StatusWaitBuyerPay)
	e.clock.Advance(time.Second)
	wantStatus(t, c, "CL-12", alipay.StatusClosed)
}

func TestClient_Scenarios20And21_Declined(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	for sc, want := range map[int]string{20: "BUYER_BALANCE_NOT_ENOUGH", 21: "BUYER_NOT_EXIST"} {
		id := "CL-" + code(sc)
		res, err := clientPay(t, c, id, code(sc))
		if res.Outcome != alipay.OutcomeDeclined || res.Error != want || err != nil {
			t.Errorf("scenario %d: %v %q %v", sc, res.Outcome, res.Error, err)
		}
		wantStatus(t, c, id, alipay.StatusClosed)
	}
}

func TestClient_Scenario30_SystemErrorNothingCreated(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	res, _ := clientPay(t, c, "CL-30", code(30))
	if res.Outcome != alipay.OutcomeUnknown || res.Error != "SYSTEM_ERROR" {
		t.Fatalf("pay = %v %q", res.Outcome, res.Error)
	}
	wantStatus(t, c, "CL-30", alipay.StatusNotFound)
	if cr, err := c.Cancel(context.Background(), "CL-30"); cr.Outcome != alipay.OutcomeSuccess {
		t.Errorf("cancel of a trade never created = %+v, %v", cr, err)
	}
}

func TestClient_Scenario31_AnswerLost(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	res, err := clientPay(t, c, "CL-31", code(31))
	var te *alipay.TransportError
	if res.Outcome != alipay.OutcomeUnknown || !errors.As(err, &te) {
		t.Fatalf("pay = %v, %v; want Unknown with a TransportError", res.Outcome, err)
	}
	wantStatus(t, c, "CL-31", alipay.StatusSuccess)
}

func TestClient_Scenario32_WrongSignature(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	res, err := clientPay(t, c, "CL-32", code(32))
	if res.Outcome != alipay.OutcomeUnknown || !errors.Is(err, alipay.ErrBadSignature) {
		t.Fatalf("pay = %v, %v; want Unknown with ErrBadSignature", res.Outcome, err)
	}
	wantStatus(t, c, "CL-32", alipay.StatusSuccess)
}

func TestClient_Scenario33_QueriesFailFirst(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	clientPay(t, c, "CL-33", code(33))
	for i := 0; i < 3; i++ {
		q, _ := c.Query(context.Background(), "CL-33")
		if q.Outcome != alipay.OutcomeUnknown || q.Status != alipay.StatusUnknown || q.Error != "SYSTEM_ERROR" {
			t.Fatalf("query %d = %v %v %q", i+1, q.Outcome, q.Status, q.Error)
		}
	}
	wantStatus(t, c, "CL-33", alipay.StatusWaitBuyerPay)
	e.clock.Advance(8 * time.Second)
	wantStatus(t, c, "CL-33", alipay.StatusSuccess)
}

func TestClient_Scenario34_CancelsFailFirst(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	clientPay(t, c, "CL-34", code(34))
	for i := 0; i < 3; i++ {
		cr, _ := c.Cancel(context.Background(), "CL-34")
		if cr.Outcome != alipay.OutcomeUnknown || cr.RetryFlag != "Y" || cr.Error != "SYSTEM_ERROR" {
			t.Fatalf("cancel %d = %+v", i+1, cr)
		}
	}
	cr, err := c.Cancel(context.Background(), "CL-34")
	if cr.Outcome != alipay.OutcomeSuccess || cr.Action != "close" {
		t.Fatalf("4th cancel = %+v, %v", cr, err)
	}
	wantStatus(t, c, "CL-34", alipay.StatusClosed)
}

func TestClient_Scenario35_SlowAnswer(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.SlowPayDelay = time.Hour })
	c := clientFor(t, e, 200*time.Millisecond)
	res, err := clientPay(t, c, "CL-35", code(35))
	var te *alipay.TransportError
	if res.Outcome != alipay.OutcomeUnknown || !errors.As(err, &te) || !te.Timeout {
		t.Fatalf("pay = %v, %v; want Unknown after a timeout", res.Outcome, err)
	}
	wantStatus(t, c, "CL-35", alipay.StatusSuccess)
}

func TestClient_CancelAndRefund(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	ctx := context.Background()
	clientPay(t, c, "CL-R", code(0))
	refund := func(id string, amount int64) alipay.RefundResult {
		r, _ := c.Refund(ctx, alipay.RefundRequest{PartnerTransID: "CL-R", PartnerRefundID: id, Amount: amount, Currency: "USD"})
		return r
	}
	if r := refund("CL-R-1", 250); r.Outcome != alipay.OutcomeSuccess || r.Amount != 250 {
		t.Fatalf("refund = %+v", r)
	}
	if r := refund("CL-R-2", 1001); r.Outcome != alipay.OutcomeDeclined || r.Error != "RETURN_AMOUNT_EXCEED" {
		t.Errorf("over-refund = %v %q", r.Outcome, r.Error)
	}
	if r := refund("CL-R-1", 250); r.Outcome != alipay.OutcomeSuccess {
		t.Errorf("idempotent refund = %+v", r)
	}
	cr, err := c.Cancel(ctx, "CL-R")
	if cr.Outcome != alipay.OutcomeSuccess || cr.Action != "refund" {
		t.Fatalf("cancel = %+v, %v", cr, err)
	}
	wantStatus(t, c, "CL-R", alipay.StatusClosed)
	e.clock.Advance(24 * time.Hour)
	clientPay(t, c, "CL-LATE", code(0)) // created "today"; fine
	e.clock.Advance(24 * time.Hour)
	if cr, _ := c.Cancel(ctx, "CL-LATE"); cr.Outcome != alipay.OutcomeDeclined || cr.RetryFlag != "N" {
		t.Errorf("cancel after the window = %+v", cr)
	}
}

func TestClient_RSA2(t *testing.T) {
	merchant, alipayKey := rsaKeys(t)
	e := newEnv(t, func(c *sandbox.Config) {
		c.AlipayPrivateKey, c.MerchantPublicKey = alipayKey, &merchant.PublicKey
	})
	for _, st := range []alipay.SignType{alipay.SignRSA, alipay.SignRSA2} {
		c, err := alipay.NewClient(alipay.Config{GatewayURL: e.srv.URL + "/gateway.do", Partner: testPartner,
			SignType: st, PrivateKey: merchant, AlipayPublicKey: &alipayKey.PublicKey, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		id := "CL-" + string(st)
		if res, err := clientPay(t, c, id, code(0)); res.Outcome != alipay.OutcomeSuccess {
			t.Errorf("%s pay = %+v, %v", st, res, err)
		}
		wantStatus(t, c, id, alipay.StatusSuccess)
	}
}

func TestClient_Faults(t *testing.T) {
	e := newEnv(t, nil)
	c := clientFor(t, e, 5*time.Second)
	clientPay(t, c, "CL-F", code(0))
	if err := e.sb.SetFault(sandbox.Fault{Kind: sandbox.FaultDown, For: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if q, err := c.Query(context.Background(), "CL-F"); q.Outcome != alipay.OutcomeUnknown || err == nil {
		t.Errorf("query while down = %v, %v", q.Outcome, err)
	}
	e.sb.ClearFaults()
	if err := e.sb.SetFault(sandbox.Fault{Kind: sandbox.FaultSystemError}); err != nil {
		t.Fatal(err)
	}
	if res, _ := clientPay(t, c, "CL-F2", code(0)); res.Outcome != alipay.OutcomeUnknown || res.Error != "SYSTEM_ERROR" {
		t.Errorf("pay during system_error = %v %q", res.Outcome, res.Error)
	}
	e.sb.ClearFaults()
	wantStatus(t, c, "CL-F2", alipay.StatusNotFound)
}
