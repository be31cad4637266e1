package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

func TestGatewayCheckCommand(t *testing.T) {
	tl := startTill(t)
	code, out, _ := tl.cli("gateway-check")
	if code != exitOK || !strings.Contains(out, "verdict: ok") || !strings.Contains(out, "signature verified: yes") {
		t.Fatalf("gateway-check: exit %d\n%s", code, out)
	}
	code, out, _ = tl.cli("gateway-check", "--json")
	var res control.GatewayCheckResult
	if err := json.Unmarshal([]byte(out), &res); err != nil || code != exitOK || !res.OK || res.Partner != daemon.SandboxPartner {
		t.Fatalf("gateway-check --json: exit %d, %v\n%s", code, err, out)
	}
}

func TestGatewayCheckCommandWrongKey(t *testing.T) {
	tl := startTill(t, daemonenv.WithConfig(func(c *daemon.Config) {
		c.Gateway.MD5KeyFile = filepath.Join(t.TempDir(), "wrong.key")
		if err := os.WriteFile(c.Gateway.MD5KeyFile, []byte("ffffffffffffffffffffffffffffffff"), 0o600); err != nil {
			t.Fatal(err)
		}
	}))
	code, out, _ := tl.cli("gateway-check")
	if code != exitFailure || !strings.Contains(out, "verdict: key_mismatch") || !strings.Contains(out, "ILLEGAL_SIGN") {
		t.Fatalf("gateway-check with a wrong key: exit %d\n%s", code, out)
	}
	if code, out, _ := tl.cli("status"); code != exitUnhealthy || !strings.Contains(out, "gateway unreachable") {
		t.Fatalf("status after a failed check: exit %d\n%s", code, out)
	}
}
