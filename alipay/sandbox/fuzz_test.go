package sandbox_test

import (
	"bufio"
	"bytes"
	"encoding/xml"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

// hijackRecorder is a ResponseRecorder that can be hijacked, to observe
// the sandbox's deliberate connection drops.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	hijacked bool
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	c1, c2 := net.Pipe()
	c2.Close()
	return c1, bufio.NewReadWriter(bufio.NewReader(c1), bufio.NewWriter(c1)), nil
}

// signedSeed renders a signed form body for the fuzz corpus.
func signedSeed(t testing.TB, service string, params map[string]string) []byte {
	p := map[string]string{"service": service, "partner": testPartner, "_input_charset": "UTF-8"}
	for k, v := range params {
		p[k] = v
	}
	resign(p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return []byte(v.Encode())
}

// resign replaces sign and sign_type with a valid MD5 signature.
func resign(p map[string]string) {
	sig, _ := md5Signer().Sign([]byte(alipay.PreSignString(p)))
	p["sign"], p["sign_type"] = sig, "MD5"
}

// FuzzGateway feeds form bodies to /gateway.do. With resign set, the body
// is re-signed so the fuzzer reaches the services. The gateway must never
// panic, and must answer well-formed XML (signed when is_success=T) or
// drop the connection on purpose (scenario 31) without writing.
func FuzzGateway(f *testing.F) {
	pay := payParams("FZ-1", code(0), "12.50", "USD")
	f.Add(signedSeed(f, sandbox.ServicePay, pay), false)
	for _, sc := range []int{10, 12, 20, 30, 31, 32, 33, 34, 35} {
		f.Add(signedSeed(f, sandbox.ServicePay, payParams("FZ-S", code(sc), "1.00", "JPY")), true)
	}
	f.Add(signedSeed(f, sandbox.ServiceQuery, map[string]string{"partner_trans_id": "FZ-1"}), false)
	f.Add(signedSeed(f, sandbox.ServiceCancel, map[string]string{"out_trade_no": "FZ-1", "timestamp": "1704859200000"}), true)
	f.Add(signedSeed(f, sandbox.ServiceRefund, map[string]string{"partner_trans_id": "FZ-1", "partner_refund_id": "R",
		"refund_amount": "1.00", "currency": "USD"}), true)
	f.Add([]byte("service=%zz&partner=2088"), false)
	f.Add([]byte("a=1&a=2"), true)
	f.Add([]byte{0xff, '=', 0xfe, '&', '<', '>'}, true)

	clock := newTestClock(noon())
	sb, err := sandbox.New(sandbox.Config{Partner: testPartner, MD5Key: testMD5Key, Clock: clock.Now,
		SlowPayDelay: time.Nanosecond, ConfirmDelay: time.Millisecond, MaxRequestBytes: 8 << 10})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body []byte, doSign bool) {
		if doSign {
			body = resignBody(body)
		}
		clock.Advance(time.Second)
		req := httptest.NewRequest(http.MethodPost, "/gateway.do", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := &hijackRecorder{ResponseRecorder: httptest.NewRecorder()}
		sb.ServeHTTP(rec, req)
		checkFuzzAnswer(t, rec)
	})
}

// resignBody parses body as a form (as far as it goes) and re-signs it.
func resignBody(body []byte) []byte {
	vals, _ := url.ParseQuery(string(body))
	p := make(map[string]string, len(vals))
	for k, vs := range vals {
		p[k] = vs[0]
	}
	resign(p)
	v := url.Values{}
	for k, s := range p {
		v.Set(k, s)
	}
	return []byte(v.Encode())
}

// checkFuzzAnswer asserts the invariants of one gateway answer.
func checkFuzzAnswer(t *testing.T, rec *hijackRecorder) {
	if rec.hijacked {
		if rec.Body.Len() != 0 {
			t.Fatalf("dropped connection after writing %q", rec.Body.String())
		}
		return
	}
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body.String())
	}
	dec := xml.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.Strict = true
	var a answer
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, rec.Body.String())
	}
	switch a.IsSuccess {
	case "F":
		if a.Error == "" || a.Sign != "" {
			t.Fatalf("bad is_success=F answer: %s", rec.Body.String())
		}
	case "T":
		if err := a.verify(md5Signer()); err != nil && sandbox.ScenarioOf(a.echo("buyer_identity_code")) != sandbox.ScenarioBadSign {
			t.Fatalf("is_success=T answer does not verify: %v\n%s", err, rec.Body.String())
		}
		if a.fields()["result_code"] == "" {
			t.Fatalf("no result_code: %s", rec.Body.String())
		}
	default:
		t.Fatalf("is_success %q: %s", a.IsSuccess, rec.Body.String())
	}
}
