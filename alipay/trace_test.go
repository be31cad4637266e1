package alipay

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
)

// traceLog collects trace events.
type traceLog struct {
	mu     sync.Mutex
	events []TraceEvent
}

func (l *traceLog) add(e TraceEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *traceLog) dump() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&b, "%+v %#v %v\n", e, e, e.Err)
	}
	return b.String()
}

func TestTraceNeverLeaksSecrets(t *testing.T) {
	const code = "281234567890123456"
	answers := []reply{
		successPay(map[string]string{"partner_trans_id": "T20240101000001"}),
		{fields: v8Params(), badSign: true},
		{failEnv: true, gwError: "ILLEGAL_SIGN"},
		{status: 500},
		{raw: []byte("<alipay><is_succ")},
	}
	var mu sync.Mutex
	n := 0
	g := md5Gateway(t, func(map[string]string) reply {
		mu.Lock()
		defer mu.Unlock()
		r := answers[n%len(answers)]
		n++
		return r
	})
	var log traceLog
	c := newTestClient(t, md5Config(g), WithTrace(log.add))
	for range answers {
		c.Pay(ctxT(t), v7Request())
	}
	c.Query(ctxT(t), "T20240101000001")
	c.Cancel(ctxT(t), "T20240101000001")
	c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T20240101000001", PartnerRefundID: "R1", Amount: 100, Currency: "USD"})
	bad := v7Request()
	bad.Memo = `"quoted"`
	c.Pay(ctxT(t), bad)

	out := log.dump()
	if len(log.events) != len(answers)+4 {
		t.Fatalf("%d events, want one per call", len(log.events))
	}
	forbidden := []string{testMD5Key, code, code[:len(code)-4]}
	for _, r := range g.requests() {
		forbidden = append(forbidden, r.sign)
	}
	for _, f := range forbidden {
		if f != "" && strings.Contains(out, f) {
			t.Fatalf("trace holds a secret %q:\n%s", f, out)
		}
	}
	first := log.events[0]
	if first.BuyerCode != MaskCode(code) || first.Service != ServicePay || first.PartnerTransID != "T20240101000001" ||
		first.Outcome != OutcomeSuccess || first.ResultCode != "SUCCESS" || first.HTTPStatus != 200 || first.Duration <= 0 {
		t.Fatalf("first event %+v", first)
	}
	if e := log.events[2]; e.ErrorCode != "ILLEGAL_SIGN" || e.Outcome != OutcomeUnknown ||
		!strings.Contains(e.Err.Error(), "gateway refused the signature: check keys") {
		t.Fatalf("gateway error event %+v", e)
	}
	if e := log.events[3]; e.HTTPStatus != 500 || e.Err == nil {
		t.Fatalf("HTTP 500 event %+v", e)
	}
	if e := log.events[len(log.events)-2]; e.PartnerRefundID != "R1" || e.Service != ServiceRefund {
		t.Fatalf("refund event %+v", e)
	}
}

func TestTraceNeverLeaksRSAKeys(t *testing.T) {
	keys := rsaPair{merchant: testRSAKey(t), alipay: testRSAKey(t)}
	reqVerif, _ := NewRSASigner(SignRSA2, nil, &keys.merchant.PublicKey)
	respSign, _ := NewRSASigner(SignRSA2, keys.alipay, nil)
	g := newFakeGateway(t, reqVerif, respSign, successPay)
	cfg := md5Config(g)
	cfg.SignType, cfg.MD5Key = SignRSA2, ""
	cfg.PrivateKey, cfg.AlipayPublicKey = keys.merchant, &keys.alipay.PublicKey
	var log traceLog
	c := newTestClient(t, cfg, WithTrace(log.add))
	if _, err := c.Pay(ctxT(t), v7Request()); err != nil {
		t.Fatal(err)
	}
	out := log.dump()
	der := base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PrivateKey(keys.merchant))
	for _, f := range []string{der[40:80], g.requests()[0].sign, url.QueryEscape(g.requests()[0].sign), keys.merchant.D.String()[:20]} {
		if strings.Contains(out, f) {
			t.Fatalf("trace holds key material or a signature: %q", f)
		}
	}
}

func TestVerifyNotification(t *testing.T) {
	c, err := NewClient(validConfig())
	if err != nil {
		t.Fatal(err)
	}
	// V4: notify_id=1234 signed with the V1 key.
	v4 := url.Values{"notify_id": {"1234"}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}}
	if err := c.VerifyNotification(v4); err != nil {
		t.Fatalf("V4: %v", err)
	}
	withEmpty := url.Values{"notify_id": {"1234"}, "subject": {""}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}}
	if err := c.VerifyNotification(withEmpty); err != nil {
		t.Fatalf("empty values must be dropped: %v", err)
	}
	bad := []url.Values{
		{"notify_id": {"1235"}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}},
		{"notify_id": {"1234"}, "sign_type": {"MD5"}},
		{"notify_id": {"1234"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}},
		{"notify_id": {"1234"}, "sign_type": {"RSA2"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}},
		{"notify_id": {"1234", "1234"}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}},
		{"notify_id": {"1234"}, "trade_status": {"TRADE_SUCCESS"}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}},
	}
	for i, p := range bad {
		if err := c.VerifyNotification(p); !isBadSig(err) {
			t.Errorf("case %d: %v, want ErrBadSignature", i, err)
		}
	}
}

func TestVerifyNotificationRSA(t *testing.T) {
	alipayKey := testRSAKey(t)
	cfg := validConfig()
	cfg.SignType, cfg.MD5Key = SignRSA, ""
	cfg.PrivateKey, cfg.AlipayPublicKey = testRSAKey(t), &alipayKey.PublicKey
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	params := map[string]string{"notify_id": "1234", "trade_status": "TRADE_SUCCESS", "out_trade_no": "T1", "subject": "成人票"}
	for _, st := range []SignType{SignRSA, SignRSA2} {
		s, _ := NewRSASigner(st, alipayKey, nil)
		sig, _ := s.Sign([]byte(PreSignString(params)))
		v := url.Values{"sign_type": {string(st)}, "sign": {sig}}
		for k, val := range params {
			v.Set(k, val)
		}
		if err := c.VerifyNotification(v); err != nil {
			t.Fatalf("%s: %v", st, err)
		}
		v.Set("trade_status", "TRADE_CLOSED")
		if err := c.VerifyNotification(v); !isBadSig(err) {
			t.Fatalf("%s tampered: %v", st, err)
		}
	}
	md5 := url.Values{"notify_id": {"1234"}, "sign_type": {"MD5"}, "sign": {"22fc7e38e5acdfede396aa463870d111"}}
	if err := c.VerifyNotification(md5); !isBadSig(err) {
		t.Fatalf("MD5 notification accepted by an RSA client: %v", err)
	}
}
