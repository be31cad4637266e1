package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay"
	"github.com/tillbridge/tillbridge/internal/testenv"
)

const (
	sbPartner = "2088000000007430"
	sbKey     = "0123456789abcdef0123456789abcdef"
)

// startSandboxCmd runs `tillbridge sandbox args…` in the background and
// returns the gateway URL it printed, and a stop function that returns the
// command's exit code.
func startSandboxCmd(t *testing.T, args ...string) (gateway string, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &testenv.Buffer{}, &testenv.Buffer{}
	done := make(chan int, 1)
	go func() {
		done <- runMain(ctx, cmdIO{strings.NewReader(""), out, errb}, append([]string{"sandbox"}, args...))
	}()
	re := regexp.MustCompile(`gateway: (http://\S+/gateway\.do)`)
	t.Cleanup(cancel)
	var m []string
	testenv.WaitFor(t, 10*time.Second, func() bool {
		select {
		case code := <-done:
			t.Fatalf("sandbox exited with %d: %s", code, errb.String())
		default:
		}
		m = re.FindStringSubmatch(out.String())
		return m != nil
	}, "the gateway line")
	return m[1], func() int { cancel(); return <-done }
}

// sbAnswer is the part of a gateway answer these tests read.
type sbAnswer struct {
	IsSuccess string `xml:"is_success"`
	Error     string `xml:"error"`
	Response  struct {
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

// signedQuery posts a query for id, MD5-signed with key.
func signedQuery(t *testing.T, gateway, key, id string) (sbAnswer, map[string]string) {
	t.Helper()
	p := map[string]string{"service": "alipay.acquire.overseas.query", "partner": sbPartner,
		"_input_charset": "UTF-8", "partner_trans_id": id}
	sig, _ := alipay.NewMD5Signer(key).Sign([]byte(alipay.PreSignString(p)))
	form := url.Values{"sign": {sig}, "sign_type": {"MD5"}}
	for k, v := range p {
		form.Set(k, v)
	}
	resp, err := http.PostForm(gateway, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var a sbAnswer
	if err := xml.Unmarshal(body, &a); err != nil {
		t.Fatalf("answer: %v\n%s", err, body)
	}
	fields := map[string]string{}
	for _, f := range a.Response.Alipay.Fields {
		fields[f.XMLName.Local] = f.Value
	}
	return a, fields
}

func TestSandboxCommand_SignedQueryAndWrongSignature(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state.db")
	gateway, stop := startSandboxCmd(t, "--listen", "127.0.0.1:0", "--partner", sbPartner,
		"--md5-key", sbKey, "--state", state)

	a, f := signedQuery(t, gateway, sbKey, "UNKNOWN-1")
	if a.IsSuccess != "T" || f["result_code"] != "FAIL" || f["error"] != "TRADE_NOT_EXIST" || a.SignType != "MD5" {
		t.Fatalf("signed query of an unknown trade = %+v %v", a, f)
	}
	if err := alipay.NewMD5Signer(sbKey).Verify([]byte(alipay.PreSignString(f)), a.Sign); err != nil {
		t.Errorf("answer signature: %v", err)
	}
	a, _ = signedQuery(t, gateway, "ffffffffffffffffffffffffffffffff", "UNKNOWN-1")
	if a.IsSuccess != "F" || a.Error != "ILLEGAL_SIGN" || a.Sign != "" {
		t.Errorf("wrongly signed query = %+v", a)
	}

	resp, err := http.Get(strings.TrimSuffix(gateway, "/gateway.do") + "/sandbox/trades")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("ledger: %v", err)
	}
	resp.Body.Close()
	if code := stop(); code != exitOK {
		t.Errorf("exit code %d after stop", code)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("state file not written on exit: %v", err)
	}
}

func TestSandboxCommand_RSAKeysFromFiles(t *testing.T) {
	dir := t.TempDir()
	alipayKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	merchant, _ := rsa.GenerateKey(rand.Reader, 1024)
	priv := filepath.Join(dir, "alipay_private.pem")
	pub := filepath.Join(dir, "merchant_public.pem")
	pubDER, _ := x509.MarshalPKIXPublicKey(&merchant.PublicKey)
	writePEM(t, priv, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(alipayKey))
	writePEM(t, pub, "PUBLIC KEY", pubDER)
	_, stop := startSandboxCmd(t, "--listen", "127.0.0.1:0", "--partner", sbPartner, "--sign-key", priv, "--merchant-pubkey", pub)
	if code := stop(); code != exitOK {
		t.Errorf("exit code %d", code)
	}
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestSandboxCommand_BadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no partner", []string{"--md5-key", sbKey}, exitUsage, "--partner is required"},
		{"no key", []string{"--partner", sbPartner}, exitUsage, "--md5-key"},
		{"half RSA", []string{"--partner", sbPartner, "--sign-key", "x.pem"}, exitUsage, "go together"},
		{"all interfaces", []string{"--partner", sbPartner, "--md5-key", sbKey, "--listen", ":7430"}, exitUsage, "not a loopback"},
		{"remote address", []string{"--partner", sbPartner, "--md5-key", sbKey, "--listen", "0.0.0.0:0"}, exitUsage, "--allow-remote"},
		{"bad partner", []string{"--partner", "1234", "--md5-key", sbKey, "--listen", "127.0.0.1:0"}, exitUsage, "Partner"},
		{"missing key file", []string{"--partner", sbPartner, "--sign-key", "/nonexistent/a.pem",
			"--merchant-pubkey", "/nonexistent/b.pem", "--listen", "127.0.0.1:0"}, exitFailure, "--sign-key"},
		{"import without state", []string{"--partner", sbPartner, "--md5-key", sbKey, "--import-state", "old.json"}, exitUsage, "--import-state needs --state"},
		{"stray argument", []string{"--partner", sbPartner, "--md5-key", sbKey, "extra"}, exitUsage, "unexpected"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, errOut := run(t, append([]string{"sandbox"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errOut, tc.msg) {
				t.Errorf("code %d, stderr %q; want %d containing %q", code, errOut, tc.code, tc.msg)
			}
		})
	}
	if !isLoopback("[::1]:7430") || !isLoopback("localhost:1") || isLoopback("10.0.0.1:7430") {
		t.Error("isLoopback")
	}
}
