package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/tillbridge/tillbridge/alipay/sandbox"
	"github.com/tillbridge/tillbridge/control"
	"github.com/tillbridge/tillbridge/daemon"
	"github.com/tillbridge/tillbridge/internal/testenv/daemonenv"
)

// TestQueueCommandsResolveAManualSale takes a sale to MANUAL (gateway down
// past the pending expiry), sees status exit 4, and resolves it by hand.
func TestQueueCommandsResolveAManualSale(t *testing.T) {
	tl := startTill(t, daemonenv.WithConfig(func(c *daemon.Config) { c.Payment.PendingExpiry = 700 * time.Millisecond }))
	if err := tl.Sandbox.Server().SetFault(sandbox.Fault{Kind: sandbox.FaultDown}); err != nil {
		t.Fatal(err)
	}
	tl.sale("1", "M-1", "281234567890120007")
	tl.statusUntil("MANUAL", func(s control.StatusSnapshot) bool { return s.Queue.Manual == 1 })
	code, out, _ := tl.cli("status")
	if code != exitUnhealthy || !strings.Contains(out, "UNHEALTHY") || !strings.Contains(out, "in MANUAL need a person") {
		t.Fatalf("status with MANUAL: exit %d\n%s", code, out)
	}
	code, out, _ = tl.cli("queue", "list", "--state", "manual", "--json")
	var ops []control.OpView
	if err := json.Unmarshal([]byte(out), &ops); err != nil || code != exitOK || len(ops) != 1 || ops[0].Ref != "M-1" {
		t.Fatalf("queue list --json: exit %d, %v\n%s", code, err, out)
	}
	id := ops[0].ID
	if code, out, _ = tl.cli("queue", "list"); code != exitOK || !strings.Contains(out, "STATE") || !strings.Contains(out, id) {
		t.Fatalf("queue list: exit %d\n%s", code, out)
	}
	if code, out, _ = tl.cli("queue", "show", id); code != exitOK || !strings.Contains(out, "MANUAL") ||
		!strings.Contains(out, "partner_trans_id") || strings.Contains(out, "281234567890120007") {
		t.Fatalf("queue show: exit %d\n%s", code, out)
	}
	checkQueueUsage(t, tl, id)
	tl.Sandbox.Server().ClearFaults()
	code, out, errOut := run(t, "queue", "resolve", id, "--data", tl.Dir, "--state", "declined",
		"--reason", "TRADE_NOT_EXIST in the sandbox ledger", "--operator", "tech-anna")
	if code != exitOK || !strings.Contains(out, id+" is now declined (resolved by tech-anna: TRADE_NOT_EXIST") {
		t.Fatalf("queue resolve: exit %d\n%s%s", code, out, errOut)
	}
	var d control.OpDetail
	_, out, _ = tl.cli("queue", "show", id, "--json")
	if err := json.Unmarshal([]byte(out), &d); err != nil || d.Events[len(d.Events)-1].Name != "RESOLVED" {
		t.Fatalf("resolved op: %v\n%s", err, out)
	}
	if code, out, _ := tl.cli("gateway-check"); code != exitOK {
		t.Fatalf("gateway-check after the fault: exit %d\n%s", code, out)
	}
	if code, out, _ := tl.cli("status"); code != exitOK || !strings.Contains(out, "healthy") {
		t.Fatalf("status after resolving: exit %d\n%s", code, out)
	}
}

// checkQueueUsage checks the queue commands' refusals and exit codes.
func checkQueueUsage(t *testing.T, tl *till, id string) {
	t.Helper()
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"queue", "retry", id}, exitFailure, "cannot retry operation " + id},
		{[]string{"queue", "resolve", id, "--state", "declined"}, exitUsage, "--reason is required"},
		{[]string{"queue", "resolve", id, "--state", "refunded", "--reason", "x"}, exitUsage, "a sale resolves to"},
		{[]string{"queue", "resolve", "--state", "paid", "--reason", "x"}, exitUsage, "an operation ID is required"},
		{[]string{"queue", "show", "NOPE"}, exitFailure, "no such operation"},
		{[]string{"queue", "list", "--state", "lost"}, exitUsage, `state "lost"`},
		{[]string{"queue", "list", "--since", "yesterday"}, exitUsage, "--since"},
		{[]string{"queue", "frobnicate"}, exitUsage, "unknown queue command"},
	}
	for _, c := range cases {
		code, out, errOut := tl.cli(c.args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d (want %d), want %q in\n%s%s", c.args, code, c.code, c.want, out, errOut)
		}
	}
}

func TestParseWhen(t *testing.T) {
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.Local)
	cases := map[string]time.Time{
		"":                     {},
		"24h":                  now.Add(-24 * time.Hour),
		"2026-03-01":           time.Date(2026, 3, 1, 0, 0, 0, 0, time.Local),
		"2026-03-01T10:00:00Z": time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC),
	}
	for in, want := range cases {
		if got, err := parseWhen(in, now); err != nil || !got.Equal(want) {
			t.Errorf("parseWhen(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"yesterday", "-3h", "2026-13-01"} {
		if _, err := parseWhen(bad, now); err == nil {
			t.Errorf("parseWhen(%q) accepted", bad)
		}
	}
}
