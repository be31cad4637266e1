package sandbox_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

const (
	testPartner = "2088101122136241"
	testMD5Key  = "10000000000000000000000000000000"
)

// testClock is a settable clock for the sandbox.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock(t time.Time) *testClock { return &testClock{t: t} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// noon is 12:00 Beijing time on a fixed day.
func noon() time.Time { return time.Date(2024, 1, 10, 4, 0, 0, 0, time.UTC) }

// env is one sandbox under httptest with a fake clock.
type env struct {
	t     testing.TB
	sb    *sandbox.Server
	srv   *httptest.Server
	clock *testClock
	cfg   sandbox.Config
}

// newEnv starts a sandbox; mod may adjust the config first.
func newEnv(t testing.TB, mod func(*sandbox.Config)) *env {
	t.Helper()
	clock := newTestClock(noon())
	cfg := sandbox.Config{
		Partner: testPartner, MD5Key: testMD5Key, Clock: clock.Now,
		SlowPayDelay: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	sb, err := sandbox.New(cfg)
	if err != nil {
		t.Fatalf("sandbox.New: %v", err)
	}
	srv := httptest.NewServer(sb)
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
		if err := sb.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return &env{t: t, sb: sb, srv: srv, clock: clock, cfg: cfg}
}

// answer is a parsed gateway answer.
type answer struct {
	IsSuccess string `xml:"is_success"`
	Error     string `xml:"error"`
	Request   struct {
		Params []struct {
			Name  string `xml:"name,attr"`
			Value string `xml:",chardata"`
		} `xml:"param"`
	} `xml:"request"`
	Response struct {
		Alipay struct {
			Fields []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:",any"`
		} `xml:"alipay"`
	} `xml:"response"`
	Sign     string `xml:"sign"`
	SignType string `xml:"sign_type"`
}

// fields returns the children of response/alipay.
func (a *answer) fields() map[string]string {
	m := make(map[string]string)
	for _, f := range a.Response.Alipay.Fields {
		m[f.XMLName.Local] = f.Value
	}
	return m
}

func (a *answer) echo(name string) string {
	for _, p := range a.Request.Params {
		if p.Name == name {
			return p.Value
		}
	}
	return ""
}

// verify checks the answer's signature with signer (§4.4).
func (a *answer) verify(signer alipay.Signer) error {
	return signer.Verify([]byte(alipay.PreSignString(a.fields())), a.Sign)
}

func parseAnswer(t testing.TB, body []byte) *answer {
	t.Helper()
	var a answer
	if err := xml.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer is not XML: %v\n%s", err, body)
	}
	return &a
}

// md5Signer is the merchant side of the test MD5 key.
func md5Signer() alipay.Signer { return alipay.NewMD5Signer(testMD5Key) }

// sign adds sign and sign_type to params, signing the pre-sign string in
// charset.
func sign(t testing.TB, signer alipay.Signer, params map[string]string, charset string) {
	t.Helper()
	presign, err := alipay.EncodeCharset(alipay.PreSignString(params), charset)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := signer.Sign(presign)
	if err != nil {
		t.Fatal(err)
	}
	params["sign"], params["sign_type"] = sig, string(signer.Type())
}

// form encodes params with values in charset.
func form(t testing.TB, params map[string]string, charset string) string {
	t.Helper()
	v := url.Values{}
	for k, s := range params {
		b, err := alipay.EncodeCharset(s, charset)
		if err != nil {
			t.Fatal(err)
		}
		v.Set(k, string(b))
	}
	return v.Encode()
}

// post sends params (already signed) as a form body, _input_charset in
// the URL, and parses the answer.
func (e *env) post(params map[string]string) *answer {
	e.t.Helper()
	charset := params["_input_charset"]
	if charset == "" {
		charset = "UTF-8"
	}
	body := form(e.t, params, charset)
	resp, err := http.Post(e.srv.URL+"/gateway.do?_input_charset="+charset,
		"application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		e.t.Fatalf("post: %v", err)
	}
	return e.read(resp)
}

func (e *env) read(resp *http.Response) *answer {
	e.t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		e.t.Fatalf("HTTP %d: %s", resp.StatusCode, b)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/xml; charset=UTF-8" {
		e.t.Errorf("Content-Type = %q", ct)
	}
	return parseAnswer(e.t, b)
}

// callRaw signs params with MD5 and posts them.
func (e *env) callRaw(service string, params map[string]string) *answer {
	e.t.Helper()
	p := map[string]string{"service": service, "partner": testPartner, "_input_charset": "UTF-8"}
	for k, v := range params {
		p[k] = v
	}
	sign(e.t, md5Signer(), p, "UTF-8")
	return e.post(p)
}

// call is callRaw and checks the signature of an is_success=T answer.
func (e *env) call(service string, params map[string]string) *answer {
	e.t.Helper()
	a := e.callRaw(service, params)
	if a.IsSuccess == "T" {
		if err := a.verify(md5Signer()); err != nil {
			e.t.Errorf("%s answer signature: %v", service, err)
		}
	}
	return a
}

// mustT asserts an is_success=T answer and returns its fields.
func mustT(t testing.TB, a *answer) map[string]string {
	t.Helper()
	if a.IsSuccess != "T" {
		t.Fatalf("is_success = %q, error %q; want T", a.IsSuccess, a.Error)
	}
	return a.fields()
}

// mustF asserts an unsigned is_success=F answer with code.
func mustF(t testing.TB, a *answer, code string) {
	t.Helper()
	if a.IsSuccess != "F" || a.Error != code {
		t.Fatalf("answer = is_success %q error %q; want F %s", a.IsSuccess, a.Error, code)
	}
	if a.Sign != "" || a.SignType != "" || len(a.Response.Alipay.Fields) != 0 {
		t.Errorf("is_success=F answer carries sign or response: %+v", a)
	}
}

// payParams are valid spot.pay parameters.
func payParams(id, code, amount, currency string) map[string]string {
	return map[string]string{
		"alipay_seller_id": testPartner, "trans_name": "Ticket 成人票 x2", "partner_trans_id": id,
		"currency": currency, "trans_amount": amount, "buyer_identity_code": code,
		"identity_code_type": "barcode", "trans_create_time": "20240110120000",
		"biz_product": "OVERSEAS_MBARCODE_PAY",
		"extend_info": `{"secondary_merchant_id":"M001","secondary_merchant_name":"Zoo Ticketing","secondary_merchant_industry":"7991","store_id":"S01","store_name":"Main Gate","terminal_id":"T01"}`,
	}
}

// code returns an 18-digit scenario code ending in scenario.
func code(scenario int) string { return fmt.Sprintf("2812345678901234%02d", scenario) }

func (e *env) pay(id string, scenario int, amount string) map[string]string {
	e.t.Helper()
	return mustT(e.t, e.call(sandbox.ServicePay, payParams(id, code(scenario), amount, "USD")))
}

func (e *env) query(id string) map[string]string {
	e.t.Helper()
	return mustT(e.t, e.call(sandbox.ServiceQuery, map[string]string{"partner_trans_id": id}))
}

func (e *env) cancel(id string) map[string]string {
	e.t.Helper()
	return mustT(e.t, e.call(sandbox.ServiceCancel, map[string]string{"out_trade_no": id, "timestamp": "1704859200000"}))
}

func (e *env) refund(id, refundID, amount, currency string) map[string]string {
	e.t.Helper()
	return mustT(e.t, e.call(sandbox.ServiceRefund, map[string]string{"partner_trans_id": id,
		"partner_refund_id": refundID, "refund_amount": amount, "currency": currency, "is_sync": "Y"}))
}

// trade returns the ledger view of id.
func (e *env) trade(id string) sandbox.Trade {
	e.t.Helper()
	tr, ok := e.sb.Trade(id)
	if !ok {
		e.t.Fatalf("trade %s not in the ledger", id)
	}
	return tr
}

// expect compares selected fields.
func expect(t testing.TB, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

// rsaKeys generates a merchant and an Alipay key pair.
func rsaKeys(t testing.TB) (merchant, alipayKey *rsa.PrivateKey) {
	t.Helper()
	m, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	a, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	return m, a
}

// getText fetches a /sandbox/ URL.
func (e *env) getText(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = io.Copy(&b, resp.Body)
	return resp.StatusCode, b.String()
}
