package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/internal/testenv"
)

// validConfig is a minimal valid configuration whose MD5 key file is
// md5.key beside it.
func validConfig(dir string) string {
	return fmt.Sprintf(`[daemon]
data_dir = %q

[gateway]
partner = "2088000000007430"
md5_key_file = "md5.key"

[printer.front]
backend = "file"
path = "receipts.escpos"

[[lane]]
id = "1"
printer = "front"
`, dir)
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tillbridge.toml")
	testenv.WriteFile(t, file, 0o600, validConfig(dir))
	testenv.WriteFile(t, filepath.Join(dir, "md5.key"), 0o600, "0123456789abcdef0123456789abcdef\n")
	code, out, errOut := run(t, "config", "check", file)
	if code != exitOK || !strings.Contains(out, file+": OK (1 lanes, sign type MD5)") {
		t.Fatalf("valid config: exit %d\n%s%s", code, out, errOut)
	}
	cases := []struct {
		name, config string
		keyMode      os.FileMode
		want         []string
	}{
		{"typo", strings.Replace(validConfig(dir), "partner =", "parter =", 1), 0o600,
			[]string{"unknown key gateway.parter (line 5)", "fix the unknown keys first"}},
		{"unknown table before invalid values", strings.Replace(validConfig(dir), `printer = "front"`,
			`printer = "back"`, 1) + "[daemon.x]\n", 0o600, []string{"unknown key daemon.x"}},
		{"every field named", strings.NewReplacer(`printer = "front"`, `printer = "back"`,
			`"2088000000007430"`, `"12345"`).Replace(validConfig(dir)), 0o600,
			[]string{"gateway.partner: is invalid", "lane[0].printer: is invalid: no [printer.back] table"}},
		{"key readable by others", validConfig(dir), 0o644,
			[]string{"gateway.md5_key_file:", "readable by group or others", "chmod 600"}},
	}
	for _, c := range cases {
		testenv.WriteFile(t, file, 0o600, c.config)
		testenv.WriteFile(t, filepath.Join(dir, "md5.key"), c.keyMode, "0123456789abcdef0123456789abcdef\n")
		code, out, _ := run(t, "config", "check", file)
		for _, w := range c.want {
			if code != exitFailure || !strings.Contains(out, w) {
				t.Errorf("%s: exit %d, want %q in\n%s", c.name, code, w, out)
			}
		}
	}
}

func TestConfigCheckJSONAndBadKey(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tillbridge.toml")
	testenv.WriteFile(t, file, 0o600, strings.Replace(validConfig(dir), `md5_key_file = "md5.key"`,
		"sign_type = \"RSA2\"\nprivate_key_file = \"merchant.pem\"\nalipay_public_key_file = \"alipay.pem\"", 1))
	testenv.WriteFile(t, filepath.Join(dir, "merchant.pem"), 0o600, "-----BEGIN RSA PRIVATE KEY-----\nnot a key\n-----END RSA PRIVATE KEY-----\n")
	code, out, _ := run(t, "config", "check", "--json", file)
	var rep configReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil || code != exitFailure || rep.OK {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "gateway.alipay_public_key_file") {
		t.Fatalf("missing public key: %q", rep.Problems)
	}
	testenv.WriteFile(t, filepath.Join(dir, "alipay.pem"), 0o644, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
	code, out, _ = run(t, "config", "check", file)
	if code != exitFailure || !strings.Contains(out, "gateway keys:") || !strings.Contains(out, "merchant.pem") ||
		strings.Contains(out, "not a key") {
		t.Fatalf("malformed key: exit %d\n%s", code, out)
	}
	if code, _, _ := run(t, "config", "check", filepath.Join(dir, "none.toml")); code != exitFailure {
		t.Fatalf("missing file: exit %d", code)
	}
	if code, _, _ := run(t, "config"); code != exitUsage {
		t.Fatalf("config without check: exit %d", code)
	}
}
