package sandbox_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/alipay/sandbox"
)

func TestGateway_QueryUnknownTrade_SignedNotExist(t *testing.T) {
	e := newEnv(t, nil)
	a := e.call(sandbox.ServiceQuery, map[string]string{"partner_trans_id": "NOPE-1"})
	f := mustT(t, a)
	expect(t, f, map[string]string{"result_code": "FAIL", "error": "TRADE_NOT_EXIST", "partner_trans_id": "NOPE-1"})
	if a.SignType != "MD5" || a.Sign == "" {
		t.Errorf("sign_type %q sign %q", a.SignType, a.Sign)
	}
	if err := a.verify(md5Signer()); err != nil {
		t.Errorf("signature: %v", err)
	}
	if a.echo("service") != sandbox.ServiceQuery || a.echo("sign_type") != "MD5" || a.echo("sign") == "" {
		t.Errorf("request not echoed: %+v", a.Request)
	}
}

func TestGateway_WrongSignature_IllegalSign(t *testing.T) {
	e := newEnv(t, nil)
	p := map[string]string{"service": sandbox.ServiceQuery, "partner": testPartner,
		"_input_charset": "UTF-8", "partner_trans_id": "X1"}
	sign(t, alipay.NewMD5Signer("20000000000000000000000000000000"), p, "UTF-8")
	mustF(t, e.post(p), "ILLEGAL_SIGN")

	sign(t, md5Signer(), p, "UTF-8")
	p["partner_trans_id"] = "X2" // tampered after signing
	mustF(t, e.post(p), "ILLEGAL_SIGN")
}

func TestGateway_Rejections(t *testing.T) {
	e := newEnv(t, nil)
	base := func() map[string]string {
		return map[string]string{"service": sandbox.ServiceQuery, "partner": testPartner,
			"_input_charset": "UTF-8", "partner_trans_id": "X1"}
	}
	tests := []struct {
		name string
		mod  func(p map[string]string) // applied before signing
		post func(p map[string]string) // applied after signing
		code string
	}{
		{"missing partner", func(p map[string]string) { delete(p, "partner") }, nil, "ILLEGAL_PARTNER"},
		{"malformed partner", func(p map[string]string) { p["partner"] = "1000000000000000" }, nil, "ILLEGAL_PARTNER"},
		{"other partner", func(p map[string]string) { p["partner"] = "2088000000000001" }, nil, "ILLEGAL_PARTNER"},
		{"unknown service", func(p map[string]string) { p["service"] = "alipay.acquire.overseas.spot.cancel" }, nil, "ILLEGAL_SERVICE"},
		{"missing service", func(p map[string]string) { delete(p, "service") }, nil, "ILLEGAL_SERVICE"},
		{"lower-case sign_type", nil, func(p map[string]string) { p["sign_type"] = "md5" }, "ILLEGAL_SIGN_TYPE"},
		{"unknown sign_type", nil, func(p map[string]string) { p["sign_type"] = "DSA" }, "ILLEGAL_SIGN_TYPE"},
		{"RSA not configured", nil, func(p map[string]string) { p["sign_type"] = "RSA2" }, "ILLEGAL_SIGN_TYPE"},
		{"missing sign_type", nil, func(p map[string]string) { delete(p, "sign_type") }, "ILLEGAL_SIGN_TYPE"},
		{"missing sign", nil, func(p map[string]string) { delete(p, "sign") }, "ILLEGAL_SIGN"},
		{"query without ids", func(p map[string]string) { delete(p, "partner_trans_id") }, nil, "ILLEGAL_ARGUMENT"},
		{"bad charset", func(p map[string]string) { p["_input_charset"] = "ISO-8859-1" }, nil, "ILLEGAL_ARGUMENT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := base()
			if tc.mod != nil {
				tc.mod(p)
			}
			sign(t, md5Signer(), p, "UTF-8")
			if tc.post != nil {
				tc.post(p)
			}
			body := url.Values{}
			for k, v := range p {
				body.Set(k, v)
			}
			resp, err := http.Post(e.srv.URL+"/gateway.do", "application/x-www-form-urlencoded", strings.NewReader(body.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			mustF(t, e.read(resp), tc.code)
		})
	}
}

func TestGateway_PayMissingOrBadParameters(t *testing.T) {
	e := newEnv(t, nil)
	tests := []struct {
		name string
		mod  func(p map[string]string)
	}{
		{"no amount", func(p map[string]string) { delete(p, "trans_amount") }},
		{"no buyer code", func(p map[string]string) { delete(p, "buyer_identity_code") }},
		{"no seller", func(p map[string]string) { delete(p, "alipay_seller_id") }},
		{"seller is not partner", func(p map[string]string) { p["alipay_seller_id"] = "2088000000000001" }},
		{"one decimal", func(p map[string]string) { p["trans_amount"] = "12.5" }},
		{"zero amount", func(p map[string]string) { p["trans_amount"] = "0.00" }},
		{"over the maximum", func(p map[string]string) { p["trans_amount"] = "100000000.01" }},
		{"JPY with decimals", func(p map[string]string) { p["currency"], p["trans_amount"] = "JPY", "100.00" }},
		{"unknown currency", func(p map[string]string) { p["currency"] = "XXX" }},
		{"short buyer code", func(p map[string]string) { p["buyer_identity_code"] = "281234567890123" }},
		{"buyer code prefix 31", func(p map[string]string) { p["buyer_identity_code"] = "311234567890123400" }},
		{"buyer code not digits", func(p map[string]string) { p["buyer_identity_code"] = "28123456789012340A" }},
		{"qrcode type", func(p map[string]string) { p["identity_code_type"] = "qrcode" }},
		{"bad create time", func(p map[string]string) { p["trans_create_time"] = "2024-01-10 12:00" }},
		{"bad extend_info", func(p map[string]string) { p["extend_info"] = "{not json" }},
		{"id over 64", func(p map[string]string) { p["partner_trans_id"] = strings.Repeat("9", 65) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := payParams("BAD-"+tc.name, code(0), "12.50", "USD")
			tc.mod(p)
			mustF(t, e.call(sandbox.ServicePay, p), "ILLEGAL_ARGUMENT")
		})
	}
	if n := len(e.sb.Trades()); n != 0 {
		t.Errorf("%d trades created by rejected pays", n)
	}
}

func TestGateway_OversizeRequest(t *testing.T) {
	e := newEnv(t, func(c *sandbox.Config) { c.MaxRequestBytes = 4096 })
	p := payParams("BIG-1", code(0), "12.50", "USD")
	p["memo"] = strings.Repeat("m", 5000)
	mustF(t, e.call(sandbox.ServicePay, p), "ILLEGAL_ARGUMENT")

	resp, err := http.Get(e.srv.URL + "/gateway.do?memo=" + strings.Repeat("q", 5000))
	if err != nil {
		t.Fatal(err)
	}
	mustF(t, e.read(resp), "ILLEGAL_ARGUMENT")
}

func TestGateway_GETAndDuplicateParameters(t *testing.T) {
	e := newEnv(t, nil)
	p := map[string]string{"service": sandbox.ServiceQuery, "partner": testPartner,
		"_input_charset": "UTF-8", "partner_trans_id": "G1"}
	sign(t, md5Signer(), p, "UTF-8")
	resp, err := http.Get(e.srv.URL + "/gateway.do?" + form(t, p, "UTF-8"))
	if err != nil {
		t.Fatal(err)
	}
	expect(t, mustT(t, e.read(resp)), map[string]string{"error": "TRADE_NOT_EXIST"})

	resp, err = http.Post(e.srv.URL+"/gateway.do?partner_trans_id=G2", "application/x-www-form-urlencoded",
		strings.NewReader(form(t, p, "UTF-8")))
	if err != nil {
		t.Fatal(err)
	}
	mustF(t, e.read(resp), "ILLEGAL_ARGUMENT")

	req, _ := http.NewRequest(http.MethodPut, e.srv.URL+"/gateway.do", nil)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("PUT: HTTP %d", resp.StatusCode)
	}
}

func TestGateway_GBKRequest(t *testing.T) {
	e := newEnv(t, nil)
	p := payParams("GBK-1", code(0), "12.50", "USD")
	p["service"], p["partner"], p["_input_charset"] = sandbox.ServicePay, testPartner, "GBK"
	sign(t, md5Signer(), p, "GBK")
	a := e.post(p)
	expect(t, mustT(t, a), map[string]string{"result_code": "SUCCESS"})
	if err := a.verify(md5Signer()); err != nil {
		t.Errorf("signature: %v", err)
	}
	if got := e.trade("GBK-1").TransName; got != "Ticket 成人票 x2" {
		t.Errorf("trans_name decoded as %q", got)
	}

	// The same bytes announced as UTF-8 are not valid UTF-8.
	gbk := form(t, p, "GBK")
	resp, err := http.Post(e.srv.URL+"/gateway.do?_input_charset=UTF-8", "application/x-www-form-urlencoded", strings.NewReader(gbk))
	if err != nil {
		t.Fatal(err)
	}
	mustF(t, e.read(resp), "ILLEGAL_ARGUMENT")
}

func TestGateway_RSAAndRSA2(t *testing.T) {
	merchant, alipayKey := rsaKeys(t)
	e := newEnv(t, func(c *sandbox.Config) {
		c.MD5Key = ""
		c.AlipayPrivateKey, c.MerchantPublicKey = alipayKey, &merchant.PublicKey
	})
	for _, st := range []alipay.SignType{alipay.SignRSA, alipay.SignRSA2} {
		t.Run(string(st), func(t *testing.T) {
			client, err := alipay.NewRSASigner(st, merchant, &alipayKey.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			p := payParams("RSA-"+string(st), code(0), "12.50", "USD")
			p["service"], p["partner"], p["_input_charset"] = sandbox.ServicePay, testPartner, "UTF-8"
			sign(t, client, p, "UTF-8")
			a := e.post(p)
			expect(t, mustT(t, a), map[string]string{"result_code": "SUCCESS"})
			if a.SignType != string(st) {
				t.Errorf("answer sign_type %q", a.SignType)
			}
			if err := a.verify(client); err != nil {
				t.Errorf("answer signature: %v", err)
			}

			wrong, _ := alipay.NewRSASigner(st, alipayKey, nil) // signed with the wrong key
			sign(t, wrong, p, "UTF-8")
			mustF(t, e.post(p), "ILLEGAL_SIGN")

			p["sign_type"] = "MD5" // MD5 not configured
			mustF(t, e.post(p), "ILLEGAL_SIGN_TYPE")
		})
	}
}
