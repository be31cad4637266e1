package alipay

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
)

const (
	testMD5Key  = "10000000000000000000000000000000"
	testMD5Key2 = "20000000000000000000000000000000"
)

// v7Params are the spot.pay parameters of reference vector V7.
func v7Params() map[string]string {
	return map[string]string{
		"service":             "alipay.acquire.overseas.spot.pay",
		"_input_charset":      "UTF-8",
		"partner":             "2088101122136241",
		"alipay_seller_id":    "2088101122136241",
		"biz_product":         "OVERSEAS_MBARCODE_PAY",
		"buyer_identity_code": "281234567890123456",
		"currency":            "USD",
		"extend_info":         `{"secondary_merchant_id":"M001","secondary_merchant_name":"Zoo Ticketing","secondary_merchant_industry":"7991","store_id":"S01","store_name":"Main Gate","terminal_id":"T01"}`,
		"identity_code_type":  "barcode",
		"partner_trans_id":    "T20240101000001",
		"trans_amount":        "12.50",
		"trans_create_time":   "20240101120000",
		"trans_name":          "Ticket 成人票 x2",
		"notify_url":          "",
		"memo":                "",
	}
}

// v8Params are the response/alipay fields of reference vector V8.
func v8Params() map[string]string {
	return map[string]string{
		"result_code":           "SUCCESS",
		"alipay_buyer_login_id": "186****1234",
		"alipay_buyer_user_id":  "2088102000000001",
		"partner_trans_id":      "T20240101000001",
		"alipay_trans_id":       "2024010122001400001234567890",
		"alipay_pay_time":       "20240101120003",
		"currency":              "USD",
		"trans_amount":          "12.50",
		"trans_amount_cny":      "88.75",
		"exchange_rate":         "7.10000000",
	}
}

func TestKnownAnswerVectors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, key, presign, sign string
		params                   map[string]string
	}{
		{"V1 query", testMD5Key,
			"_input_charset=utf-8&partner=1000000000000000&partner_trans_id=2010121000000002&service=alipay.acquire.overseas.query",
			"2a7f598bbb13d02f7de819ae689f80ba",
			map[string]string{"service": "alipay.acquire.overseas.query", "_input_charset": "utf-8",
				"partner": "1000000000000000", "partner_trans_id": "2010121000000002"}},
		{"V2 refund", testMD5Key,
			"_input_charset=utf-8&currency=USD&is_sync=Y&partner=1000000000000000&partner_refund_id=301012133000002&partner_trans_id=2010121000000002&refund_amount=0.01&service=alipay.acquire.overseas.spot.refund",
			"397685a0c6b2d71d0d1f374ddba331a0",
			map[string]string{"service": "alipay.acquire.overseas.spot.refund", "_input_charset": "utf-8",
				"partner": "1000000000000000", "partner_trans_id": "2010121000000002", "partner_refund_id": "301012133000002",
				"refund_amount": "0.01", "currency": "USD", "is_sync": "Y", "sign": "x", "sign_type": "MD5"}},
		{"V3 key 1", testMD5Key, "partner=123&service=test", "bbd13b52823b576291595f472ebcfbc2",
			map[string]string{"service": "test", "partner": "123"}},
		{"V3 key 2", testMD5Key2, "partner=123&service=test", "6d581af270c023fdaaca6880491e9bf7",
			map[string]string{"service": "test", "partner": "123"}},
		{"V4 notification", testMD5Key, "notify_id=1234", "22fc7e38e5acdfede396aa463870d111",
			map[string]string{"notify_id": "1234", "sign_type": "MD5", "sign": "anything"}},
		{"V7 spot.pay", testMD5Key,
			`_input_charset=UTF-8&alipay_seller_id=2088101122136241&biz_product=OVERSEAS_MBARCODE_PAY&buyer_identity_code=281234567890123456&currency=USD&extend_info={"secondary_merchant_id":"M001","secondary_merchant_name":"Zoo Ticketing","secondary_merchant_industry":"7991","store_id":"S01","store_name":"Main Gate","terminal_id":"T01"}&identity_code_type=barcode&partner=2088101122136241&partner_trans_id=T20240101000001&service=alipay.acquire.overseas.spot.pay&trans_amount=12.50&trans_create_time=20240101120000&trans_name=Ticket 成人票 x2`,
			"0be4e72c66c280c97579183ed067c8e9", v7Params()},
		{"V8 response", testMD5Key,
			"alipay_buyer_login_id=186****1234&alipay_buyer_user_id=2088102000000001&alipay_pay_time=20240101120003&alipay_trans_id=2024010122001400001234567890&currency=USD&exchange_rate=7.10000000&partner_trans_id=T20240101000001&result_code=SUCCESS&trans_amount=12.50&trans_amount_cny=88.75",
			"98d1e242a61e721ef24656555e4dfcaf", v8Params()},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := PreSignString(tc.params); got != tc.presign {
				t.Fatalf("presign:\n got %s\nwant %s", got, tc.presign)
			}
			s := NewMD5Signer(tc.key)
			sig, err := s.Sign([]byte(tc.presign))
			if err != nil {
				t.Fatal(err)
			}
			if sig != tc.sign {
				t.Fatalf("sign = %s, want %s", sig, tc.sign)
			}
			if err := s.Verify([]byte(tc.presign), tc.sign); err != nil {
				t.Fatalf("verify own vector: %v", err)
			}
			if err := s.Verify([]byte(tc.presign), strings.ToUpper(tc.sign)); err != nil {
				t.Fatalf("verify upper-case hex: %v", err)
			}
			if err := s.Verify([]byte(tc.presign+"x"), tc.sign); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered presign: err = %v, want ErrBadSignature", err)
			}
		})
	}
}

func TestMD5SignerWithoutKey(t *testing.T) {
	t.Parallel()
	s := NewMD5Signer("")
	if _, err := s.Sign([]byte("a=b")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("sign err = %v, want ErrNoKey", err)
	}
	if err := s.Verify([]byte("a=b"), "00"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("verify err = %v, want ErrNoKey", err)
	}
}

func TestParseSignType(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"MD5", "RSA", "RSA2"} {
		if got, err := ParseSignType(ok); err != nil || string(got) != ok {
			t.Errorf("ParseSignType(%q) = %q, %v", ok, got, err)
		}
	}
	for _, bad := range []string{"", "md5", "rsa2", "DSA", "RSA256"} {
		if _, err := ParseSignType(bad); err == nil {
			t.Errorf("ParseSignType(%q) accepted", bad)
		}
	}
}

func TestPreSignStringDropsEmptyAndSignFields(t *testing.T) {
	t.Parallel()
	got := PreSignString(map[string]string{"b": "2", "a": "1", "c": "", "sign": "s", "sign_type": "MD5", "_x": "0", "B": "up"})
	if want := "B=up&_x=0&a=1&b=2"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if PreSignString(nil) != "" {
		t.Fatal("empty map must give empty string")
	}
}

func testRSAKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestRSARoundTrip(t *testing.T) {
	t.Parallel()
	merchant, alipayKey := testRSAKey(t), testRSAKey(t)
	msg := []byte("partner=123&service=test")
	for _, st := range []SignType{SignRSA, SignRSA2} {
		t.Run(string(st), func(t *testing.T) {
			// The merchant signs with its key; the gateway verifies with the
			// merchant's public key, and the other way round for answers.
			mine, err := NewRSASigner(st, merchant, &alipayKey.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			gateway, err := NewRSASigner(st, alipayKey, &merchant.PublicKey)
			if err != nil {
				t.Fatal(err)
			}
			sig, err := mine.Sign(msg)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := base64.StdEncoding.DecodeString(sig); err != nil || strings.ContainsAny(sig, "\r\n") {
				t.Fatalf("signature is not one-line std base64: %q", sig)
			}
			again, _ := mine.Sign(msg)
			if again != sig {
				t.Fatal("PKCS#1 v1.5 must be deterministic")
			}
			if err := gateway.Verify(msg, sig); err != nil {
				t.Fatalf("verify: %v", err)
			}
			answer, _ := gateway.Sign(msg)
			if err := mine.Verify(msg, answer); err != nil {
				t.Fatalf("verify answer: %v", err)
			}
			if err := gateway.Verify(append(msg, 'x'), sig); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered message: %v", err)
			}
			raw, _ := base64.StdEncoding.DecodeString(sig)
			raw[len(raw)/2] ^= 1
			if err := gateway.Verify(msg, base64.StdEncoding.EncodeToString(raw)); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("tampered signature: %v", err)
			}
			if err := gateway.Verify(msg, "not base64!"); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("undecodable signature: %v", err)
			}
			if mine.Type() != st {
				t.Fatalf("Type() = %s", mine.Type())
			}
		})
	}
}

func TestRSAHashesDiffer(t *testing.T) {
	t.Parallel()
	k := testRSAKey(t)
	msg := []byte("partner=123&service=test")
	rsa1, _ := NewRSASigner(SignRSA, k, &k.PublicKey)
	rsa2, _ := NewRSASigner(SignRSA2, k, &k.PublicKey)
	s1, _ := rsa1.Sign(msg)
	s2, _ := rsa2.Sign(msg)
	if err := rsa2.Verify(msg, s1); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("RSA signature must not verify as RSA2: %v", err)
	}
	if err := rsa1.Verify(msg, s2); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("RSA2 signature must not verify as RSA: %v", err)
	}
}

func TestNewRSASignerRejects(t *testing.T) {
	t.Parallel()
	k := testRSAKey(t)
	if _, err := NewRSASigner(SignMD5, k, nil); err == nil {
		t.Fatal("MD5 accepted as RSA sign type")
	}
	if _, err := NewRSASigner(SignRSA2, nil, nil); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no keys: %v", err)
	}
	verifyOnly, err := NewRSASigner(SignRSA2, nil, &k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := verifyOnly.Sign([]byte("a")); !errors.Is(err, ErrNoKey) {
		t.Fatalf("sign without private key: %v", err)
	}
	signOnly, _ := NewRSASigner(SignRSA2, k, nil)
	if err := signOnly.Verify([]byte("a"), "AA=="); !errors.Is(err, ErrNoKey) {
		t.Fatalf("verify without public key: %v", err)
	}
}

func TestParseKeyPEMForms(t *testing.T) {
	t.Parallel()
	k := testRSAKey(t)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(k)
	pkix, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	privs := map[string][]byte{
		"PKCS1": pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}),
		"PKCS8": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
		"bare":  []byte(base64.StdEncoding.EncodeToString(pkcs8) + "\n"),
	}
	pubs := map[string][]byte{
		"PKIX":  pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkix}),
		"PKCS1": pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)}),
		"bare":  []byte(base64.StdEncoding.EncodeToString(pkix)),
	}
	for name, b := range privs {
		got, err := ParsePrivateKeyPEM(b)
		if err != nil || !got.Equal(k) {
			t.Errorf("private %s: %v", name, err)
		}
	}
	for name, b := range pubs {
		got, err := ParsePublicKeyPEM(b)
		if err != nil || !got.Equal(&k.PublicKey) {
			t.Errorf("public %s: %v", name, err)
		}
	}
	for _, bad := range [][]byte{nil, []byte("garbage!"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: []byte{1, 2}})} {
		if _, err := ParsePrivateKeyPEM(bad); err == nil {
			t.Errorf("private key %q accepted", bad)
		}
		if _, err := ParsePublicKeyPEM(bad); err == nil {
			t.Errorf("public key %q accepted", bad)
		}
	}
}

func TestGBKPresignSigning(t *testing.T) {
	t.Parallel()
	params := map[string]string{"_input_charset": "GBK", "partner": "2088101122136241", "trans_name": "成人票"}
	presign := PreSignString(params)
	gbkBytes, err := EncodeCharset(presign, "gbk")
	if err != nil {
		t.Fatal(err)
	}
	// 成人票 in GBK: B3C9 C8CB C6B1.
	if !strings.HasSuffix(string(gbkBytes), "trans_name=\xb3\xc9\xc8\xcb\xc6\xb1") {
		t.Fatalf("GBK presign bytes: % x", gbkBytes)
	}
	s := NewMD5Signer(testMD5Key)
	gbkSig, _ := s.Sign(gbkBytes)
	utf8Sig, _ := s.Sign([]byte(presign))
	if gbkSig == utf8Sig {
		t.Fatal("GBK and UTF-8 presign bytes must sign differently")
	}
	if err := s.Verify(gbkBytes, gbkSig); err != nil {
		t.Fatal(err)
	}
}
