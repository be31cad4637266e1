package main

import (
	"archive/zip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/ecrproto"
	"github.com/tillbridge/tillbridge/internal/testenv"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// planted are the secrets and full customer codes a redaction test plants.
type planted struct {
	md5Key, sharedKey, privatePEM string
	codes                         []string
}

// forms lists every string that must never appear: each key, each line of
// the PEM body and the body joined, and every full code.
func (p planted) forms() []string {
	out := []string{p.md5Key, p.sharedKey, strings.TrimSpace(p.privatePEM)}
	var body strings.Builder
	for _, line := range strings.Split(p.privatePEM, "\n") {
		if line != "" && !strings.HasPrefix(line, "-----") {
			out = append(out, line)
			body.WriteString(line)
		}
	}
	return append(append(out, body.String()), p.codes...)
}

// rsaTill runs a daemon signing RSA2 with a PEM private key, carrying an
// inline MD5 key and an inline ECR shared key: every kind of secret.
func rsaTill(t *testing.T) (*till, planted) {
	t.Helper()
	merchant, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	alipayKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	keys := t.TempDir()
	p := planted{md5Key: randomHex(t, 16), sharedKey: randomHex(t, 16),
		privatePEM: string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(merchant)}))}
	testenv.WriteFile(t, filepath.Join(keys, "merchant.pem"), 0o600, p.privatePEM)
	pub, err := x509.MarshalPKIXPublicKey(&alipayKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(keys, "alipay.pem"), 0o644, string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})))
	tl := startTill(t,
		daemonenv.WithSandbox(func(o *daemon.SandboxOptions) {
			o.Gateway.AlipayPrivateKey, o.Gateway.MerchantPublicKey = alipayKey, &merchant.PublicKey
		}),
		daemonenv.WithConfig(func(c *daemon.Config) {
			c.Gateway.SignType = "RSA2"
			c.Gateway.PrivateKeyFile, c.Gateway.AlipayPublicKeyFile = filepath.Join(keys, "merchant.pem"), filepath.Join(keys, "alipay.pem")
			c.Gateway.MD5Key, c.Gateway.MD5KeyFile = p.md5Key, ""
			c.Listen[0].SharedKey = p.sharedKey
		}))
	return tl, p
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestRedactionOfLogsAndSupportBundle plants the configured keys and full
// customer codes, and proves that no log line and no file of the support
// bundle holds any of them.
func TestRedactionOfLogsAndSupportBundle(t *testing.T) {
	tl, p := rsaTill(t)
	p.codes = []string{"281234567890123400", "281234567890123420", "287654321098765400"}
	if res := tl.sale("1", "R-paid", p.codes[0]); res.Status != ecrproto.StatusApproved {
		t.Fatalf("RSA2 sale: %+v", res)
	}
	if res := tl.sale("2", "R-declined", p.codes[1]); res.Status != ecrproto.StatusDeclined {
		t.Fatalf("declined sale: %+v", res)
	}
	tl.scanIdle("1", p.codes[2]) // a code nobody waits for: dropped, and logged masked
	if code, out, _ := tl.cli("gateway-check"); code != exitOK {
		t.Fatalf("gateway-check with RSA2: exit %d\n%s", code, out)
	}
	logFile := tl.Config.Daemon.LogFile
	logged := readFile(t, logFile)
	if !strings.Contains(logged, "gateway call") || !strings.Contains(logged, "3400") {
		t.Fatalf("the log lacks the sale:\n%s", logged)
	}
	assertClean(t, "log file", logged, p)
	// A rotated log of an older build that did leak: the bundle must
	// still scrub it.
	leak := `{"level":"info","message":"leak","code":"` + p.codes[0] + `","key":"` + p.md5Key + `","shared":"` +
		p.sharedKey + `","pem":"` + strings.Split(p.privatePEM, "\n")[1] + `","receipt":"Ref: 1\n` + p.codes[1] +
		`","partner_trans_id":"TBSANDBOX2202611251943322REFRPJE"}` + "\n"
	rotated := filepath.Join(filepath.Dir(logFile), "tillbridge-2026-03-04T05-06-07.008.log")
	testenv.WriteFile(t, rotated, 0o600, leak)
	files := bundleFiles(t, tl)
	for _, name := range []string{"status.json", "version.json", "config.redacted.toml", "devices.json",
		"gateway-check.json", "journal.json", "manual-operations.json", "logs/tillbridge.log", "README.txt", "service.json"} {
		if _, ok := files[name]; !ok {
			t.Errorf("bundle lacks %s", name)
		}
	}
	for name, content := range files {
		assertClean(t, "bundle "+name, content, p)
	}
	cfg := files["config.redacted.toml"]
	if strings.Count(cfg, daemon.RedactedValue) < 2 || !strings.Contains(cfg, "merchant.pem") {
		t.Errorf("redacted config:\n%s", cfg)
	}
	old := files["logs/tillbridge-2026-03-04T05-06-07.008.log"]
	for _, want := range []string{`"key":"[REDACTED]"`, `"pem":"[REDACTED]"`, `"code":"****3400"`, `\n****3420"`,
		"TBSANDBOX2202611251943322REFRPJE"} {
		if !strings.Contains(old, want) {
			t.Errorf("rotated log in the bundle lacks %s:\n%s", want, old)
		}
	}
	if !strings.Contains(files["journal.json"], `"paid": 1`) || !strings.Contains(files["status.json"], `"state": "ready"`) {
		t.Errorf("bundle statistics:\n%s\n%s", files["journal.json"], files["status.json"])
	}
}

// scanIdle sends a SCAN for a lane that waits for nothing.
func (tl *till) scanIdle(lane, code string) {
	tl.T.Helper()
	res, _ := tl.Do(&ecrproto.ClientOptions{Key: tl.key}, &ecrproto.Message{Type: ecrproto.TypeScan, Lane: lane, Barcode: code})
	if res.Type != ecrproto.TypeError {
		tl.T.Fatalf("scan for an idle lane: %+v", res)
	}
}

// assertClean fails for every planted form found in content.
func assertClean(t *testing.T, where, content string, p planted) {
	t.Helper()
	for _, f := range p.forms() {
		if f != "" && strings.Contains(content, f) {
			t.Errorf("%s holds a secret or full code: %.24s…", where, f)
		}
	}
}

// bundleFiles runs support-bundle and returns its files' contents.
func bundleFiles(t *testing.T, tl *till) map[string]string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bundle.zip")
	code, stdout, errOut := tl.cli("support-bundle", out)
	if code != exitOK || !strings.Contains(stdout, "wrote "+out) {
		t.Fatalf("support-bundle: exit %d\n%s%s", code, stdout, errOut)
	}
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("bundle file: %v %v", err, fi)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return testenv.Unzip(t, data)
}

func TestSupportBundleWithoutTheDaemon(t *testing.T) {
	tl := startTill(t)
	tl.Stop()
	out := filepath.Join(t.TempDir(), "b.zip")
	code, stdout, errOut := tl.cli("support-bundle", out)
	if code != exitOK || !strings.Contains(errOut, "making the bundle here") {
		t.Fatalf("offline bundle: exit %d\n%s%s", code, stdout, errOut)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	for _, f := range zr.File {
		names[f.Name] = true
	}
	if !names["status.json"] || !names["devices.json"] || !names["errors.txt"] || !names["service.json"] {
		t.Fatalf("offline bundle files: %v", names)
	}
	if code, _, _ := tl.cli("support-bundle", "bundle.tar"); code != exitUsage {
		t.Fatalf("a name without .zip: exit %d", code)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
