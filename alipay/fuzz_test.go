package alipay

import (
	"os"
	"path/filepath"
	"testing"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTestdataAnswers(t *testing.T) {
	serve := func(t *testing.T, name string) *Client {
		body := readTestdata(t, name)
		g := md5Gateway(t, func(map[string]string) reply { return reply{raw: body} })
		return newTestClient(t, md5Config(g))
	}
	t.Run("V8 pay success", func(t *testing.T) {
		res, err := serve(t, "pay_success_v8.xml").Pay(ctxT(t), v7Request())
		if err != nil || res.Outcome != OutcomeSuccess || res.AlipayTransID != "2024010122001400001234567890" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("V8 with a wrong sign", func(t *testing.T) {
		res, err := serve(t, "pay_success_bad_sign.xml").Pay(ctxT(t), v7Request())
		if !isBadSig(err) || res.Outcome != OutcomeUnknown {
			t.Fatalf("%v, %v", res.Outcome, err)
		}
	})
	t.Run("GBK query", func(t *testing.T) {
		res, err := serve(t, "query_success_gbk.xml").Query(ctxT(t), "T20240101000001")
		if err != nil || res.Status != StatusSuccess || res.BuyerLoginID != "张三***@qq.com" {
			t.Fatalf("%+v, %v", res, err)
		}
	})
	t.Run("ILLEGAL_PARTNER", func(t *testing.T) {
		res, err := serve(t, "fail_illegal_partner.xml").Query(ctxT(t), "T1")
		if !isGateway("ILLEGAL_PARTNER")(err) || res.Outcome != OutcomeUnknown || res.Status != StatusUnknown {
			t.Fatalf("%+v, %v", res, err)
		}
	})
}

// FuzzParseResponse feeds arbitrary bodies through the answer reader and
// the classifier of every service: nothing panics, every body gets one of
// the three outcomes, and Success and Declined need a signature that
// really verifies (an is_success=F body is never Declined).
func FuzzParseResponse(f *testing.F) {
	for _, name := range []string{"pay_success_v8.xml", "pay_success_bad_sign.xml", "query_success_gbk.xml", "fail_illegal_partner.xml"} {
		f.Add(readTestdata(f, name))
	}
	f.Add([]byte(`<alipay><is_success>T</is_success><response><alipay><result_code>SUCCESS</result_code></alipay></response></alipay>`))
	f.Add([]byte(`<alipay><is_success>F</is_success><error>SYSTEM_ERROR</error></alipay>`))
	f.Add([]byte(`<?xml version="1.0" encoding="gb2312"?><alipay/>`))
	f.Add([]byte{})
	c, err := NewClient(validConfig())
	if err != nil {
		f.Fatal(err)
	}
	md5 := NewMD5Signer(testMD5Key)
	f.Fuzz(func(t *testing.T, body []byte) {
		d, err := c.readAnswer(Detail{HTTPStatus: 200}, body)
		for _, svc := range []string{ServicePay, ServiceQuery, ServiceCancel, ServiceRefund} {
			out := Classify(svc, d, err)
			if out != OutcomeUnknown && out != OutcomeSuccess && out != OutcomeDeclined {
				t.Fatalf("outcome %d out of range", out)
			}
			if out == OutcomeSuccess {
				checkGenuineSuccess(t, body, d, err, md5)
			}
			// A body from the gateway is never a request the client refused
			// to send: Declined needs a verified answer and no error.
			if out == OutcomeDeclined && (err != nil || !d.Verified || d.IsSuccess != "T") {
				t.Fatalf("declined from an unverified answer (err %v)", err)
			}
		}
	})
}

// checkGenuineSuccess re-verifies, independently of the client, that a
// Success came from a signed is_success=T envelope.
func checkGenuineSuccess(t *testing.T, body []byte, d Detail, err error, md5 Signer) {
	t.Helper()
	env, perr := parseEnvelope(body)
	if err != nil || perr != nil || !d.Verified || d.ResultCode != "SUCCESS" {
		t.Fatalf("success with err=%v parse=%v verified=%v", err, perr, d.Verified)
	}
	if env.isSuccess != "T" || env.sign == "" || env.signType != "MD5" {
		t.Fatalf("success without a signed is_success=T envelope: %+v", env)
	}
	presign := PreSignString(env.fields)
	for _, cs := range []string{CharsetUTF8, env.encoding} {
		if b, eerr := EncodeCharset(presign, orDefault(cs, CharsetUTF8)); eerr == nil && md5.Verify(b, env.sign) == nil {
			return
		}
	}
	t.Fatal("success, but the signature does not verify independently")
}
