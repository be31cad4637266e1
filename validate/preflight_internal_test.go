package validate

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
)

func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPreflightKeyPairSwapped covers the most common ILLEGAL_SIGN causes:
// the merchant's own public key configured as Alipay's, and the two files
// given the wrong way round.
func TestPreflightKeyPairSwapped(t *testing.T) {
	dir := t.TempDir()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pub := func(k *rsa.PrivateKey) []byte {
		b, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	merchantPriv := writePEM(t, dir, "merchant.pem", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(merchant))
	merchantPub := writePEM(t, dir, "merchant_pub.pem", "PUBLIC KEY", pub(merchant))
	alipayPub := writePEM(t, dir, "alipay_pub.pem", "PUBLIC KEY", pub(alipayKey))
	for _, tc := range []struct {
		name, priv, pub, want string
		ok                    bool
	}{
		{"right", merchantPriv, alipayPub, "not the merchant key's own public half", true},
		{"own public key as Alipay's", merchantPriv, merchantPub, "public half of YOUR private key", false},
		{"files swapped", alipayPub, merchantPriv, "holds a PRIVATE key", false},
		{"public key as private", merchantPub, alipayPub, "holds a PUBLIC key", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := daemon.GatewayConfig{SignType: "RSA2", PrivateKeyFile: tc.priv, AlipayPublicKeyFile: tc.pub}
			var detail string
			if ok := notSwapped(g, &detail); ok != tc.ok || !strings.Contains(detail, tc.want) {
				t.Fatalf("notSwapped = %v, %q; want %v, %q", ok, detail, tc.ok, tc.want)
			}
		})
	}
	g := daemon.GatewayConfig{SignType: "RSA2", PrivateKeyFile: merchantPriv, AlipayPublicKeyFile: alipayPub}
	s, detail, err := loadSigner(g)
	if err != nil {
		t.Fatal(detail)
	}
	if !roundTrip(s, &detail) {
		t.Fatalf("round trip: %s", detail)
	}
}

func TestPreflightMD5KeyShape(t *testing.T) {
	for _, tc := range []struct {
		key string
		ok  bool
	}{{"0123456789abcdef0123456789abcdef", true}, {"2088000000007430", false}, {"short", false}} {
		g := daemon.GatewayConfig{SignType: "MD5", Partner: "2088000000007430", MD5Key: tc.key}
		var detail string
		if ok := notSwapped(g, &detail); ok != tc.ok {
			t.Errorf("key %q: %v (%s), want %v", tc.key, ok, detail, tc.ok)
		}
	}
}

// TestMaskAnswer: the recorder never keeps a signature or a buyer code.
func TestMaskAnswer(t *testing.T) {
	code := "281234567890123400"
	ans := `<alipay><is_success>T</is_success><request><param name="buyer_identity_code">` + code +
		`</param><param name="sign">abcdefabcdefabcdef</param></request><response><alipay><result_code>SUCCESS</result_code>` +
		`</alipay></response><sign>0123456789abcdef0123</sign><sign_type>MD5</sign_type></alipay>`
	got := maskAnswer(ans, code)
	for _, secret := range []string{code, "abcdefabcdefabcdef", "0123456789abcdef0123"} {
		if strings.Contains(got, secret) {
			t.Errorf("masked answer still holds %q: %s", secret, got)
		}
	}
	if summarize(ans) != "T SUCCESS" {
		t.Errorf("summary %q", summarize(ans))
	}
}
