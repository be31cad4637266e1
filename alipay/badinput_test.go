package alipay

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBadAnswers(t *testing.T) {
	big := []byte("<?xml version=\"1.0\"?><alipay><is_success>T</is_success><response><alipay><result_code>SUCCESS</result_code><memo>" +
		strings.Repeat("x", MaxResponseBytes) + "</memo></alipay></response></alipay>")
	cases := []struct {
		name  string
		rep   reply
		check func(error) bool
		want  Outcome
	}{
		{"malformed XML", reply{raw: []byte("<alipay><is_success>T</is_succ")}, isMalformed, OutcomeUnknown},
		{"not XML", reply{raw: []byte("<html><body>502 Bad Gateway</body></html>")}, isMalformed, OutcomeUnknown},
		{"empty body", reply{raw: []byte{}}, isMalformed, OutcomeUnknown},
		{"truncated XML", reply{raw: []byte(`<?xml version="1.0" encoding="UTF-8"?><alipay><is_success>T</is_success><response><alipay><result_code>SUCCESS</result_code>`)}, isMalformed, OutcomeUnknown},
		{"two roots", reply{raw: []byte(`<alipay><is_success>F</is_success></alipay><alipay/>`)}, isMalformed, OutcomeUnknown},
		{"is_success missing", reply{raw: []byte(`<alipay><error>X</error></alipay>`)}, isMalformed, OutcomeUnknown},
		{"T without response", reply{raw: []byte(`<alipay><is_success>T</is_success><sign>x</sign><sign_type>MD5</sign_type></alipay>`)}, isMalformed, OutcomeUnknown},
		{"repeated field", reply{raw: []byte(`<alipay><is_success>T</is_success><response><alipay><result_code>FAILED</result_code><result_code>SUCCESS</result_code></alipay></response></alipay>`)}, isMalformed, OutcomeUnknown},
		{"unknown encoding", reply{raw: []byte(`<?xml version="1.0" encoding="Big5"?><alipay><is_success>T</is_success></alipay>`)}, isMalformed, OutcomeUnknown},
		{"wrong signature", reply{fields: v8Params(), badSign: true}, isBadSig, OutcomeUnknown},
		{"no signature", reply{fields: v8Params(), noSign: true}, func(err error) bool { return isBadSig(err) && errors.Is(err, ErrMissingSignature) }, OutcomeUnknown},
		{"HTTP 500", reply{status: 500, fields: v8Params()}, isStatus(500), OutcomeUnknown},
		{"HTTP 302", reply{status: 302, raw: []byte("moved")}, isStatus(302), OutcomeUnknown},
		{"redirect not followed", reply{status: 307, raw: []byte("moved"), location: "/elsewhere"}, isStatus(307), OutcomeUnknown},
		{"oversize body", reply{raw: big}, func(err error) bool { return errors.Is(err, ErrBodyTooLarge) }, OutcomeUnknown},
		{"is_success=F ILLEGAL_SIGN", reply{failEnv: true, gwError: "ILLEGAL_SIGN"}, isGateway("ILLEGAL_SIGN"), OutcomeUnknown},
		{"is_success=F ILLEGAL_PARTNER", reply{failEnv: true, gwError: "ILLEGAL_PARTNER"}, isGateway("ILLEGAL_PARTNER"), OutcomeUnknown},
		{"is_success=F SYSTEM_ERROR", reply{failEnv: true, gwError: "SYSTEM_ERROR"}, isGateway("SYSTEM_ERROR"), OutcomeUnknown},
		{"is_success=F no code", reply{failEnv: true}, isGateway(""), OutcomeUnknown},
		{"is_success=F unlisted code", reply{failEnv: true, gwError: "SOMETHING_NEW"}, isGateway("SOMETHING_NEW"), OutcomeUnknown},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply { return tc.rep })
			c := newTestClient(t, md5Config(g))
			res, err := c.Pay(ctxT(t), v7Request())
			if err == nil || !tc.check(err) {
				t.Fatalf("err = %v (%T)", err, err)
			}
			if res.Outcome != tc.want {
				t.Fatalf("outcome %v, want %v", res.Outcome, tc.want)
			}
			if res.AlipayTransID != "" || res.Amount != 0 {
				t.Fatal("business fields filled from a rejected answer")
			}
		})
	}
}

func isMalformed(err error) bool {
	var m *MalformedError
	return errors.As(err, &m)
}

func isBadSig(err error) bool { return errors.Is(err, ErrBadSignature) }

func isStatus(code int) func(error) bool {
	return func(err error) bool {
		var s *HTTPStatusError
		return errors.As(err, &s) && s.StatusCode == code
	}
}

func isGateway(code string) func(error) bool {
	return func(err error) bool {
		var g *GatewayError
		return errors.As(err, &g) && g.Code == code
	}
}

func isTransport(timeout bool) func(error) bool {
	return func(err error) bool {
		var tr *TransportError
		return errors.As(err, &tr) && tr.Timeout == timeout
	}
}

func TestTruncatedBody(t *testing.T) {
	// The server promises more bytes than it sends and closes the
	// connection: the client sees an unexpected EOF while reading.
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "4096")
		w.WriteHeader(200)
		w.Write([]byte(`<?xml version="1.0"?><alipay><is_success>T</is_success><response>`))
	})
	c := newTestClient(t, Config{GatewayURL: srv, Partner: testPartner, SignType: SignMD5, MD5Key: testMD5Key})
	res, err := c.Query(ctxT(t), "T1")
	if !isTransport(false)(err) || res.Outcome != OutcomeUnknown || res.Status != StatusUnknown {
		t.Fatalf("%v, %v (%T)", res.Outcome, err, err)
	}
}

func TestSlowAnswerTimesOut(t *testing.T) {
	g := md5Gateway(t, func(map[string]string) reply { return reply{hang: true} })
	cfg := md5Config(g)
	cfg.Timeout = 150 * time.Millisecond
	c := newTestClient(t, cfg)
	res, err := c.Pay(ctxT(t), v7Request())
	if !isTransport(true)(err) || res.Outcome != OutcomeUnknown {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("timeout error does not wrap DeadlineExceeded: %v", err)
	}
}

func TestSlowBodyTimesOut(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv := newRawServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.Write([]byte(`<?xml version="1.0"?><alipay>`))
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	c := newTestClient(t, Config{GatewayURL: srv, Partner: testPartner, SignType: SignMD5, MD5Key: testMD5Key,
		Timeout: 150 * time.Millisecond})
	res, err := c.Cancel(ctxT(t), "T1")
	if !isTransport(true)(err) || res.Outcome != OutcomeUnknown {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c := newTestClient(t, Config{GatewayURL: "http://" + addr + "/gateway.do", Partner: testPartner, SignType: SignMD5, MD5Key: testMD5Key})
	res, err := c.Refund(ctxT(t), RefundRequest{PartnerTransID: "T1", PartnerRefundID: "R1", Amount: 1, Currency: "USD"})
	if !isTransport(false)(err) || res.Outcome != OutcomeUnknown {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
}

func TestCancelledContext(t *testing.T) {
	g := md5Gateway(t, successPay)
	c := newTestClient(t, md5Config(g))
	ctx, cancel := context.WithCancel(ctxT(t))
	cancel()
	res, err := c.Pay(ctx, v7Request())
	if !isTransport(false)(err) || !errors.Is(err, context.Canceled) || res.Outcome != OutcomeUnknown {
		t.Fatalf("%v, %v", res.Outcome, err)
	}
}

func TestGBKDeclaredAnswer(t *testing.T) {
	fields := map[string]string{"result_code": "SUCCESS", "alipay_trans_status": "TRADE_SUCCESS",
		"partner_trans_id": "T1", "alipay_buyer_login_id": "张三***@qq.com", "payment_inst": "ALIPAYCN",
		"trans_amount": "12.50", "currency": "USD", "alipay_pay_time": "20240101120003"}
	for _, signInGBK := range []bool{false, true} {
		name := map[bool]string{false: "signed over UTF-8", true: "signed over GBK"}[signInGBK]
		t.Run(name, func(t *testing.T) {
			g := md5Gateway(t, func(map[string]string) reply {
				return reply{fields: fields, encoding: "GBK", signInGBK: signInGBK}
			})
			c := newTestClient(t, md5Config(g))
			res, err := c.Query(ctxT(t), "T1")
			if err != nil || res.Outcome != OutcomeSuccess || res.Status != StatusSuccess {
				t.Fatalf("%+v, %v", res, err)
			}
			if res.BuyerLoginID != "张三***@qq.com" || res.Amount != 1250 || res.PaymentInst != "ALIPAYCN" {
				t.Fatalf("GBK text not decoded: %+v", res)
			}
		})
	}
	t.Run("tampered", func(t *testing.T) {
		g := md5Gateway(t, func(map[string]string) reply {
			return reply{fields: fields, encoding: "GBK", signInGBK: true, badSign: true}
		})
		c := newTestClient(t, md5Config(g))
		res, err := c.Query(ctxT(t), "T1")
		if !isBadSig(err) || res.Outcome != OutcomeUnknown || res.Status != StatusUnknown {
			t.Fatalf("%v %v, %v", res.Outcome, res.Status, err)
		}
	})
}

// newRawServer serves h on loopback and returns its gateway URL.
func newRawServer(t *testing.T, h http.HandlerFunc) string {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL + "/gateway.do"
}
