package alipay

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// v7Request is the pay request of reference vector V7.
func v7Request() PayRequest {
	return PayRequest{PartnerTransID: "T20240101000001", BuyerCode: "281234567890123456",
		Amount: 1250, Currency: "USD", TransName: "Ticket 成人票 x2"}
}

func successPay(p map[string]string) reply {
	f := v8Params()
	f["partner_trans_id"] = p["partner_trans_id"]
	return reply{fields: f}
}

func TestPayRequestMatchesV7(t *testing.T) {
	g := md5Gateway(t, successPay)
	c := newTestClient(t, md5Config(g))
	res, err := c.Pay(ctxT(t), v7Request())
	if err != nil {
		t.Fatalf("Pay: %v", err)
	}
	reqs := g.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	r := reqs[0]
	if r.err != nil {
		t.Fatalf("gateway could not verify the request: %v", r.err)
	}
	// Same parameters, same key as V7: the client must produce V7's sign.
	if r.sign != "0be4e72c66c280c97579183ed067c8e9" {
		t.Fatalf("sign = %s, want V7's", r.sign)
	}
	if r.params["sign_type"] != "MD5" || r.query.Get("_input_charset") != "UTF-8" {
		t.Fatalf("sign_type %q, URL _input_charset %q", r.params["sign_type"], r.query.Get("_input_charset"))
	}
	if res.Outcome != OutcomeSuccess {
		t.Fatalf("outcome %v", res.Outcome)
	}
}

func TestPayResultFields(t *testing.T) {
	g := md5Gateway(t, func(p map[string]string) reply {
		r := successPay(p)
		r.fields["alipay_trans_status"] = "TRADE_SUCCESS"
		return r
	})
	c := newTestClient(t, md5Config(g))
	res, err := c.Pay(ctxT(t), v7Request())
	if err != nil {
		t.Fatal(err)
	}
	want := v8Params()
	if res.AlipayTransID != want["alipay_trans_id"] || res.BuyerUserID != want["alipay_buyer_user_id"] ||
		res.BuyerLoginID != want["alipay_buyer_login_id"] || res.PartnerTransID != "T20240101000001" {
		t.Fatalf("ids: %+v", res)
	}
	if res.Amount != 1250 || res.Currency != "USD" || res.TransAmountCNY != "88.75" || res.ExchangeRate != "7.10000000" {
		t.Fatalf("amounts: %+v", res)
	}
	if got := res.PayTime.UTC().Format("2006-01-02 15:04:05"); got != "2024-01-01 04:00:03" {
		t.Fatalf("pay time read in GMT+8: %s UTC", got)
	}
	if res.TradeStatus != "TRADE_SUCCESS" || res.ResultCode != "SUCCESS" || !res.Detail.Verified {
		t.Fatalf("%+v", res)
	}
}

func TestPayExtendOverride(t *testing.T) {
	g := md5Gateway(t, successPay)
	c := newTestClient(t, md5Config(g))
	req := v7Request()
	req.Extend = &ExtendInfo{StoreID: "S02", TerminalID: "LANE-7"}
	if _, err := c.Pay(ctxT(t), req); err != nil {
		t.Fatal(err)
	}
	got := g.requests()[0].params["extend_info"]
	want := `{"secondary_merchant_id":"M001","secondary_merchant_name":"Zoo Ticketing","secondary_merchant_industry":"7991","store_id":"S02","store_name":"Main Gate","terminal_id":"LANE-7"}`
	if got != want {
		t.Fatalf("extend_info\n got %s\nwant %s", got, want)
	}
}

func TestRequestsRejectedBeforeSending(t *testing.T) {
	g := md5Gateway(t, successPay)
	c := newTestClient(t, md5Config(g))
	bad := map[string]PayRequest{}
	quote := v7Request()
	quote.TransName = `Ticket "VIP"`
	bad["trans_name"] = quote
	memo := v7Request()
	memo.Memo = `say "hi"`
	bad["memo"] = memo
	null := v7Request()
	null.Memo = "null"
	bad["memo"+"null"] = null
	ext := v7Request()
	ext.Extend = &ExtendInfo{StoreName: `The "Gate"`}
	bad["extend_info.store_name"] = ext
	code := v7Request()
	code.BuyerCode = "12345"
	bad["buyer_identity_code"] = code
	prefix := v7Request()
	prefix.BuyerCode = "131234567890123456"
	bad["buyer_identity_code"+"prefix"] = prefix
	zero := v7Request()
	zero.Amount = 0
	bad["trans_amount"] = zero
	huge := v7Request()
	huge.Amount = 10_000_000_001
	bad["trans_amount"+"max"] = huge
	cur := v7Request()
	cur.Currency = "usd"
	bad["currency"] = cur
	id := v7Request()
	id.PartnerTransID = ""
	bad["partner_trans_id"] = id
	name := v7Request()
	name.TransName = ""
	bad["trans_name"+"empty"] = name
	for label, req := range bad {
		res, err := c.Pay(ctxT(t), req)
		var inv *InvalidRequestError
		if !errors.As(err, &inv) {
			t.Errorf("%s: err = %v, want *InvalidRequestError", label, err)
			continue
		}
		if !strings.HasPrefix(label, inv.Field) {
			t.Errorf("%s: error names field %q", label, inv.Field)
		}
		if res.Outcome != OutcomeDeclined {
			t.Errorf("%s: outcome %v, want declined (nothing sent)", label, res.Outcome)
		}
		if strings.Contains(err.Error(), req.BuyerCode) && req.BuyerCode != "" {
			t.Errorf("%s: error text holds the buyer code", label)
		}
	}
	if _, err := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "A", PartnerRefundID: "A", Amount: 1, Currency: "USD"}); err == nil {
		t.Error("refund id equal to trans id accepted")
	}
	if _, err := c.Query(ctxT(t), ""); err == nil {
		t.Error("empty query id accepted")
	}
	if _, err := c.Cancel(ctxT(t), "has space"); err == nil {
		t.Error("id with a space accepted")
	}
	if n := len(g.requests()); n != 0 {
		t.Fatalf("%d invalid requests reached the gateway", n)
	}
}

func TestQueryRequest(t *testing.T) {
	g := md5Gateway(t, func(p map[string]string) reply {
		return reply{fields: map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "WAIT_BUYER_PAY",
			"partner_trans_id": p["partner_trans_id"], "out_trade_no": p["partner_trans_id"]}}
	})
	c := newTestClient(t, md5Config(g))
	res, err := c.Query(ctxT(t), "T1")
	if err != nil || res.Status != StatusWaitBuyerPay || res.Outcome != OutcomeSuccess {
		t.Fatalf("%+v, %v", res, err)
	}
	r := g.requests()[0]
	if r.err != nil || r.params["service"] != ServiceQuery || r.params["partner_trans_id"] != "T1" || r.params["partner"] != testPartner {
		t.Fatalf("request %+v", r)
	}
	if _, ok := r.params["extend_info"]; ok {
		t.Fatal("query must not carry extend_info")
	}
}

func TestCancelRequest(t *testing.T) {
	g := md5Gateway(t, func(p map[string]string) reply {
		return reply{fields: map[string]string{"result_code": "SUCCESS", "action": "refund",
			"out_trade_no": p["out_trade_no"], "trade_no": "2024010122001400001234567890"}}
	})
	c := newTestClient(t, md5Config(g))
	res, err := c.Cancel(ctxT(t), "T20240101000001")
	if err != nil || res.Outcome != OutcomeSuccess || res.Action != "refund" || res.TradeNo == "" {
		t.Fatalf("%+v, %v", res, err)
	}
	r := g.requests()[0]
	if r.err != nil {
		t.Fatal(r.err)
	}
	if r.params["timestamp"] != strconv.FormatInt(testClock().UnixMilli(), 10) {
		t.Fatalf("timestamp %q, want the injected clock in epoch ms", r.params["timestamp"])
	}
	if r.params["out_trade_no"] != "T20240101000001" || r.query.Get("_input_charset") != "UTF-8" {
		t.Fatalf("request %+v", r.params)
	}
}

func TestRefundRequest(t *testing.T) {
	g := md5Gateway(t, func(p map[string]string) reply {
		return reply{fields: map[string]string{"result_code": "SUCCESS", "partner_trans_id": p["partner_trans_id"],
			"partner_refund_id": p["partner_refund_id"], "refund_amount": p["refund_amount"], "currency": p["currency"],
			"alipay_trans_id": "2024", "refund_amount_cny": "100", "exchange_rate": "0.048"}}
	})
	c := newTestClient(t, md5Config(g))
	res, err := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T1", PartnerRefundID: "R1", Amount: 2000, Currency: "JPY", Reason: "返品"})
	if err != nil || res.Outcome != OutcomeSuccess || res.Amount != 2000 || res.PartnerRefundID != "R1" {
		t.Fatalf("%+v, %v", res, err)
	}
	p := g.requests()[0].params
	if p["is_sync"] != "Y" || p["refund_amount"] != "2000" || p["refund_reason"] != "返品" || p["service"] != ServiceRefund {
		t.Fatalf("params %+v", p)
	}
}

func TestGBKClientRequest(t *testing.T) {
	g := md5Gateway(t, successPay)
	cfg := md5Config(g)
	cfg.Charset = "gbk"
	c := newTestClient(t, cfg)
	if _, err := c.Pay(ctxT(t), v7Request()); err != nil {
		t.Fatal(err)
	}
	r := g.requests()[0]
	if r.err != nil {
		t.Fatalf("gateway could not verify the GBK request: %v", r.err)
	}
	if r.query.Get("_input_charset") != "GBK" || r.params["trans_name"] != "Ticket 成人票 x2" {
		t.Fatalf("charset %q, trans_name %q", r.query.Get("_input_charset"), r.params["trans_name"])
	}
	if r.sign == "0be4e72c66c280c97579183ed067c8e9" {
		t.Fatal("GBK request signed over UTF-8 bytes")
	}
}

func TestRSAClientEndToEnd(t *testing.T) {
	keys := rsaPair{merchant: testRSAKey(t), alipay: testRSAKey(t)}
	for _, st := range []SignType{SignRSA, SignRSA2} {
		t.Run(string(st), func(t *testing.T) {
			reqVerif, _ := NewRSASigner(st, nil, &keys.merchant.PublicKey)
			respSign, _ := NewRSASigner(st, keys.alipay, nil)
			g := newFakeGateway(t, reqVerif, respSign, successPay)
			cfg := md5Config(g)
			cfg.SignType, cfg.MD5Key = st, ""
			cfg.PrivateKey, cfg.AlipayPublicKey = keys.merchant, &keys.alipay.PublicKey
			c := newTestClient(t, cfg)
			res, err := c.Pay(ctxT(t), v7Request())
			if err != nil || res.Outcome != OutcomeSuccess {
				t.Fatalf("%+v, %v", res, err)
			}
			if r := g.requests()[0]; r.err != nil || r.params["sign_type"] != string(st) {
				t.Fatalf("gateway: %v, sign_type %q", r.err, r.params["sign_type"])
			}
		})
	}
}

func TestRSAClientRejectsAnswerSignedByOtherKey(t *testing.T) {
	keys := rsaPair{merchant: testRSAKey(t), alipay: testRSAKey(t)}
	reqVerif, _ := NewRSASigner(SignRSA2, nil, &keys.merchant.PublicKey)
	impostor, _ := NewRSASigner(SignRSA2, keys.merchant, nil) // not Alipay's key
	g := newFakeGateway(t, reqVerif, impostor, successPay)
	cfg := md5Config(g)
	cfg.SignType, cfg.MD5Key = SignRSA2, ""
	cfg.PrivateKey, cfg.AlipayPublicKey = keys.merchant, &keys.alipay.PublicKey
	c := newTestClient(t, cfg)
	res, err := c.Pay(ctxT(t), v7Request())
	if !errors.Is(err, ErrBadSignature) || res.Outcome != OutcomeUnknown {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
	if res.AlipayTransID != "" {
		t.Fatal("business fields taken from an unverified answer")
	}
}
